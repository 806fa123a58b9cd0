"""Golden outputs: checkpoints of every model kind saved before the architecture change load and behave the same.

tests/unit/golden/ holds, for each kind, a checkpoint saved by the code of commit
920d373's successor (weights, config, optimizer state) and ``expected.npz``
with what that code computed from it (tests/unit/golden/make_golden.py): encode,
decode, reconstructions, the per-example terms for fixed noise, evaluate() with
K=5, the exported signatures, and the weights after one Adam step from the saved
optimizer state (variable paths and optimizer-state order). ``eval_500_50.json``
is ``python eval.py --num_examples 500 --iwae_samples 50`` of the shipped
weights, from the same code.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.helpers import GOLDEN, ROOT
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
    keys = [k for k in expected if k.startswith(prefix + "/") and "/after_step/" not in k]
    assert keys
    for k in keys:
        np.testing.assert_allclose(got[k], expected[k], atol=ATOL, rtol=RTOL, err_msg=k)


@pytest.mark.parametrize("kind", KINDS)
def test_checkpoint_of_every_kind(kind, expected):
    model, _, _, _ = checkpoints.load_model(os.path.join(GOLDEN, kind))
    got = {}
    make_golden.record(model, expected["images"], expected["labels"], kind, got)
    _compare(got, expected, kind)
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


def test_eval_script_numbers(tmp_path, tfds_dir):
    out = tmp_path / "m.json"
    r = subprocess.run([sys.executable, "eval.py", "--num_examples", "500", "--iwae_samples", "50", "--output",
                        str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    got, before = json.loads(out.read_text()), json.load(open(os.path.join(GOLDEN, "eval_500_50.json")))
    for key in ("nll", "neg_elbo", "reconstruction_loss", "kl", "rmse", "bits_per_dim", "active_units"):
        assert got[key] == pytest.approx(before[key], abs=1e-6), key
