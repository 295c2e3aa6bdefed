"""Loading, training and the command line of an exported PyTorch model.

Attention Studio copies this file (below its imports) into every PyTorch
export, after the model's classes and before `main(Model, compute_loss,
example_inputs, TRAINING)`; the tests import it as it is. Data: an .npz file written by
`attn export --data DATASET` (x_train, y_train, x_val, y_val; several inputs or
outputs as x0_train, x1_train, ...; images NHWC as in the graph) or an image
folder (one sub-folder per class, as torchvision's ImageFolder reads it).
Under torchrun it trains data-parallel: one process per GPU, a
DistributedSampler, logging and saving on rank 0.
"""
import argparse
import json
import math
import os
import struct
import types

import torch
from torch import nn
import torch.nn.functional as F


def read_safetensors(path):
    """A safetensors file (float32 tensors) as a dict, read with the standard library."""
    with open(path, "rb") as f:
        (header_size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_size))
        data = f.read()
    state = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        start, end = info["data_offsets"]
        tensor = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32)
        state[key] = tensor.reshape(info["shape"])
    return state


def load_weights(model, path):
    """Loads trained weights: a safetensors file from Attention Studio, or a checkpoint of main().

    Strict: a file for another model raises an error naming the missing and unexpected keys.
    BatchNorm's step counters (num_batches_tracked) may be absent: tfjs keeps none.
    """
    if path.endswith(".safetensors"):
        state = read_safetensors(path)
    else:
        state = torch.load(path, map_location="cpu")
        state = state.get("model", state)
    own = model.state_dict()
    missing = sorted(k for k in own if k not in state and not k.endswith("num_batches_tracked"))
    unexpected = sorted(k for k in state if k not in own)
    if missing or unexpected:
        raise ValueError(
            f"{path} does not fit this model: missing keys {missing or 'none'}; unexpected keys {unexpected or 'none'}"
        )
    for k in own:
        if k not in state:
            state[k] = own[k]
    model.load_state_dict(state, strict=True)
    return model


def cross_entropy(logits, target, dim=-1):
    """F.cross_entropy with the classes on `dim`; targets are class indices (-1: no target) or one-hot rows."""
    logits = logits.movedim(dim, -1).flatten(0, -2)
    if target.is_floating_point() and target.dim() > 1:
        return F.cross_entropy(logits, target.flatten(0, -2))
    return F.cross_entropy(logits, target.flatten().long(), ignore_index=-1)


def _as_tuple(x):
    return x if isinstance(x, (tuple, list)) else (x,)


def _to_device(xs, device):
    return tuple(x.to(device, non_blocking=True) for x in xs)


def _loss_fn(loss_fn):
    """The loss to train with: the one given, or the exported file's compute_loss()."""
    loss_fn = loss_fn or globals().get("compute_loss")
    if loss_fn is None:
        raise TypeError("pass loss_fn: outside an exported model file there is no compute_loss()")
    return loss_fn


def _covered(name, modules):
    """The entry of `modules` that names `name` or a module above it (the longest), or None."""
    best = None
    for m in modules:
        if (name == m or name.startswith(m + ".")) and (best is None or len(m) > len(best)):
            best = m
    return best


def apply_fine_tuning(model, fine):
    """Fine-tuning settings in the module's names (engine/export/torch-fine-tune.ts): "frozen" parameters
    get no gradient, and "batchNormEval" BatchNorm modules stay in eval mode (their running statistics
    as they are) whatever model.train() says. A name stands for itself and everything below it."""
    if not fine:
        return
    for name, p in model.named_parameters():
        if _covered(name, fine["frozen"]) is not None:
            p.requires_grad_(False)
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and _covered(name, fine["batchNormEval"]) is not None:
            module.train = types.MethodType(lambda self, mode=True: nn.Module.train(self, False), module)
            module.eval()


