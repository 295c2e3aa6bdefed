"""PyTorch's side of `npm run bench -- zoo`: trains an exported model with its own train().

usage: zoo_torch.py   (then one JSON request per line on stdin, one JSON answer per line on stdout)
A request: {"dir": folder with model.py, "batch": B, "steps": S, "warmup": W, "threads": T or null,
            "inputs": [{"int": bool, "vocab": V}], "losses": [loss name per output]}.
The answer: {"samplesPerSec", "threads", "seconds"} or {"error"}. One process serves every
request, so torch is imported once and runs can interleave with the tfjs side's.
"""
import contextlib
import importlib.util
import io
import json
import sys
import time

import torch

DEFAULT_THREADS = torch.get_num_threads()


def make_batch(module, req):
    """Random inputs shaped as example_inputs() (NCHW images), `batch` samples; token ids below each input's vocab."""
    xs = []
    for x, spec in zip(module.example_inputs(), req["inputs"]):
        shape = [req["batch"], *x.shape[1:]]
        xs.append(torch.randint(0, spec["vocab"], shape) if spec["int"] else torch.rand(shape))
    return tuple(xs)


def targets_for(preds, losses):
    out = []
    for pred, loss in zip(preds, losses):
        if loss in ("meanSquaredError", "meanAbsoluteError"):
            out.append(torch.randn(pred.shape))
        elif loss == "binaryCrossentropy":
            out.append(torch.rand(pred.shape).round())
        else:
            out.append(torch.randint(0, pred.shape[-1], pred.shape[:-1]))
    return out[0] if len(out) == 1 else out


def run(req):
    torch.set_num_threads(req["threads"] or DEFAULT_THREADS)
    spec = importlib.util.spec_from_file_location("exported", f"{req['dir']}/model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    model = module.Model()
    inputs = make_batch(module, req)
    with torch.no_grad():
        out = model(*inputs)
    preds = out if isinstance(out, tuple) else (out,)
    trained = [p for p, loss in zip(preds, req["losses"]) if loss]
    target = targets_for(trained, [l for l in req["losses"] if l])
    batches = [(make_batch(module, req), target) for _ in range(4)]
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):  # train() prints the loss after each epoch
        module.train(model, [batches[i % 4] for i in range(req["warmup"])], epochs=1)
        start = time.perf_counter()
        module.train(model, [batches[i % 4] for i in range(req["steps"])], epochs=1)
        seconds = time.perf_counter() - start
    return {"samplesPerSec": req["steps"] * req["batch"] / seconds, "threads": torch.get_num_threads(), "seconds": seconds}


for line in sys.stdin:
    try:
        answer = run(json.loads(line))
    except Exception as err:  # reported per request, so one bad export doesn't end the bench
        answer = {"error": f"{type(err).__name__}: {err}"}
    print(json.dumps(answer), flush=True)
