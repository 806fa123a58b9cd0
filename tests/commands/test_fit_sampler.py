"""``tfvae fit-sampler`` on a trained run, then ``tfvae generate`` and ``tfvae eval --sample_quality`` drawing from
it (or, forced, from the prior)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.helpers import checkout_env, copy_run, run_together

pytestmark = pytest.mark.slow


def test_fit_a_gmm_then_generate_and_score_from_it_or_from_the_prior(small_run, tmp_path):
    run = copy_run(small_run.path, tmp_path / "run")
    ckpt = run / "checkpoints" / "best"
    cmd, env = [sys.executable, "-m", "tfvae"], dict(env=checkout_env(), cwd=tmp_path)
    r = subprocess.run(cmd + ["fit-sampler", "--load_weight_dir", str(run), "--sampler", "gmm", "--components", "3"],
                       capture_output=True, text=True, timeout=600, **env)
    assert r.returncode == 0, r.stderr[-3000:]
    meta = json.loads((ckpt / "sampler" / "sampler.json").read_text())
    assert meta["sampler"] == "gmm" and meta["components"] == 3 and meta["fitted_on"]["codes"] == 2000
    assert "wrote" in r.stdout and "sampler" in r.stdout
    choices = ("gmm", "prior", None)
    generate = [(cmd + ["generate", "--load_weight_dir", str(run), "--seed", "3", "--num", "16", "--output",
                        f"{c}.png"] + (["--sampler", c] if c else []), env) for c in choices]
    score = [(cmd + ["eval", "--load_weight_dir", str(run), "--num_examples", "100", "--iwae_samples", "2",
                     "--sample_quality", "1000", "--sampler", c, "--output", f"{c}.json"], env) for c in choices[:2]]
    bad = [(cmd + ["generate", "--load_weight_dir", str(run), "--sampler", "two_stage"], env)]
    results = run_together(*generate, *score, *bad)  # each mostly starts TensorFlow: at once
    outs = {}
    for c, g in zip(choices, results[:3]):
        assert g.returncode == 0, g.stderr[-3000:]
        assert ("gmm sampler" in g.stdout) == (c != "prior"), g.stdout
        outs[c] = np.asarray(Image.open(tmp_path / f"{c}.png"))
    np.testing.assert_array_equal(outs[None], outs["gmm"])  # the fitted sampler is the default
    assert np.abs(outs["gmm"].astype(int) - outs["prior"]).mean() > 1  # other codes, other digits
    fd = {}
    for c, e in zip(choices[:2], results[3:5]):
        assert e.returncode == 0, e.stderr[-3000:]
        m = json.loads((tmp_path / f"{c}.json").read_text())
        assert m["sample_fd_sampler"] == c and m["sample_quality"]["n"] == 1000 and "sample FD" in e.stdout
        fd[c] = m["sample_fd"]
    assert all(0 < v < 1e4 for v in fd.values()) and fd["gmm"] != fd["prior"], fd
    refused = results[5]
    assert refused.returncode == 2 and refused.stderr.startswith("tfvae: error: --sampler two_stage") \
        and "Traceback" not in refused.stderr, refused.stderr
