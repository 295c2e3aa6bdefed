"""Runs an exported PyTorch model for the export tests.

usage: run_torch_export.py CASE_DIR...
Each CASE_DIR holds model.py, weights.safetensors, inputs.safetensors and
dtypes.json (one "int" or "float" per input). Prints one JSON line per case:
trainable parameter count, output shapes on example_inputs(), the outputs for
the given inputs with the given weights, or the error.
"""
import importlib.util
import json
import sys

import torch


def run_case(case):
    spec = importlib.util.spec_from_file_location("exported", f"{case}/model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    model = module.Model()
    model.eval()
    result = {"trainable": sum(p.numel() for p in model.parameters() if p.requires_grad)}
    with torch.no_grad():
        out = model(*module.example_inputs())
    outs = out if isinstance(out, tuple) else (out,)
    result["exampleShapes"] = [list(y.shape) for y in outs]
    module.load_weights(model, f"{case}/weights.safetensors")
    given = module.read_safetensors(f"{case}/weights.safetensors")  # the export's own reader (runtime.py)
    state = model.state_dict()
    result["missing"] = sorted(k for k in state if k not in given and not k.endswith("num_batches_tracked"))
    result["unexpected"] = sorted(k for k in given if k not in state)
    inputs = module.read_safetensors(f"{case}/inputs.safetensors")
    with open(f"{case}/dtypes.json") as f:
        dtypes = json.load(f)
    args = [inputs[f"input{i}"].long() if dtypes[i] == "int" else inputs[f"input{i}"] for i in range(len(dtypes))]
    out = model.predict(*args)  # the graph's outputs: probabilities where forward() gives logits
    outs = out if isinstance(out, tuple) else (out,)
    result["outputs"] = [{"shape": list(y.shape), "data": y.flatten().tolist()} for y in outs]
    return result


for case in sys.argv[1:]:
    try:
        result = run_case(case)
    except Exception as err:  # reported per case, so one bad export doesn't hide the others
        result = {"error": f"{type(err).__name__}: {err}"}
    result["case"] = case
    print(json.dumps(result), flush=True)
