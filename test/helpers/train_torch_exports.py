"""Trains exported PyTorch models a few epochs through their own entry point.

usage: train_torch_exports.py SAMPLES EPOCHS MODEL_PY...
For each model.py: random inputs shaped as example_inputs() (SAMPLES of them,
images written NHWC as `attn export --data` does) and random targets for its
outputs (class indices for classification outputs, values otherwise) go into
an .npz beside it; then main(..., argv=["--data", npz, ...]) trains it, one
batch per epoch. Prints one JSON line per model: its epoch losses, or the error.
"""
import importlib.util
import json
import os
import sys

import numpy as np
import torch


def targets_for(module, model, inputs):
    """Random targets shaped like the model's outputs: class indices for cross-entropy outputs."""
    with torch.no_grad():
        model.eval()
        outputs = model(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    ys = []
    for y in outputs:
        ys.append(torch.randint(0, y.shape[-1], y.shape[:-1]).numpy().astype(np.int32) if y.shape[-1] > 1 else torch.rand(y.shape).numpy())
    return ys


def run(path, samples, epochs):
    spec = importlib.util.spec_from_file_location(f"exported_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    inputs = []
    for x in module.example_inputs():
        if x.is_floating_point():
            x = torch.rand(samples, *x.shape[1:])
        else:
            x = torch.randint(0, int(x.max()) + 1, (samples, *x.shape[1:]))
        inputs.append(x)
    ys = targets_for(module, module.Model(), inputs)
    arrays = {}
    for i, x in enumerate(inputs):
        a = x.permute(0, 2, 3, 1).numpy() if x.dim() == 4 else x.numpy()
        arrays[f"x{i}_train" if len(inputs) > 1 else "x_train"] = a.astype(np.float32 if x.is_floating_point() else np.int32)
    for i, y in enumerate(ys):
        arrays[f"y{i}_train" if len(ys) > 1 else "y_train"] = y
    data = os.path.join(os.path.dirname(path), "data.npz")
    np.savez(data, **arrays)
    torch.manual_seed(0)
    history = module.main(module.Model, module.compute_loss, module.example_inputs, module.TRAINING,
                          argv=["--data", data, "--epochs", str(epochs), "--batch-size", str(samples),
                                "--schedule", "constant", "--device", "cpu"])
    return {"losses": history}


samples, epochs = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(2)
for path in sys.argv[3:]:
    try:
        result = run(path, samples, epochs)
    except Exception as err:  # reported per model, so one bad export doesn't hide the others
        result = {"error": f"{type(err).__name__}: {err}"}
    result["model"] = path
    print(json.dumps(result), flush=True)
