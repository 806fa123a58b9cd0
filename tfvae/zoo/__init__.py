"""The model zoo: the shipped weights sets (``weights/``, installed as ``tfvae/weights``).

* ``lookup``: where the sets are and what they hold (``tfvae weights``; its numbers shown as
  ``tfvae.evaluation.report`` defines), TensorFlow-free;
* ``recipes``: each set's recipe (train flags, budget, pictures, card text), beside the sets;
* ``cards``: a set's MODEL_CARD.md; ``rebuild``: ``python -m tfvae.zoo.rebuild NAME`` trains a recipe,
  ships its checkpoint, evaluates it and draws its pictures; ``digits``: the digit classifier that
  measures a cvae's conditional accuracy.

The lookup is re-exported here: ``from tfvae import zoo; zoo.names()``.
"""

from tfvae.zoo.lookup import (  # noqa: F401
    PACKAGE_DIR, describe, format_listing, headline, installed_root, names, search_roots, writable_home)
