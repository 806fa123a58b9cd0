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


def run_model_saving_test(config, directory, model=None):
    """A checkpoint directory (``config.json`` + weights) rebuilds the kind and gives the same outputs.

    ``model``: a model of ``config`` to save (a trained one), instead of a fresh one moved off its initial values.
    """
    from tfvae import checkpoints, models

    rng = np.random.default_rng(0)
    if model is None:  # away from the (seeded) initial values: the loaded ones must be the saved ones
        model = models.build_model(config)
        model.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) for w in model.get_weights()])
    x, y = inputs(model)
    path = os.path.join(str(directory), f"ck-{config.model}")
    checkpoints.save(path, model, {"model": model.config.to_dict(), "data": {}}, {"epoch": 1})
    loaded, _, _, _ = checkpoints.load_model(path)
    assert loaded.kind is model.kind and loaded.config == model.config
    np.testing.assert_allclose(loaded(_feed(x, y)).numpy(), model(_feed(x, y)).numpy(), atol=1e-6)
    if model.kind.stochastic:  # the prior and the posterior's flow too
        from tfvae._tf import tf

        z = rng.normal(size=(3, model.latent_dim)).astype(np.float32)
        np.testing.assert_allclose(loaded.prior_log_prob(z).numpy(), model.prior_log_prob(z).numpy(), rtol=1e-5)
        eps = tf.constant(rng.normal(size=(len(x), 2, model.noise_shape[1])).astype(np.float32))
        a, b = (m.log_weights(tf.constant(x), None if y is None else tf.constant(y), eps, 2) for m in (model, loaded))
        np.testing.assert_allclose(b["log_px_z"].numpy(), a["log_px_z"].numpy(), rtol=1e-5, atol=1e-4)
    return model


def run_terms_test(config, k=4):
    """Training's per-example terms (finite, one per example) and evaluation's importance weights (shapes)."""
    from tfvae import models
    from tfvae._tf import tf

    model = models.build_model(config)
    x, y = inputs(model)
    yt = None if y is None else tf.constant(y)
    terms = model.compute_losses(tf.constant(x), yt)
    assert set(terms) >= set(models.TERMS), sorted(terms)  # an objective may add its own (PIWAE's encoder_loss)
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


