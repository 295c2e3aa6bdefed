"""Trains a graph's PyTorch export for Attention Studio.

usage: train_worker.py RUN_SPEC.json

The run spec (written by engine/pytorch/prepare.ts) names the exported module,
the prepared data as .npy files (inputs already in the module's layout), the
data order and learning rate of every step, and the training settings. One
process per rank: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT
as torchrun sets them (absent: one rank). Each rank trains on its shard of
every global batch; DDP averages the gradients.

Rank 0 speaks the training protocol of engine/train/events.ts as JSON lines on
stdout (attention maps as base64 float32) and reads commands as JSON lines on
stdin (pause, resume, stop, probe), honoured between batches. It alone writes
metrics.jsonl and the checkpoints (safetensors of the weights and of the
optimizer's moments, named as in the module's state_dict); the Node side turns
each checkpoint into the tfjs format too.
"""
import base64
import datetime
import importlib.util
import json
import math
import os
import queue
import re
import struct
import sys
import threading
import time

import numpy as np
import torch
import torch.distributed as dist

IGNORE = -1
EPS = 1e-7
# The cross-entropies clamp probabilities to [EPS, 1 - EPS] (tfjs' clipping); on log-probabilities
# that is the same clamp, with the same value and the same (zero outside) gradient.
LOG_EPS, LOG_ONE_MINUS_EPS = math.log(EPS), math.log1p(-EPS)
CROSS_ENTROPIES = ("categoricalCrossentropy", "sparseCategoricalCrossentropy")
STOP, PROBE, PAUSED = 1, 2, 4
# How long a rank waits in one collective before the run fails naming it (torch's default).
# While rank 0 is paused it re-broadcasts PAUSED every PAUSE_HEARTBEAT_S, so a pause never
# counts against it.
COLLECTIVE_TIMEOUT_S = float(os.environ.get("ATTN_COLLECTIVE_TIMEOUT_S") or 1800)
PAUSE_HEARTBEAT_S = min(10.0, COLLECTIVE_TIMEOUT_S / 4)
# Progress events are throttled: each one reads the running sums, a host sync on a GPU.
PROGRESS_INTERVAL_S = 0.1


# ---------------------------------------------------------------- files


