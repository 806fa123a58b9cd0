"""The ``--prior`` axis: each prior's density alone, against NumPy; its draws; its place in the model's terms.

The harness rows that combine priors with kinds are ``tfvae.testing.small_configs`` (tests/unit/test_kinds.py);
a full CLI epoch per prior is tests/commands/test_axes_cli.py.
"""

import numpy as np
import pytest

from tfvae.errors import TfvaeError
from tfvae.models import priors
from tfvae.models.config import VAEConfig

D = 3


def _log_normal(z, m, lv):  # [n, d], [d] -> [n]
    return -0.5 * np.sum(np.log(2 * np.pi) + lv + (z - m) ** 2 / np.exp(lv), axis=-1)


def _logsumexp(a, axis):
    top = a.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def _model(**fields):
    from tfvae import models

    return models.build_model(VAEConfig(latent_dim=D, hidden=(16,), **fields))


def _perturb(model, seed=1):
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.normal(0, 0.3, w.shape).astype(w.dtype) for w in model.get_weights()])


def test_the_registry_declares_each_prior():
    assert priors.names() == ("standard", "mog", "vamp")
    assert [priors.get(n).kl_estimator for n in priors.names()] == ["analytic", "monte_carlo", "monte_carlo"]
    assert VAEConfig().prior == "standard" and VAEConfig(prior="mog").prior_components == 10
    assert VAEConfig(prior="vamp").prior_components == 500
    assert VAEConfig.from_dict(VAEConfig(prior="mog", prior_components=4).to_dict()).prior_components == 4
    assert "prior_components" not in VAEConfig().to_dict()  # the standard prior has no fields
    with pytest.raises(TfvaeError, match="--prior_components is an option of --prior mog, vamp, not of standard"):
        VAEConfig(prior_components=3)
    with pytest.raises(TfvaeError, match="in 1..500, got 501"):
        VAEConfig(prior="vamp", prior_components=501)
    with pytest.raises(TfvaeError, match="--prior mog needs a model with a posterior"):
        VAEConfig(model="ae", prior="mog")
    with pytest.raises(TfvaeError, match="--prior must be one of standard, mog, vamp"):
        VAEConfig(prior="flat")


def test_mixture_components_match_numpy():
    from tfvae.models import densities

    rng = np.random.default_rng(0)
    z, m, lv = rng.normal(size=(7, D)), rng.normal(size=(4, D)), rng.normal(0, 0.5, size=(4, D))
    want = np.stack([_log_normal(z, m[j], lv[j]) for j in range(4)], axis=1)
    got = densities.log_normal_components(*(np.float32(a) for a in (z, m, lv))).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    lw = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    np.testing.assert_allclose(densities.log_mixture(*(np.float32(a) for a in (z, m, lv, lw))).numpy(),
                               _logsumexp(want + lw, axis=1), rtol=1e-5, atol=1e-4)
    # u picks component c where cdf_{c-1} <= u < cdf_c
    u = np.float32([0.0, 0.09, 0.11, 0.29, 0.31, 0.59, 0.61, 0.99999])
    assert densities.mixture_component(np.float32(lw), u).numpy().tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_standard_prior_is_the_unit_gaussian():
    model = _model()
    z = np.random.default_rng(0).normal(size=(5, D)).astype(np.float32)
    np.testing.assert_allclose(model.prior_log_prob(z).numpy(), _log_normal(z, 0, 0), rtol=1e-6)
    np.testing.assert_array_equal(model.prior_sample(z, np.zeros(5, np.float32)).numpy(), z)
    assert not hasattr(model, "prior_parameters")


