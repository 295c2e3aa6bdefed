"""The bench's baseline: a plain PyTorch training loop over a PyTorch run's own files.

usage: pytorch_plain_loop.py SPEC.json
Loads the exported module (model.py) and the prepared arrays that the run
trained on, and trains one epoch in the run's data order with Adam and
F.cross_entropy on the logits, as one writes it by hand: no protocol, no
probes, no metrics, and no host sync until the end (the loss is read once).
Prints {"samplesPerSec": ...} for the batch loop.
"""
import importlib.util
import json
import sys
import time

import numpy as np
import torch

spec = json.load(open(sys.argv[1]))
module_spec = importlib.util.spec_from_file_location("exported_model", spec["model"])
module = importlib.util.module_from_spec(module_spec)
module_spec.loader.exec_module(module)
device = torch.device("cuda" if spec["device"] in ("auto", "cuda") and torch.cuda.is_available() else "cpu")
model = module.Model().to(device)
x = torch.from_numpy(np.array(np.load(spec["data"]["trainX"]), dtype=np.float32)).to(device)
y = torch.from_numpy(np.array(np.load(spec["data"]["trainY"]), dtype=np.int64)).to(device)
order = torch.from_numpy(np.array(np.load(spec["data"]["orders"])[0], dtype=np.int64)).to(device)
c = spec["config"]
optimizer = torch.optim.Adam(model.parameters(), lr=c["lr"])
batch = c["batchSize"]
samples = 0
last = None
if device.type == "cuda":
    torch.cuda.synchronize()
t0 = time.perf_counter()
for start in range(0, len(order), batch):
    idx = order[start : start + batch]
    loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    last = loss.detach()
    samples += len(idx)
last.item()  # waits for the device
seconds = time.perf_counter() - t0
print(json.dumps({"samplesPerSec": samples / seconds, "device": str(device)}))