def write_safetensors(path, tensors):
    """Float32 tensors by name, written to a temporary file and renamed."""
    header, blobs, offset = {"__metadata__": {"format": "pt", "source": "Attention Studio"}}, [], 0
    for name, t in tensors.items():
        b = t.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header)
    text += " " * ((8 - len(text) % 8) % 8)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def keep_freed_memory():
    """Has glibc's malloc keep the memory a training step frees for the next step.

    A CPU step allocates and frees the same large activation and gradient buffers every
    time. With glibc's defaults those may be handed back to the kernel at each free and
    faulted in again, page by page, at the next step (measured here: 2-3x the page faults
    of a plain loop and up to half its speed, depending on what the process allocated
    before). Large buffers come from the heap and the heap is not trimmed instead.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest: 32 MiB on 64-bit
        libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
    except (OSError, AttributeError):
        pass  # not glibc (musl, …): nothing to tune


def load_module(path):
    spec = importlib.util.spec_from_file_location("exported_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- synchronised BatchNorm


class GlooSyncBatchNorm(torch.nn.modules.batchnorm._BatchNorm):
    """nn.SyncBatchNorm for CPU ranks (torch's runs on CUDA only): in training, each channel's
    sum, sum of squares and count are summed over the ranks, differentiably, so every rank
    normalises with, and keeps running statistics of, the whole global batch."""

    def _check_input_dim(self, x):
        if x.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {x.dim()}D input)")

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        c = x.shape[1]
        dims = [0] + list(range(2, x.dim()))
        count = x.new_full((1,), x.numel() // max(c, 1))
        stats = all_reduce(torch.cat([x.sum(dims), (x * x).sum(dims), count]))
        n = stats[-1]
        mean = stats[:c] / n
        var = (stats[c : 2 * c] / n - mean * mean).clamp_min(0)
        if self.track_running_stats:
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(mean.detach() * m)
                self.running_var.mul_(1 - m).add_(var.detach() * (n / (n - 1).clamp_min(1)) * m)
                self.num_batches_tracked += 1
        shape = [1, c] + [1] * (x.dim() - 2)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        return y * self.weight.view(shape) + self.bias.view(shape) if self.affine else y

    @classmethod
    def convert(cls, module):
        """The module with every BatchNorm replaced by this one, parameters and buffers kept."""
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and not isinstance(module, cls):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats)
            out.load_state_dict(module.state_dict())
            out.train(module.training)
            return out
        for name, child in module.named_children():
            module.add_module(name, cls.convert(child))
        return module


def synchronise_batch_norm(model, device):
    """Every BatchNorm of the model normalising over the global batch of all ranks."""
    if device.type == "cuda":
        return torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return GlooSyncBatchNorm.convert(model)
# ---------------------------------------------------------------- protocol


class Channel:
    """Events out (rank 0 only) and commands in, read by a thread so that a batch never waits on stdin."""

    def __init__(self, active, log=None):
        self.active = active
        # Under a bare torchrun nobody reads our stdout: the events also go to a file that
        # engine/pytorch/finalize.ts turns into the run folder's layout.
        self.log = open(log, "a") if active and log else None
        self.commands = queue.Queue()
        # Commands come from the Node side that launched us; under torchrun stdin is not ours to read.
        if active and os.environ.get("ATTN_COMMANDS") == "stdin":
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in sys.stdin:
            line = line.strip()
            if line:
                try:
                    self.commands.put(json.loads(line))
                except ValueError:
                    self.emit({"type": "log", "message": f"ignored a malformed command: {line[:80]}"})
        # The parent went away: nothing would read our events or turn our checkpoints into a run's.
        os._exit(3)

    def emit(self, event):
        if self.active:
            line = json.dumps(event) + "\n"
            sys.stdout.write(line)
            sys.stdout.flush()
            if self.log:
                self.log.write(line)
                self.log.flush()

    def poll(self, timeout=0.0):
        """The next command, waiting up to timeout seconds for one (None: forever)."""
        try:
            return self.commands.get(block=timeout != 0, timeout=timeout)
        except queue.Empty:
            return None


# ---------------------------------------------------------------- losses and metrics


def per_position_loss(name, target, p):
    """engine/train/losses.ts' losses per position: target the class indices [n, 1] (IGNORE as 0),
    p probabilities [n, classes]."""
    if name in CROSS_ENTROPIES:
        return -p.gather(1, target).squeeze(1).clamp(EPS, 1 - EPS).log()
    y = torch.nn.functional.one_hot(target.squeeze(1), p.shape[1]).to(p.dtype)
    if name == "binaryCrossentropy":
        q = p.clamp(EPS, 1 - EPS)
        return -(y * q.log() + (1 - y) * (1 - q).log()).mean(-1)
    if name == "meanSquaredError":
        return (y - p).square().mean(-1)
    if name == "meanAbsoluteError":
        return (y - p).abs().mean(-1)
    raise ValueError(f"unsupported loss {name}")


def ranks_above(scores, labels):
    """Classes ranked before each target (ties go to the lower index, as argmax does)."""
    target = scores.gather(1, labels.clamp_min(0)[:, None])
    index = torch.arange(scores.shape[1], device=scores.device)[None, :]
    return ((scores > target) | ((scores == target) & (index < labels[:, None]))).sum(1)


class Sums:
    """The trainer's running sums (engine/train/trainer.ts' metricsOf names) as one vector on the
    training device: a step adds to it without a host sync, and it is read only when reported."""

    def __init__(self, outputs, device, initial=None):
        self.keys = ["loss", "samples"] + [f"{i}.{k}" for i in range(len(outputs)) for k in ("loss", "n", "correct", "topK")]
        initial = initial or {}
        self.vector = torch.tensor([float(initial.get(k, 0.0)) for k in self.keys], dtype=stats_dtype(device), device=device)
        # What the host knows without asking the device (a training step's samples and labelled count).
        self.counted = dict.fromkeys(["samples"] + [f"{i}.n" for i in range(len(outputs))], 0)

    def add(self, vector, samples=0, labelled=0):
        """vector: sums in the keys' layout, on the device; samples and labelled: counts the host adds."""
        self.vector += vector
        for k in self.counted:
            self.counted[k] += samples if k == "samples" else labelled

    @property
    def values(self):
        out = dict(zip(self.keys, self.vector.tolist()))
        for k, v in self.counted.items():
            out[k] += v
        return out

    def as_dict(self):
        return {k: v for k, v in self.values.items() if v or k in ("loss", "samples")}


def stats_dtype(device):
    """Sums in float64 (counts stay exact), except where the device has none."""
    return torch.float32 if device.type == "mps" else torch.float64


def metrics_of(sums, outputs, prefix, classes, top_k, with_top_k):
    div = lambda a, b: a / b if b > 0 else 0.0
    m = {f"{prefix}loss": div(sums.get("loss", 0), sums.get("samples", 0))}
    several = len(outputs) > 1
    for i, o in enumerate(outputs):
        n = sums.get(f"{i}.n", 0)
        tag = f"{prefix}{o['nodeId']}." if several else prefix
        if several:
            m[f"{tag}loss"] = div(sums.get(f"{i}.loss", 0), n)
        m[f"{tag}accuracy"] = div(sums.get(f"{i}.correct", 0), n)
        if with_top_k and classes > top_k:
            m[f"{tag}top{top_k}_accuracy"] = div(sums.get(f"{i}.topK", 0), n)
        if i == 0 and several:
            m[f"{prefix}accuracy"] = m[f"{tag}accuracy"]
    return m


