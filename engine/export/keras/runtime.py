"""Loading weights, data and the command line of an exported Keras model.

Attention Studio copies this file (below its imports) into every Keras export,
after `build_model()` and `train()` and before `main(build_model, train, LOSSES,
TRAINING)`. Data: an .npz file written by `attn export --data DATASET` (x_train,
y_train, x_val, y_val; several inputs or outputs as x0_train, x1_train, ...;
images NHWC, as Keras and the graph lay them out; labels as class indices).
Weights: the .safetensors file that `attn export --to keras --weights RUN` writes,
keyed by the tfjs model's weight names (`layer/kernel`), which the exported
layers keep.
"""

import argparse
import json
import struct

import numpy as np
import keras
from keras import layers

# Recurrent layers keep their weights in a cell sublayer; tfjs names them after the layer.
RNN_CELLS = ("lstm_cell", "gru_cell", "simple_rnn_cell")


def read_safetensors(path):
    """A safetensors file (float32 tensors) as a dict of numpy arrays, read with the standard library."""
    with open(path, "rb") as f:
        (header_size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_size))
        data = f.read()
    arrays = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {key} is {info['dtype']}; only F32 tensors are read")
        start, end = info["data_offsets"]
        arrays[key] = np.frombuffer(data[start:end], dtype="<f4").reshape(info["shape"])
    return arrays


def weight_key(layer, variable):
    """The tfjs name of a weight of one of the model's layers, e.g. `conv1/kernel` or `se_fc1/bias`.

    A variable's path ends in the name of the layer that made it and its own name
    (`se/se_fc1/kernel`); the exported layers name their sublayers as the tfjs model
    does, and declare in `tfjs_weight_names` the few weights tfjs keeps elsewhere.
    """
    parts = [p for p in variable.path.split("/") if p not in RNN_CELLS]
    if len(parts) == 1:
        parts = [layer.name, parts[0]]
    owner, name = parts[-2], parts[-1]
    renamed = getattr(layer, "tfjs_weight_names", {})
    if owner == layer.name and name in renamed:
        return layer.name + renamed[name]
    if isinstance(layer, layers.DepthwiseConv2D) and name == "kernel":
        return f"{owner}/depthwise_kernel"
    return f"{owner}/{name}"


def load_weights(model, path):
    """Loads trained weights from Attention Studio (a .safetensors file of tfjs weight names) into the model.

    Strict: a file for another model raises an error naming the missing and
    unexpected weights, and one of another shape names the weight and both shapes.
    """
    stored = read_safetensors(path)
    own = {}
    for layer in model.layers:
        for variable in layer.weights:
            own.setdefault(weight_key(layer, variable), variable)
    missing = sorted(k for k in own if k not in stored)
    unexpected = sorted(k for k in stored if k not in own)
    if missing or unexpected:
        raise ValueError(f"{path} does not fit this model: missing weights {missing or 'none'}; unexpected weights {unexpected or 'none'}")
    wrong = [f"{k} {tuple(v.shape)} (file: {stored[k].shape})" for k, v in own.items() if tuple(v.shape) != stored[k].shape]
    if wrong:
        raise ValueError(f"{path} does not fit this model: other shapes for {', '.join(wrong)}")
    for key, variable in own.items():
        variable.assign(stored[key])
    return model


def _arrays(data, prefix, split):
    """x_train, or x0_train, x1_train, ... for several inputs."""
    if f"{prefix}_{split}" in data:
        return [data[f"{prefix}_{split}"]]
    arrays, i = [], 0
    while f"{prefix}{i}_{split}" in data:
        arrays.append(data[f"{prefix}{i}_{split}"])
        i += 1
    return arrays


def _targets(y, loss, classes):
    """Class-index labels as one-hot rows where the loss wants them (categorical cross-entropy); -1 gives a zero row."""
    if loss != "categorical_crossentropy" or not np.issubdtype(y.dtype, np.integer) or classes is None:
        return y
    one_hot = np.zeros((*y.shape, classes), dtype="float32")
    np.put_along_axis(one_hot, np.clip(y, 0, classes - 1)[..., None], 1.0, axis=-1)
    return one_hot * (y >= 0)[..., None]


def load_arrays(path, model, losses):
    """(x_train, y_train, x_val or None, y_val or None) of an .npz file, one list entry per input and output."""
    data = np.load(path)
    sets = []
    for split in ("train", "val"):
        xs, ys = _arrays(data, "x", split), _arrays(data, "y", split)
        if not xs:
            if split == "train":
                raise ValueError(f"{path} has no x_train (keys: {sorted(data.keys())})")
            sets += [None, None]
            continue
        if len(xs) != len(model.inputs):
            raise ValueError(f"{path} holds {len(xs)} inputs for {split}, the model takes {len(model.inputs)}")
        if len(ys) != len(model.outputs):
            raise ValueError(f"{path} holds {len(ys)} targets for {split}, the model has {len(model.outputs)} outputs")
        sets += [xs, [_targets(y, loss, out.shape[-1]) for y, loss, out in zip(ys, losses, model.outputs)]]
    return tuple(sets)


def predicted_classes(model, x, y, batch_size):
    """The first output's most likely class at each position for the inputs x, and the first targets y[0] as class
    ids (a one-hot row's argmax, -1 for an empty row)."""
    outputs = model.predict(x, batch_size=batch_size, verbose=0)
    first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
    truth = np.asarray(y[0])
    if not np.issubdtype(truth.dtype, np.integer):
        truth = np.where(truth.sum(-1) > 0, truth.argmax(-1), -1)
    return np.asarray(first).argmax(-1), truth


def main(build_model, train, losses, training, argv=None, report=None):
    """The command line: `python model.py --data DATA [--epochs N] ...`. Returns the training loss of each epoch (None without --data).

    After training, `report(predicted, truth)` gets predicted_classes() of the validation data (a captioner's export
    passes report_captions)."""
    parser = argparse.ArgumentParser(description="Trains the model (exported from Attention Studio) with Keras 3.")
    parser.add_argument("--data", help="an .npz from `attn export --data DATASET`")
    parser.add_argument("--epochs", type=int, default=training["epochs"])
    parser.add_argument("--batch-size", type=int, default=training["batch_size"])
    parser.add_argument("--weights", help="start from these weights (the .safetensors file of `attn export --to keras --weights RUN`)")
    parser.add_argument("--save", help="save the trained model here (a .keras file; it reloads with keras.saving.load_model)")
    args = parser.parse_args(argv)

    model = build_model()
    if args.weights:
        load_weights(model, args.weights)
    if not args.data:
        model.summary()
        print("no --data given; see --help to train")
        return None
    x_train, y_train, x_val, y_val = load_arrays(args.data, model, losses)
    history = train(model, x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                    validation_data=(x_val, y_val) if x_val is not None else None)
    if report is not None and x_val is not None:
        report(*predicted_classes(model, x_val, y_val, args.batch_size))
    if args.save:
        model.save(args.save)
        print(f"saved {args.save}")
    return history.history["loss"]
