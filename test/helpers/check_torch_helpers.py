"""Imports each helper file of engine/export/torch/ on its own and runs its modules.

usage: check_torch_helpers.py TORCH_DIR
Each family file must import standalone (its own imports suffice); the main
modules of each are built and run on a small batch, checking output shapes and
that gradients reach every parameter. Prints one JSON line: {"checked": [...]}
or {"error": ...}.
"""
import importlib.util
import json
import os
import sys

import torch


def load(directory, name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(directory, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check(label, module, inputs, shapes):
    outputs = module(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    got = [tuple(y.shape) for y in outputs]
    if got[: len(shapes)] != shapes:
        raise AssertionError(f"{label}: output shapes {got}, expected {shapes}")
    sum(y.float().sum() for y in outputs).backward()
    dead = [n for n, p in module.named_parameters() if p.grad is None]
    if dead:
        raise AssertionError(f"{label}: no gradient reaches {dead}")
    return label


def check_train(runtime):
    """runtime.train trains every epoch of a re-iterable loader, and refuses a generator."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    batch = ((torch.randn(16, 4),), (torch.randint(0, 3, (16,)),))
    loss_fn = lambda y, t: runtime.cross_entropy(y, t)  # noqa: E731
    history = runtime.train(model, [batch], epochs=5, lr=0.1, loss_fn=loss_fn, log=lambda *_: None)
    if len(history) != 5 or not history[-1] < history[0]:
        raise AssertionError(f"train: epoch losses {history}")
    try:
        runtime.train(model, (b for b in [batch]), epochs=2, loss_fn=loss_fn, log=lambda *_: None)
    except TypeError as err:
        if "re-iterable" not in str(err):
            raise
    else:
        raise AssertionError("train() took a generator, which would train one epoch only")
    return "train"


def main(directory):
    torch.manual_seed(0)
    vision, sequence, structured, layers = (load(directory, n) for n in ("vision_attention", "sequence_attention", "structured_attention", "layers"))
    image = lambda c=8: torch.randn(2, c, 6, 6)  # noqa: E731
    tokens = lambda t=5, d=8: torch.randn(2, t, d)  # noqa: E731
    checked = [
        check("SqueezeExcitation", vision.SqueezeExcitation(8, reduction=4), [image()], [(2, 8, 6, 6), (2, 8)]),
        check("CBAM", vision.CBAM(8, reduction=4), [image()], [(2, 8, 6, 6)]),
        check("NonLocalBlock", vision.NonLocalBlock(8), [image()], [(2, 8, 6, 6)]),
        check("MultiHeadAttention", sequence.MultiHeadAttention(8, 2), [tokens()], [(2, 5, 8), (2, 2, 5, 5)]),
        check("TransformerEncoderLayer", sequence.TransformerEncoderLayer(8, 2, 16, dropout=0.0), [tokens()], [(2, 5, 8)]),
        check("AdditiveAttention", sequence.AdditiveAttention(8, 8, 4), [tokens(3), tokens()], [(2, 3, 8)]),
        check("PatchEmbedding", sequence.PatchEmbedding(3, 8, 4, 4), [torch.randn(2, 3, 8, 8)], [(2, 5, 8)]),
        check("GRU", layers.GRU(8, 6, return_sequences=True), [tokens()], [(2, 5, 6)]),
    ]
    checked.append(check_train(load(directory, "runtime")))
    print(json.dumps({"checked": checked, "imported": [m.__name__ for m in (vision, sequence, structured, layers)]}))


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as err:
        print(json.dumps({"error": f"{type(err).__name__}: {err}"}))
