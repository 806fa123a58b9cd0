"""The VAE model: encoder -> (z_mean, z_log_var) -> sample -> decoder logits.

``VAEConfig`` (a dataclass, pythae style) holds everything that defines the
architecture; ``VAE`` is the subclassed ``keras.Model`` with custom
``train_step`` and ``test_step`` so that ``fit(..., validation_data=...)``,
``evaluate`` and ``predict`` all work.
"""

import dataclasses
import math
from typing import Tuple

import keras
import tensorflow as tf

from tfvae import losses
from tfvae.errors import TfvaeError


@dataclasses.dataclass
class VAEConfig:
    """Architecture of a VAE.

    Attributes:
        input_shape: image shape ``(H, W, C)``.
        latent_dim: size of z.
        hidden: widths of the encoder's hidden layers; the decoder mirrors them.
        beta: weight of the KL term in the loss (1.0 = the ELBO).
    """

    input_shape: Tuple[int, int, int] = (28, 28, 1)
    latent_dim: int = 128
    hidden: Tuple[int, ...] = (512, 256)
    beta: float = 1.0

    def __post_init__(self):
        self.input_shape = tuple(int(v) for v in self.input_shape)
        self.hidden = tuple(int(v) for v in self.hidden)
        self.latent_dim = int(self.latent_dim)
        self.beta = float(self.beta)
        if len(self.input_shape) != 3 or min(self.input_shape) < 1:
            raise TfvaeError(
                f"input_shape must be (H, W, C) with positive sizes, got {self.input_shape}"
            )
        if self.latent_dim < 1:
            raise TfvaeError(f"latent_dim must be a positive integer, got {self.latent_dim}")
        if not self.hidden or min(self.hidden) < 1:
            raise TfvaeError(f"hidden must be positive layer widths like 512,256, got {self.hidden}")
        if not math.isfinite(self.beta) or self.beta < 0:
            raise TfvaeError(f"beta must be a finite number >= 0, got {self.beta}")

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["input_shape"] = list(self.input_shape)
        d["hidden"] = list(self.hidden)
        return d


def _mlp(widths, name):
    return [keras.layers.Dense(w, activation="relu", name=f"{name}_dense_{i}") for i, w in enumerate(widths)]


