"""PyTorch's side of `npm run bench -- zoo`: trains an exported model with its own train().

usage: zoo_torch.py   (then one JSON request per line on stdin, one JSON answer per line on stdout)
A request: {"dir": folder with model.py, "batch": B, "seconds": S, "minSteps": M, "warmup": W,
            "threads": T or null, "inputs": [{"int": bool, "vocab": V}], "losses": [loss name per output]}.
It trains W untimed steps, then at least M steps and S seconds, timed.
The answer: {"samplesPerSec", "steps", "threads", "seconds"} or {"error"}. One process serves every
request, so torch is imported once and runs can interleave with the tfjs side's; the model of a
folder is built once and trains on across its requests (as ours does across its rounds).
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


class TimedBatches:
    """The loader handed to train(): cycles 4 batches, `warmup` untimed steps, then stops after the
    step that reaches both `min_steps` timed steps and `seconds`. train() reads a batch only once the
    previous step is done (loss.item() waits for it), so the clock read at each fetch ends a step."""

    def __init__(self, batches, warmup, min_steps, seconds):
        self.batches, self.warmup, self.min_steps, self.seconds = batches, warmup, min_steps, seconds
        self.start = self.end = None
        self.steps = 0

    def __len__(self):  # train()'s cosine schedule spans this many steps: long, as a real run's
        return 100_000

    def __iter__(self):
        for i in range(10**9):
            now = time.perf_counter()
            if i == self.warmup:
                self.start = now
            elif i > self.warmup:
                self.steps = i - self.warmup
                if self.steps >= self.min_steps and now - self.start >= self.seconds:
                    self.end = now
                    return
            yield self.batches[i % len(self.batches)]


MODELS = {}


def model_for(req):
    """The folder's module, model and batches, made on its first request."""
    if req["dir"] not in MODELS:
        spec = importlib.util.spec_from_file_location("exported", f"{req['dir']}/model.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        torch.manual_seed(0)
        model = module.Model()
        with torch.no_grad():
            out = model(*make_batch(module, req))
        preds = out if isinstance(out, tuple) else (out,)
        trained = [p for p, loss in zip(preds, req["losses"]) if loss]
        target = targets_for(trained, [l for l in req["losses"] if l])
        MODELS.clear()  # one template at a time
        MODELS[req["dir"]] = (module, model, [(make_batch(module, req), target) for _ in range(4)])
    return MODELS[req["dir"]]


def run(req):
    torch.set_num_threads(req["threads"] or DEFAULT_THREADS)
    module, model, batches = model_for(req)
    loader = TimedBatches(batches, req["warmup"], req["minSteps"], req["seconds"])
    with contextlib.redirect_stdout(io.StringIO()):  # train() prints the loss after each epoch
        module.train(model, loader, epochs=1)
    seconds = loader.end - loader.start
    return {"samplesPerSec": loader.steps * req["batch"] / seconds, "steps": loader.steps, "threads": torch.get_num_threads(), "seconds": seconds}


for line in sys.stdin:
    try:
        answer = run(json.loads(line))
    except Exception as err:  # reported per request, so one bad export doesn't end the bench
        answer = {"error": f"{type(err).__name__}: {err}"}
    print(json.dumps(answer), flush=True)
