"""Following ``--formats`` stays inside ``tfvae.deploy`` and ``tfvae.cli``, and it is read and checked once.

Only modules under ``tfvae.deploy`` and ``tfvae.cli`` import ``tfvae.deploy.formats`` or name what it defines
(read from its own source); ``tfvae export --formats ...`` parses the text once (its argparse type) and runs
each export check once (``ExportPlan.checked``), however many functions the plan passes through.
"""

import ast
import dataclasses
import os
import sys

import pytest

import tfvae
from tfvae import checkpoints, cli, models
from tfvae.cli import argtypes, export as export_command  # noqa: F401  (their bindings exist before counting)
from tfvae.deploy import convert, export, formats, plan

PACKAGE = os.path.dirname(os.path.abspath(tfvae.__file__))
ALLOWED = ("tfvae.deploy", "tfvae.cli")
# The 0.1 module paths kept as thin aliases (tfvae.configs re-exports what 0.1 defined there), not a path
# --formats follows.
ALIASES = ("tfvae.configs", "tfvae.export", "tfvae.convert", "tfvae.runtime", "tfvae.serving", "tfvae.serving_files")


def _modules():
    root = os.path.dirname(PACKAGE)
    for dirpath, dirs, files in os.walk(PACKAGE):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                name = os.path.relpath(path, root)[:-3].replace(os.sep, ".").removesuffix(".__init__")
                yield name, path


def _defined_in_formats():
    """The names ``tfvae/deploy/formats.py`` defines at module level (its constants and functions)."""
    tree = ast.parse(open(formats.__file__).read())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _uses(path, names):
    """``line: what`` for each import of tfvae.deploy.formats and each use of one of ``names`` in the file."""
    found = []
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if a.name == "tfvae.deploy.formats"]
        elif isinstance(node, ast.ImportFrom):
            if node.module == "tfvae.deploy.formats" or (node.module == "tfvae.deploy" and
                                                         any(a.name == "formats" for a in node.names)):
                found.append(f"{node.lineno}: from {node.module} import ...")
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name in names]
        elif isinstance(node, ast.Name) and node.id in names:
            found.append(f"{node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in names:
            found.append(f"{node.lineno}: .{node.attr}")
    return found


def test_only_deploy_and_cli_read_the_formats():
    names = _defined_in_formats()
    assert {"EXPORT_FORMATS", "SIGNATURE", "FORMAT_SUFFIX", "parse_formats", "check_formats"} <= names
    outside = {}
    for module, path in _modules():
        if not module.startswith(ALLOWED) and module not in ALIASES:
            found = _uses(path, names)
            if found:
                outside[module] = found
    assert not outside, f"modules outside {', '.join(ALLOWED)} read tfvae.deploy.formats: {outside}"


def _count_calls(monkeypatch, func):
    """Replaces every binding of ``func`` in the loaded tfvae modules by a counting wrapper; returns the calls."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return func(*args, **kwargs)

    for name, module in list(sys.modules.items()):
        if module is not None and (name == "tfvae" or name.startswith("tfvae.")):
            for attr, value in list(vars(module).items()):
                if value is func:
                    monkeypatch.setattr(module, attr, counted)
    return calls


@pytest.fixture
def counters(monkeypatch):
    funcs = {"parse_formats": formats.parse_formats, "check_formats": formats.check_formats,
             "_check_options": plan._check_options, "_check_writable": plan._check_writable,
             "require_converters": convert.require_converters}
    return {name: _count_calls(monkeypatch, func) for name, func in funcs.items()}


def test_the_export_command_parses_and_checks_its_formats_once(tmp_path, counters, capsys):
    model = models.build_model(dict(latent_dim=2, hidden=(8,)))
    checkpoints.save(str(tmp_path / "ckpt"), model, {"model": model.config.to_dict(), "data": {"dataset": "mnist"}},
                     {"epoch": 1})
    assert cli.main(["export", "--load_weight_dir", str(tmp_path / "ckpt"), "--export_dir", str(tmp_path / "e"),
                     "--formats", "saved_model"]) == 0, capsys.readouterr().err
    assert {name: len(calls) for name, calls in counters.items()} == dict.fromkeys(counters, 1)
    assert counters["parse_formats"] == [("saved_model",)]  # the flag's text, in the argparse type
    assert (tmp_path / "e" / "decoder" / "1" / "saved_model.pb").is_file()
    # a library call builds its plan itself, from a tuple: nothing to parse, each check once
    for calls in counters.values():
        calls.clear()
    assert export.export_model(model, tmp_path / "e", formats=("saved_model",))["version"] == 2
    assert {name: len(calls) for name, calls in counters.items()} == dict(dict.fromkeys(counters, 1), parse_formats=0)


def test_the_plan_is_typed_and_frozen(tmp_path):
    p = plan.ExportPlan.checked(tmp_path / "e", ("onnx", "saved_model"))
    assert p == plan.ExportPlan(str(tmp_path / "e"), ("saved_model", "onnx"), "none", None, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.formats = ("litert",)
    with pytest.raises(TypeError, match="tuple of format names.*parse_formats reads --formats text"):
        plan.ExportPlan.checked(tmp_path / "e", "all")
    with pytest.raises(TypeError, match="or a plan, not both"):
        export.export_model(None, tmp_path / "e", plan=p)
