"""The attention units of the reference networks, with their authors' state_dict names.

SEModule: timm's SE unit (timm.layers.squeeze_excite.SEModule, what timm's seresnet50 puts after bn3): global
mean, 1x1 conv C -> C/r with bias, ReLU, 1x1 conv -> C with bias, sigmoid, rescale (Hu et al. 2018).

CBAM: Woo et al. 2018 as in the authors' code (Jongchan/attention-module, MODELS/cbam.py): ChannelGate (average-
and max-pooled descriptors through one MLP, Flatten/Linear/ReLU/Linear, summed, sigmoid) then SpatialGate (channel
max and mean, stacked max first, 7x7 conv without bias, BatchNorm with momentum 0.01, sigmoid). Written from the
paper and that published layout, so that the state_dict names are the authors': ChannelGate.mlp.1/3,
SpatialGate.spatial.conv/bn.
"""
import torch
import torch.nn.functional as F
from torch import nn


class SEModule(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3), keepdim=True)))))


class ChannelGate(nn.Module):
    def __init__(self, channels, reduction):
        super().__init__()
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(channels, channels // reduction), nn.ReLU(), nn.Linear(channels // reduction, channels))

    def forward(self, x):
        logits = self.mlp(F.adaptive_avg_pool2d(x, 1)) + self.mlp(F.adaptive_max_pool2d(x, 1))
        return x * torch.sigmoid(logits)[:, :, None, None]


class BasicConv(nn.Module):
    """The authors' conv -> BatchNorm(momentum 0.01) pair; the spatial gate's has no ReLU."""

    def __init__(self, kernel):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel, padding=(kernel - 1) // 2, bias=False)
        self.bn = nn.BatchNorm2d(1, eps=1e-5, momentum=0.01)

    def forward(self, x):
        return self.bn(self.conv(x))


class SpatialGate(nn.Module):
    def __init__(self, kernel=7):
        super().__init__()
        self.spatial = BasicConv(kernel)

    def forward(self, x):
        compressed = torch.cat((x.max(dim=1, keepdim=True)[0], x.mean(dim=1, keepdim=True)), dim=1)
        return x * torch.sigmoid(self.spatial(compressed))


class CBAM(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        self.ChannelGate = ChannelGate(channels, reduction)
        self.SpatialGate = SpatialGate()

    def forward(self, x):
        return self.SpatialGate(self.ChannelGate(x))


def randomise(model):
    """Random BatchNorm statistics and affine weights, as a trained network has."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
