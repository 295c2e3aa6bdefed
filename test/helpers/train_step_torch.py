"""One SGD step (momentum 0.9) of a reference network in training mode: BatchNorm normalises with the batch's
statistics and updates its running ones (momentum 0.1; 0.01 in CBAM's spatial gate), cross-entropy averaged over
the batch.

usage: python3 train_step_torch.py KIND OUT_DIR LR
KIND: se | cbam                     He et al.'s ResNet-20 with SE or CBAM (resnet20.py), 16 MNIST-size images, under
                                    our export's names;
      resnet50                      torchvision's resnet50();
      se-resnet50 | cbam-resnet50   timm's seresnet50 layout / the CBAM authors' ResNet-50 (attention_resnet50.py);
                                    the ResNet-50s on 2 images of 64x64 (the same convolutions as at 224, a twelfth
                                    of the work), under their own names.
Writes before.pth and after.pth (the state_dicts), x.npy (NHWC) and y.npy (labels, as float32), and
after_biased_var.pth: after.pth with each running_var as tfjs's (and Keras's) BatchNormalization updates its moving
variance, from the batch's biased variance (sum of squares / n) where PyTorch uses the unbiased one (/ (n - 1)):
    running_var_biased = running_var - (running_var - (1 - momentum) * running_var_before) / n
with n the values per channel in the batch (batch x height x width).
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


def make(kind):
    """The model, its classifier, the input's shape (NCHW) and a renaming of its state_dict."""
    if kind in ("se", "cbam"):
        model = Net(kind)
        return model, model.head, (16, 1, 28, 28), 10, export_names
    if kind == "resnet50":
        import torchvision

        model = torchvision.models.resnet50()
    else:
        model = attention_resnet50.ResNet50(attention_resnet50.UNITS[kind])
    return model, model.fc, (2, 3, 64, 64), 1000, lambda state: state


kind, out, lr = sys.argv[1], sys.argv[2], float(sys.argv[3])
torch.manual_seed(1)
model, head, shape, classes, names = make(kind)
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
per_channel = {}
for name, m in model.named_modules():
    if isinstance(m, torch.nn.BatchNorm2d):
        m.register_forward_pre_hook(lambda m, inputs, name=name: per_channel.__setitem__(name, inputs[0].numel() // inputs[0].shape[1]))
before = {k: v.clone() for k, v in model.state_dict().items()}
optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
optimizer.zero_grad()
F.cross_entropy(model(x), y).backward()
optimizer.step()
after = model.state_dict()
torch.save(names(after), f"{out}/after.pth")
biased = dict(after)
for name, n in per_channel.items():
    m = dict(model.named_modules())[name].momentum
    key = f"{name}.running_var"
    new, old = after[key].double(), before[key].double()
    biased[key] = (new - (new - (1 - m) * old) / n).float()
torch.save(names(biased), f"{out}/after_biased_var.pth")
np.save(f"{out}/x.npy", x.permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32))
np.save(f"{out}/y.npy", y.numpy().astype(np.float32))
