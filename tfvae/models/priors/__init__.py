"""The ``--prior`` values, by name: the built-in ones and those other packages register (``tfvae.priors``).

TensorFlow-free, like the kinds' registry (``tfvae.models.axes``):

* ``base``: ``Prior``, ``register``;
* ``standard`` (N(0, I), the default), ``mog`` (a learned mixture of Gaussians), ``vamp`` (the VampPrior):
  one file each.
"""

from tfvae.models.priors import standard  # noqa: F401  (first: the default; each built-in prior registers itself)
from tfvae.models.priors import mog, vamp  # noqa: F401
from tfvae.models.priors.base import REGISTRY, Prior, register  # noqa: F401

names, get, fields, markdown_table = REGISTRY.functions()
