"""Static checks of exported Keras files, for a machine without Keras.

usage: check_keras_export.py API_JSON FILE...

For every file: each attribute chain rooted at `keras`, `layers` (keras.layers) or
`ops` (keras.ops) must name something in the Keras 3 public API listed in API_JSON
(engine/export/keras/keras3-api.json); nothing may use TensorFlow; and every name
the file reads must be bound somewhere in it or be a builtin. Prints one line per
problem as "FILE:LINE: message" and exits 1 if there are any.
"""
import ast
import builtins
import json
import sys

ROOTS = {"keras": "keras", "layers": "keras.layers", "ops": "keras.ops"}


def chain(node):
    """`a.b.c` as ["a", "b", "c"], or None when it does not start at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def api_problem(parts, modules):
    module = ROOTS[parts[0]]
    for seg in parts[1:]:
        if f"{module}.{seg}" in modules:
            module = f"{module}.{seg}"
            continue
        if seg not in modules[module]:
            return f"{'.'.join(parts)}: {module} has no {seg} in Keras 3"
        return None
    return None


def bound_names(tree):
    names = set(dir(builtins)) | {"__name__", "__file__"}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                names.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def layer_problems(tree):
    """Every Keras layer class is registered as serializable and its get_config() returns each __init__ argument."""
    problems = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or not any((chain(b) or [])[-1:] == ["Layer"] for b in node.bases):
            continue
        if not any("register_keras_serializable" in ast.unparse(d) for d in node.decorator_list):
            problems.append((node.lineno, f"{node.name} is not registered with keras.saving.register_keras_serializable"))
        methods = {f.name: f for f in node.body if isinstance(f, ast.FunctionDef)}
        init = methods.get("__init__")
        args = [a.arg for a in init.args.args[1:] + init.args.kwonlyargs] if init else []
        config = methods.get("get_config")
        keys = {c.value for c in ast.walk(config) if isinstance(c, ast.Constant) and isinstance(c.value, str)} if config else set()
        for a in args:
            if a not in keys:
                problems.append((node.lineno, f"{node.name}.get_config() leaves out the argument {a}, so the layer does not reload"))
    return problems


def check(path, modules):
    tree = ast.parse(open(path, encoding="utf8").read(), path)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if mod and mod.split(".")[0] == "tensorflow":
                problems.append((node.lineno, f"imports {mod}: Keras 3 code uses keras.ops, not TensorFlow"))
        if isinstance(node, ast.Attribute):  # prefixes of a chain are visited too, and pass when it does
            parts = chain(node)
            if parts and parts[0] in ROOTS:
                p = api_problem(parts, modules)
                if p:
                    problems.append((node.lineno, p))
            if parts and parts[0] == "tf":
                problems.append((node.lineno, "uses TensorFlow's tf module, not Keras 3"))
    problems += layer_problems(tree)
    bound = bound_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound:
            problems.append((node.lineno, f"{node.id} is never defined"))
    return sorted(set(problems))


def main():
    modules = json.load(open(sys.argv[1]))["modules"]
    bad = 0
    for path in sys.argv[2:]:
        tree_problems = check(path, modules)
        for line, message in tree_problems:
            print(f"{path}:{line}: {message}")
        bad += len(tree_problems)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
