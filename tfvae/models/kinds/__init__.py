"""The ``--model`` kinds, by name: the built-in ones and those other packages register.

TensorFlow-free: ``names()``, ``get(name)`` and each kind's traits, fields and
help are what the flags, ``tfvae weights``, the explorer's page description,
the test harness and the README's kind table read.

* ``base``: ``Kind``, ``Field``, ``register``;
* ``vae`` (the base of the others), ``ae``, ``cvae``, ``vae2``: one file each.

Another package adds a kind with one module that defines and registers it,
named in its ``setup.cfg`` / ``pyproject.toml`` under the entry-point group
``tfvae.kinds``::

    [options.entry_points]
    tfvae.kinds =
        mykind = mypackage.mykind

The module is imported the first time the registry is read.
"""

from tfvae.models.kinds import ae, cvae, vae, vae2  # noqa: F401  (built-in kinds register themselves)
from tfvae.models.kinds.base import KINDS, REGISTRY, Field, Kind, register  # noqa: F401

ENTRY_POINT_GROUP = REGISTRY.group
load_plugins = REGISTRY.load_plugins
names, get, fields, markdown_table = REGISTRY.functions()