def test_mog_density_and_draws():
    model = _model(prior="mog", prior_components=3)
    _perturb(model)
    p = model.prior_parameters
    m, lv, logits = p["means"].numpy(), p["log_vars"].numpy(), p["logits"].numpy()
    lw = logits - _logsumexp(logits, 0)
    z = np.random.default_rng(2).normal(size=(6, D)).astype(np.float32)
    want = _logsumexp(np.stack([_log_normal(z, m[j], lv[j]) for j in range(3)], 1) + lw, 1)
    np.testing.assert_allclose(model.prior_log_prob(z).numpy(), want, rtol=1e-5, atol=1e-4)
    # each draw is mean_c + sd_c * eps of the component u picks
    eps = np.random.default_rng(3).normal(size=(200, D)).astype(np.float32)
    u = np.random.default_rng(4).random(200).astype(np.float32)
    c = np.searchsorted(np.cumsum(np.exp(lw))[:-1], u, side="right")
    np.testing.assert_allclose(model.prior_sample(eps, u).numpy(), m[c] + np.exp(0.5 * lv[c]) * eps, rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("model_kind", ["vae", "cvae", "vae2"])
def test_vamp_is_the_mean_of_the_pseudo_inputs_posteriors(model_kind):
    from tfvae._tf import tf

    extra = {"num_classes": 10} if model_kind == "cvae" else {}
    model = _model(model=model_kind, prior="vamp", prior_components=4, **extra)
    _perturb(model)
    u, labels = model.prior.pseudo_inputs(model)
    assert u.shape == (4, 28, 28, 1) and 0 <= float(tf.reduce_min(u)) and float(tf.reduce_max(u)) <= 1
    assert (labels is None) == (model_kind != "cvae")
    if labels is not None:
        np.testing.assert_allclose(labels.numpy().sum(1), 1, rtol=1e-5)
    if model_kind == "vae2":  # q(z2 | the mean of q(z1 | u_k))
        m1, _ = model.kind._bottom(model, u, False)
        means, log_vars = (t.numpy() for t in model.kind._top(model, m1, False))
    else:
        means, log_vars = (t.numpy() for t in model.encode(u, labels))
    z = np.random.default_rng(5).normal(size=(6, D)).astype(np.float32)
    want = _logsumexp(np.stack([_log_normal(z, means[j], log_vars[j]) for j in range(4)], 1), 1) - np.log(4)
    np.testing.assert_allclose(model.prior_log_prob(z).numpy(), want, rtol=1e-4, atol=1e-3)


def test_a_mixture_of_one_unit_gaussian_gives_the_standard_models_numbers():
    """The Monte-Carlo path with p(z) = N(0, I): the same log-weights as the closed-form path, and a KL whose
    mean over many draws is the closed form's."""
    from tfvae._tf import tf

    base = _model(objective="iwae", k=4)
    mog = _model(objective="iwae", k=4, prior="mog", prior_components=1)
    for name in ("encoder", "decoder"):
        getattr(mog, name).set_weights(getattr(base, name).get_weights())
    mog.prior_parameters["means"].assign(np.zeros((1, D), np.float32))
    x = (np.random.default_rng(0).random((5, 28, 28, 1)) > 0.6).astype(np.float32)
    eps = tf.random.stateless_normal([5, 4, D], seed=[1, 2])
    a, b = base.log_weights(x, None, eps, 4), mog.log_weights(x, None, eps, 4)
    np.testing.assert_allclose(b["log_w"].numpy(), a["log_w"].numpy(), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(b["log_px_z"].numpy(), a["log_px_z"].numpy(), rtol=1e-6)
    la, lb = base.compute_losses(x, eps=eps), mog.compute_losses(x, eps=eps)
    np.testing.assert_allclose(lb["loss"].numpy(), la["loss"].numpy(), rtol=1e-5, atol=1e-3)
    many = tf.random.stateless_normal([5, 4000, D], seed=[3, 4])
    np.testing.assert_allclose(mog.log_weights(x, None, many, 4000)["kl"].numpy(), a["kl"].numpy(), rtol=0.05,
                               atol=0.05)


def test_learned_priors_are_trained_and_saved(tmp_path):
    from tfvae import checkpoints

    model = _model(prior="vamp", prior_components=5)
    _perturb(model)
    before = model.prior_parameters["pseudo_inputs"].numpy().copy()
    assert any(v is model.prior_parameters["pseudo_inputs"] for v in model.trainable_variables)
    path = tmp_path / "ck"
    checkpoints.save(str(path), model, {"model": model.config.to_dict(), "data": {}}, {"epoch": 1})
    loaded, _, _, _ = checkpoints.load_model(str(path))
    np.testing.assert_array_equal(loaded.prior_parameters["pseudo_inputs"].numpy(), before)
    z = np.random.default_rng(0).normal(size=(3, D)).astype(np.float32)
    np.testing.assert_allclose(loaded.prior_log_prob(z).numpy(), model.prior_log_prob(z).numpy(), rtol=1e-6)
