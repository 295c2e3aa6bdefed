"""Structured attention for exported PyTorch models: pre-activation bottlenecks, residual
attention modules, attend-and-rectify, global gates, local self-attention and
attention-augmented convolutions.

Attention Studio copies the classes a model uses (below these imports) into its PyTorch
export; the export's tests import this file as it is.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


class PreActBottleneck(nn.Module):
    """Pre-activation bottleneck residual unit, width C/4, convolutions without bias.

    He, Zhang, Ren & Sun (2016). Identity Mappings in Deep Residual Networks.
    y = x + conv1x1(BN-ReLU(conv3x3(BN-ReLU(conv1x1(BN-ReLU(x)))))).
    """

    def __init__(self, channels):
        super().__init__()
        width = channels // 4
        # BatchNorm as in the tfjs model: epsilon 1e-5, momentum 0.9 in Keras terms (0.1 in PyTorch's).
        self.bn1 = nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
        self.conv1 = nn.Conv2d(channels, width, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width, eps=1e-5, momentum=0.1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width, eps=1e-5, momentum=0.1)
        self.conv3 = nn.Conv2d(width, channels, 1, bias=False)

    def forward(self, x):
        y = self.conv1(F.relu(self.bn1(x)))
        y = self.conv2(F.relu(self.bn2(y)))
        y = self.conv3(F.relu(self.bn3(y)))
        return x + y


class ResidualAttention(nn.Module):
    """The attention module of the Residual Attention Network.

    Wang, Jiang, Qian, Yang, Li, Zhang, Wang & Tang (2017). Residual Attention Network for
    Image Classification.
    p pre-processing units; a trunk of t units; a soft-mask hourglass (levels times a 3x3
    stride-2 max-pool and r units, with skip connections, then bilinear upsampling back up,
    BN-ReLU-conv1x1 twice and a sigmoid); out = post((1 + M) * T). Returns the output, the
    mask M [B, C, H, W] and its mean over channels [B, H, W].
    """

    def __init__(self, channels, p=1, t=2, r=1, levels=2, upsample="bilinear"):
        super().__init__()

        def units(n):
            return nn.Sequential(*(PreActBottleneck(channels) for _ in range(n)))

        self.upsample = upsample
        self.pre = units(p)
        self.trunk = units(t)
        self.down = nn.ModuleList(units(r) for _ in range(levels))
        self.skips = nn.ModuleList(PreActBottleneck(channels) for _ in range(levels - 1))
        self.bottom = units(r)
        self.up = nn.ModuleList(units(r) for _ in range(levels - 1))
        # BatchNorm as in the tfjs model: epsilon 1e-5, momentum 0.9 in Keras terms (0.1 in PyTorch's).
        self.mask_bn1 = nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
        self.mask_conv1 = nn.Conv2d(channels, channels, 1, bias=False)
        self.mask_bn2 = nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
        self.mask_conv2 = nn.Conv2d(channels, channels, 1, bias=False)
        self.post = units(p)

    @staticmethod
    def max_pool(x):
        """3x3 stride-2 max-pooling with TensorFlow's "same" padding, as in the tfjs model.

        On even sizes TensorFlow pads one pixel after only (PyTorch's padding=1 would pad before too).
        """
        pads = []
        for size in (x.shape[-1], x.shape[-2]):
            total = max((math.ceil(size / 2) - 1) * 2 + 3 - size, 0)
            pads += [total // 2, total - total // 2]
        return F.max_pool2d(F.pad(x, pads, value=float("-inf")), 3, 2)

    def resize(self, x, size):
        if self.upsample == "bilinear":  # corners aligned, as Caffe's Interp layer
            return F.interpolate(x, size=size, mode="bilinear", align_corners=True)
        return F.interpolate(x, size=size, mode="nearest")

    def forward(self, x):
        x = self.pre(x)
        trunk = self.trunk(x)
        m, skips = x, []
        for level, down in enumerate(self.down):
            m = down(self.max_pool(m))
            if level < len(self.skips):
                skips.append(self.skips[level](m))
        m = self.bottom(m)
        for level in reversed(range(len(self.up))):
            skip = skips[level]
            m = self.up[level](self.resize(m, skip.shape[-2:]) + skip)
        m = self.resize(m, trunk.shape[-2:])
        m = self.mask_conv1(F.relu(self.mask_bn1(m)))
        m = self.mask_conv2(F.relu(self.mask_bn2(m)))
        mask = torch.sigmoid(m)
        return self.post(trunk + mask * trunk), mask, mask.mean(dim=1)


class AttendRectify(nn.Module):
    """An attention module of Attend and Rectify.

    Rodriguez, Gonfaus, Cucurull, Roca & Gonzalez (2018). Attend and Rectify: a Gated
    Attention Mechanism for Fine-Grained Recovery.
    K attention heads (softmax over positions) weigh K output heads into hypotheses o_k;
    gates g = softmax_k(tanh(sum_xy (W_g * Z) H_k)) mix them. Returns the hypothesis
    sum_k g_k o_k [B, classes] (logits), the maps H [B, K, H, W] and the gates [B, K].
    """

    def __init__(self, channels, heads, classes, kernel_size=1):
        super().__init__()
        self.heads, self.classes = heads, classes
        # TensorFlow's "same" padding: (k - 1) // 2 before, the rest after (padding=k // 2 for odd k).
        self.pad = ((kernel_size - 1) // 2, kernel_size // 2) * 2
        self.attention = nn.Conv2d(channels, heads, kernel_size, bias=False)
        self.outputs = nn.Conv2d(channels, heads * classes, kernel_size, bias=False)
        self.gate_scores = nn.Conv2d(channels, heads, kernel_size, bias=False)

    def forward(self, z):
        b, _, h, w = z.shape
        z = F.pad(z, self.pad)
        maps = torch.softmax(self.attention(z).flatten(2), dim=-1)  # [B, K, HW]
        outputs = self.outputs(z).reshape(b, self.heads, self.classes, h * w)
        hypotheses = torch.einsum("bkn,bkcn->bkc", maps, outputs)
        gates = torch.softmax(torch.tanh((maps * self.gate_scores(z).flatten(2)).sum(-1)), dim=-1)
        out = torch.einsum("bk,bkc->bc", gates, hypotheses)
        return out, maps.reshape(b, self.heads, h, w), gates


class GlobalGate(nn.Module):
    """The global attention gates of Attend and Rectify.

    Rodriguez, Gonfaus, Cucurull, Roca & Gonzalez (2018). Attend and Rectify: a Gated
    Attention Mechanism for Fine-Grained Recovery.
    Gates g = softmax(tanh(W f)) from the features f (pooled if a feature map; the network
    output if none) weigh the network's class distribution and softmax(o_l) of each
    hypothesis. Returns the mixture [B, classes] and the gates [B, N + 1].
    """

    def __init__(self, features, hypotheses, net_is_logits=False):
        super().__init__()
        self.net_is_logits = net_is_logits
        self.gates = nn.Linear(features, hypotheses + 1, bias=False)

    def forward(self, net, hypotheses, features=None):
        f = net if features is None else features
        if f.dim() == 4:
            f = f.mean(dim=(2, 3))
        gates = torch.softmax(torch.tanh(self.gates(f)), dim=-1)
        probs = [torch.softmax(net, dim=-1) if self.net_is_logits else net]
        probs += [torch.softmax(h, dim=-1) for h in hypotheses]
        return torch.einsum("bs,bsc->bc", gates, torch.stack(probs, dim=1)), gates


class LocalSelfAttention2d(nn.Module):
    """Stand-alone local self-attention over each position's k x k neighbourhood.

    Ramachandran, Parmar, Vaswani, Bello, Levskaya & Shlens (2019). Stand-Alone
    Self-Attention in Vision Models.
    y_ij = sum_ab softmax_ab(q_ij . k_ab + q_ij . r_(a-i, b-j)) v_ab, q, k, v bias-free 1x1
    projections split into heads; r is concat(row embedding, column embedding). Neighbours off
    the image are masked out of the softmax. Returns y [B, C, H, W] and the weights
    [B, heads, HW, k*k] (row-major positions and offsets).
    """

    def __init__(self, in_channels, channels, heads, kernel_size):
        super().__init__()
        self.heads, self.kernel_size = heads, kernel_size
        self.query = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.key = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.value = nn.Conv2d(in_channels, channels, 1, bias=False)
        self.row_embedding = nn.Parameter(torch.randn(kernel_size, channels // 2))
        self.col_embedding = nn.Parameter(torch.randn(kernel_size, channels // 2))

    def forward(self, x):
        b, _, h, w = x.shape
        k, heads = self.kernel_size, self.heads
        q, keys, values = self.query(x), self.key(x), self.value(x)
        c = q.shape[1]
        d = c // heads

        def windows(t):  # [B, C, H, W] -> [B, heads, d, k*k, HW]
            return F.unfold(t, k, padding=k // 2).reshape(b, heads, d, k * k, h * w)

        queries = q.reshape(b, heads, d, h * w)
        content = torch.einsum("bhdn,bhden->bhne", queries, windows(keys))
        rel = torch.cat([self.row_embedding.repeat_interleave(k, dim=0), self.col_embedding.repeat(k, 1)], dim=1)
        position = torch.einsum("bhdn,ehd->bhne", queries, rel.reshape(k * k, heads, d))
        inside = F.unfold(x.new_ones(1, 1, h, w), k, padding=k // 2)[0].t() > 0  # [HW, k*k]
        weights = torch.softmax((content + position).masked_fill(~inside, float("-inf")), dim=-1)
        y = torch.einsum("bhne,bhden->bhdn", weights, windows(values))
        return y.reshape(b, c, h, w), weights


class AugmentedConv2d(nn.Module):
    """Attention-augmented convolution: a k x k convolution and multi-head self-attention, concatenated.

    Bello, Zoph, Vaswani, Shlens & Le (2019). Attention Augmented Convolutional Networks.
    One 1x1 convolution gives queries and keys (dk channels each) and values (dv); logits are
    q.k / sqrt(dk / heads) plus, when relative, the query's products with learned embeddings of
    the row and column offsets (shared by the heads); a 1x1 convolution mixes the heads.
    Returns [conv(x); attention] [B, filters, H, W] and the weights [B, heads, HW, HW].
    """

    def __init__(self, in_channels, filters, kernel_size, dk, dv, heads, relative=True, height=None, width=None):
        super().__init__()
        self.dk, self.dv, self.heads = dk, dv, heads
        # TensorFlow's "same" padding: (k - 1) // 2 before, the rest after (padding=k // 2 for odd k).
        self.pad = ((kernel_size - 1) // 2, kernel_size // 2) * 2
        self.conv = nn.Conv2d(in_channels, filters - dv, kernel_size) if filters > dv else None
        self.qkv = nn.Conv2d(in_channels, 2 * dk + dv, 1)
        self.attn_out = nn.Conv2d(dv, dv, 1)
        self.relative = relative
        if relative:
            self.key_rel_w = nn.Parameter(torch.randn(2 * width - 1, dk // heads) * (dk // heads) ** -0.5)
            self.key_rel_h = nn.Parameter(torch.randn(2 * height - 1, dk // heads) * (dk // heads) ** -0.5)

    @staticmethod
    def relative_table(table, n):
        """[2n - 1, d] embeddings of offsets -> [n, n, d], entry (i, j) the embedding of j - i."""
        index = torch.arange(n, device=table.device)
        return table[index[None, :] - index[:, None] + n - 1]

    def forward(self, x):
        b, _, h, w = x.shape
        n, heads = h * w, self.heads
        dkh, dvh = self.dk // heads, self.dv // heads
        q, k, v = self.qkv(x).split([self.dk, self.dk, self.dv], dim=1)
        q = q.reshape(b, heads, dkh, n).transpose(2, 3) * dkh**-0.5  # [B, heads, HW, dkh]
        k = k.reshape(b, heads, dkh, n).transpose(2, 3)
        v = v.reshape(b, heads, dvh, n).transpose(2, 3)
        logits = q @ k.transpose(2, 3)
        if self.relative:
            q5 = q.reshape(b, heads, h, w, dkh)
            by_w = torch.einsum("bnxyd,yzd->bnxyz", q5, self.relative_table(self.key_rel_w, w))  # [B, heads, H, W, W]
            by_h = torch.einsum("bnxyd,xzd->bnxyz", q5, self.relative_table(self.key_rel_h, h))  # [B, heads, H, W, H]
            logits = (logits.reshape(b, heads, h, w, h, w) + by_w[:, :, :, :, None, :] + by_h[..., None]).reshape(b, heads, n, n)
        weights = torch.softmax(logits, dim=-1)
        attended = self.attn_out((weights @ v).transpose(2, 3).reshape(b, self.dv, h, w))
        if self.conv is None:
            return attended, weights
        return torch.cat([self.conv(F.pad(x, self.pad)), attended], dim=1), weights
