"""ResNet-50 with an attention unit after bn3 of every bottleneck, before the residual addition, in eval mode.

KIND se-resnet50:   timm's seresnet50 layout (torchvision's v1.5 bottleneck, the stride on the 3x3 conv;
                    attention_units.SEModule, r = 16, as `layerK.I.se`).
KIND cbam-resnet50: the CBAM authors' ResidualNet("ImageNet", 50, 1000, "CBAM") (Jongchan/attention-module,
                    MODELS/model_resnet.py: the same bottleneck with attention_units.CBAM as `layerK.I.cbam`).
Both share torchvision's names (conv1, bn1, layerK.I.convN/bnN/downsample.0|1, fc). Written from the papers and
those published layouts. Random weights (torchvision's initialisation), randomised BatchNorm statistics.

usage: python3 attention_resnet50.py KIND OUT_DIR [BATCH]
Writes OUT_DIR/model.pth, x.npy (float32 NHWC input) and logprobs.npy (log_softmax of the logits). The CBAM
network's file is saved as the authors' training script saves it: {"state_dict": ...} with DataParallel's
"module." prefix on every name.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attention_units import CBAM, SEModule, randomise  # noqa: E402

UNITS = {"se-resnet50": ("se", SEModule), "cbam-resnet50": ("cbam", CBAM)}


class Bottleneck(nn.Module):
    def __init__(self, cin, mid, stride, unit):
        super().__init__()
        cout = mid * 4
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        name, make = unit
        self.unit = name
        self.add_module(name, make(cout, 16))
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = getattr(self, self.unit)(self.bn3(self.conv3(y)))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ResNet50(nn.Module):
    def __init__(self, unit):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for k, (mid, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], 1):
            layer = [Bottleneck(cin, mid, stride, unit)] + [Bottleneck(mid * 4, mid, 1, unit) for _ in range(blocks - 1)]
            setattr(self, f"layer{k}", nn.Sequential(*layer))
            cin = mid * 4
        self.fc = nn.Linear(2048, 1000)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        for k in (1, 2, 3, 4):
            x = getattr(self, f"layer{k}")(x)
        return self.fc(x.mean(dim=(2, 3)))


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    torch.manual_seed(0)
    model = ResNet50(UNITS[kind])
    randomise(model)
    model.eval()
    x = torch.randn(batch, 3, 224, 224)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)  # no zero biases
        # Logits of a few units (a random deep network's can reach hundreds, where float32 softmax underflows to 0).
        model.fc.weight.mul_(3.0 / model(x).std())
        logprobs = torch.log_softmax(model(x), dim=1)
    state = model.state_dict()
    if kind == "cbam-resnet50":
        state = {"state_dict": {f"module.{k}": v for k, v in state.items()}}
    torch.save(state, f"{out}/model.pth")
    np.save(f"{out}/x.npy", x.permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32))
    np.save(f"{out}/logprobs.npy", logprobs.numpy().astype(np.float32))
