"""Class activation maps of an exported model, as Attention Studio computes them.

Attention Studio copies this file (below its imports) into every PyTorch
export; the tests import it as it is. The score is the class's logit (what
forward() returns), its gradient with respect to a layer's activation A
weighs A's channels:
  gradcam:   ReLU(sum_k mean_ij(dy/dA_k) A_k)              (Selvaraju et al. 2017)
  gradcam++: ReLU(sum_k sum_ij(a_kij ReLU(dy/dA_kij)) A_k),
             a_kij = g^2 / (2 g^2 + sum_ab A_kab g^3 + eps)  (Chattopadhay et al. 2018)
  hirescam:  ReLU(sum_k dy/dA_k * A_k)                      (Draelos & Carin 2020)
"""
import torch
import torch.nn.functional as F


def grad_cam(model, x, layer=None, class_index=None, method="gradcam", grid=None, skip_tokens=0):
    """A class activation map per sample, [batch, H, W], and the classes explained.

    layer: a submodule or its dotted name (its output, or the output's first
    element, is A); None: the output of model.forward_features(), the last
    spatial layer before the head and before any pooling of it (Attention
    Studio's default layer). class_index: an int or one per sample
    (default: the predicted class). Tokens [batch, T, D] (a ViT): give
    grid=(rows, cols) and skip_tokens=1 to drop the class token.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            if layer is None:
                if not hasattr(model, "forward_features"):
                    raise ValueError("this model has no forward_features() ending at a spatial layer: pass layer=")
                activation = model.forward_features(x)
                logits = model.forward_head(activation)
            else:
                module = model.get_submodule(layer) if isinstance(layer, str) else layer
                captured = []
                hook = module.register_forward_hook(lambda _m, _i, out: captured.append(out[0] if isinstance(out, (tuple, list)) else out))
                try:
                    logits = model(x)
                finally:
                    hook.remove()
                activation = captured[0]
            if class_index is None:
                class_index = logits.argmax(dim=-1)
            class_index = torch.as_tensor(class_index, device=logits.device).reshape(-1).expand(logits.shape[0])
            score = logits.gather(1, class_index[:, None]).sum()
            (gradient,) = torch.autograd.grad(score, activation)
    finally:
        model.train(was_training)
    a, g = activation.detach(), gradient.detach()
    if a.dim() == 3:
        if grid is None:
            raise ValueError(f"the layer gives tokens {list(a.shape)}: pass grid=(rows, cols) (and skip_tokens=1 for a class token)")
        rows, cols = grid
        a, g = (t[:, skip_tokens : skip_tokens + rows * cols].reshape(t.shape[0], rows, cols, -1).permute(0, 3, 1, 2) for t in (a, g))
    if a.dim() != 4:
        raise ValueError(f"the layer gives {list(a.shape)}: no spatial map for Grad-CAM")
    if method == "gradcam":
        cam = (g.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1)
    elif method == "gradcam++":
        g2 = g * g
        alpha = g2 / (2 * g2 + a.sum(dim=(2, 3), keepdim=True) * g2 * g + 1e-7)
        alpha = torch.where(g != 0, alpha, torch.zeros_like(alpha))
        cam = ((alpha * F.relu(g)).sum(dim=(2, 3), keepdim=True) * a).sum(dim=1)
    elif method == "hirescam":
        cam = (g * a).sum(dim=1)
    else:
        raise ValueError(f"unknown method {method!r}: gradcam, gradcam++ or hirescam")
    return F.relu(cam), class_index
