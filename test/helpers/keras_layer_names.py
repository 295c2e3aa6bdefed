"""The layer names an exported Keras file's build_model() gives, on a machine without Keras.

usage: keras_layer_names.py FILE...

For each file, runs build_model() with a stand-in `keras` module whose layers only record the `name`
they are given (nothing is computed), and prints, as JSON by file, every name given to a layer
or keras.Input by build_model() and the composite functions it calls, in call order.
The layers that custom layers make inside themselves are left out (their names follow
from their owner's), and so are unnamed ones (a recurrent layer inside Bidirectional). Tuple assignments from a call get as many stand-in tensors as they
unpack, since the stand-in layers cannot know how many outputs they have.
"""
import ast
import json
import sys
import types

recorded = []
model_functions = set()
current = {"path": None}


class Tensor:
    """A stand-in for a symbolic tensor: every operation gives another."""

    shape = (None,)

    def __getattr__(self, _):
        return Tensor()

    def __call__(self, *args, **kwargs):
        return Tensor()

    def __getitem__(self, _):
        return Tensor()


for op in ["add", "sub", "mul", "truediv", "matmul", "neg", "pow", "radd", "rsub", "rmul", "rtruediv"]:
    setattr(Tensor, f"__{op}__", lambda self, *_: Tensor())


def record(name, depth=2):
    caller = sys._getframe(depth)
    if name is not None and caller.f_code.co_filename == current["path"] and caller.f_code.co_name in model_functions:
        recorded.append(name)


class Layer:
    def __new__(cls, *args, **kwargs):
        record(kwargs.get("name"))
        return super().__new__(cls)

    def __init__(self, *args, name=None, **kwargs):
        self.name = name

    def __call__(self, *args, **kwargs):
        return Tensor()


class Namespace(types.ModuleType):
    """keras.layers and keras.ops: any attribute is a layer class (or an op)."""

    def __getattr__(self, attr):
        if attr[:1].isupper():
            cls = type(attr, (Layer,), {})
            setattr(self, attr, cls)
            return cls
        return lambda *args, **kwargs: Tensor()


def keras_input(*args, name=None, **kwargs):
    record(name)
    return Tensor()


keras = types.ModuleType("keras")
keras.layers = Namespace("keras.layers")
keras.layers.Layer = Layer
keras.ops = Namespace("keras.ops")
keras.Input = keras_input


class Model:
    """keras.Model: build_model()'s functional model (not recorded), or a base class (a caption export's TeacherForcing)."""

    def __init__(self, *args, **kwargs):
        pass


keras.Model = Model
keras.losses = Namespace("keras.losses")
keras.saving = types.SimpleNamespace(register_keras_serializable=lambda **_: (lambda cls: cls))
keras.optimizers = Namespace("keras.optimizers")
keras.callbacks = Namespace("keras.callbacks")
sys.modules["keras"] = keras
sys.modules["keras.layers"] = keras.layers
sys.modules["keras.ops"] = keras.ops


def unpack(count, value):
    return value if isinstance(value, tuple) else tuple(Tensor() for _ in range(count))


class UnpackCalls(ast.NodeTransformer):
    """`a, b = f(...)` -> `a, b = unpack(2, f(...))`."""

    def visit_Assign(self, node):
        target = node.targets[0]
        if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Call):
            node.value = ast.Call(ast.Name("unpack", ast.Load()), [ast.Constant(len(target.elts)), node.value], [])
        return node


def layer_names(path):
    """The names build_model() in `path` gives its layers, in call order."""
    tree = ast.parse(open(path, encoding="utf8").read(), path)
    # build_model() and the composite functions, whose last parameter is the layer-name prefix.
    model_functions.clear()
    model_functions.add("build_model")
    model_functions.update(f.name for f in tree.body if isinstance(f, ast.FunctionDef) and f.args.args and f.args.args[-1].arg == "name")
    tree = ast.fix_missing_locations(UnpackCalls().visit(tree))
    namespace = {"__name__": "exported", "unpack": unpack}
    exec(compile(tree, path, "exec"), namespace)
    current["path"] = path
    recorded.clear()
    namespace["build_model"]()
    return list(recorded)


print(json.dumps({path: layer_names(path) for path in sys.argv[1:]}))
