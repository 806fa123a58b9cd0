"""The ``--objective`` axis: each bound from known log-weights, the K = 1 estimate, and PIWAE's split gradients."""

import math

import numpy as np
import pytest

from tfvae.errors import TfvaeError
from tfvae.models import objectives
from tfvae.models.config import VAEConfig

LOG_W = np.log(np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]], np.float32))
TERMS = {"log_w": LOG_W, "log_px_z": LOG_W - 1.0, "kl": np.ones(2, np.float32)}


def _lme(a, axis=-1):
    return np.log(np.mean(np.exp(a), axis=axis))


def _loss(name, **fields):
    from tfvae._tf import tf

    cfg = VAEConfig(objective=name, **fields)
    return objectives.get(name)({k: tf.constant(v) for k, v in TERMS.items()}, 1.0, cfg)


def test_the_registry_declares_each_bound():
    assert objectives.names() == ("elbo", "iwae", "miwae", "piwae", "ciwae")
    assert VAEConfig(objective="miwae", k=3, iw_groups=2).samples_per_example == 6
    assert VAEConfig(objective="piwae", k=3).samples_per_example == 12 and VAEConfig(objective="iwae", k=3).k == 3
    with pytest.raises(TfvaeError, match="--ciwae_beta must be in"):
        VAEConfig(objective="ciwae", ciwae_beta=1.5, k=2)
    with pytest.raises(TfvaeError, match="--iw_groups is an option of --objective miwae, piwae, not of iwae"):
        VAEConfig(objective="iwae", iw_groups=3)
    with pytest.raises(TfvaeError, match="--objective must be one of elbo, iwae, miwae, piwae, ciwae"):
        VAEConfig(objective="vr")


def test_each_bound_from_known_log_weights():
    np.testing.assert_allclose(_loss("iwae", k=6)["loss"].numpy(), -_lme(LOG_W), rtol=1e-6)
    groups = -np.mean(_lme(LOG_W.reshape(2, 2, 3)), axis=1)
    np.testing.assert_allclose(_loss("miwae", k=3, iw_groups=2)["loss"].numpy(), groups, rtol=1e-6)
    np.testing.assert_allclose(_loss("miwae", k=6, iw_groups=1)["loss"].numpy(), -_lme(LOG_W), rtol=1e-6)
    np.testing.assert_allclose(_loss("miwae", k=1, iw_groups=6)["loss"].numpy(), -LOG_W.mean(1), rtol=1e-6)
    p = _loss("piwae", k=3, iw_groups=2)
    np.testing.assert_allclose(p["loss"].numpy(), -_lme(LOG_W), rtol=1e-6)
    np.testing.assert_allclose(p["encoder_loss"].numpy(), groups, rtol=1e-6)
    for beta in (0.0, 0.3, 1.0):
        want = -(beta * LOG_W.mean(1) + (1 - beta) * _lme(LOG_W))
        np.testing.assert_allclose(_loss("ciwae", k=6, ciwae_beta=beta)["loss"].numpy(), want, rtol=1e-6)
    # every bound reports the ELBO's reconstruction and KL, to compare them
    for name, fields in (("iwae", {"k": 6}), ("ciwae", {"k": 6}), ("miwae", {"k": 3, "iw_groups": 2})):
        out = _loss(name, **fields)
        np.testing.assert_allclose(out["reconstruction_loss"].numpy(), -(LOG_W - 1.0).mean(1), rtol=1e-6)


@pytest.mark.parametrize("prior", ["standard", "vamp"])
def test_the_one_sample_estimate_is_the_monte_carlo_elbo_of_the_same_noise(prior):
    from tfvae import models
    from tfvae._tf import tf

    extra = {"prior_components": 3} if prior == "vamp" else {}
    model = models.build_model(VAEConfig(latent_dim=3, hidden=(16,), prior=prior, **extra))
    x = (np.random.default_rng(0).random((5, 28, 28, 1)) > 0.6).astype(np.float32)
    eps = tf.random.stateless_normal([5, 1, 3], seed=[1, 2])
    t = model.log_weights(x, None, eps, 1)
    mean, log_var = model.encode(x)
    z = mean + tf.exp(0.5 * log_var) * eps[:, 0]
    from tfvae.models import densities

    elbo = (t["log_px_z"][:, 0] + model.prior_log_prob(z) - densities.log_normal(z, mean, log_var)).numpy()
    np.testing.assert_allclose(densities.iwae_bound(t["log_w"]).numpy(), elbo, rtol=1e-5, atol=1e-3)


def test_piwae_trains_the_encoder_on_miwae_and_the_decoder_on_iwae():
    import keras

    from tfvae import models
    from tfvae._tf import tf
    from tfvae.models.objectives.miwae import miwae_bound

    model = models.build_model(VAEConfig(latent_dim=3, hidden=(8,), objective="piwae", k=2, iw_groups=2))
    model.compile(optimizer=keras.optimizers.SGD(1.0))
    x = (np.random.default_rng(0).random((4, 28, 28, 1)) > 0.6).astype(np.float32)
    eps = tf.random.stateless_normal([4, 4, 3], seed=[3, 4])
    enc, rest = model.encoder.trainable_variables, model.decoder.trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        t = model.kind.terms(model, x, None, eps, training=True)
        iwae = -tf.reduce_mean(tf.reduce_logsumexp(t["log_w"], 1) - math.log(4))
        miwae = -tf.reduce_mean(miwae_bound(t["log_w"], 2))
    want_enc, want_dec = tape.gradient(miwae, enc), tape.gradient(iwae, rest)
    before = [v.numpy().copy() for v in enc + rest]
    model.train_on_noise(tf.constant(x), None, eps)
    for v, b, g in zip(enc + rest, before, want_enc + want_dec):
        np.testing.assert_allclose(b - v.numpy(), g.numpy(), rtol=1e-3, atol=1e-5)
