"""Vision attention for exported PyTorch models: Squeeze-and-Excitation, CBAM (channel and
spatial attention), non-local blocks, the attention branch of ABN, highway and learned gates.

Attention Studio copies the classes a model uses (below these imports) into its PyTorch
export; the export's tests import this file as it is.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


class SqueezeExcitation(nn.Module):
    """Squeeze-and-Excitation: channel attention from globally pooled features.

    Hu, Shen, Albanie, Sun & Wu (2018). Squeeze-and-Excitation Networks.
    s = sigmoid(fc2(relu(fc1(mean_hw(x))))), y = x * s. Returns y [B, C, H, W] and the
    channel weights s [B, C].
    """

    def __init__(self, channels, reduction=16, bias=True):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden, bias=bias)
        self.fc2 = nn.Linear(hidden, channels, bias=bias)

    def forward(self, x):
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * s[:, :, None, None], s


class ChannelAttention(nn.Module):
    """CBAM's channel attention module.

    Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
    M_c = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x))) with one shared MLP, y = M_c * x.
    Returns y [B, C, H, W] and the channel weights M_c [B, C].
    """

    def __init__(self, channels, reduction=16, bias=True):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden, bias=bias)
        self.fc2 = nn.Linear(hidden, channels, bias=bias)

    def mlp(self, v):
        return self.fc2(F.relu(self.fc1(v)))

    def forward(self, x):
        weights = torch.sigmoid(self.mlp(x.mean(dim=(2, 3))) + self.mlp(x.amax(dim=(2, 3))))
        return x * weights[:, :, None, None], weights


class SpatialAttention(nn.Module):
    """CBAM's spatial attention module.

    Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
    M_s = sigmoid(BN(conv([mean_c(x); max_c(x)]))), y = M_s * x. Returns y [B, C, H, W] and
    the spatial map M_s [B, H, W]. The pooled maps are stacked mean first, in the paper's
    order (the authors' code stacks max first).
    """

    def __init__(self, kernel_size=7, batch_norm=True, bn_momentum=0.1):
        super().__init__()
        # An odd kernel with padding k // 2 is exactly TensorFlow's "same" padding.
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        # BatchNorm as in the tfjs model: epsilon 1e-5; its momentum m is 1 - m in Keras and tfjs terms.
        self.bn = nn.BatchNorm2d(1, eps=1e-5, momentum=bn_momentum) if batch_norm else nn.Identity()

    def forward(self, x):
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        m = torch.sigmoid(self.bn(self.conv(pooled)))
        return x * m, m[:, 0]


class CBAM(nn.Module):
    """Convolutional Block Attention Module: channel attention, then spatial attention.

    Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
    F' = M_c(F) * F, F'' = M_s(F') * F'. Returns F'' [B, C, H, W], the channel weights
    [B, C] and the spatial map [B, H, W].
    """

    def __init__(self, channels, reduction=16, kernel_size=7, bias=True, batch_norm=True, bn_momentum=0.1):
        super().__init__()
        self.channel = ChannelAttention(channels, reduction, bias=bias)
        self.spatial = SpatialAttention(kernel_size, batch_norm=batch_norm, bn_momentum=bn_momentum)

    def forward(self, x):
        x, channel_weights = self.channel(x)
        x, spatial_map = self.spatial(x)
        return x, channel_weights, spatial_map


class NonLocalBlock(nn.Module):
    """Non-local block: self-attention over all positions of a feature map.

    Wang, Girshick, Gupta & He (2018). Non-local Neural Networks.
    y_i = sum_j f(theta_i, phi_j) g_j / C(x), z = BN(W_z y) + x, with 1x1 convolutions theta,
    phi, g to max(1, C // 2) channels. pairwise is "embedded_gaussian" (softmax over j),
    "dot_product" (divided by N') or "concatenation" (ReLU(w_f^T [theta_i; phi_j]) / N'), N'
    being the number of key positions; subsample max-pools phi and g 2x2. BN's gamma starts
    at zero, so the block starts as the identity. Returns z [B, C, H, W] and the affinity
    [B, HW, N'] whose rows and columns run over positions row-major (H, then W).
    """

    def __init__(self, channels, pairwise="embedded_gaussian", subsample=True):
        super().__init__()
        inner = max(1, channels // 2)
        self.pairwise = pairwise
        self.subsample = subsample
        self.theta = nn.Conv2d(channels, inner, 1)
        self.phi = nn.Conv2d(channels, inner, 1)
        self.g = nn.Conv2d(channels, inner, 1)
        self.wz = nn.Conv2d(inner, channels, 1)
        # BatchNorm as in the tfjs model: epsilon 1e-5, momentum 0.9 in Keras terms (0.1 in PyTorch's).
        self.bn = nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
        nn.init.zeros_(self.bn.weight)
        if pairwise == "concatenation":
            # w_f, applied as w_theta^T theta_i + w_phi^T phi_j (the same as on the concatenation).
            self.concat_project = nn.Linear(2 * inner, 1, bias=False)

    def forward(self, x):
        b, _, h, w = x.shape
        theta = self.theta(x).flatten(2).transpose(1, 2)  # [B, HW, C']
        phi, g = self.phi(x), self.g(x)
        if self.subsample:
            phi, g = F.max_pool2d(phi, 2), F.max_pool2d(g, 2)
        phi = phi.flatten(2).transpose(1, 2)  # [B, N', C']
        g = g.flatten(2).transpose(1, 2)
        keys = phi.shape[1]
        if self.pairwise == "embedded_gaussian":
            affinity = torch.softmax(theta @ phi.transpose(1, 2), dim=-1)
        elif self.pairwise == "dot_product":
            affinity = theta @ phi.transpose(1, 2) / keys
        else:
            w_theta, w_phi = self.concat_project.weight.split(theta.shape[-1], dim=1)
            affinity = F.relu(theta @ w_theta.t() + (phi @ w_phi.t()).transpose(1, 2)) / keys
        y = (affinity @ g).transpose(1, 2).reshape(b, -1, h, w)
        return self.bn(self.wz(y)) + x, affinity


class AttentionBranch(nn.Module):
    """The attention branch of an Attention Branch Network.

    Fukui, Hirakawa, Yamashita & Fujiyoshi (2019). Attention Branch Network: Learning of
    Attention Mechanism for Visual Explanation.
    conv_layers 3x3 conv-BN-ReLU layers, BN, a 1x1 conv to K class maps, BN, ReLU; then a 1x1
    conv, global average pooling and softmax give the class scores, and a conv K -> 1, BN and
    sigmoid give the attention map M. Returns (1 + M) * x [B, C, H, W], M [B, H, W] and the
    scores [B, K].
    """

    def __init__(self, channels, classes, conv_layers=1, map_kernel=1):
        super().__init__()
        # BatchNorm as in the tfjs model: epsilon 1e-5, momentum 0.9 in Keras terms (0.1 in PyTorch's).
        def batch_norm(n):
            return nn.BatchNorm2d(n, eps=1e-5, momentum=0.1)

        self.convs = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1, bias=False) for _ in range(conv_layers))
        self.bns = nn.ModuleList(batch_norm(channels) for _ in range(conv_layers))
        self.bn = batch_norm(channels)
        self.class_conv = nn.Conv2d(channels, classes, 1, bias=False)
        self.class_bn = batch_norm(classes)
        self.score_conv = nn.Conv2d(classes, classes, 1, bias=False)
        # An odd kernel with padding k // 2 is exactly TensorFlow's "same" padding.
        self.map_conv = nn.Conv2d(classes, 1, map_kernel, padding=map_kernel // 2, bias=False)
        self.map_bn = batch_norm(1)

    def forward(self, x):
        a = x
        for conv, bn in zip(self.convs, self.bns):
            a = F.relu(bn(conv(a)))
        a = F.relu(self.class_bn(self.class_conv(self.bn(a))))
        scores = torch.softmax(self.score_conv(a).mean(dim=(2, 3)), dim=-1)
        m = torch.sigmoid(self.map_bn(self.map_conv(a)))
        return x + x * m, m[:, 0], scores


class HighwayGate(nn.Module):
    """A highway layer: y = H(x) * T(x) + x * (1 - T(x)), with T(x) = sigmoid(W_T x + b_T).

    Srivastava, Greff & Schmidhuber (2015). Training Very Deep Networks.
    H and T are linear maps of the last axis, or k x k convolutions on an image [B, C, H, W]
    when kernel_size is given. b_T starts at gate_bias (negative: carry x at first).
    Returns y and the gate T(x), both shaped like x.
    """

    def __init__(self, channels, activation="relu", kernel_size=None, gate_bias=-2.0):
        super().__init__()
        if kernel_size is None:
            self.transform = nn.Linear(channels, channels)
            self.gate = nn.Linear(channels, channels)
        else:
            # An odd kernel with padding k // 2 is exactly TensorFlow's "same" padding.
            self.transform = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2)
            self.gate = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2)
        nn.init.constant_(self.gate.bias, gate_bias)
        self.activation = {"relu": nn.ReLU(), "tanh": nn.Tanh(), "linear": nn.Identity()}[activation]

    def forward(self, x):
        h = self.activation(self.transform(x))
        t = torch.sigmoid(self.gate(x))
        return x + t * (h - x), t


class LearnedGate(nn.Module):
    """A learned gate: y = sigmoid(W c + b) * x, where the context c decides how much of x passes.

    Dauphin, Fan, Auli & Grangier (2017). Language Modeling with Gated Convolutional Networks.
    per="channel": c is averaged over its positions and a linear map gives one weight per
    channel of x, [B, C]. per="position": a linear map of c's channels gives one weight per
    position of x, [B, H, W] or [B, T]. Without a context, x gates itself. Images are NCHW,
    sequences [B, T, C].
    """

    def __init__(self, context_channels, channels, per="channel"):
        super().__init__()
        self.per = per
        self.proj = nn.Linear(context_channels, channels if per == "channel" else 1)

    def forward(self, x, context=None):
        c = x if context is None else context
        if self.per == "channel":
            if c.dim() > 2:
                c = c.mean(dim=(2, 3)) if c.dim() == 4 else c.mean(dim=1)
            gate = torch.sigmoid(self.proj(c))  # [B, C]
            return x * (gate[:, :, None, None] if x.dim() == 4 else gate[:, None, :]), gate
        if c.dim() == 4:
            c = c.permute(0, 2, 3, 1)  # the projection acts on the channels of every position
        gate = torch.sigmoid(self.proj(c)).squeeze(-1)  # [B, H, W] or [B, T]
        return x * (gate[:, None] if x.dim() == 4 else gate[..., None]), gate