def run_export_test(config, model=None):
    """The servable decoder and encoder: their input signatures and output shapes (of ``model``, or a fresh one)."""
    from tfvae import models
    from tfvae._tf import tf
    from tfvae.deploy import export

    model = model or models.build_model(config)
    x, y = inputs(model)
    label = {"label": tf.constant([0, 1], tf.int64)} if y is not None else {}
    decoder, encoder = export.decoder_module(model), export.encoder_module(model)
    want = {"z": tf.float32, **({"label": tf.int64} if y is not None else {})}
    assert {s.name: s.dtype for s in decoder.serve.input_signature} == want
    assert decoder.serve(z=tf.zeros([2, model.latent_dim]), **label)["images"].shape == (2,) + config.input_shape
    if model.can_sample:  # the prior's signatures: the model's own prior
        rng = np.random.default_rng(1)
        eps = rng.normal(size=(5, model.latent_dim)).astype(np.float32)
        u = rng.random(5).astype(np.float32)
        np.testing.assert_allclose(decoder.prior_sample(eps=eps, u=u)["z"].numpy(),
                                   model.prior_sample(eps, u).numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(decoder.prior_log_prob(z=eps)["log_prob"].numpy(),
                                   model.prior_log_prob(eps).numpy(), rtol=1e-5, atol=1e-4)
    out = encoder.serve(images=tf.constant(x[:2]), **label)
    assert set(out) == {"z_mean", "z_log_var"} and out["z_mean"].shape == (2, model.latent_dim)
    return model


def run_kind_checks(config, directory):
    """Every check above, for one config."""
    run_serialization_test(config)
    run_model_saving_test(config, directory)
    run_terms_test(config)
    run_export_test(config)


# ------------------------------------------------------------------ the axes, pairwise
AXIS_KINDS = ("vae", "cvae", "vae2")  # the kinds every prior, posterior and objective must work with
DENSE_ARCHS = ("mlp", "gated")


def pairwise_rows(factors):
    """A small set of rows covering every pair of values of every two factors (greedy, deterministic).

    Args:
        factors: ``{factor: [values]}``.

    Returns:
        ``[{factor: value}]``: each pair of values of two factors is in at least one row.
    """
    names = list(factors)
    uncovered = {(a, va, b, vb) for i, a in enumerate(names) for b in names[i + 1:]
                 for va in factors[a] for vb in factors[b]}

    def gain(row, name, value):
        return sum((a, row[a], name, value) in uncovered or (name, value, a, row[a]) in uncovered for a in row)

    rows = []
    while uncovered:
        a, va, b, vb = min(uncovered, key=lambda p: (names.index(p[0]), factors[p[0]].index(p[1]),
                                                     names.index(p[2]), factors[p[2]].index(p[3])))
        row = {a: va, b: vb}
        for name in names:
            if name not in row:
                row[name] = max(factors[name], key=lambda v: (gain(row, name, v), -factors[name].index(v)))
        row = {n: row[n] for n in names}
        uncovered -= {(x, row[x], y, row[y]) for i, x in enumerate(names) for y in names[i + 1:]}
        rows.append(row)
    return rows


def axis_configs(k=2):
    """``{"kind-prior-posterior-objective-arch": VAEConfig}``: a pairwise set over the registered priors,
    posteriors and objectives, ``AXIS_KINDS`` and the dense architectures (small networks, ``k`` draws)."""
    from tfvae.models import objectives, posteriors, priors

    factors = {"model": list(AXIS_KINDS), "prior": list(priors.names()), "posterior": list(posteriors.names()),
               "objective": list(objectives.names()), "arch": list(DENSE_ARCHS)}
    out = {}
    for row in pairwise_rows(factors):
        fields = {"latent_dim": 4, "hidden": (32,), "k": k, **row}
        if kinds.get(row["model"]).conditional:
            fields["num_classes"] = 10
        if row["prior"] != "standard":
            fields["prior_components"] = 3
        if row["posterior"] != "gaussian":
            fields["flow_steps"] = 2
        if row["objective"] in ("miwae", "piwae"):
            fields["iw_groups"] = 2
        out["-".join(row.values())] = VAEConfig(**fields)
    return out


def run_training_test(config, images, labels=None, steps=3):
    """A few optimizer steps through ``fit`` (the engine's step): finite losses, every trainable variable moved."""
    import keras

    from tfvae import models
    from tfvae._tf import tf

    model = models.build_model(config)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = [v.numpy().copy() for v in model.trainable_variables]
    data = images if labels is None or not config.conditional else (images, labels.astype(np.int32))
    batches = tf.data.Dataset.from_tensor_slices(data).batch(max(1, len(images) // steps))
    logs = model.fit(batches, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values()), logs
    still = [v.path for v, b in zip(model.trainable_variables, before) if np.array_equal(v.numpy(), b)]
    assert not still, f"not trained: {still}"
    return model


def run_evaluation_test(model, images, labels=None, k=4):
    """``tfvae eval``'s estimator on a few images: the IWAE NLL is at most the -ELBO of the same draws, and the
    importance weights' log-mean-exp is at least their mean for every image."""
    from tfvae._tf import tf
    from tfvae.evaluation import estimator
    from tfvae.models import densities

    m = estimator.evaluate(model, images, iwae_samples=k, verbose=0, labels=labels)
    assert np.isfinite(m["nll"]) and m["kl_estimator"] == model.kl_estimator, m
    y = None if labels is None or not model.config.conditional else tf.constant(labels)
    eps = tf.random.stateless_normal([len(images), k, model.noise_shape[1]], seed=[0, 1])
    t = model.log_weights(tf.constant(images), y, eps, k)
    lme, mean = densities.iwae_bound(t["log_w"]).numpy(), tf.reduce_mean(t["log_w"], axis=1).numpy()
    assert (lme >= mean - 1e-4).all(), (lme, mean)
    if model.kl_estimator == "monte_carlo":  # -ELBO of the same draws: the NLL is at most it
        assert m["nll"] <= m["neg_elbo"] + 1e-3, m
    return m
