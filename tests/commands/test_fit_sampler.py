"""``tfvae fit-sampler`` on a trained run, then ``tfvae generate`` drawing from it (or, forced, from the prior)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.helpers import checkout_env, copy_run

pytestmark = pytest.mark.slow


def _tfvae(*argv, cwd):
    return subprocess.run([sys.executable, "-m", "tfvae", *argv], cwd=cwd, env=checkout_env(), capture_output=True,
                          text=True, timeout=600)


def test_fit_a_gmm_then_generate_from_it_or_from_the_prior(small_run, tmp_path):
    run = copy_run(small_run.path, tmp_path / "run")
    ckpt = run / "checkpoints" / "best"
    r = _tfvae("fit-sampler", "--load_weight_dir", str(run), "--sampler", "gmm", "--components", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    meta = json.loads((ckpt / "sampler" / "sampler.json").read_text())
    assert meta["sampler"] == "gmm" and meta["components"] == 3 and meta["fitted_on"]["codes"] == 2000
    assert "wrote" in r.stdout and "sampler" in r.stdout
    outs = {}
    for choice in ("gmm", "prior", None):
        flags = ["--sampler", choice] if choice else []
        g = _tfvae("generate", "--load_weight_dir", str(run), "--seed", "3", "--num", "16", "--output",
                   f"{choice}.png", *flags, cwd=tmp_path)
        assert g.returncode == 0, g.stderr[-3000:]
        assert ("gmm sampler" in g.stdout) == (choice != "prior"), g.stdout
        outs[choice] = np.asarray(Image.open(tmp_path / f"{choice}.png"))
    np.testing.assert_array_equal(outs[None], outs["gmm"])  # the fitted sampler is the default
    assert np.abs(outs["gmm"].astype(int) - outs["prior"]).mean() > 1  # other codes, other digits
    fd = {}
    for choice in ("gmm", "prior"):
        e = _tfvae("eval", "--load_weight_dir", str(run), "--num_examples", "100", "--iwae_samples", "2",
                   "--sample_quality", "1000", "--sampler", choice, "--output", f"{choice}.json", cwd=tmp_path)
        assert e.returncode == 0, e.stderr[-3000:]
        m = json.loads((tmp_path / f"{choice}.json").read_text())
        assert m["sample_fd_sampler"] == choice and m["sample_quality"]["n"] == 1000 and "sample FD" in e.stdout
        fd[choice] = m["sample_fd"]
    assert all(0 < v < 1e4 for v in fd.values()) and fd["gmm"] != fd["prior"], fd
    bad = _tfvae("generate", "--load_weight_dir", str(run), "--sampler", "two_stage", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("tfvae: error: --sampler two_stage") \
        and "Traceback" not in bad.stderr, bad.stderr
