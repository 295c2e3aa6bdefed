"""grad_cam() of an exported PyTorch model, for the explanation tests.

usage: torch_grad_cam.py MODEL.py WEIGHTS.safetensors INPUT.json
INPUT.json: {"x": [...], "shape": [1, H, W, C] (NHWC, as the graph), "class": k}.
Prints {"gradcam": [...], "gradcam++": [...], "hirescam": [...]} (the maps, row-major).
"""
import importlib.util
import json
import sys

import torch

spec = importlib.util.spec_from_file_location("exported", sys.argv[1])
exported = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exported)
model = exported.Model()
exported.load_weights(model, sys.argv[2])
with open(sys.argv[3]) as f:
    given = json.load(f)
x = torch.tensor(given["x"], dtype=torch.float32).reshape(given["shape"]).permute(0, 3, 1, 2)
maps = {}
for method in ("gradcam", "gradcam++", "hirescam"):
    cam, _ = exported.grad_cam(model, x, class_index=given["class"], method=method)
    maps[method] = cam.reshape(-1).tolist()
print(json.dumps(maps))