@keras.saving.register_keras_serializable(package="tfvae")
class VAE(keras.Model):
    """Variational auto-encoder with a Bernoulli decoder and a N(0, I) prior.

    The loss per example is ``sum_pixels CE(x, logits) + beta * KL(q(z|x) || p(z))``
    (nats), averaged over the batch.

    Args:
        input_shape: image shape ``(H, W, C)``; inputs are floats in [0, 1].
        latent_dim: size of z.
        hidden: encoder hidden widths (the decoder mirrors them).
        beta: KL weight.
    """

    def __init__(self, input_shape=(28, 28, 1), latent_dim=128, hidden=(512, 256), beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.config = VAEConfig(input_shape=input_shape, latent_dim=latent_dim, hidden=hidden, beta=beta)
        cfg = self.config
        n_pixels = int(math.prod(cfg.input_shape))

        self.encoder = keras.Sequential(
            [keras.layers.Input(cfg.input_shape), keras.layers.Flatten()]
            + _mlp(cfg.hidden, "enc")
            + [keras.layers.Dense(2 * cfg.latent_dim, name="enc_stats")],
            name="encoder",
        )
        self.decoder = keras.Sequential(
            [keras.layers.Input((cfg.latent_dim,))]
            + _mlp(tuple(reversed(cfg.hidden)), "dec")
            + [keras.layers.Dense(n_pixels, name="dec_logits"), keras.layers.Reshape(cfg.input_shape)],
            name="decoder",
        )
        # A variable, so KL warm-up can change it without retracing.
        self.beta = keras.Variable(cfg.beta, trainable=False, name="beta", dtype="float32")
        self.seed_generator = keras.random.SeedGenerator(seed=None, name="sampling_seed")

        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.rmse_tracker = keras.metrics.Mean(name="rmse")

    # ------------------------------------------------------------------ API
    @property
    def latent_dim(self):
        return self.config.latent_dim

    def encode(self, x):
        """Returns ``(z_mean, z_log_var)``, each ``[batch, latent_dim]``."""
        stats = self.encoder(x)
        z_mean, z_log_var = tf.split(stats, 2, axis=-1)
        return z_mean, z_log_var

    def reparameterize(self, z_mean, z_log_var):
        """Draws ``z = mean + exp(log_var / 2) * eps`` (differentiable)."""
        eps = keras.random.normal(tf.shape(z_mean), seed=self.seed_generator)
        return z_mean + tf.exp(0.5 * z_log_var) * eps

    def decode_logits(self, z):
        """Decoder logits, ``[batch, H, W, C]``."""
        return self.decoder(z)

    def decode(self, z):
        """Bernoulli means (pixel probabilities) in [0, 1], ``[batch, H, W, C]``."""
        return tf.sigmoid(self.decode_logits(z))

    def call(self, x, training=False):
        """Reconstruction probabilities of ``x``, decoded from ``z_mean``."""
        if isinstance(x, (tuple, list)):
            x = x[0]
        z_mean, _ = self.encode(x)
        return self.decode(z_mean)

    def sample(self, n, temperature=1.0, seed=None):
        """Decodes ``n`` draws of ``z ~ N(0, temperature^2 I)``.

        Args:
            n: number of samples.
            temperature: prior standard deviation scale (>= 0).
            seed: integer for repeatable samples.

        Returns:
            Tensor ``[n, H, W, C]`` of pixel probabilities.
        """
        z = tf.random.stateless_normal([int(n), self.latent_dim], seed=[int(seed or 0), 7]) if seed is not None \
            else tf.random.normal([int(n), self.latent_dim])
        return self.decode(float(temperature) * z)

    # ---------------------------------------------------------- training
    def compute_losses(self, x, training=False):
        """Per-example terms for a batch.

        Returns:
            dict of ``[batch]`` tensors: ``reconstruction_loss``, ``kl_loss``,
            ``loss`` and ``rmse``.
        """
        z_mean, z_log_var = self.encode(x)
        z = self.reparameterize(z_mean, z_log_var)
        logits = self.decode_logits(z)
        rec = losses.bernoulli_nll(x, logits)
        kl = losses.kl_standard_normal(z_mean, z_log_var)
        loss = rec + self.beta * kl
        err = tf.reshape(tf.sigmoid(logits) - tf.cast(x, logits.dtype), [tf.shape(x)[0], -1])
        rmse = tf.sqrt(tf.reduce_mean(tf.square(err), axis=1))
        return {"loss": loss, "reconstruction_loss": rec, "kl_loss": kl, "rmse": rmse}

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker, self.rmse_tracker]

    def _update_metrics(self, terms):
        self.loss_tracker.update_state(terms["loss"])
        self.reconstruction_tracker.update_state(terms["reconstruction_loss"])
        self.kl_tracker.update_state(terms["kl_loss"])
        self.rmse_tracker.update_state(terms["rmse"])
        return {m.name: m.result() for m in self.metrics}

    @staticmethod
    def _images(data):
        return data[0] if isinstance(data, (tuple, list)) else data

    def train_step(self, data):
        x = self._images(data)
        with tf.GradientTape() as tape:
            terms = self.compute_losses(x, training=True)
            loss = tf.reduce_mean(terms["loss"])
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return self._update_metrics(terms)

    def test_step(self, data):
        x = self._images(data)
        terms = self.compute_losses(x, training=False)
        return self._update_metrics(terms)

    # ------------------------------------------------------- serialization
    def get_config(self):
        base = super().get_config()
        base.update(self.config.to_dict())
        return base

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for k in ("trainable", "dtype"):
            config.pop(k, None)
        return cls(**config)

    def build_all(self):
        """Creates every variable (encoder, decoder) without data."""
        self(tf.zeros((1,) + self.config.input_shape))
        return self


def build_model(model_config):
    """Builds a model from a ``VAEConfig`` or its dict form."""
    if isinstance(model_config, dict):
        model_config = VAEConfig(**{k: v for k, v in model_config.items() if k in VAEConfig.__dataclass_fields__})
    return VAE(**model_config.to_dict()).build_all()
