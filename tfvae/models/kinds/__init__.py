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

import importlib.metadata
import sys

from tfvae.errors import TfvaeError
from tfvae.models.kinds import ae, cvae, vae, vae2  # noqa: F401  (built-in kinds register themselves)
from tfvae.models.kinds.base import KINDS, Field, Kind, register  # noqa: F401

ENTRY_POINT_GROUP = "tfvae.kinds"
_plugins_loaded = False


def load_plugins():
    """Imports the modules named in the ``tfvae.kinds`` entry-point group (once); each registers its kind."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry.load()
        except Exception as e:  # a broken plugin must not break tfvae for every other kind
            print(f"tfvae: warning: kind plugin {entry.name} ({entry.value}) failed to load: "
                  f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}", file=sys.stderr)


def names():
    """Every kind's name: the built-in ones first, then plugins in the order they registered."""
    load_plugins()
    return tuple(KINDS)


def get(name):
    """The ``Kind`` registered as ``name``; a ``TfvaeError`` naming the choices otherwise."""
    load_plugins()
    try:
        return KINDS[name]
    except KeyError:
        raise TfvaeError(f"--model must be one of {', '.join(KINDS)}, got {name!r}") from None


def fields():
    """Every kind's own fields, by name (the first kind that declares a name defines it)."""
    out = {}
    for name in names():
        for f in KINDS[name].fields:
            out.setdefault(f.name, (f, []))[1].append(name)
    return out


def markdown_table():
    """The README's table of kinds (tests/test_kinds.py checks the README against it)."""
    rows = ["| `--model` | what it is |", "|---|---|"]
    return "\n".join(rows + [f"| `{n}` | {get(n).describe()} |" for n in names()])
