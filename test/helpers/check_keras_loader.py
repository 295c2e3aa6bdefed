"""Runs the Keras export's weight loader (engine/export/keras/runtime.py) on a weights file.

usage: check_keras_loader.py RUNTIME_PY WEIGHTS.safetensors

There is no Keras on the test machines, so the model is a stand-in: layers with
Keras 3's variable paths (`layer/name`, sublayers `outer/inner/name`, recurrent
cells `rnn/lstm_cell/name`). What runs is the loader itself: reading the file,
naming each variable as tfjs does, the strict checks, the assignment. Prints JSON.
"""
import importlib.util
import json
import sys
import types

import numpy as np

sys.dont_write_bytecode = True  # leaves no __pycache__ in engine/export/keras/

keras = types.ModuleType("keras")
keras.layers = types.ModuleType("keras.layers")


class Layer:
    def __init__(self, name, variables):
        self.name, self.weights = name, variables


class DepthwiseConv2D(Layer):
    pass


keras.layers.Layer, keras.layers.DepthwiseConv2D = Layer, DepthwiseConv2D
sys.modules["keras"], sys.modules["keras.layers"] = keras, keras.layers
spec = importlib.util.spec_from_file_location("runtime", sys.argv[1])
runtime = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runtime)


class Variable:
    def __init__(self, path, shape):
        self.path, self.shape, self.value = path, tuple(shape), None

    def assign(self, value):
        self.value = np.array(value)


class Model:
    def __init__(self, layers):
        self.layers = layers


def model_like(stored):
    """One layer per tfjs layer name, each variable at the path Keras 3 gives it."""
    by_layer = {}
    for key, array in stored.items():
        by_layer.setdefault(key.split("/")[0], []).append(Variable(key, array.shape))
    return Model([Layer(name, vs) for name, vs in by_layer.items()])


def error_of(fn):
    try:
        fn()
        return None
    except ValueError as e:
        return str(e)


path = sys.argv[2]
stored = runtime.read_safetensors(path)
model = model_like(stored)
runtime.load_weights(model, path)
loaded = all(np.array_equal(v.value, stored[v.path]) for layer in model.layers for v in layer.weights)

other = model_like(stored)
dropped = other.layers.pop(0)
other.layers.append(Layer("extra", [Variable("extra/kernel", (2, 2))]))
mismatch = error_of(lambda: runtime.load_weights(other, path))

reshaped = model_like(stored)
first = reshaped.layers[0].weights[0]
first.shape = first.shape + (1,)
shape_error = error_of(lambda: runtime.load_weights(reshaped, path))


class PatchEmbedding(Layer):
    tfjs_weight_names = {"token": "_cls/token"}


keys = {
    "top": runtime.weight_key(Layer("conv1", []), Variable("conv1/kernel", ())),
    "nested": runtime.weight_key(Layer("enc", []), Variable("enc/enc_self/enc_self_query/kernel", ())),
    "rnn": runtime.weight_key(Layer("lstm", []), Variable("lstm/lstm_cell/recurrent_kernel", ())),
    "depthwise": runtime.weight_key(DepthwiseConv2D("dw", []), Variable("dw/kernel", ())),
    "renamed": runtime.weight_key(PatchEmbedding("patch", []), Variable("patch/token", ())),
}
print(json.dumps({"count": len(stored), "loaded": loaded, "dropped": [v.path for v in dropped.weights],
                  "mismatch": mismatch, "shape_error": shape_error, "keys": keys}))
