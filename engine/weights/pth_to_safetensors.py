"""Converts a PyTorch state_dict (.pth / .pt) to .safetensors, float32: attn weights import runs it.

usage: python3 pth_to_safetensors.py IN.pth OUT.safetensors
A checkpoint dict holding the weights under "state_dict" or "model" (as training scripts save them) works too.
"""
import json
import struct
import sys

import torch

source, target = sys.argv[1], sys.argv[2]
obj = torch.load(source, map_location="cpu")
if isinstance(obj, torch.nn.Module):
    obj = obj.state_dict()
for key in ("state_dict", "model"):
    if isinstance(obj, dict) and isinstance(obj.get(key), dict):
        obj = obj[key]
if not isinstance(obj, dict):
    sys.exit(f"{source}: not a state_dict (a {type(obj).__name__})")
header, chunks, offset = {"__metadata__": {"format": "pt", "source": source}}, [], 0
for name, value in obj.items():
    if not torch.is_tensor(value) or not value.is_floating_point():
        continue  # num_batches_tracked and other integer buffers
    data = value.detach().to(torch.float32).contiguous().numpy().tobytes()
    header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(data)]}
    chunks.append(data)
    offset += len(data)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(target, "wb") as f:
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    for chunk in chunks:
        f.write(chunk)
