"""The package as a stranger gets it: the README's commands, a wheel installed elsewhere, a quiet terminal."""

import os
import re
import subprocess
import sys
import zipfile

import pytest

from tests.helpers import ROOT, run_together
from tfvae import checkpoints, cli, zoo

# What TensorFlow 2.21 prints on a CPU-only machine while it starts (issue 18).
STARTUP_NOISE = re.compile(r"absl::InitializeLog|cuda drivers|cuInit|cudart_stub|cpu_feature_guard|oneDNN custom "
                           r"operations|rebuild TensorFlow")


def _readme_commands():
    """The two commands of the README's first ``bash`` block (comments and blank lines dropped)."""
    text = open(os.path.join(ROOT, "README.md")).read()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    return [ln.strip() for ln in block.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _ci_lines():
    return [ln.strip() for ln in open(os.path.join(ROOT, ".ci", "run")) if ln.strip() and not ln.strip().startswith("#")]


def test_ci_runs_the_readme_install_and_test_commands_verbatim():
    setup, tests = _readme_commands()
    install = setup.split("&&")[0].strip()
    assert install.startswith("pip install") and "[test]" in install, install
    ci = _ci_lines()
    assert install in ci, f".ci/run must run the README's install step verbatim: {install!r}"
    assert tests in ci, f".ci/run must run the README's test command verbatim: {tests!r}"
    others = [ln for ln in ci if re.search(r"\bpip\b", ln) and ln != install]
    assert not others, f".ci/run installs more than the README: {others}"
    assert ci.index(install) < ci.index(tests) == len(ci) - 1


def test_ci_installs_chromium_and_requires_the_browser_tests():
    """The browser tests (tests/browser/test_explore_browser.py) skip without Chromium, except in CI."""
    ci = _ci_lines()
    tests = ci[-1]
    apt = [ln for ln in ci if "apt-get install" in ln]
    assert apt and "chromium chromium-driver" in apt[0] and "command -v chromium" in apt[0], apt
    assert "export TFVAE_REQUIRE_BROWSER=1" in ci and ci.index(apt[0]) < ci.index("export TFVAE_REQUIRE_BROWSER=1") \
        < ci.index(tests)


def test_everything_the_tests_import_is_in_the_test_extra():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"))
    test_extra = cfg["options.extras_require"]["test"]
    for needed in ("pytest", "tensorflow-serving-api", "requests", "ai-edge-litert", "tf2onnx", "onnx", "onnxruntime",
                   "selenium"):
        assert needed in test_extra, f"{needed} is imported by the tests but not in the test extra"
    extras = cfg["options.extras_require"]
    for extra in ("serving", "litert", "onnx"):  # the tests run every format: each extra's pins are in test
        for line in filter(None, (ln.strip() for ln in extras[extra].splitlines())):
            assert line in test_extra.splitlines() or line in (ln.strip() for ln in test_extra.splitlines()), \
                f"{line} ({extra} extra) is not in the test extra"


def _run(args, cwd, env=None, timeout=300):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_generate_prints_only_its_result_line(tmp_path):
    r = _run([sys.executable, "-m", "tfvae", "generate", "--num", "4", "--nrow", "2", "--seed", "1",
              "--output", str(tmp_path / "s.png")], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = (r.stdout + r.stderr).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfvae: wrote 4 samples"), r.stdout + r.stderr
    assert (tmp_path / "s.png").is_file()


def test_top_level_scripts_are_quiet(eval_script):
    """``python eval.py`` from another directory (conftest's eval_script, whose numbers test_golden checks)."""
    r = eval_script["run"]
    assert r.returncode == 0, r.stderr
    assert not STARTUP_NOISE.search(r.stdout + r.stderr), r.stderr
    assert "Traceback" not in r.stderr


FAKE_TF = '''
import os, warnings
os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
os.write(2, b"I0000 00:00:1.0 1 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.\\n")
os.write(2, b"a real C++ error line\\n")
warnings.warn("a real Python warning")
if os.environ.get("FAKE_TF_FAIL"):
    raise ImportError("libtensorflow_framework.so.2: cannot open shared object file")
class config:
    @staticmethod
    def list_physical_devices():
        os.write(2, b"E0000 00:00:1.0 1 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\\n")
'''


@pytest.mark.parametrize("fail", [False, True])
def test_the_quiet_import_keeps_real_messages(tmp_path, fail):
    """Only the start-up notices are dropped; other lines, warnings and an import failure still show."""
    fake = tmp_path / "fake" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(FAKE_TF)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / "fake"), ROOT]),
               FAKE_TF_FAIL="1" if fail else "")
    r = _run([sys.executable, "-c", "from tfvae._tf import tf; print('imported')"], cwd=tmp_path, env=env)
    assert not STARTUP_NOISE.search(r.stderr), r.stderr
    assert "a real C++ error line" in r.stderr and "a real Python warning" in r.stderr
    if fail:
        assert r.returncode != 0 and "ImportError: libtensorflow_framework" in r.stderr
    else:
        assert r.returncode == 0 and r.stdout.strip() == "imported", r.stderr
    # descriptor 2 is back: what is written after the import reaches the terminal
    r2 = _run([sys.executable, "-c", "import os; from tfvae._tf import tf; os.write(2, b'after')"],
              cwd=tmp_path, env=dict(env, FAKE_TF_FAIL=""))
    assert r2.stderr.endswith("after"), r2.stderr


