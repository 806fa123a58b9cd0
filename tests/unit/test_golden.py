"""Golden outputs: checkpoints of every model kind saved before the architecture change load and behave the same.

tests/unit/golden/ holds, for each kind, a checkpoint saved by the code of commit
920d373's successor (weights, config, optimizer state) and ``expected.npz``
with what that code computed from it (tests/unit/golden/make_golden.py): encode,
decode, reconstructions, the per-example terms for fixed noise, evaluate() with
K=5, the exported signatures (their outputs were the Keras decode and encode, bit
for bit, so only those are kept), and the weights after one Adam step from the
saved optimizer state (variable paths and optimizer-state order; not for
vae_mse_beta, whose variables are vae_mlp's). ``eval_500_50.json``
is ``python eval.py --num_examples 500 --iwae_samples 50`` of the shipped
weights, from the same code.
"""

import json
import os

import keras
import numpy as np
import pytest

from tests.helpers import GOLDEN
from tests.unit.golden import make_golden
from tfvae import checkpoints

KINDS = sorted(json.load(open(os.path.join(GOLDEN, "kinds.json"))))
# Same code gives the same bits; a refactor may fuse or reorder float32 maths.
ATOL, RTOL = 2e-5, 1e-5


@pytest.fixture(scope="module")
def expected():
    with np.load(os.path.join(GOLDEN, "expected.npz")) as f:
        return dict(f.items())


def _compare(got, expected, prefix):
    """Every output ``record`` computed against its recorded value; the exported signatures' outputs against the
    Keras ones they equalled bit for bit when recorded (``make_golden.EXPORT_TWINS``)."""
    keys = [k for k in got if k.startswith(prefix + "/")]
    assert keys and {k for k in expected if k.startswith(prefix + "/") and "/after_step/" not in k} <= set(keys)
    for k in keys:
        rest = k[len(prefix) + 1:]
        want = expected[f"{prefix}/{make_golden.EXPORT_TWINS[rest]}" if rest in make_golden.EXPORT_TWINS else k]
        np.testing.assert_allclose(got[k], want, atol=ATOL, rtol=RTOL, err_msg=k)


@pytest.mark.parametrize("kind", KINDS)
def test_checkpoint_of_every_kind(kind, expected):
    model, _, _, _ = checkpoints.load_model(os.path.join(GOLDEN, kind))
    got = {}
    make_golden.record(model, expected["images"], expected["labels"], kind, got)
    _compare(got, expected, kind)
    if kind in make_golden.NO_OPTIMIZER:  # its optimizer state would check what vae_mlp's checks
        assert not os.path.exists(os.path.join(GOLDEN, kind, "optimizer.npz"))
        return
    # the saved optimizer state lands on the same variables in the same order
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.optimizer.build(model.trainable_variables)
    assert checkpoints.load_optimizer(model.optimizer, os.path.join(GOLDEN, kind))
    make_golden.adam_step(model, expected["images"], expected["labels"], 12)
    after = [expected[k] for k in sorted(k for k in expected if k.startswith(f"{kind}/after_step/"))]
    weights = model.get_weights()
    assert len(weights) == len(after)
    for i, (w, e) in enumerate(zip(weights, after)):
        np.testing.assert_allclose(w, e, atol=ATOL, rtol=RTOL, err_msg=f"{kind} weight {i}")


def test_shipped_weights(expected):
    model, _, _, _ = checkpoints.load_model("better_weight")
    got = {}
    make_golden.record(model, expected["images"], expected["labels"], "better_weight", got)
    _compare(got, expected, "better_weight")


def test_eval_script_numbers(eval_script):
    """``python eval.py --num_examples 500 --iwae_samples 50`` (conftest's eval_script, run once)."""
    r = eval_script["run"]
    assert r.returncode == 0, r.stderr[-2000:]
    got, before = json.loads(eval_script["output"].read_text()), json.load(open(os.path.join(GOLDEN, "eval_500_50.json")))
    for key in ("nll", "neg_elbo", "reconstruction_loss", "kl", "rmse", "bits_per_dim", "active_units"):
        assert got[key] == pytest.approx(before[key], abs=1e-6), key
