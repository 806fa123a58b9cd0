"""The package's shape: no import circle, no arrow back up, the model kinds only in their registry, small files."""

import ast
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(ROOT, "tfvae")
# Module paths of the releases before 0.2, kept importable for this one (thin aliases of the new modules).
ALIASES = ("configs", "evaluate", "latent", "export", "sweep", "serving", "runtime")

# Layers, bottom first: a module imports only from its own layer or below (module level or inside a function).
# A module belongs to the layer of the longest name that is it or a package above it.
LAYERS = [
    {"tfvae.errors", "tfvae._tf", "tfvae.deploy.formats", "tfvae.cli.argtypes", "tfvae.evaluation.report"},
    {"tfvae.io", "tfvae.pictures.grids", "tfvae.pictures.charts", "tfvae.deploy.tf_serving_files",
     "tfvae.deploy.runtime", "tfvae.models.kinds", "tfvae.models.densities", "tfvae.models.networks",
     "tfvae.models.likelihoods", "tfvae.models.objectives", "tfvae.models.axes", "tfvae.models.priors",
     "tfvae.models.posteriors"},
    {"tfvae.config", "tfvae.engine", "tfvae.data"},
    {"tfvae.models"},
    {"tfvae.checkpoints"},
    {"tfvae.training", "tfvae.evaluation", "tfvae.deploy", "tfvae.pictures", "tfvae.zoo", "tfvae.testing",
     "tfvae.samplers"},
    {"tfvae.training.sweep", "tfvae.explorer"},
    {"tfvae.cli", "tfvae.__main__", "tfvae", "tfvae.zoo.rebuild"} | {f"tfvae.{old}" for old in ALIASES},
]


def _modules():
    found = {}
    for dirpath, dirs, files in os.walk(PACKAGE):
        dirs[:] = [d for d in dirs if d != "__pycache__" and os.path.isfile(os.path.join(dirpath, d, "__init__.py"))]
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(dirpath, f), ROOT)[:-3].replace(os.sep, ".")
                found[rel[: -len(".__init__")] if rel.endswith(".__init__") else rel] = os.path.join(dirpath, f)
    return found


MODULES = _modules()


def _imports(name, path):
    """The tfvae modules ``name`` imports, at module level or inside functions."""
    tree = ast.parse(open(path).read())
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("tfvae"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if not base.startswith("tfvae"):
                continue
            for a in node.names:
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base)
    return {m for m in out if m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module):
    names = [(len(top), i) for i, layer in enumerate(LAYERS) for top in layer
             if module == top or (top != "tfvae" and module.startswith(top + "."))]
    if not names:
        raise AssertionError(f"{module} is in no layer of tests/test_architecture.py: add it")
    return max(names)[1]


def test_no_import_circle():
    # packages import their own submodules (re-exports): look at the graph of real modules
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(GRAPH.get(m, ())):
            if n.startswith(m + "."):  # a package's __init__ importing its own submodules
                continue
            if state.get(n) == "open":
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def test_no_arrow_back_up():
    up = [f"{m} -> {n}" for m, deps in GRAPH.items() for n in deps if _layer(n) > _layer(m)]
    assert not up, "imports of a higher layer: " + "; ".join(sorted(up))


def test_the_engine_never_imports_the_models():
    for m, deps in GRAPH.items():
        if m.startswith("tfvae.engine"):
            assert not [n for n in deps if n.startswith("tfvae.models")], m


def test_parsing_flags_imports_no_tensorflow():
    code = ("import sys; import tfvae.cli, tfvae.config, tfvae.zoo, tfvae.deploy.formats; tfvae.cli.build_parser(); "
            "assert 'tensorflow' not in sys.modules, 'TensorFlow imported'")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_model_kinds_are_tested_only_by_their_registry():
    from tfvae.models import kinds as registry

    kinds = "|".join(registry.names())
    pattern = re.compile(rf"""(==|!=)\s*["']({kinds})["']|["']({kinds})["']\s*(==|!=)|in\s*\(\s*["']({kinds})["']""")
    found = [f"{os.path.relpath(p, ROOT)}:{i}" for m, p in MODULES.items() for i, line in
             enumerate(open(p), 1) if pattern.search(line)]
    assert not found, "model kind tested as a string: " + ", ".join(found)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_files_and_classes_stay_small(module):
    path = MODULES[module]
    lines = open(path).read().splitlines()
    assert len(lines) <= 350, f"{path}: {len(lines)} lines"
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.ClassDef):
            assert node.end_lineno - node.lineno + 1 <= 200, f"{path}: class {node.name} is too long"


RUNTIMES = ("ai_edge_litert", "onnxruntime", "tf2onnx", "onnx")


def test_runtimes_and_converters_are_imported_only_where_used():
    """LiteRT, ONNX Runtime and tf2onnx are optional extras: no module imports them at its top (training never
    needs them), and only tfvae.deploy.runtime (running) and tfvae.deploy.convert (converting) import them at all."""
    for m, path in MODULES.items():
        tree = ast.parse(open(path).read())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        everywhere = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        for nodes, allowed in ((top, ()), (everywhere, ("tfvae.deploy.runtime", "tfvae.deploy.convert"))):
            names = {a.name.split(".")[0] for n in nodes if isinstance(n, ast.Import) for a in n.names}
            names |= {(n.module or "").split(".")[0] for n in nodes if isinstance(n, ast.ImportFrom) and not n.level}
            assert m in allowed or not names & set(RUNTIMES), f"{m} imports {sorted(names & set(RUNTIMES))}"


def test_the_module_paths_of_0_1_stay_importable_as_thin_aliases():
    code = ("from tfvae import configs, evaluate, export, latent, runtime, serving, sweep, training; "
            "from tfvae.deploy import client, runtime as new_runtime; "
            "assert configs.VAEConfig and configs.DataConfig and configs.TrainConfig and configs.parse_formats; "
            "assert evaluate.run_eval and evaluate.evaluate and evaluate.format_table and evaluate.load_eval_images; "
            "assert latent.run_generate and latent.run_viz and export.run_export and sweep.Sweep; "
            "assert serving.RestClient is client.RestClient and runtime.load is new_runtime.load; "
            "assert training.run_training")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    for old in ALIASES:
        assert len(open(os.path.join(PACKAGE, *old.split(".")) + ".py").read().splitlines()) <= 20, old
