"""Fixtures every directory of tests/ shares, and the markers each directory gets.

The directories: ``unit/`` (functions and classes, in-process), ``commands/`` (each ``tfvae`` command and its
errors), ``deploy/`` (export, the other formats, serving, the explorer's server), ``browser/`` (the explorer
page in headless Chromium), ``e2e/`` (the shipped weights, the wheel, the README's examples, every kind on every
dataset). Every test is marked with its directory's name; the slowest (about 8 s and more on an idle 2-core
machine, or needing a fixture that is) are marked ``slow`` where they are defined. A developer selects with
``-m``, e.g. ``python3 -m pytest tests -m "not slow"``; the README's command runs everything.

Session fixtures (trained runs, exports) are built once per test run, when a test first needs them; a test
that changes one works on a copy (``copy_run``). Plain helpers are in tests/helpers/.
"""

import os

import numpy as np
import pytest

from tests.helpers import MNIST_IDX, TFDS_DIR, write_idx

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The README's test command sets nothing: commands run in subprocesses find the prepared data here too.
os.environ.setdefault("TFDS_DATA_DIR", TFDS_DIR)

DIRECTORY_MARKERS = ("unit", "commands", "deploy", "browser", "e2e")
HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = os.path.relpath(str(item.path), HERE).split(os.sep)
        if parts[0] in DIRECTORY_MARKERS:
            item.add_marker(parts[0])


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

