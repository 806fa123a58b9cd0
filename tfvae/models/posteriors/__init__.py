"""The ``--posterior`` values, by name: the built-in ones and those other packages register (``tfvae.posteriors``).

TensorFlow-free, like the kinds' registry (``tfvae.models.axes``):

* ``base``: ``Posterior``, ``register``;
* ``gaussian`` (the default), ``planar`` (Rezende & Mohamed 2015), ``iaf`` (Kingma et al. 2016): one file each.
"""

from tfvae.models.posteriors import gaussian  # noqa: F401  (first: the default; each registers itself)
from tfvae.models.posteriors import planar  # noqa: F401  (then iaf: the order of --posterior's choices)
from tfvae.models.posteriors import iaf  # noqa: F401
from tfvae.models.posteriors.base import REGISTRY, Posterior, register  # noqa: F401

names, get, fields, markdown_table = REGISTRY.functions()
