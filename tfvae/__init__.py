"""tfvae: Variational Auto-Encoders in TensorFlow / Keras 3.

Quick start::

    from tfvae import data, models
    train, val, info = data.load_splits(data.DataConfig("mnist", binarize="dynamic"))
    vae = models.VAE(input_shape=info.input_shape, latent_dim=32)
    vae.compile(optimizer="adam")
    vae.fit(data.make_dataset(train, 100, shuffle=True, binarize="dynamic"),
            validation_data=data.make_dataset(val, 100, binarize="dynamic", fixed_draw=True), epochs=5)
"""

import os as _os

# TensorFlow's C++ start-up notices are filtered where it is imported
# (tfvae/_tf.py); this keeps its later INFO lines out of users' terminals.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

from tfvae.errors import TfvaeError  # noqa: E402,F401
