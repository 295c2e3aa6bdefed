"""He et al.'s CIFAR ResNet-20 (option A shortcuts) for 28x28x1, with an attention unit after bn2 of every block.

Written from the paper (§4.2: 3x3 convs, 16/32/64 channels, stride 2 at the first block of stages 2
and 3, shortcut x[:, :, ::2, ::2] zero-padded by C/4 channels on each side). The units:
  se:   Hu et al.'s SE (global mean, FC C -> C/4, ReLU, FC -> C, sigmoid, rescale), under our export's names;
  cbam: Woo et al.'s CBAM as the authors' code (attention_units.CBAM, reduction 4), under the authors' names.
Random weights, randomised BatchNorm statistics, eval mode. The state_dict is saved under the template's
export names (stageK.first.*, stageK.rest.<i>.*), the CBAM units' insides under the authors' names.

usage: python3 resnet20.py se|cbam OUT_DIR
"""
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attention_units import CBAM, randomise  # noqa: E402


class SE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(c, c // 4), nn.Linear(c // 4, c)

    def forward(self, x):
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * s[:, :, None, None]


# The unit's attribute name (the template's node id) and how it is made for C channels.
UNITS = {"se": lambda c: SE(c), "cbam": lambda c: CBAM(c, reduction=4)}


class Block(nn.Module):
    def __init__(self, cin, cout, stride, unit):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.unit = unit
        self.add_module(unit, UNITS[unit](cout))
        self.pad = (cout - cin) // 2

    def forward(self, x):
        y = getattr(self, self.unit)(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        shortcut = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad)) if self.pad else x
        return F.relu(y + shortcut)


class Net(nn.Module):
    def __init__(self, unit="se"):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        cin = 16
        for k, c in enumerate([16, 32, 64], 1):
            setattr(self, f"stage{k}_first", Block(cin, c, 1 if k == 1 else 2, unit))
            for i in (1, 2):
                setattr(self, f"stage{k}_rest_r{i}", Block(c, c, 1, unit))
            cin = c
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        for k in (1, 2, 3):
            for part in ("first", "rest_r1", "rest_r2"):
                x = getattr(self, f"stage{k}_{part}")(x)
        return self.head(x.mean(dim=(2, 3)))


def export_names(state):
    """Our export's names: stageK.first.*, stageK.rest.<i-1>.* (the repeat of a stage's other blocks)."""
    return {
        re.sub(r"^stage(\d)_rest_r(\d)\.", lambda m: f"stage{m[1]}.rest.{int(m[2]) - 1}.", re.sub(r"^stage(\d)_first\.", r"stage\1.first.", k)): v
        for k, v in state.items()
    }


if __name__ == "__main__":
    unit, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    model = Net(unit)
    randomise(model)
    model.eval()
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        logprobs = torch.log_softmax(model(x), dim=1)
    torch.save(export_names(model.state_dict()), f"{out}/model.pth")
    np.save(f"{out}/x.npy", x.permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32))
    np.save(f"{out}/logprobs.npy", logprobs.numpy().astype(np.float32))
