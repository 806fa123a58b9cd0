"""Post-hoc samplers: each fitted alone to known codes, its draws' distribution, and the one sampling path."""

import numpy as np
import pytest

from tfvae import samplers
from tfvae.errors import TfvaeError


def _codes(n=3000, seed=0):
    """Two well-separated 2-D clusters, 30 % and 70 %."""
    rng = np.random.default_rng(seed)
    a = rng.normal([-4.0, 0.0], [0.5, 1.0], size=(int(0.3 * n), 2))
    b = rng.normal([3.0, 2.0], [1.0, 0.3], size=(n - len(a), 2))
    return np.concatenate([a, b])


def test_the_registry_declares_each_sampler():
    from tfvae.cli import fit_sampler

    assert samplers.names() == fit_sampler.SAMPLERS == ("gmm", "two_stage")
    for name in samplers.names():
        assert samplers.get(name).help


def test_gmm_recovers_two_clusters_and_draws_from_them(tmp_path):
    z = _codes()
    record = samplers.get("gmm").fit(z, str(tmp_path), {"components": 2}, seed=0)
    assert record["components"] == 2 and record["converged"]
    fitted = samplers.get("gmm").load(str(tmp_path), {})
    order = np.argsort(fitted.means[:, 0])
    np.testing.assert_allclose(fitted.weights[order], [0.3, 0.7], atol=0.02)
    np.testing.assert_allclose(fitted.means[order], [[-4.0, 0.0], [3.0, 2.0]], atol=0.1)
    rng = np.random.default_rng(1)
    draws = fitted.sample(rng.standard_normal((20000, 2)), rng.random(20000))
    assert draws.dtype == np.float32
    np.testing.assert_allclose((draws[:, 0] < 0).mean(), 0.3, atol=0.02)
    np.testing.assert_allclose(draws[draws[:, 0] > 0].std(0), [1.0, 0.3], rtol=0.1)
    # u picks the component through the weights' cumulative sum, as the mixture priors pick theirs
    first = order[0]
    u = np.full(5, 0.01 if first == 0 else 0.99, np.float32)
    assert (fitted.sample(np.zeros((5, 2)), u)[:, 0] < 0).all()
    # its density integrates the clusters: higher at a centre than between them
    assert fitted.log_prob(np.array([[3.0, 2.0]]))[0] > fitted.log_prob(np.array([[0.0, 1.0]]))[0]


def test_two_stage_learns_the_codes_distribution(tmp_path):
    z = _codes(2000)
    record = samplers.get("two_stage").fit(z, str(tmp_path), {"stage_epochs": 30, "stage_hidden": (64, 64)},
                                           seed=0, verbose=False)
    assert np.isfinite(record["final_loss"])
    fitted = samplers.get("two_stage").load(str(tmp_path), {})
    rng = np.random.default_rng(2)
    draws = fitted.sample(rng.standard_normal((4000, 2)).astype(np.float32), rng.random(4000))
    np.testing.assert_allclose(draws.mean(0), z.mean(0), atol=0.5)
    frac = (draws[:, 0] < -0.5).mean()  # most draws fall in one of the two clusters' halves
    assert 0.15 < frac < 0.45, frac


def test_a_sampler_fitted_to_other_weights_is_refused(tmp_path):
    from tfvae import checkpoints, io, models
    from tfvae.models.config import VAEConfig

    model = models.build_model(VAEConfig(latent_dim=2, hidden=(8,)))
    ck = tmp_path / "ck"
    checkpoints.save(str(ck), model, {"model": model.config.to_dict(), "data": {}}, {"epoch": 1})
    home = ck / samplers.DIRECTORY
    home.mkdir()
    samplers.get("gmm").fit(_codes(), str(home), {"components": 2})
    io.write_json(str(home / samplers.META), {"sampler": "gmm", "weights_sha256": "0" * 64})
    with pytest.raises(TfvaeError, match="fitted to other weights"):
        samplers.load(str(ck))
    assert samplers.load(str(ck), "prior") is None
    with pytest.raises(TfvaeError, match="the sampler fitted in .* is gmm"):
        samplers.load(str(ck), "two_stage")
    io.write_json(str(home / samplers.META), {"sampler": "gmm", "weights_sha256": samplers.weights_sha256(str(ck))})
    assert samplers.load(str(ck)).components == 2