# ---------------------------------------------------------------- explanations


def attention_rollout(plan, probed, tensors):
    """Attention rollout (Abnar & Zuidema 2020) of the first probe sample, as engine/explain/rollout.ts computes
    it with head fusion "mean" and no discarding: each layer's heads averaged, the residual added as
    (A + I) / 2 with rows renormalised, the layers multiplied last to first; the class token's row over the
    patches (plan["skip"] leading tokens), or the mean row."""
    by_output = {(a["nodeId"], a["port"]): t for a, t in zip(probed, tensors)}
    joint = None
    for layer in plan["layers"]:
        key = (layer["nodeId"], layer["port"])
        if key not in by_output:
            raise KeyError(f"rollout needs {key[0]}.{key[1]}, which the probes do not capture")
        a = by_output[key][0].detach().double().cpu().numpy()
        a = a.reshape(-1, a.shape[-2], a.shape[-1]).mean(axis=0)
        a = (a + np.eye(a.shape[0])) / 2
        a /= a.sum(axis=1, keepdims=True)
        joint = a if joint is None else a @ joint
    skip, n = plan["skip"], plan["rows"] * plan["cols"]
    return joint[0, skip : skip + n] if skip > 0 else joint.mean(axis=0)


# ---------------------------------------------------------------- the run


