"""The ``--posterior`` axis: each flow alone (identity at the start, its log-determinant against the Jacobian's),
and an untrained flow model giving the Gaussian model's numbers."""

import numpy as np
import pytest

from tfvae.errors import TfvaeError
from tfvae.models import posteriors
from tfvae.models.config import VAEConfig

D = 3


def _model(**fields):
    from tfvae import models

    return models.build_model(VAEConfig(latent_dim=D, hidden=(16,), **fields))


def _flow(name, steps=2, seed=1):
    model = _model(posterior=name, flow_steps=steps)
    rng = np.random.default_rng(seed)
    for v in model.posterior_parameters.weights:  # away from the identity
        v.assign(v.numpy() + rng.normal(0, 0.5, v.shape).astype(np.float32))
    return model


def test_the_registry_declares_each_posterior():
    assert posteriors.names() == ("gaussian", "planar", "iaf")
    assert VAEConfig(posterior="iaf").flow_steps == 4 and "flow_steps" not in VAEConfig().to_dict()
    with pytest.raises(TfvaeError, match="--flow_steps is an option of --posterior planar, iaf, not of gaussian"):
        VAEConfig(flow_steps=2)
    with pytest.raises(TfvaeError, match="--posterior iaf needs a model with a posterior"):
        VAEConfig(model="ae", posterior="iaf")


@pytest.mark.parametrize("name", ["planar", "iaf"])
def test_a_flow_starts_as_the_identity(name):
    model = _model(posterior=name, flow_steps=3)
    z0 = np.random.default_rng(0).normal(size=(5, D)).astype(np.float32)
    ctx = np.random.default_rng(1).normal(size=(5, 2 * D)).astype(np.float32)
    z, log_det = model.posterior_transform(z0, ctx)
    np.testing.assert_allclose(z.numpy(), z0, atol=1e-6)
    np.testing.assert_allclose(log_det.numpy(), 0.0, atol=1e-6)


@pytest.mark.parametrize("name", ["planar", "iaf"])
def test_a_flows_log_determinant_is_its_jacobians(name):
    from tfvae._tf import tf

    model = _flow(name)
    z0 = tf.constant(np.random.default_rng(0).normal(size=(6, D)).astype(np.float32))
    ctx = tf.constant(np.random.default_rng(1).normal(size=(6, 2 * D)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(z0)
        z, log_det = model.posterior_transform(z0, ctx)
    jac = tape.batch_jacobian(z, z0).numpy()
    assert np.abs(z.numpy() - z0.numpy()).max() > 1e-3  # it moved
    np.testing.assert_allclose(log_det.numpy(), np.log(np.abs(np.linalg.det(jac))), rtol=1e-4, atol=1e-4)
    if name == "iaf":  # one step is autoregressive: dimension i depends on dimensions < i only
        one = _flow(name, steps=1)
        with tf.GradientTape() as tape:
            tape.watch(z0)
            z1, _ = one.posterior_transform(z0, ctx)
        j = tape.batch_jacobian(z1, z0).numpy()
        np.testing.assert_allclose(np.triu(j, 1), 0.0, atol=1e-7)


def test_planar_stays_invertible_for_any_gate():
    from tfvae._tf import tf

    model = _flow("planar", steps=1)
    model.posterior_parameters["gate"].assign([-30.0])
    z0 = tf.constant(np.random.default_rng(2).normal(size=(50, D)).astype(np.float32))
    ctx = tf.constant(np.random.default_rng(3).normal(size=(50, 2 * D)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(z0)
        z, _ = model.posterior_transform(z0, ctx)
    assert (np.linalg.det(tape.batch_jacobian(z, z0).numpy()) > 0).all()


@pytest.mark.parametrize("kind", ["vae", "vae2"])
@pytest.mark.parametrize("name", ["planar", "iaf"])
def test_an_identity_flow_with_a_standard_prior_gives_the_gaussian_models_numbers(kind, name):
    from tfvae._tf import tf

    base = _model(model=kind, objective="iwae", k=3)
    flow = _model(model=kind, objective="iwae", k=3, posterior=name, flow_steps=2)
    for net in ("encoder", "decoder") + (("encoder2", "prior1") if kind == "vae2" else ()):
        getattr(flow, net).set_weights(getattr(base, net).get_weights())
    x = (np.random.default_rng(0).random((4, 28, 28, 1)) > 0.6).astype(np.float32)
    eps = tf.random.stateless_normal([4, 3, base.noise_shape[1]], seed=[5, 6])
    a, b = base.log_weights(x, None, eps, 3), flow.log_weights(x, None, eps, 3)
    for key in ("log_w", "log_px_z"):
        np.testing.assert_allclose(b[key].numpy(), a[key].numpy(), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(flow.compute_losses(x, eps=eps)["loss"].numpy(),
                               base.compute_losses(x, eps=eps)["loss"].numpy(), rtol=1e-5, atol=1e-3)
    assert flow.kl_estimator == "monte_carlo"
