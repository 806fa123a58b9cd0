"""What the tests share besides fixtures (those are in tests/conftest.py): where things are, small builders.

``from tests.helpers import ROOT, SHARED, cli_error`` works from every test module: ``tests/`` and its
directories are packages, and pytest imports them from the checkout's root (its ``rootdir``); no test edits the
import path.

* ``tests.helpers``: paths, the IDX writer, the one-line error check, the small models of every kind;
* ``tests.helpers.serving``: TF Serving's REST and gRPC APIs as loopback servers over an export;
* ``tests.helpers.browser``: the browser tests' page helpers (the driver itself is ``tfvae.explorer.headless``).
"""

import gzip
import os
import shutil
import struct
import subprocess

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("TFVAE_SHARED", os.path.join(ROOT, "..", "shared"))
TFDS_DIR = os.environ.get("TFDS_DATA_DIR") or os.path.join(SHARED, "tensorflow_datasets")
MNIST_IDX = os.path.join(SHARED, "data", "mnist")
FREY = os.path.join(SHARED, "data", "freyface")
OLIVETTI = os.path.join(SHARED, "data", "olivetti")
FASHION_IDX = os.path.join(SHARED, "data", "fashion_mnist")
GOLDEN = os.path.join(ROOT, "tests", "unit", "golden")


# Real MNIST from its IDX files: the same digits as the TFDS "mnist", read in 0.3 s instead of TFDS's 2.4 s (here)
# for every in-process load. For the runs whose data source is beside the point; TFDS has its own tests.
MNIST = f"idx:{MNIST_IDX}"
# The smallest training the commands' tests run (200 real digits, 2-D latent, 8 hidden units, no pictures): a run
# to resume, corrupt or refuse. conftest's ``tiny_run`` is two epochs of it without the XLA compile (NO_XLA: about
# 3 s less a run here), trained once.
TINY_TRAIN = ("--dataset", MNIST, "--train_examples", "200", "--val_examples", "100", "--latent_dim", "2",
              "--hidden", "8", "--no_images")
NO_XLA = ("--xla", "off")
# A small run that learns something (2000 digits, 20 steps an epoch, batch logs every 5 steps), with its pictures
# and TensorBoard logs: conftest's ``small_run`` is four epochs of it, trained once.
SMALL_TRAIN = ("--dataset", MNIST, "--train_examples", "2000", "--val_examples", "500", "--batch", "100",
               "--latent_dim", "8", "--hidden", "64,32", "--log_every", "5")
# The sweep the tests run (conftest's ``swept``): two latent sizes of a Gaussian Frey-face model, one epoch each.
SWEEP_FLAGS = ("--dataset", "freyface", "--data_dir", FREY, "--likelihood", "gaussian", "--latent_dims", "2,3",
               "--epoch", "1", "--iwae_samples", "10", "--hidden", "32", "--train_examples", "300",
               "--eval_examples", "50")

# The shipped sets are re-evaluated on their first ZOO_N test images at K = ZOO_K importance samples (conftest's
# zoo_eval; tests/e2e/test_zoo.py's docstring says why 50 and what it costs in tolerance).
ZOO_N, ZOO_K = 200, 50
ZOO_DATA_DIRS = {"freyface": FREY, "olivetti": OLIVETTI}


def write_idx(path, array, magic_dtype=0x08, compress=False):
    """``array`` (uint8) as an IDX file, gzipped or not; returns ``path``."""
    array = np.asarray(array, np.uint8)
    header = bytes([0, 0, magic_dtype, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    payload = header + array.tobytes()
    with (gzip.open(path, "wb") if compress else open(path, "wb")) as f:
        f.write(payload)
    return path


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


def copy_run(run, to):
    """A copy of a run (or sweep) directory a session fixture made, to change in one test."""
    shutil.copytree(run, to)
    return to


def run_together(*commands, timeout=600):
    """Runs several ``(argv, subprocess keyword arguments)`` at once (each mostly starts TensorFlow, on one core):
    their ``CompletedProcess`` results, text output captured, in order."""
    procs = [(argv, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw))
             for argv, kw in commands]
    results = []
    try:
        for argv, proc in procs:
            out, err = proc.communicate(timeout=timeout)
            results.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


def clean_env(tmp, **extra):
    """An environment where ``import tfvae`` cannot find this checkout (for runs of exported files)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(tmp / "nowhere"), TF_CPP_MIN_LOG_LEVEL="2", **extra)
    return env


def checkout_env(**extra):
    """An environment whose ``python -m tfvae`` imports this checkout, from any working directory."""
    path = os.pathsep.join([ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    return dict(os.environ, PYTHONPATH=path, **extra)


# One small model of every kind and architecture: the step tests (tests/unit/test_models.py) run over all of them.
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
