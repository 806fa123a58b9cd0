"""Fixtures every directory of tests/ shares, the markers each directory gets, the order they run in.

The directories: ``unit/`` (functions and classes, in-process), ``commands/`` (each ``tfvae`` command and its
errors), ``deploy/`` (export, the other formats, serving, the explorer's server), ``e2e/`` (the shipped weights,
the wheel, the README's examples, every kind on every dataset), ``browser/`` (the explorer page in headless
Chromium); they run in that order. Every test is marked with its directory's name, and ``slow`` when it takes
about 8 s or more on an idle 2-core machine: marked where it is defined, or here (the browser tests, the tests
needing one of ``SLOW_FIXTURES``). A developer selects with ``-m``, e.g. ``python3 -m pytest tests -m "not
slow"``; the README's command runs everything.

Session fixtures (trained runs, exports) are built once per test run, when a test first needs them; a test
that changes one works on a copy (``helpers.copy_run``). Plain helpers are in tests/helpers/.
"""

import contextlib
import io
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import (MNIST_IDX, NO_XLA, ROOT, SMALL_TRAIN, SWEEP_FLAGS, TFDS_DIR, TINY_TRAIN, ZOO_DATA_DIRS,
                           ZOO_K, ZOO_N, checkout_env, write_idx)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The README's test command sets nothing: commands run in subprocesses find the prepared data here too.
os.environ.setdefault("TFDS_DATA_DIR", TFDS_DIR)

DIRECTORIES = ("unit", "commands", "deploy", "e2e", "browser")  # marker names, in the order they run
HERE = os.path.dirname(os.path.abspath(__file__))
# A test that needs one of these session fixtures (each about 8 s or more to build) is slow too.
SLOW_FIXTURES = {"small_run", "swept", "shipped_export", "exported_weights", "zoo_eval", "eval_script", "wheel"}
# Slow tests in files this suite's maintainer does not edit (the kind harness's owner does).
SLOW_ELSEWHERE = {"test_a_kind_installed_from_outside_trains_evaluates_and_exports",
                  "test_the_gradient_hook_runs_on_every_path"}


def _directory(item):
    return os.path.relpath(str(item.path), HERE).split(os.sep)[0]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _directory(item) in DIRECTORIES:
            item.add_marker(_directory(item))
        if (_directory(item) == "browser" or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
                or item.originalname in SLOW_ELSEWHERE):
            item.add_marker("slow")
    # quick in-process tests first, the browser last; a module's tests keep their order
    items.sort(key=lambda item: DIRECTORIES.index(_directory(item)) if _directory(item) in DIRECTORIES else 0)


def _require(path):
    if not os.path.exists(path):
        pytest.fail(f"real data missing: {path} (set TFVAE_SHARED to the shared/ directory)")
    return path


@pytest.fixture(scope="session")
def tfds_dir():
    _require(os.path.join(TFDS_DIR, "mnist"))
    os.environ["TFDS_DATA_DIR"] = TFDS_DIR
    return TFDS_DIR


@pytest.fixture(scope="session")
def mnist_idx_dir():
    return _require(MNIST_IDX)


@pytest.fixture
def tiny_idx_dir(tmp_path):
    """A valid IDX dataset: 64 train / 32 test random 28x28 images."""
    rng = np.random.default_rng(0)
    d = tmp_path / "idx"
    d.mkdir()
    for split, n in (("train", 64), ("t10k", 32)):
        write_idx(d / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), compress=True)
        write_idx(d / f"{split}-labels-idx1-ubyte.gz", rng.integers(0, 10, (n,)), compress=True)
    return d



# ------------------------------------------------------------------ trained once per test run
class TrainedRun:
    """A run directory a session fixture trained, and what ``tfvae train`` printed."""

    def __init__(self, path, out):
        self.path, self.out = path, out


@pytest.fixture(scope="session")
def trained(tmp_path_factory, tfds_dir):
    """``trained(*flags)``: ``tfvae train FLAGS`` run in-process the first time a test asks for those flags,
    then the same ``TrainedRun`` for every test that asks again. Read it; change a copy (``helpers.copy_run``)."""
    from tfvae import cli

    runs = {}

    def train(*flags):
        if flags not in runs:
            path = tmp_path_factory.mktemp("trained") / "run"
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = cli.main(["train", *flags, "--run_dir", str(path)])
            assert rc == 0, out.getvalue()[-3000:]
            runs[flags] = TrainedRun(path, out.getvalue())
        return runs[flags]

    return train


@pytest.fixture(scope="session")
def tiny_run(trained):
    """Two epochs of the smallest model on 200 MNIST digits (``helpers.TINY_TRAIN``, ``NO_XLA``): for the tests that need a
    run to resume, corrupt or refuse, and don't look at what it learnt."""
    return trained(*TINY_TRAIN, *NO_XLA, "--epoch", "2")


@pytest.fixture(scope="session")
def small_run(trained):
    """Four epochs of ``helpers.SMALL_TRAIN`` (with pictures and TensorBoard logs), uninterrupted."""
    return trained(*SMALL_TRAIN, "--epoch", "4")


