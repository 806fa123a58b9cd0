"""Model kinds by name: ``--model`` -> class (``configs.MODEL_KINDS`` lists the names)."""

import keras

from tfvae.config import MODEL_KINDS
from tfvae.errors import TfvaeError

KINDS = {}


def register(name):
    """Class decorator: registers a model class as kind ``name`` (and with Keras' serialization)."""
    if name not in MODEL_KINDS:
        raise ValueError(f"model kind {name!r} is not in configs.MODEL_KINDS; add it there first")

    def decorate(cls):
        KINDS[name] = cls
        return keras.saving.register_keras_serializable(package="tfvae")(cls)

    return decorate


def get(name):
    """The class of model kind ``name``."""
    try:
        return KINDS[name]
    except KeyError:
        raise TfvaeError(f"--model must be one of {', '.join(KINDS)}, got {name!r}") from None