def param_groups(named, fine):
    """The optimizer's parameter groups: one per learning-rate multiplier ("lr_scale": the rate is lr times it)."""
    scale = (fine or {}).get("lrScale", {})
    groups = {}
    for name, p in named:
        at = _covered(name, scale)
        groups.setdefault(float(scale[at]) if at is not None else 1.0, []).append(p)
    return [{"params": ps, "lr_scale": s} for s, ps in groups.items()]


def train(model, loader, epochs=1, lr=1e-3, optimizer="adam", device="cpu", amp=False, schedule="cosine",
          val_loader=None, log=print, on_epoch=None, sampler=None, loss_fn=None, fine_tuning=None):
    """Trains `model` for `epochs` passes over `loader` (re-iterable: a DataLoader or a list).

    Each batch is (inputs, targets), both tuples of tensors; the loss is `loss_fn(outputs, targets)`,
    by default the graph's compute_loss(). With `fine_tuning` (the export's FINE_TUNING, applied to the
    model by apply_fine_tuning() first), each parameter trains at lr times its multiplier.
    Returns the mean loss of each epoch.
    """
    compute_loss = _loss_fn(loss_fn)
    if iter(loader) is loader:
        raise TypeError("train() needs a re-iterable loader (a DataLoader or a list): a generator would train one epoch only")
    # Under DistributedDataParallel the names are the wrapped module's.
    named = [(n, p) for n, p in getattr(model, "module", model).named_parameters() if p.requires_grad]
    params = [{"params": g["params"], "lr": lr * g["lr_scale"]} for g in param_groups(named, fine_tuning)]
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9)
    elif optimizer == "adamw":
        opt = torch.optim.AdamW(params, lr=lr)
    else:
        opt = torch.optim.Adam(params, lr=lr)
    steps = max(1, epochs * len(loader))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        opt, (lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))) if schedule == "cosine" else (lambda s: 1.0)
    )
    device_type = torch.device(device).type
    scaler = torch.cuda.amp.GradScaler(enabled=amp and device_type == "cuda")
    history = []
    for epoch in range(epochs):
        if sampler is not None and hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        model.train()
        total, count = 0.0, 0
        for inputs, targets in loader:
            inputs, targets = _to_device(_as_tuple(inputs), device), _to_device(_as_tuple(targets), device)
            _teach(model, targets[0])
            with torch.autocast(device_type=device_type, enabled=amp):
                outputs = model(*inputs)
                loss = compute_loss(outputs, targets if len(targets) > 1 else targets[0])
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            scheduler.step()
            total += loss.item()
            count += 1
        history.append(total / max(count, 1))
        line = f"epoch {epoch + 1}/{epochs}: loss {history[-1]:.4f}"
        if val_loader is not None:
            # The plain module: a DistributedDataParallel forward on rank 0 alone would wait for the others.
            val_loss, val_acc = evaluate(getattr(model, "module", model), val_loader, device, loss_fn=compute_loss)
            line += f", val loss {val_loss:.4f}" + (f", val accuracy {val_acc:.4f}" if val_acc is not None else "")
        log(line)
        if on_epoch is not None:
            on_epoch(epoch)
    return history


def _teach(model, targets):
    """Hands the batch's targets to the modules that read the truth in training (a caption decoder's teacher forcing)."""
    for m in model.modules():
        if hasattr(m, "teacher_targets"):
            m.teacher_targets = targets


@torch.no_grad()
def evaluate(model, loader, device="cpu", loss_fn=None):
    """Mean loss over `loader`, and the accuracy of the first output where its targets are class indices."""
    compute_loss = _loss_fn(loss_fn)
    model.eval()
    total, count, correct, seen = 0.0, 0, 0, 0
    for inputs, targets in loader:
        inputs, targets = _to_device(_as_tuple(inputs), device), _to_device(_as_tuple(targets), device)
        outputs = model(*inputs)
        total += compute_loss(outputs, targets if len(targets) > 1 else targets[0]).item()
        count += 1
        y, t = _as_tuple(outputs)[0], targets[0]
        if not t.is_floating_point() and y.dim() == t.dim() + 1:
            scored = t != -1
            correct += ((y.argmax(-1) == t) & scored).sum().item()
            seen += scored.sum().item()
    return total / max(count, 1), (correct / seen if seen else None)


