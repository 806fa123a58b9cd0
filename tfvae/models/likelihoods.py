"""Decoder likelihoods p(x | z): Bernoulli, Gaussian and squared error, each with its outputs, mean and log-density.

A decoder's raw output has ``out_channels(C)`` channels per pixel; the
likelihood turns it into the mean image (what ``decode`` returns and the
exported decoder serves) and into ``log p(x | z)`` per example, in nats.
"""

import math

from tfvae._tf import tf  # first: TensorFlow without its start-up notices

from tfvae.models import densities

# Bounds of the Gaussian decoder's log-variance (std from 0.0067 to 2.7).
LOG_VAR_MIN, LOG_VAR_MAX = -10.0, 2.0


@tf.function(jit_compile=True)
def _bernoulli_log_prob_fused(logits, x):
    """``-sum(softplus(l) - x * l)`` over the last axis, as one fused XLA loop.

    Only this elementwise part is compiled: XLA fuses it into one pass over the
    ``[b, k, pixels]`` logits (twice as fast as TF's separate kernels here),
    while the large matmuls stay on oneDNN, which is faster than XLA's at these
    sizes (bench/RESULTS.md). ``softplus(l) = max(l, 0) + log(1 + exp(-|l|))``
    with ``log`` rather than ``log1p``: XLA's CPU ``log1p`` is much slower, and
    where ``1 + exp(-|l|)`` rounds to 1 the term is below 6e-8 per pixel.
    """
    softplus = tf.nn.relu(logits) + tf.math.log(1.0 + tf.exp(-tf.abs(logits)))
    return -tf.reduce_sum(softplus - x * logits, axis=-1)


class Likelihood:
    """``p(x | z)`` given the decoder's raw output ``[b, H, W, out_channels(C)]``."""

    note = None  # what tfvae eval says its numbers mean, where they are not plain likelihoods

    def out_channels(self, channels):
        return channels

    def mean(self, raw, channels):
        """Decoder means in [0, 1]."""
        return tf.sigmoid(raw[..., :channels])

    def log_prob(self, x, raw, channels):
        """``log p(x | z)`` per example, ``[b]``."""
        raise NotImplementedError

    def log_prob_samples(self, x, raw, k):
        """``log p(x | z_i)`` for ``k`` samples per example: ``x`` ``[b, ...]``, ``raw`` ``[b * k, ...]`` -> ``[b, k]``."""
        b = tf.shape(x)[0]
        return tf.reshape(self.log_prob(tf.repeat(x, k, axis=0), raw, x.shape[-1]), [b, k])


class Bernoulli(Likelihood):
    """Pixels as independent Bernoulli variables with the decoder's logits (binary data)."""

    def log_prob(self, x, raw, channels):
        return -densities.bernoulli_nll(x, raw)

    def log_prob_samples(self, x, raw, k):
        # Broadcast x against the k samples instead of tiling it. Pixel counts spelled
        # out: a replica's share of a batch may be empty, where -1 is ambiguous.
        b, pixels = tf.shape(x)[0], math.prod(x.shape[1:])
        return _bernoulli_log_prob_fused(tf.reshape(raw, [b, k, pixels]), tf.reshape(x, [b, 1, pixels]))


class Gaussian(Likelihood):
    """Per-pixel mean and a learned log-variance bounded to [LOG_VAR_MIN, LOG_VAR_MAX] (densities may be negative)."""

    note = ("Gaussian densities of real-valued pixels in [0, 1]: nats, may be negative; bits_per_dim is not "
            "comparable with discrete-data numbers")

    def out_channels(self, channels):
        return 2 * channels

    def log_prob(self, x, raw, channels):
        log_var = LOG_VAR_MIN + (LOG_VAR_MAX - LOG_VAR_MIN) * tf.sigmoid(raw[..., channels:])
        return -densities.gaussian_nll(x, tf.sigmoid(raw[..., :channels]), log_var)


class SquaredError(Likelihood):
    """The seeds' fixed-variance L2 term: minus the summed squared error (not a normalised density)."""

    note = ("the mse decoder's 'log p(x|z)' is minus the squared error, not a normalised density: nll and elbo "
            "are not likelihoods")

    def log_prob(self, x, raw, channels):
        return -densities.squared_error(x, tf.sigmoid(raw))


# --likelihood name -> likelihood (configs.LIKELIHOODS names them).
LIKELIHOODS = {"bernoulli": Bernoulli(), "gaussian": Gaussian(), "mse": SquaredError()}