def test_weights_lists_every_shipped_set(capsys):
    assert cli.main(["weights"]) == 0
    out = capsys.readouterr().out
    for name in zoo.names():
        entry = zoo.describe(name)
        assert f"\n{name}\n" in out and entry["card"] in out
    assert "better_weight" in zoo.names()
    assert "mnist (binarize dynamic)" in out and "latent 128" in out and "NLL 84.15 nats" in out


def _tiny_checkpoint(path, latent=3):
    from tfvae import models

    model = models.build_model({"latent_dim": latent, "hidden": [8], "input_shape": [28, 28, 1]})
    checkpoints.save(str(path), model, {"model": model.config.to_dict(), "data": {"dataset": "mnist"}}, {"epoch": 1})
    return path


def test_lookup_order(tmp_path, monkeypatch):
    """An explicit path, a run directory, ./weights/NAME, then the installed weights."""
    monkeypatch.chdir(tmp_path)
    installed = os.path.join(zoo.installed_root(), "better_weight")
    assert os.path.samefile(checkpoints.resolve("better_weight"), installed)
    local = _tiny_checkpoint(tmp_path / "weights" / "better_weight")
    assert os.path.samefile(checkpoints.resolve("better_weight"), local)  # ./weights/NAME before the installed
    run = tmp_path / "better_weight"
    _tiny_checkpoint(run / "checkpoints" / "epoch-0002")
    best = _tiny_checkpoint(run / "checkpoints" / "best")
    assert os.path.samefile(checkpoints.resolve("better_weight"), best)  # a run directory before ./weights
    assert os.path.samefile(checkpoints.resolve(str(best)), best)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel built from a copy of the source tree (setuptools' build/ of an earlier build can hold stale files)."""
    import shutil

    out, src = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("src") / "tfvae"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__",
                                                             "runs", ".benchmarks", ".pytest_cache", "v", ".venv"))
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q", "-w", str(out),
              str(src)], cwd=out, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    (whl,) = [out / f for f in os.listdir(out) if f.endswith(".whl")]
    return whl


def test_the_wheel_holds_the_package_and_the_weights(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    sources = {os.path.relpath(os.path.join(r, f), ROOT).replace(os.sep, "/")
               for r, _, fs in os.walk(os.path.join(ROOT, "tfvae")) for f in fs if f.endswith(".py")}
    assert not [n for n in names if n.endswith(".py") and n not in sources], "the wheel holds files not in tfvae/"
    for root, dirs, files in os.walk(os.path.join(ROOT, "tfvae")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(root, f), ROOT).replace(os.sep, "/")
                assert rel in names, f"{rel} is missing from the wheel (add its package to setup.cfg)"
    static = os.path.join(ROOT, "tfvae", "explorer", "static")
    for root, _, files in os.walk(static):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), ROOT).replace(os.sep, "/")
            assert rel in names, f"{rel} is missing from the wheel (add it to setup.cfg's package_data)"
    assert {"index.html", "explorer.js", "explorer.css"} <= set(os.listdir(static))
    weights = os.path.join(ROOT, "weights")
    assert set(zoo.names()) <= set(os.listdir(weights))
    for root, _, files in os.walk(weights):  # every set's files, and the sample-quality classifiers
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), weights).replace(os.sep, "/")
            assert f"tfvae/weights/{rel}" in names, f"weights/{rel} is missing from the wheel (setup.cfg's package_data)"


def test_an_installed_wheel_generates_from_another_directory(wheel, tmp_path):
    target, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = _run([sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "-q",
              "--target", str(target), str(wheel)], cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    env = dict(os.environ, PYTHONPATH=str(target))
    shipped_metrics = (target / "tfvae" / "weights" / "better_weight" / "metrics.json").read_bytes()
    others = [n for n in zoo.names() if n == "freyface_z2"]  # another shipped name, from the installed package
    here = dict(cwd=elsewhere, env=env)
    where, r, listing, ev, *other = run_together(  # independent commands, run at once
        ([sys.executable, "-c", "import tfvae; print(tfvae.__file__)"], here),
        ([sys.executable, "-m", "tfvae", "generate", "--num", "4", "--nrow", "2", "--seed", "0", "--output", "s.png"],
         here),
        ([sys.executable, "-m", "tfvae", "weights"], here),
        ([sys.executable, "-m", "tfvae", "eval", "--num_examples", "10", "--iwae_samples", "2"], here),
        *[([sys.executable, "-m", "tfvae", "generate", "--load_weight_dir", name, "--num", "4", "--nrow", "2",
            "--seed", "0", "--output", f"{name}.png"], here) for name in others], timeout=300)
    assert where.stdout.strip().startswith(str(target)), where.stdout + where.stderr
    assert r.returncode == 0, r.stderr
    lines = (r.stdout + r.stderr).strip().splitlines()
    assert lines == [f"tfvae: wrote 4 samples (T=1.0, seed 0) from "
                     f"{target / 'tfvae' / 'weights' / 'better_weight'} to s.png"], lines
    assert (elsewhere / "s.png").stat().st_size > 0
    assert listing.returncode == 0, listing.stderr
    assert all(f"\n{name}\n" in listing.stdout for name in zoo.names()), listing.stdout
    for name, g in zip(others, other):
        assert g.returncode == 0 and str(target / "tfvae" / "weights" / name) in g.stdout, g.stderr
    # eval of a shipped name writes beside the user, never into the installed package
    assert ev.returncode == 0, ev.stderr
    assert (elsewhere / "eval-better_weight" / "metrics.json").is_file()
    assert (target / "tfvae" / "weights" / "better_weight" / "metrics.json").read_bytes() == shipped_metrics
