"""The ``--objective`` values, by name: the built-in bounds and those other packages register (``tfvae.objectives``).

TensorFlow-free, like the kinds' registry (``tfvae.models.axes``):

* ``base``: ``Objective``, ``register``;
* ``elbo`` (the default), ``iwae`` (Burda et al. 2016), ``miwae``, ``piwae``, ``ciwae`` (Rainforth et al. 2018):
  one file each.
"""

from tfvae.models.objectives import elbo  # noqa: F401  (first: the default; each bound registers itself)
from tfvae.models.objectives import iwae, miwae, piwae, ciwae  # noqa: F401
from tfvae.models.objectives.base import REGISTRY, Objective, register  # noqa: F401

names, get, fields, markdown_table = REGISTRY.functions()


def for_config(cfg):
    """The objective a model of config ``cfg`` trains on: its own, or the ELBO (with ``--beta``) where one
    draw per example makes an importance-weighted bound the ELBO."""
    objective = get(cfg.objective)
    return objective if objective.samples(cfg) > 1 or not objective.weighted else get("elbo")
