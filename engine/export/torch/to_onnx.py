"""Exports an Attention Studio PyTorch export to ONNX.

usage: to_onnx.py MODEL_PY OUT_ONNX [WEIGHTS_SAFETENSORS]
       to_onnx.py --many JOBS_JSON   (a list of [model_py, out_onnx, weights or null]; one line per job on stdout)
The ONNX graph computes the graph's own outputs (predict(): probabilities where
forward() gives logits), opset 17, with a dynamic batch axis on every input and
output. Images are NCHW, as in PyTorch.
"""
import importlib.util
import inspect
import sys

import torch


class Predict(torch.nn.Module):
    """The model's predict() as a module, so that the ONNX graph ends in the graph's outputs."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, *inputs):
        return self.model.predict(*inputs)


def export(model_py, out, weights=None):
    spec = importlib.util.spec_from_file_location("exported_model", model_py)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.Model()
    if weights:
        module.load_weights(model, weights)
    model.eval()
    inputs = module.example_inputs()
    input_names = list(inspect.signature(model.forward).parameters)
    with torch.no_grad():
        outputs = model.predict(*inputs)
    n_out = len(outputs) if isinstance(outputs, tuple) else 1
    output_names = ["output"] if n_out == 1 else [f"output{i}" for i in range(n_out)]
    torch.onnx.export(
        Predict(model),
        inputs,
        out,
        opset_version=17,
        input_names=input_names,
        output_names=output_names,
        dynamic_axes={name: {0: "batch"} for name in input_names + output_names},
    )


if __name__ == "__main__":
    if sys.argv[1] == "--many":
        import json

        with open(sys.argv[2]) as f:
            jobs = json.load(f)
        for model_py, out, weights in jobs:
            try:
                export(model_py, out, weights)
                print(json.dumps({"out": out}), flush=True)
            except Exception as err:  # reported per job, so one failure doesn't hide the others
                print(json.dumps({"out": out, "error": f"{type(err).__name__}: {err}"}), flush=True)
    else:
        export(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
