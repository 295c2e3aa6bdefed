"""One SGD step of He et al.'s ResNet-20 with SE or CBAM (resnet20.py) in training mode: BatchNorm normalises with
the batch's statistics and updates its running ones (momentum 0.1; 0.01 in CBAM's spatial gate), cross-entropy
averaged over the batch.

usage: python3 train_step_torch.py se|cbam OUT_DIR LR
Writes before.pth and after.pth (state_dicts under resnet20.py's names), x.npy (NHWC) and y.npy (labels, as float32).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet20 import Net, export_names, randomise  # noqa: E402

unit, out, lr = sys.argv[1], sys.argv[2], float(sys.argv[3])
torch.manual_seed(1)
model = Net(unit)
randomise(model)
with torch.no_grad():
    model.head.weight.mul_(0.3)
x = torch.randn(16, 1, 28, 28)
y = torch.randint(0, 10, (16,))
torch.save(export_names({k: v.clone() for k, v in model.state_dict().items()}), f"{out}/before.pth")
model.train()
optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
optimizer.zero_grad()
F.cross_entropy(model(x), y).backward()
optimizer.step()
torch.save(export_names(model.state_dict()), f"{out}/after.pth")
np.save(f"{out}/x.npy", x.permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32))
np.save(f"{out}/y.npy", y.numpy().astype(np.float32))
