"""tfvae: Variational Auto-Encoders in TensorFlow / Keras 3.

Quick start::

    from tfvae import data, models
    train_ds, val_ds, info = data.load("mnist", batch_size=100)
    vae = models.VAE(input_shape=info.input_shape)
    vae.compile(optimizer="adam")
    vae.fit(train_ds, validation_data=val_ds, epochs=10)
"""

import os as _os

# Keep TensorFlow's C++ start-up chatter (CUDA probes on CPU machines) out of
# users' terminals unless they ask for it.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

from tfvae.errors import TfvaeError  # noqa: E402,F401