class Run:
    def __init__(self, spec):
        self.spec = spec
        self.c = spec["config"]
        self.rank = int(os.environ.get("RANK", "0"))
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", str(self.rank)))
        driven = bool(os.environ.get("ATTN_DRIVEN"))
        self.channel = Channel(self.rank == 0, None if driven else spec["events"])
        self.device = self.pick_device(spec["device"])
        if self.world > 1:
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            if self.device.type == "cpu":
                # Ranks share the cores: without this each would start one thread per core.
                local = int(os.environ.get("LOCAL_WORLD_SIZE", str(self.world)))
                torch.set_num_threads(max(1, (os.cpu_count() or 1) // local))
            dist.init_process_group(backend, timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT_S))
        torch.manual_seed(self.c["seed"] + self.rank)
        self.outputs = spec["outputs"]
        self.classes = spec["classes"]
        self.caption = spec.get("caption")  # absent from specs written before captions were recorded
        self.load_data()
        self.build_model()

    def pick_device(self, want):
        if want in ("auto", "cuda") and torch.cuda.is_available():
            return torch.device("cuda", self.local_rank % torch.cuda.device_count())
        if want == "cuda":
            raise RuntimeError("--device cuda: torch sees no CUDA device (torch.cuda.is_available() is False)")
        mps = getattr(torch.backends, "mps", None)
        if want in ("auto", "mps") and mps is not None and mps.is_available():
            return torch.device("mps")
        if want == "mps":
            raise RuntimeError("--device mps: torch sees no MPS device")
        return torch.device("cpu")

    def load_data(self):
        d = self.spec["data"]
        as_input = (lambda a: torch.from_numpy(np.array(a, dtype=np.int64))) if self.spec["inputDtype"] == "int32" else (lambda a: torch.from_numpy(np.array(a, dtype=np.float32)))
        self.train_x = as_input(np.load(d["trainX"], mmap_mode="r")).to(self.device)
        self.train_y = torch.from_numpy(np.array(np.load(d["trainY"], mmap_mode="r"), dtype=np.int64)).to(self.device)
        self.val_x = as_input(np.load(d["valX"], mmap_mode="r")).to(self.device)
        self.val_y = torch.from_numpy(np.array(np.load(d["valY"], mmap_mode="r"), dtype=np.int64)).to(self.device)
        self.orders = np.load(d["orders"], mmap_mode="r")
        self.rates = np.load(d["rates"]).tolist()
        self.labels_per_sample = int(np.prod(self.train_y.shape[1:])) if self.train_y.dim() > 1 else 1
        # Labelled positions per training sample (IGNORE marks the others), for each batch's global count.
        labels = np.load(d["trainY"], mmap_mode="r")
        self.labelled = (np.asarray(labels) != IGNORE).reshape(len(labels), -1).sum(1)

    def epoch_batches(self, epoch, batch_size):
        """An epoch's data order on the device, and the labelled count of each of its global batches."""
        order = np.asarray(self.orders[epoch], dtype=np.int64)
        counts = np.add.reduceat(self.labelled[order], np.arange(0, len(order), batch_size)) if len(order) else []
        return torch.from_numpy(order).to(self.device), [int(c) for c in counts]

    def build_model(self):
        # The export carries its runtime (engine/export/torch/runtime.py): its safetensors reader is ours too.
        self.module = module = load_module(self.spec["model"])
        torch.manual_seed(self.c["seed"])  # every rank starts from the same weights
        self.model = module.Model().to(self.device)
        resume = self.spec.get("resume")
        if resume:
            state = self.module.read_safetensors(resume["weights"])
            missing = [k for k in self.model.state_dict() if k not in state and not k.endswith("num_batches_tracked")]
            if missing:
                raise RuntimeError(f"checkpoint {resume['weights']} has no value for {', '.join(missing[:5])}")
            self.model.load_state_dict(state, strict=False)
        # Each rank's shard alone would give its BatchNorms other statistics than the global batch's.
        if self.spec["syncBatchNorm"] and self.world > 1:
            self.model = synchronise_batch_norm(self.model, self.device)
        # Fine-tuning as the exported script applies it (engine/export/torch/runtime.py).
        module.apply_fine_tuning(self.model, self.spec["fineTune"])
        self.named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        self.params = [p for _, p in self.named]
        self.net = self.model
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.optimizer = self.make_optimizer()
        self.optimizer_steps = 0
        self.lr = None  # the rate last set on the parameter groups
        self.stats_dtype = stats_dtype(self.device)
        self.zero = torch.zeros((), device=self.device)
        self.checkpoints_written = 0
        if resume and resume.get("optimizer"):
            self.restore_optimizer(self.module.read_safetensors(resume["optimizer"]), resume["optimizerStep"])

    def make_optimizer(self):
        c = self.c
        params = self.module.param_groups(self.named, self.spec["fineTune"])
        wd = c.get("weightDecay")
        if c["optimizer"] == "sgd":
            return torch.optim.SGD(params, lr=c["lr"], momentum=c["momentum"], weight_decay=wd or 0)
        betas = (c["beta1"], c["beta2"])
        if c["optimizer"] == "adamw":
            return torch.optim.AdamW(params, lr=c["lr"], betas=betas, eps=c["epsilon"], weight_decay=0.01 if wd is None else wd)
        return torch.optim.Adam(params, lr=c["lr"], betas=betas, eps=c["epsilon"], weight_decay=wd or 0)

    def slot_names(self):
        return ["m"] if self.c["optimizer"] == "sgd" else ["m", "v"]

    def optimizer_state(self):
        """The moments by `<parameter>.m` / `.v` (SGD: the momentum buffer), and the step count."""
        out = {}
        torch_keys = {"m": "momentum_buffer"} if self.c["optimizer"] == "sgd" else {"m": "exp_avg", "v": "exp_avg_sq"}
        for name, p in self.named:
            st = self.optimizer.state.get(p, {})
            for slot in self.slot_names():
                if self.c["optimizer"] == "sgd" and self.c["momentum"] == 0:
                    continue
                v = st.get(torch_keys[slot])
                out[f"{name}.{slot}"] = v if v is not None else torch.zeros_like(p)
        return out, self.optimizer_steps

    def restore_optimizer(self, tensors, step):
        for name, p in self.named:
            st = {}
            if self.c["optimizer"] == "sgd":
                if self.c["momentum"] > 0 and step > 0:
                    st["momentum_buffer"] = tensors[f"{name}.m"].to(self.device)
            else:
                st = {"step": torch.tensor(float(step)), "exp_avg": tensors[f"{name}.m"].to(self.device), "exp_avg_sq": tensors[f"{name}.v"].to(self.device)}
            if st:
                self.optimizer.state[p] = st
        self.optimizer_steps = step

    # ------------------------------------------------------------ one step

    def forward_outputs(self, net, x):
        out = net(x)
        return out if isinstance(out, tuple) else (out,)

    def shard(self, idx):
        """This rank's part of a global batch (contiguous, as even as can be)."""
        n = len(idx)
        lo, hi = self.rank * n // self.world, (self.rank + 1) * n // self.world
        return idx[lo:hi]

    def output_losses(self, outs, labels, keep, top_k):
        """Per trained output: its loss summed over the labelled positions, and its correct and (with
        top_k) top-k counts, all tensors left on the device. keep: the labelled positions' mask, or
        None when every position is labelled. The export's forward() gives logits where the loss is
        a cross-entropy; the losses and metrics here are tfjs', on probabilities."""
        flat = labels.reshape(-1)
        target = flat.clamp_min(0)[:, None]
        logits = self.spec["logits"]
        results = []
        for o in self.outputs:
            out = outs[o["index"]].reshape(-1, self.classes)
            from_logits = logits[o["index"]]
            if from_logits and o["loss"] in CROSS_ENTROPIES:
                # log(clamp(softmax)) in fewer steps: one log_softmax, the clamp moved onto the logs.
                scores = torch.log_softmax(out, -1)
                per_position = -scores.gather(1, target).squeeze(1).clamp(LOG_EPS, LOG_ONE_MINUS_EPS)
            else:
                scores = torch.softmax(out, -1) if from_logits else out
                per_position = per_position_loss(o["loss"], target, scores)
            loss = (per_position * keep).sum() if keep is not None else per_position.sum()
            with torch.no_grad():
                scores = scores.detach()
                if top_k:
                    above = ranks_above(scores, flat)
                    hit, hit_k = above == 0, above < self.c["topK"]
                    if keep is not None:
                        hit, hit_k = hit & keep, hit_k & keep
                    results.append((loss, hit.sum(), hit_k.sum()))
                else:
                    hit = scores.argmax(1) == flat  # the first of equal maxima, as tfjs' argmax
                    results.append((loss, (hit & keep if keep is not None else hit).sum(), None))
        return results

    def step(self, idx, lr, global_count):
        """One optimizer step on this rank's shard of a global batch (idx: its sample indices, a
        tensor on the device; global_count: its labelled positions). Returns the batch's loss sums
        and correct counts (reduced over ranks) in Sums' layout, on the device, not waited for."""
        n = idx.shape[0]
        local = self.shard(idx)
        if lr != self.lr:
            for g in self.optimizer.param_groups:
                g["lr"] = lr * g["lr_scale"]
            self.lr = lr
        if local.shape[0]:
            x, labels = self.train_x[local], self.train_y[local]
            outs = self.forward_outputs(self.net, x)
            every = global_count == n * self.labels_per_sample
            parts = self.output_losses(outs, labels, None if every else labels.reshape(-1) != IGNORE, top_k=False)
            # Summed over this shard and divided by the global count: DDP's average over ranks gives the global mean.
            weighted = [loss if o["weight"] == 1 else o["weight"] * loss for o, (loss, _, _) in zip(self.outputs, parts)]
            total = sum(weighted[1:], weighted[0])
            objective = total * (self.world / max(global_count, 1))
            with torch.no_grad():
                zero = self.zero
                row = [total.detach() * (n / max(global_count, 1)), zero]
                for loss, correct, _ in parts:
                    row += [loss.detach(), zero, correct, zero]
                stats = torch.stack(row).to(self.stats_dtype)
        else:
            objective = sum(p.sum() * 0 for p in self.params)
            stats = torch.zeros(2 + 4 * len(self.outputs), dtype=self.stats_dtype, device=self.device)
        self.optimizer.zero_grad(set_to_none=True)
        objective.backward()
        if self.c.get("clipNorm"):
            self.clip_gradients(self.c["clipNorm"])
        self.optimizer.step()
        self.optimizer_steps += 1
        return self.reduce(stats)

    @torch.no_grad()
    def clip_gradients(self, clip):
        """tfjs' clipNorm: every gradient scaled by clip / max(global norm, clip), on the device."""
        grads = [p.grad for p in self.params if p.grad is not None]
        dtype = stats_dtype(self.device)
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.to(dtype)) for g in grads]))
        scale = clip / norm.clamp_min(clip)
        for g in grads:
            g.mul_(scale.to(g.dtype))

    def reduce(self, t):
        if self.world > 1:
            dist.all_reduce(t)
        return t

    @torch.no_grad()
    def evaluate(self):
        """Loss and accuracy on the validation split in inference mode, each rank its share."""
        self.model.eval()
        size = max(self.c["batchSize"], 256)
        n = self.val_x.shape[0]
        lo, hi = self.rank * n // self.world, (self.rank + 1) * n // self.world
        sums = Sums(self.outputs, self.device)
        dtype = sums.vector.dtype
        for start in range(lo, hi, size):
            x, labels = self.val_x[start : min(start + size, hi)], self.val_y[start : min(start + size, hi)]
            keep = labels.reshape(-1) != IGNORE
            parts = self.output_losses(self.forward_outputs(self.model, x), labels, keep, top_k=True)
            count = keep.sum().to(dtype)
            total = sum(o["weight"] * loss.to(dtype) / count.clamp_min(1) for o, (loss, _, _) in zip(self.outputs, parts))
            row = [total * x.shape[0], torch.tensor(float(x.shape[0]), dtype=dtype, device=self.device)]
            for loss, correct, top_k in parts:
                row += [loss.to(dtype), count, correct.to(dtype), top_k.to(dtype)]
            sums.add(torch.stack(row))
        self.reduce(sums.vector)
        self.model.train()
        return metrics_of(sums.values, self.outputs, "val_", self.classes, self.c["topK"], True)

    # ------------------------------------------------------------ probes and checkpoints

    @torch.no_grad()
    def probe(self, epoch, step):
        t0 = time.perf_counter()
        k = min(self.c["probe"]["samples"], self.val_x.shape[0] or self.train_x.shape[0])
        x, y = (self.val_x, self.val_y) if self.val_x.shape[0] else (self.train_x, self.train_y)
        x, y = x[:k], y[:k]
        tensors, caption = [], None
        if self.spec["attention"]:
            self.model.eval()
            self.model.probing = True
            try:
                outs = self.forward_outputs(self.model, x)
                tensors = self.model.probes
                if self.caption:
                    caption = self.caption_words(outs[self.caption["output"]], y)
            finally:
                self.model.probing = False
                self.model.probes = None
                self.model.train()
        maps = []
        for a, t in zip(self.spec["attention"], tensors):
            t = t.detach().float()
            if t.dim() == 4 and a["kind"] != "matrix":
                t = t.permute(0, 2, 3, 1)  # NCHW back to the graph's NHWC
            data = t.contiguous().cpu().numpy()
            maps.append({**a, "shape": list(data.shape), "data": base64.b64encode(data.tobytes()).decode()})
        explanation = self.explanation(x[:1], tensors) if k > 0 else None
        ms = (time.perf_counter() - t0) * 1000
        self.channel.emit(
            {
                "type": "attention",
                "epoch": epoch,
                "step": step,
                "ms": ms,
                "maps": maps,
                **({"explanation": explanation} if explanation else {}),
                **({"caption": caption} if caption else {}),
            }
        )

    @staticmethod
    def caption_words(words, labels):
        """The caption decoder's words [B, T, V] for the probe samples (probabilities or logits: the Node side reads
        each step's argmax, engine/train/caption-record.ts) as base64 float32, and the samples' true captions."""
        data = words.detach().float().contiguous().cpu().numpy()
        return {"shape": list(data.shape), "data": base64.b64encode(data.tobytes()).decode(), "labels": labels.reshape(-1).tolist()}

    def explanation(self, x, tensors):
        """The probe sample's explanation as spec.explain plans it (engine/explain/live.ts computes the same
        for a tfjs run): Grad-CAM of the predicted class with the export's grad_cam() on forward_features(),
        HiResCAM where Grad-CAM's map is all zero; or attention rollout through the probed attention matrices.
        A plan this model cannot follow ends the explanations, not the run."""
        plan = self.spec["explain"]
        if not plan or self.explain_failed:
            return None
        t0 = time.perf_counter()
        try:
            if plan["method"] == "gradcam":
                cam, classes = self.module.grad_cam(self.model, x)
                method = "gradcam"
                if not bool((cam > 0).any()):
                    cam, classes = self.module.grad_cam(self.model, x, class_index=classes, method="hirescam")
                    method = "hirescam"
                data = cam[0].detach().float().cpu().numpy().reshape(-1)
                extra = {"layers": [plan["layer"]], "classIndex": int(classes[0])}
            else:
                method, data = "rollout", attention_rollout(plan, self.spec["attention"], tensors)
                extra = {"layers": plan["layers"]}
            if data.size != plan["rows"] * plan["cols"]:
                raise ValueError(f"{method} gave {data.size} values for a {plan['rows']} x {plan['cols']} map")
        except (ValueError, KeyError) as err:
            self.explain_failed = True
            print(f"explanations stopped: {err}", file=sys.stderr, flush=True)
            return None
        data = np.ascontiguousarray(data, dtype=np.float32)
        return {
            "method": method,
            **extra,
            "sample": 0,
            "rows": plan["rows"],
            "cols": plan["cols"],
            "data": base64.b64encode(data.tobytes()).decode(),
            "ms": (time.perf_counter() - t0) * 1000,
        }

    def checkpoint(self, state, reason):
        """Rank 0 writes the weights and the optimizer's moments; the Node side adds the tfjs format and
        announces it (driven by attn at once, after a bare torchrun when finalize.ts reads the events)."""
        if self.rank != 0:
            return
        # One folder per checkpoint written (an interval and an epoch checkpoint can share a step).
        self.checkpoints_written += 1
        folder = os.path.join(self.spec["staging"], f"step-{state['step']:06d}.{self.checkpoints_written}.torch")
        os.makedirs(folder, exist_ok=True)
        write_safetensors(os.path.join(folder, "model.safetensors"), self.model.state_dict())
        moments, t = self.optimizer_state()
        write_safetensors(os.path.join(folder, "optimizer.safetensors"), moments)
        self.channel.emit({"type": "torch-checkpoint", "folder": folder, "reason": reason, "optimizerStep": t, "state": state})

    # ------------------------------------------------------------ control

    def control(self, state, probe_due, before_pause=lambda: None):
        """Rank 0 reads commands and waits while paused; every rank learns whether to stop or probe.
        The other ranks wait in a broadcast, which rank 0 repeats while paused (a heartbeat that
        keeps a long pause inside the collective timeout)."""
        if self.rank != 0:
            while True:
                flag = self.broadcast_flag(0)
                if not flag & PAUSED:
                    return flag
        flag, paused = 0, False
        while True:
            cmd = self.channel.poll(PAUSE_HEARTBEAT_S if paused else 0)
            if cmd is None:
                if not paused:
                    break
                self.broadcast_flag(PAUSED)
                continue
            kind = cmd.get("type")
            if kind == "pause" and not paused:
                paused = True
                before_pause()
                self.channel.emit({"type": "paused", "epoch": state["epoch"], "step": state["step"]})
            elif kind == "resume":
                paused = False
            elif kind == "stop":
                flag |= STOP
                break
            elif kind == "probe":
                self.probe_requested = True
        if self.probe_requested or probe_due:
            flag |= PROBE
        return self.broadcast_flag(flag)

    def broadcast_flag(self, flag):
        """Rank 0's control flag, on every rank."""
        if self.world == 1:
            return flag
        t = torch.tensor([flag], dtype=torch.int64)
        dist.broadcast(t, 0)
        return int(t[0])

    # ------------------------------------------------------------ the loop

    def run(self):
        c, spec = self.c, self.spec
        batch_size, epochs = c["batchSize"], c["epochs"]
        n_train = self.train_x.shape[0]
        batches = math.ceil(n_train / batch_size)
        total = epochs * batches
        resume = spec.get("resume") or {}
        s = resume.get("state") or {"epoch": 0, "batch": 0, "step": 0, "sums": {}, "history": [], "best": None, "badEpochs": 0}
        sums = Sums(self.outputs, self.device, s["sums"])
        probe_every, probe_ms = c["probe"]["everyBatches"], c["probe"]["minIntervalMs"]
        probing = c["probe"]["enabled"] and (len(spec["attention"]) > 0 or spec["explain"] is not None)
        last_probe_step, last_probe_time = -math.inf, -math.inf
        reason = "completed"
        train_seconds, samples = 0.0, 0
        self.probe_requested = False
        self.explain_failed = False
        self.channel.emit({"type": "ready", "device": str(self.device), "ranks": self.world, "torch": torch.__version__, "python": sys.version.split()[0]})

        def state_now():
            return {**s, "sums": sums.as_dict()}

        reported = {"step": -1, "at": -math.inf}
        # The latest step's own sums (Sums' layout, on the device) and its sample and labelled counts.
        last_batch = {"vector": None, "samples": 0, "labelled": 0}

        def batch_metrics():
            """The latest batch's own loss and accuracy, as the per-batch chart draws them."""
            if last_batch["vector"] is None:
                return {}
            b = dict(zip(sums.keys, last_batch["vector"].tolist()))
            out = {"batchLoss": b["loss"] / max(last_batch["samples"], 1)}
            if last_batch["labelled"] > 0:
                out["batchAccuracy"] = b["0.correct"] / last_batch["labelled"]
            return out

        def report_progress(force=False, in_batch=True):
            """The progress event, at most every PROGRESS_INTERVAL_S: reading the sums waits for the device."""
            now = time.perf_counter()
            if self.rank != 0 or samples == 0 or reported["step"] == s["step"] or (not force and now - reported["at"] < PROGRESS_INTERVAL_S):
                return
            reported["step"], reported["at"] = s["step"], now
            rate = samples / (train_seconds + (now - t0 if in_batch else 0))
            m = metrics_of(sums.values, self.outputs, "", self.classes, c["topK"], False)
            self.channel.emit(
                {
                    "type": "progress",
                    "epoch": s["epoch"],
                    "epochs": epochs,
                    "batch": s["batch"],
                    "batches": batches,
                    "step": s["step"],
                    "loss": m["loss"],
                    "accuracy": m.get("accuracy"),
                    **batch_metrics(),
                    "lr": lr,
                    "samplesPerSec": rate,
                    "etaSec": (total - s["step"]) * batch_size / rate,
                }
            )

        t0, lr = time.perf_counter(), 0.0

        while s["epoch"] < epochs:
            order, counts = self.epoch_batches(s["epoch"], batch_size)
            epoch_start = time.perf_counter()
            stopped = False
            while s["batch"] < batches:
                flag = self.control(s, False, lambda: report_progress(force=True, in_batch=False))
                if flag & STOP:
                    report_progress(force=True, in_batch=False)
                    self.checkpoint(state_now(), "stop")
                    reason, stopped = "stopped", True
                    break
                t0 = time.perf_counter()
                idx = order[s["batch"] * batch_size : (s["batch"] + 1) * batch_size]
                global_count = counts[s["batch"]]
                lr = self.rates[s["step"]]
                vector = self.step(idx, lr, global_count)
                sums.add(vector, idx.shape[0], global_count)
                last_batch.update(vector=vector, samples=idx.shape[0], labelled=global_count)
                samples += idx.shape[0]
                s["batch"] += 1
                s["step"] += 1
                # Always at an epoch's last batch: the device is drained before the clock stops.
                report_progress(force=s["batch"] == batches)
                if c.get("checkpointEvery") and s["step"] % c["checkpointEvery"] == 0:
                    report_progress(force=True)
                    self.checkpoint(state_now(), "interval")
                now = time.perf_counter() * 1000
                due = probing and s["step"] - last_probe_step >= probe_every and now - last_probe_time >= probe_ms
                if self.rank == 0 and probing and (due or self.probe_requested):
                    self.probe_requested = False
                    self.probe(s["epoch"], s["step"])
                    last_probe_step, last_probe_time = s["step"], time.perf_counter() * 1000
                train_seconds += time.perf_counter() - t0
            if stopped:
                break
            metrics = {**metrics_of(sums.values, self.outputs, "", self.classes, c["topK"], False), **self.evaluate()}
            seconds = time.perf_counter() - epoch_start
            row = {"epoch": s["epoch"], "step": s["step"], "seconds": seconds, **metrics}
            # The checkpoint holds the row (the metrics file is reset to it on resume).
            s["history"].append(row)
            self.channel.emit({"type": "epoch", "epoch": s["epoch"], "step": s["step"], "seconds": seconds, "metrics": metrics})
            stop_early = self.early_stop(s, metrics)
            s["epoch"] += 1
            s["batch"] = 0
            sums = Sums(self.outputs, self.device)
            self.checkpoint(state_now(), "epoch")
            if stop_early:
                reason = "early-stopped"
                break
        if self.rank == 0 and probing:
            self.probe(s["epoch"], s["step"])
        metrics = {k: v for k, v in s["history"][-1].items() if k not in ("epoch", "step", "seconds")} if s["history"] else self.evaluate()
        self.channel.emit(
            {
                "type": "done",
                "reason": reason,
                "samplesPerSec": samples / train_seconds if train_seconds > 0 else 0,
                "metrics": metrics,
                "epochs": s["epoch"],
                "steps": s["step"],
            }
        )
        if self.world > 1:
            dist.barrier()
            dist.destroy_process_group()

    def early_stop(self, s, metrics):
        es = self.c.get("earlyStopping")
        if not es:
            return False
        higher = es["monitor"] == "val_accuracy"
        v = metrics[es["monitor"]]
        best = s["best"]
        better = best is None or (v > best + es["minDelta"] if higher else v < best - es["minDelta"])
        if better:
            s["best"], s["badEpochs"] = v, 0
            return False
        s["badEpochs"] += 1
        return s["badEpochs"] >= es["patience"]


def failure_message(err, rank, world):
    """The error in words; a collective that timed out (gloo: "Timed out waiting 8000ms for recv
    operation", NCCL: "Watchdog caught collective operation timeout") says what that means."""
    text = f"{type(err).__name__}: {err}"
    if world > 1 and re.search(r"timed out|timeout", str(err), re.IGNORECASE):
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return (
            f"rank {rank} waited {COLLECTIVE_TIMEOUT_S:g} s in a collective (ATTN_COLLECTIVE_TIMEOUT_S) for a rank "
            f"that never joined it: another rank is stuck, stopped or too slow ({first})"
        )
    return text


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    keep_freed_memory()
    try:
        Run(spec).run()
        code = 0
    except Exception as err:  # reported as the protocol's error event; the traceback goes to stderr
        import traceback

        traceback.print_exc()
        message = failure_message(err, rank, world)
        sys.stderr.write(f"{message}\n")  # the last line, which the launcher quotes for a rank that fails
        if rank == 0:
            sys.stdout.write(json.dumps({"type": "error", "message": message}) + "\n")
        code = 1
    # Everything is written and flushed: exit without the interpreter's shutdown, which can
    # stall on the stdin reader thread's lock or on gloo's threads.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