def _tensor(a):
    t = torch.from_numpy(a)
    if not t.is_floating_point():
        return t.long()
    return t.permute(0, 3, 1, 2).contiguous() if t.dim() == 4 else t.float()


def _arrays(data, prefix, split):
    """x_train, or x0_train, x1_train, ... for several."""
    if f"{prefix}_{split}" in data:
        return [data[f"{prefix}_{split}"]]
    arrays = []
    while f"{prefix}{len(arrays)}_{split}" in data:
        arrays.append(data[f"{prefix}{len(arrays)}_{split}"])
    return arrays


def load_arrays(path, n_inputs):
    """(train, val) TensorDatasets of (inputs..., targets...) from an .npz file; val is None where absent."""
    import numpy as np

    data = np.load(path)
    sets = []
    for split in ("train", "val"):
        xs, ys = _arrays(data, "x", split), _arrays(data, "y", split)
        if not xs:
            if split == "train":
                raise ValueError(f"{path} has no x_train (keys: {sorted(data.keys())})")
            sets.append(None)
            continue
        if len(xs) != n_inputs:
            raise ValueError(f"{path} holds {len(xs)} inputs for {split}, the model takes {n_inputs}")
        sets.append(torch.utils.data.TensorDataset(*[_tensor(a) for a in xs + ys]))
    return sets[0], sets[1]


# torchvision's ImageNet preprocessing: Resize(256) + CenterCrop(224), then these (RGB, in [0, 1]).
IMAGENET_CROP = 224 / 256
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def load_image_folder(path, image_shape, normalize=None):
    """(train, val) datasets of an image folder, resized to the model's input; val from a `val` sub-folder if any.

    normalize "imagenet": resized so that the model's input is the centre IMAGENET_CROP of the shorter side,
    centre-cropped, and normalised with ImageNet's mean and standard deviation.
    """
    from torchvision import datasets, transforms

    channels, height, width = image_shape
    if normalize == "imagenet":
        if channels != 3:
            raise ValueError(f"{path}: normalize 'imagenet' is for RGB images, and the model takes {channels} channel(s)")
        steps = [transforms.Resize(round(min(height, width) / IMAGENET_CROP)), transforms.CenterCrop((height, width))]
    else:
        steps = [transforms.Resize((height, width))]
    if channels == 1:
        steps.append(transforms.Grayscale(1))
    steps.append(transforms.ToTensor())
    if normalize == "imagenet":
        steps.append(transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD))
    tf = transforms.Compose(steps)
    train_dir = os.path.join(path, "train") if os.path.isdir(os.path.join(path, "train")) else path
    val_dir = os.path.join(path, "val")
    val = datasets.ImageFolder(val_dir, tf) if os.path.isdir(val_dir) else None
    return datasets.ImageFolder(train_dir, tf), val


class _Split(torch.utils.data.Dataset):
    """Items of a TensorDataset as ((inputs...), (targets...))."""

    def __init__(self, dataset, n_inputs):
        self.dataset, self.n_inputs = dataset, n_inputs

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        item = self.dataset[i]
        return tuple(item[: self.n_inputs]), tuple(item[self.n_inputs:])


def _pick_device(name):
    if name != "auto":
        return name
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


@torch.no_grad()
def predicted_classes(model, loader, device="cpu"):
    """Over `loader`, in eval mode: the first output's most likely class at each position, and the first targets (lists)."""
    model.eval()
    predicted, truth = [], []
    for inputs, targets in loader:
        outputs = model(*_to_device(_as_tuple(inputs), device))
        predicted += _as_tuple(outputs)[0].argmax(-1).tolist()
        truth += _as_tuple(targets)[0].tolist()
    return predicted, truth


