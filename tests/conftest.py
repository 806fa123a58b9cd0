"""Shared fixtures: where the real data live, tiny synthetic data."""

import gzip
import os
import struct

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("TFVAE_SHARED", os.path.join(HERE, "..", "..", "shared"))
TFDS_DIR = os.environ.get("TFDS_DATA_DIR") or os.path.join(SHARED, "tensorflow_datasets")
MNIST_IDX = os.path.join(SHARED, "data", "mnist")
# The README's test command sets nothing: commands run in subprocesses find the prepared data here too.
os.environ.setdefault("TFDS_DATA_DIR", TFDS_DIR)


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


def write_idx(path, array, magic_dtype=0x08, compress=False):
    array = np.asarray(array, np.uint8)
    header = bytes([0, 0, magic_dtype, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    payload = header + array.tobytes()
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        with open(path, "wb") as f:
            f.write(payload)
    return path


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


# One small model of every kind and architecture: the harness (tests/test_kinds.py) and the step tests
# (tests/test_models.py) run the same checks over all of them.
EVERY_KIND = {
    "vae-mlp": dict(latent_dim=4, hidden=(32,)),
    "vae-gated-iwae": dict(latent_dim=4, hidden=(32,), arch="gated", objective="iwae", k=3),
    "ae": dict(latent_dim=4, hidden=(32,), model="ae"),
    "cvae": dict(latent_dim=4, hidden=(32,), model="cvae", num_classes=10),
    "vae2": dict(latent_dim=3, hidden=(32,), model="vae2", latent_dim1=5),
    "conv-bn-gaussian": dict(latent_dim=4, hidden=(16,), arch="conv", conv_filters=(4, 8), batch_norm=True,
                             likelihood="gaussian"),
    "cvae-conv-mse": dict(latent_dim=4, hidden=(16,), model="cvae", num_classes=10, arch="conv",
                          conv_filters=(4, 8), likelihood="mse"),
}
# The XLA step is for the dense architectures (--xla auto keeps conv off it): the XLA-vs-graph and stacked-XLA
# checks run over these. (Under plain SGD at lr 0.05 a conv + batch-norm + Gaussian model diverges, and the two
# compilations diverge differently: the same before and after the redesign.)
DENSE_KINDS = {name: kw for name, kw in EVERY_KIND.items() if kw.get("arch", "mlp") != "conv"}


def cli_error(capsys, argv):
    """Runs ``tfvae ARGV`` in-process; asserts exit 2 with one ``tfvae: error:`` line and returns the line."""
    from tfvae import cli

    try:
        rc = cli.main(argv)
    except SystemExit as e:  # a flag's value rejected by the parser
        rc = e.code
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tfvae: error:") and "\n" not in err, err
    return err
