"""The models: one Keras class for every kind, and the axes it is composed of.

* ``model.VAE``: the ``keras.Model`` (``VAE(model="cvae", ...)`` for another kind);
* ``kinds``: the ``--model`` kinds, one file each, and their registry (TensorFlow-free);
* ``config.VAEConfig``: the model's config, the kind's own fields in it (TensorFlow-free);
* ``networks``: the encoders and decoders of each ``--arch`` (``ARCHS``);
* ``likelihoods``: ``p(x | z)`` of each ``--likelihood`` (``LIKELIHOODS``);
* ``objectives``: the training bounds, ELBO, IWAE, MIWAE, PIWAE, CIWAE, one file each, and their registry;
* ``priors``: p(z), standard, a mixture of Gaussians, the VampPrior, one file each, and their registry;
* ``densities``: log-densities, KL, the reparameterisation, the IWAE bound and rmse,
  shared by training and evaluation.

The training machinery (XLA steps, stacks, noise feeding, replicas) is
``tfvae.engine``, which the model mixes in and which never imports it.

This package imports no TensorFlow until one of the names below is used
(``from tfvae import models; models.VAE``), so the TensorFlow-free kind
registry (``tfvae.models.kinds``) can be read by the command line.
"""

import importlib

# name -> (module, attribute): what ``models.NAME`` gives, imported on first use.
_LAZY = {
    "VAE": ("tfvae.models.model", "VAE"),
    "VAEConfig": ("tfvae.models.config", "VAEConfig"),
    "ARCHS": ("tfvae.config", "ARCHS"),
    "LIKELIHOODS": ("tfvae.config", "LIKELIHOODS"),
    "TERMS": ("tfvae.engine.metrics", "TERMS"),
    "TermMeans": ("tfvae.engine.metrics", "TermMeans"),
    "LOG_VAR_MIN": ("tfvae.models.likelihoods", "LOG_VAR_MIN"),
    "LOG_VAR_MAX": ("tfvae.models.likelihoods", "LOG_VAR_MAX"),
    "GatedDense": ("tfvae.models.networks", "GatedDense"),
    "PRIOR_LOG_VAR_BOUND": ("tfvae.models.kinds.vae2", "PRIOR_LOG_VAR_BOUND"),
    "get": ("tfvae.models.kinds", "get"),
}


def __getattr__(name):
    if name == "OBJECTIVES":
        from tfvae.models import objectives

        return objectives.names()
    if name == "KINDS":
        from tfvae.models import kinds

        return {n: kinds.get(n) for n in kinds.names()}
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'tfvae.models' has no attribute {name!r}")


def build_model(model_config):
    """Builds the model of a ``VAEConfig`` (or its dict form), with every variable created."""
    from tfvae.models.config import VAEConfig
    from tfvae.models.model import VAE

    if isinstance(model_config, dict):
        model_config = VAEConfig.from_dict(model_config)
    return VAE(**model_config.to_dict()).build_all()
