"""Every prior and posterior trains a full epoch through ``tfvae train`` and is evaluated by ``tfvae eval``.

Two runs cover the four values beyond the defaults (a mixture prior with a planar flow, a VampPrior with an IAF),
started together; a full epoch of 2 000 real MNIST digits each. The maths of each value alone is
tests/unit/test_priors.py, test_posteriors.py, test_objectives.py; their pairwise combinations the harness
(tests/unit/test_kinds.py).
"""

import json
import sys

import numpy as np
import pytest
from PIL import Image

from tests.helpers import MNIST, NO_XLA, checkout_env, run_together

pytestmark = pytest.mark.slow

RUNS = {
    "mog-planar": ["--prior", "mog", "--prior_components", "4", "--posterior", "planar", "--flow_steps", "2",
                   "--objective", "miwae", "--k", "2", "--iw_groups", "2"],
    "vamp-iaf": ["--model", "vae2", "--prior", "vamp", "--prior_components", "20", "--posterior", "iaf",
                 "--objective", "piwae", "--k", "2", "--iw_groups", "2", *NO_XLA],
}
DATA = ["--dataset", MNIST, "--train_examples", "2000", "--val_examples", "200", "--binarize", "dynamic", "--batch", "50"]


def test_each_prior_and_posterior_trains_an_epoch_and_evaluates(tmp_path):
    cmd = [sys.executable, "-m", "tfvae"]
    env = dict(env=checkout_env(), cwd=tmp_path)
    trains = run_together(*((cmd + ["train", *DATA, *flags, "--latent_dim", "8", "--hidden", "64", "--epoch", "1",
                                    "--no_images", "--run_dir", str(tmp_path / name)], env)
                            for name, flags in RUNS.items()))
    for name, r in zip(RUNS, trains):
        assert r.returncode == 0, (name, r.stderr[-3000:])
        hist = json.loads((tmp_path / name / "history.json").read_text())
        assert len(hist) == 1 and hist[0]["val"]["loss"] < 400, hist  # far better than chance (543 nats)
    export_dir = tmp_path / "exported"
    after = run_together(  # the evaluations, the pictures and the export at once
        *((cmd + ["eval", "--load_weight_dir", str(tmp_path / name / "checkpoints" / "best"), "--dataset", MNIST,
                  "--num_examples", "100", "--iwae_samples", "20", "--output", str(tmp_path / f"{name}.json")], env)
          for name in RUNS),
        (cmd + ["viz", "--load_weight_dir", str(tmp_path / "vamp-iaf"), "--num_examples", "200", "--output_dir",
                str(tmp_path / "viz")], env),
        (cmd + ["export", "--load_weight_dir", str(tmp_path / "vamp-iaf"), "--export_dir", str(export_dir),
                "--formats", "saved_model,litert"], env))
    for r in after:
        assert r.returncode == 0, r.stderr[-3000:]
    for name in RUNS:
        m = json.loads((tmp_path / f"{name}.json").read_text())
        assert m["kl_estimator"] == "monte_carlo" and m["nll"] <= m["neg_elbo"] + 1e-3, m
    grid = np.asarray(Image.open(tmp_path / "viz" / "pseudo_inputs.png"))
    assert grid.shape[:2] == (2 * (28 + 2 + 2), 2 * (20 * (28 + 2) + 2)), grid.shape  # 20 pseudo-inputs, one row, x2
    # the SavedModel decoder draws the VampPrior through its prior_sample signature: the checkpoint's picture;
    # what cannot draw it (a LiteRT decoder, the explorer) says so in one line
    results = run_together(
        (cmd + ["generate", "--load_weight_dir", str(tmp_path / "vamp-iaf"), "--seed", "5", "--num", "16",
                "--output", "ckpt.png"], env),
        (cmd + ["generate", "--exported", str(export_dir / "decoder" / "1"), "--seed", "5", "--num", "16",
                "--output", "saved.png"], env),
        (cmd + ["generate", "--exported", str(export_dir / "decoder.tflite"), "--output", "x.png"], env),
        (cmd + ["explore", "--load_weight_dir", str(tmp_path / "vamp-iaf"), "--no_browser", "--port", "0"], env))
    for r in results[:2]:
        assert r.returncode == 0, r.stderr[-3000:]
    a, b = (np.asarray(Image.open(tmp_path / f), np.int16) for f in ("ckpt.png", "saved.png"))
    assert np.abs(a - b).max() <= 2, np.abs(a - b).max()
    for r in results[2:]:
        assert r.returncode == 2 and r.stderr.startswith("tfvae: error: ") and "--prior vamp" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "x.png").exists()
    saved = json.loads((tmp_path / "vamp-iaf" / "config.json").read_text())["model"]
    assert (saved["prior"], saved["prior_components"], saved["posterior"], saved["flow_steps"]) == ("vamp", 20, "iaf", 4)  # the default steps
