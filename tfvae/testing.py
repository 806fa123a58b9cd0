"""The kind harness: the checks every ``--model`` kind must pass, for tfvae's tests and a kind's author.

In the shape of keras-hub's ``TestCase`` (``run_serialization_test``,
``run_model_saving_test``): each function builds a small model of a config,
runs one aspect of it and raises ``AssertionError`` with what differs.
``run_kind_checks`` runs them all; ``small_configs`` derives one small config
per registered kind and architecture from the registry, so a new kind is
covered by writing its file::

    from tfvae import testing
    for name, cfg in testing.small_configs().items():
        testing.run_kind_checks(cfg, tmp_dir)
"""

import os

import numpy as np

from tfvae.models.config import VAEConfig
from tfvae.models import kinds

ARCH_VARIANTS = {  # what each architecture is checked with (small, and every likelihood once)
    "mlp": dict(),
    "gated": dict(arch="gated", objective="iwae", k=3),
    "conv": dict(arch="conv", conv_filters=(4, 8), batch_norm=True, likelihood="gaussian", hidden=(16,)),
    "conv-mse": dict(arch="conv", conv_filters=(4, 8), likelihood="mse", hidden=(16,)),
}


def small_configs():
    """``{"KIND-ARCH": VAEConfig}``: every registered kind with every architecture it builds with."""
    out = {}
    for name in kinds.names():
        kind = kinds.get(name)
        for arch, extra in ARCH_VARIANTS.items():
            if (extra.get("arch") == "conv" and not kind.conv) or (extra.get("objective") and not kind.stochastic):
                continue
            fields = {"latent_dim": 4, "hidden": (32,), "model": name, **extra}
            if kind.conditional:
                fields["num_classes"] = 10
            out[f"{name}-{arch}"] = VAEConfig(**fields)
    return out


def inputs(model, n=6, seed=0):
    """``(images, labels or None)``: ``n`` binary images of the model's shape (labels for a conditional kind)."""
    x = (np.random.default_rng(seed).random((n,) + model.config.input_shape) > 0.6).astype(np.float32)
    return x, (np.arange(n) % max(2, model.config.num_classes) if model.config.conditional else None)


def _feed(x, y):
    return (x, y) if y is not None else x


def run_serialization_test(config):
    """``get_config`` / ``from_config`` rebuild the same config; with the same weights, the same outputs."""
    from tfvae import models

    model = models.build_model(config)
    x, y = inputs(model)
    clone = type(model).from_config(model.get_config()).build_all()
    assert clone.config == model.config, (clone.config, model.config)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(_feed(x, y)).numpy(), model(_feed(x, y)).numpy(), atol=1e-6)
    return model


def run_model_saving_test(config, directory):
    """A checkpoint directory (``config.json`` + weights) rebuilds the kind and gives the same outputs."""
    from tfvae import checkpoints, models

    model = models.build_model(config)
    x, y = inputs(model)
    path = os.path.join(str(directory), f"ck-{config.model}")
    checkpoints.save(path, model, {"model": model.config.to_dict(), "data": {}}, {"epoch": 1})
    loaded, _, _, _ = checkpoints.load_model(path)
    assert loaded.kind is model.kind and loaded.config == model.config
    np.testing.assert_allclose(loaded(_feed(x, y)).numpy(), model(_feed(x, y)).numpy(), atol=1e-6)
    return model


def run_terms_test(config, k=4):
    """Training's per-example terms (finite, one per example) and evaluation's importance weights (shapes)."""
    from tfvae import models
    from tfvae._tf import tf

    model = models.build_model(config)
    x, y = inputs(model)
    yt = None if y is None else tf.constant(y)
    terms = model.compute_losses(tf.constant(x), yt)
    assert set(terms) == set(models.TERMS), sorted(terms)
    for name, value in terms.items():
        assert value.shape == (len(x),) and np.isfinite(value.numpy()).all(), name
    eps = None if model.noise_shape is None else tf.random.normal([len(x), k, model.noise_shape[1]])
    t = model.log_weights(tf.constant(x), yt, eps, k)
    assert t["log_px_z"].shape[0] == len(x) and t["z_mean"].shape == (len(x), model.latent_dim)
    assert t["recon"].shape == (len(x),) + model.config.input_shape
    assert (t["log_w"] is None) == (not model.has_likelihood_bound)
    if t["log_w"] is not None:
        assert t["log_w"].shape == (len(x), k)
    return model


def run_export_test(config):
    """The servable decoder and encoder: their input signatures and output shapes."""
    from tfvae import models
    from tfvae._tf import tf
    from tfvae.deploy import export

    model = models.build_model(config)
    x, y = inputs(model)
    label = {"label": tf.constant([0, 1], tf.int64)} if y is not None else {}
    decoder, encoder = export.decoder_module(model), export.encoder_module(model)
    want = {"z": tf.float32, **({"label": tf.int64} if y is not None else {})}
    assert {s.name: s.dtype for s in decoder.serve.input_signature} == want
    assert decoder.serve(z=tf.zeros([2, model.latent_dim]), **label)["images"].shape == (2,) + config.input_shape
    out = encoder.serve(images=tf.constant(x[:2]), **label)
    assert set(out) == {"z_mean", "z_log_var"} and out["z_mean"].shape == (2, model.latent_dim)
    return model


def run_kind_checks(config, directory):
    """Every check above, for one config."""
    run_serialization_test(config)
    run_model_saving_test(config, directory)
    run_terms_test(config)
    run_export_test(config)
