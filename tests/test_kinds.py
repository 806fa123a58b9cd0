"""One harness over every model kind and architecture (conftest.EVERY_KIND): the checks every model must pass.

The training-step checks over the same list (XLA step == graph step, a stack of batches == that many steps)
are in tests/test_models.py; the golden outputs of checkpoints saved before the redesign in test_golden.py.
"""

import numpy as np
import pytest
import tensorflow as tf
from conftest import EVERY_KIND

from tfvae import checkpoints, configs, export, models
from tfvae.models import likelihoods, networks, objectives


def _inputs(model, n=6, seed=0):
    x = (np.random.default_rng(seed).random((n,) + model.config.input_shape) > 0.6).astype(np.float32)
    y = np.arange(n) % 10
    return x, (y if model.config.conditional else None)


def test_every_registry_matches_the_configs_choices():
    assert tuple(models.KINDS) == configs.MODEL_KINDS == tuple(configs.KINDS)
    assert tuple(networks.ARCHS) == configs.ARCHS
    assert tuple(likelihoods.LIKELIHOODS) == configs.LIKELIHOODS
    assert tuple(objectives.OBJECTIVES) == configs.OBJECTIVES
    for name, cls in models.KINDS.items():
        assert models.get(name) is cls and isinstance(models.VAE(model=name, num_classes=3, latent_dim=2,
                                                                 hidden=(4,)), cls)


@pytest.mark.parametrize("kwargs", EVERY_KIND.values(), ids=EVERY_KIND.keys())
def test_config_weights_and_checkpoint_round_trip(kwargs, tmp_path):
    model = models.build_model(models.VAEConfig(**kwargs))
    assert type(model) is models.get(model.config.model)
    x, y = _inputs(model)
    inputs = (x, y) if y is not None else x
    # get_config / from_config: the same class and config; with the same weights, the same outputs
    clone = type(model).from_config(model.get_config()).build_all()
    assert clone.config == model.config
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(inputs).numpy(), model(inputs).numpy(), atol=1e-6)
    # a checkpoint directory rebuilds the model from its config.json
    checkpoints.save(str(tmp_path / "ck"), model, {"model": model.config.to_dict(), "data": {}}, {"epoch": 1})
    loaded, _, _, _ = checkpoints.load_model(str(tmp_path / "ck"))
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded(inputs).numpy(), model(inputs).numpy(), atol=1e-6)
    # the per-example terms, and their finite values
    terms = model.compute_losses(tf.constant(x), None if y is None else tf.constant(y))
    assert set(terms) == set(models.TERMS)
    for name, value in terms.items():
        assert value.shape == (len(x),) and np.isfinite(value.numpy()).all(), name


@pytest.mark.parametrize("kwargs", EVERY_KIND.values(), ids=EVERY_KIND.keys())
def test_importance_weights_and_export_signatures(kwargs):
    model = models.build_model(models.VAEConfig(**kwargs))
    x, y = _inputs(model)
    k = 4
    eps = None if model.noise_shape is None else tf.random.normal([len(x), k, model.noise_shape[1]])
    t = model.log_weights(tf.constant(x), None if y is None else tf.constant(y), eps, k)
    assert t["log_px_z"].shape[0] == len(x) and t["z_mean"].shape == (len(x), model.latent_dim)
    assert (t["log_w"] is None) == (not model.has_likelihood_bound)
    if t["log_w"] is not None:
        assert t["log_w"].shape == (len(x), k)
    decoder, encoder = export.decoder_module(model), export.encoder_module(model)
    want_in = {"z": tf.float32, **({"label": tf.int64} if y is not None else {})}
    got_in = {s.name: s.dtype for s in decoder.serve.input_signature}
    assert got_in == want_in
    z = tf.zeros([2, model.latent_dim])
    args = {"z": z, **({"label": tf.constant([0, 1], tf.int64)} if y is not None else {})}
    assert decoder.serve(**args)["images"].shape == (2,) + model.config.input_shape
    eargs = {"images": tf.constant(x[:2]), **({"label": tf.constant([0, 1], tf.int64)} if y is not None else {})}
    out = encoder.serve(**eargs)
    assert set(out) == {"z_mean", "z_log_var"} and out["z_mean"].shape == (2, model.latent_dim)
