"""The model family: one file per kind, found by name.

* ``vae.VAE`` (``--model vae``): the base, with encode, decode, sample and the
  per-sample terms; ``autoencoder.AutoEncoder`` (``ae``),
  ``conditional.ConditionalVAE`` (``cvae``), ``hierarchical.HierarchicalVAE``
  (``vae2``) override what differs.
* ``networks``: the encoders and decoders of each ``--arch`` (``ARCHS``).
* ``likelihoods``: ``p(x | z)`` of each ``--likelihood`` (``LIKELIHOODS``).
* ``objectives``: the ELBO and the importance-weighted bound (``OBJECTIVES``).
* ``registry``: ``--model`` name -> class (``KINDS``, ``get``).

The training machinery (XLA steps, stacks, noise feeding, replicas) is
``tfvae.engine``, which the models mix in and which never imports them.
"""

from tfvae.config import ARCHS, LIKELIHOODS, MODEL_KINDS, OBJECTIVES, VAEConfig  # noqa: F401
from tfvae.engine.metrics import TERMS, TermMeans  # noqa: F401
from tfvae.models.likelihoods import LOG_VAR_MAX, LOG_VAR_MIN  # noqa: F401
from tfvae.models.networks import GatedDense  # noqa: F401
from tfvae.models.registry import KINDS, get  # noqa: F401
from tfvae.models.vae import VAE  # noqa: F401  (first: the others subclass it)
from tfvae.models.autoencoder import AutoEncoder  # noqa: F401,E402
from tfvae.models.conditional import ConditionalVAE  # noqa: F401,E402
from tfvae.models.hierarchical import PRIOR_LOG_VAR_BOUND, HierarchicalVAE  # noqa: F401,E402


def build_model(model_config):
    """Builds the model of a ``VAEConfig`` (or its dict form), with every variable created."""
    if isinstance(model_config, dict):
        model_config = VAEConfig.from_dict(model_config)
    return get(model_config.model)(**model_config.to_dict()).build_all()