def main(model_class, compute_loss, example_inputs, training, argv=None, report=None):
    """The command line: `python model.py --data DATA [--epochs N] ...`; under torchrun, data-parallel.

    After training, `report(predicted, truth, log=...)` gets predicted_classes() of the validation data (rank 0; a
    captioner's export passes report_captions). Returns the mean training loss of each epoch (None without --data).
    """
    name = (model_class.__doc__ or "the model").split(". ")[0].strip()
    parser = argparse.ArgumentParser(description=f"Trains {name} (exported from Attention Studio).")
    parser.add_argument("--data", help="an .npz from `attn export --data DATASET`, or an image folder (one folder per class)")
    parser.add_argument("--epochs", type=int, default=training["epochs"])
    parser.add_argument("--batch-size", type=int, default=training["batch_size"], help="per process")
    parser.add_argument("--lr", type=float, default=training["lr"])
    parser.add_argument("--optimizer", choices=["adam", "adamw", "sgd"], default=training["optimizer"])
    parser.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    parser.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], default="auto")
    parser.add_argument("--amp", action="store_true", help="mixed precision (autocast)")
    parser.add_argument("--weights", help="start from these weights (a .safetensors file from Attention Studio or a checkpoint)")
    parser.add_argument("--checkpoint", help="save the weights here after every epoch (rank 0)")
    parser.add_argument("--workers", type=int, default=0, help="data-loading processes")
    args = parser.parse_args(argv)

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = int(os.environ.get("RANK", "0"))
    device = _pick_device(args.device)
    if distributed:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if device == "cuda":
            torch.cuda.set_device(local)
            device = f"cuda:{local}"
        torch.distributed.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    log = print if rank == 0 else (lambda *_: None)

    model = model_class()
    if args.weights:
        load_weights(model, args.weights)
    fine_tuning = training.get("fine_tuning")
    apply_fine_tuning(model, fine_tuning)
    model.to(device)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    log(f"{sum(p.numel() for p in model.parameters() if p.requires_grad):,} trainable parameters on {device}"
        + (f" ({frozen:,} frozen)" if frozen else ""))
    if not args.data:
        with torch.no_grad():
            for y in _as_tuple(model(*(x.to(device) for x in example_inputs()))):
                log(tuple(y.shape))
        log("no --data given: ran a random batch; see --help to train")
        return None

    examples = example_inputs()
    if os.path.isdir(args.data):
        if len(examples) != 1 or examples[0].dim() != 4:
            raise SystemExit(f"{args.data}: an image folder feeds models with one image input; this one takes {len(examples)} inputs")
        train_set, val_set = load_image_folder(args.data, tuple(examples[0].shape[1:]), training.get("normalize"))
        train_set, val_set = _Folder(train_set), val_set and _Folder(val_set)
    else:
        train_set, val_set = load_arrays(args.data, len(examples))
        train_set, val_set = _Split(train_set, len(examples)), val_set and _Split(val_set, len(examples))
    sampler = torch.utils.data.distributed.DistributedSampler(train_set) if distributed else None
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=sampler is None, sampler=sampler,
                                         num_workers=args.workers, drop_last=len(train_set) > args.batch_size)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=args.batch_size) if val_set is not None and rank == 0 else None

    net = model
    if distributed:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.startswith("cuda") else None)

    def save(epoch):
        if args.checkpoint and rank == 0:
            torch.save({"model": model.state_dict(), "epoch": epoch + 1}, args.checkpoint)
            log(f"saved {args.checkpoint}")

    history = train(net, loader, epochs=args.epochs, lr=args.lr, optimizer=args.optimizer, device=device, amp=args.amp,
                    schedule=args.schedule, val_loader=val_loader, log=log, on_epoch=save, sampler=sampler, loss_fn=compute_loss,
                    fine_tuning=fine_tuning)
    if report is not None and val_loader is not None:
        report(*predicted_classes(model, val_loader, device), log=log)
    if distributed:
        torch.distributed.destroy_process_group()
    return history


class _Folder(torch.utils.data.Dataset):
    """An ImageFolder's items as ((image,), (label,))."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        x, y = self.dataset[i]
        return (x,), (torch.tensor(y),)