@pytest.fixture(scope="session")
def swept(tmp_path_factory, tfds_dir):
    """``tfvae sweep SWEEP_FLAGS --out DIR`` (two Frey-face latent sizes, one epoch each), run once:
    ``(DIR, what it printed)``."""
    from tfvae import cli

    path = tmp_path_factory.mktemp("sweep") / "sweep"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["sweep", *SWEEP_FLAGS, "--out", str(path)]) == 0
    return path, out.getvalue()


# ------------------------------------------------------------------ exported once per test run
@pytest.fixture(scope="session")
def _shipped_commands(tmp_path_factory, tfds_dir):
    """``tfvae export`` of better_weight (``--formats all``) and ``python eval.py`` on it, started together the first
    time a test needs either (each a subprocess in its own directory; the test only waits for them):
    ``{name: (process, directory)}``."""
    procs = {}
    commands = {"shipped_export": [sys.executable, "-m", "tfvae", "export", "--load_weight_dir", "better_weight",
                                   "--formats", "all", "--export_dir", "all"],
                "eval_script": [sys.executable, os.path.join(ROOT, "eval.py"), "--num_examples", "500",
                                "--iwae_samples", "50", "--output", "m.json"]}
    for name, argv in commands.items():
        cwd = tmp_path_factory.mktemp(name)
        with open(cwd / "stdout", "w") as out, open(cwd / "stderr", "w") as err:  # files: nothing waits on a pipe
            procs[name] = (subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, env=checkout_env()), cwd)
    yield procs
    for proc, _ in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _finished(started, name):
    proc, cwd = started[name]
    proc.wait(timeout=600)
    return subprocess.CompletedProcess(proc.args, proc.returncode, (cwd / "stdout").read_text(),
                                       (cwd / "stderr").read_text()), cwd


@pytest.fixture(scope="session")
def shipped_export(_shipped_commands):
    """``tfvae export --load_weight_dir better_weight --formats all --export_dir DIR`` run as a user runs it (a
    subprocess, in another directory), once: ``{"dir": DIR, "run": its CompletedProcess}``. Its SavedModels
    (``DIR/decoder/1``, ``DIR/encoder/1``) are what test_export, test_explore and the browser tests check against."""
    run, cwd = _finished(_shipped_commands, "shipped_export")
    assert run.returncode == 0, run.stderr[-3000:]
    return {"dir": cwd / "all", "run": run}


@pytest.fixture(scope="session")
def exported_weights(tmp_path_factory, shipped_export):
    """``exported_weights(weights)``: the directory ``tfvae export --load_weight_dir WEIGHTS`` wrote (in-process,
    from another working directory, as after a pip install), once per weights set for the whole run;
    better_weight's is ``shipped_export``'s."""
    from tfvae import checkpoints, cli

    done = {os.path.realpath(checkpoints.resolve("better_weight")): shipped_export["dir"]}

    def export(weights):
        key = os.path.realpath(checkpoints.resolve(weights))
        if key not in done:
            root = tmp_path_factory.mktemp("export")
            out = io.StringIO()
            with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out):
                patch.chdir(root)
                rc = cli.main(["export", "--load_weight_dir", str(weights), "--export_dir", str(root / "exp")])
            assert rc == 0, out.getvalue()[-3000:]
            done[key] = root / "exp"
        return done[key]

    return export


@pytest.fixture(scope="session")
def eval_script(_shipped_commands):
    """``python eval.py --num_examples 500 --iwae_samples 50 --output OUT`` (the shipped better_weight) run once,
    from another directory: ``{"run": its CompletedProcess, "output": OUT}``. tests/unit/test_golden.py checks
    its numbers against the recorded ones, tests/e2e/test_packaging.py that it prints no start-up noise."""
    run, cwd = _finished(_shipped_commands, "eval_script")
    return {"run": run, "output": cwd / "m.json"}


# ------------------------------------------------------------------ the shipped sets, evaluated once per test run
@pytest.fixture(scope="session")
def zoo_eval(tmp_path_factory, tfds_dir):
    """``zoo_eval(name)``: ``tfvae eval`` of a shipped set on its first ``ZOO_N`` test images at ``K = ZOO_K``
    (``--save_images``), in-process from another working directory (as after a pip install), once per set:
    ``(metrics, what it printed, its directory)``. better_weight, the default, is evaluated without
    ``--load_weight_dir``."""
    import json

    from tfvae import cli, zoo

    done = {}

    def evaluate(name):
        if name not in done:
            with open(os.path.join(zoo.installed_root(), name, "metrics.json")) as f:
                dataset = json.load(f)["dataset"]
            root = tmp_path_factory.mktemp(f"eval-{name}")
            argv = ["eval", "--num_examples", str(ZOO_N), "--iwae_samples", str(ZOO_K), "--save_images",
                    "--output", str(root / "metrics.json")]
            argv += [] if name == "better_weight" else ["--load_weight_dir", name]
            argv += ["--data_dir", ZOO_DATA_DIRS[dataset]] if dataset in ZOO_DATA_DIRS else []
            out = io.StringIO()
            with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out):
                patch.chdir(root)
                rc = cli.main(argv)
            assert rc == 0, out.getvalue()[-3000:]
            done[name] = (json.loads((root / "metrics.json").read_text()), out.getvalue(), root)
        return done[name]

    return evaluate
