"""One SGD step (momentum 0.9) of a reference network in training mode: BatchNorm normalises with the batch's
statistics and updates its running ones (momentum 0.1; 0.01 in CBAM's spatial gate), cross-entropy averaged over
the batch.

usage: python3 train_step_torch.py KIND OUT_DIR LR [SIZE BATCH]
KIND: se | cbam                     He et al.'s ResNet-20 with SE or CBAM (resnet20.py), 16 MNIST-size images, under
                                    our export's names;
      resnet50                      torchvision's resnet50();
      se-resnet50 | cbam-resnet50   timm's seresnet50 layout / the CBAM authors' ResNet-50 (attention_resnet50.py);
                                    the ResNet-50s on BATCH images of SIZE x SIZE (default 2 of 64x64: the same
                                    convolutions as at 224, a twelfth of the work), under their own names.
Writes before.pth and after.pth (the state_dicts), x.npy (NHWC) and y.npy (labels, as float32).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attention_resnet50  # noqa: E402
from attention_units import randomise  # noqa: E402
from resnet20 import Net, export_names  # noqa: E402


def make(kind, size, batch):
    """The model, its classifier, the input's shape (NCHW) and a renaming of its state_dict."""
    if kind in ("se", "cbam"):
        model = Net(kind)
        return model, model.head, (16, 1, 28, 28), 10, export_names
    if kind == "resnet50":
        import torchvision

        model = torchvision.models.resnet50()
    else:
        model = attention_resnet50.ResNet50(attention_resnet50.UNITS[kind])
    return model, model.fc, (batch, 3, size, size), 1000, lambda state: state


kind, out, lr = sys.argv[1], sys.argv[2], float(sys.argv[3])
size, batch = (int(a) for a in sys.argv[4:6]) if len(sys.argv) > 4 else (64, 2)
torch.manual_seed(1)
model, head, shape, classes, names = make(kind, size, batch)
randomise(model)
x = torch.randn(*shape)
y = torch.randint(0, classes, (shape[0],))
with torch.no_grad():
    if kind in ("se", "cbam"):
        head.weight.mul_(0.3)
    else:
        for p in model.parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)  # no zero biases
        # Each bottleneck's last BatchNorm scaled small, as in trained ResNet-50s (and Goyal et al.'s zero-init
        # residuals). With gammas near 1 in all 16 blocks the gradients explode (|grad| 650 at conv1.weight) and the
        # step is chaotic: PyTorch's own float32 step then differs from its float64 step by 0.57 at conv1.weight,
        # by 1.2e-6 with this scaling.
        for name, m in model.named_modules():
            if name.endswith("bn3"):
                m.weight.mul_(0.1)
        # Logits of a few units, measured in training mode without touching the running statistics.
        norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.momentum = 0.0
        model.train()
        head.weight.mul_(3.0 / model(x).std())
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
model.train()
torch.save(names({k: v.clone() for k, v in model.state_dict().items()}), f"{out}/before.pth")
optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
optimizer.zero_grad()
F.cross_entropy(model(x), y).backward()
optimizer.step()
torch.save(names(model.state_dict()), f"{out}/after.pth")
np.save(f"{out}/x.npy", x.permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32))
np.save(f"{out}/y.npy", y.numpy().astype(np.float32))
