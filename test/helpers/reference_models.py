"""Reference networks with random weights and randomised BatchNorm statistics, in eval mode.

usage: python3 reference_models.py KIND OUT_DIR [BATCH]
KIND: resnet50 (torchvision.models.resnet50()) or vit-ti16 (torchvision VisionTransformer(224, 16, 12, 3, 192, 768)).
Writes OUT_DIR/model.pth (the state_dict), x.npy (float32 NHWC input) and logprobs.npy (log_softmax of the logits).
"""
import sys

import numpy as np
import torch
import torchvision

kind, out = sys.argv[1], sys.argv[2]
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 2
torch.manual_seed(0)
if kind == "resnet50":
    model = torchvision.models.resnet50()
elif kind == "vit-ti16":
    model = torchvision.models.VisionTransformer(224, 16, 12, 3, 192, 768)
else:
    sys.exit(f"unknown reference {kind}")
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.uniform_(0.5, 1.5)
            m.bias.normal_(0, 0.2)
        if isinstance(m, torch.nn.LayerNorm):
            m.weight.uniform_(0.5, 1.5)
            m.bias.normal_(0, 0.2)
    for name, p in model.named_parameters():
        # Nonzero everywhere (torchvision zero-initialises the ViT head, biases and tokens), logits of moderate size.
        if p.dim() == 1 or "token" in name or "pos_embedding" in name:
            p.add_(torch.randn_like(p) * 0.1)
        if name.startswith("fc.") or name.startswith("heads."):
            p.copy_(torch.randn_like(p) * (0.02 if p.dim() > 1 else 0.1))
model.eval()
x = torch.randn(batch, 3, 224, 224)
with torch.no_grad():
    # Logits of a few units (random deep networks can reach hundreds, where float32 softmax underflows to 0).
    head = model.fc if kind == "resnet50" else model.heads.head
    head.weight.mul_(3.0 / model(x).std())
    logprobs = torch.log_softmax(model(x), dim=1)
torch.save(model.state_dict(), f"{out}/model.pth")
np.save(f"{out}/x.npy", x.permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32))
np.save(f"{out}/logprobs.npy", logprobs.numpy().astype(np.float32))
