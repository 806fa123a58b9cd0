"""Per-example log-densities and divergences used by the models.

Every function returns one value per example (shape ``[batch]``), summed
over pixels / latent dimensions, in nats. Averaging over the batch is the
caller's job, so the same functions serve training, evaluation and the
importance-weighted bound.
"""

import math

from tfvae._tf import tf  # TensorFlow without its start-up notices


LOG_2PI = math.log(2.0 * math.pi)


def _flatten(x):
    return tf.reshape(x, [tf.shape(x)[0], -1])


def bernoulli_nll(x, logits):
    """Bernoulli negative log-likelihood of ``x`` under ``sigmoid(logits)``.

    Computed from logits (numerically safe). ``x`` may be real-valued in
    [0, 1]; the result is then the cross-entropy, not a likelihood.

    Args:
        x: targets, shape ``[batch, ...]``, values in [0, 1].
        logits: decoder logits, same shape as ``x``.

    Returns:
        Tensor ``[batch]``: summed cross-entropy per example, in nats.
    """
    x = tf.cast(x, logits.dtype)
    ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits)
    return tf.reduce_sum(_flatten(ce), axis=1)


def kl_standard_normal(mean, log_var):
    """Closed-form KL( N(mean, exp(log_var)) || N(0, I) ) per example.

    Args:
        mean: ``[batch, latent]``.
        log_var: ``[batch, latent]``.

    Returns:
        Tensor ``[batch]`` in nats.
    """
    kl = 0.5 * (tf.exp(log_var) + tf.square(mean) - 1.0 - log_var)
    return tf.reduce_sum(kl, axis=-1)


def log_normal(z, mean, log_var):
    """Log-density of a diagonal Gaussian, summed over the last axis."""
    return -0.5 * tf.reduce_sum(
        LOG_2PI + log_var + tf.square(z - mean) * tf.exp(-log_var), axis=-1
    )


def log_standard_normal(z):
    """Log-density of N(0, I), summed over the last axis."""
    return -0.5 * tf.reduce_sum(LOG_2PI + tf.square(z), axis=-1)


def gaussian_nll(x, mean, log_var):
    """Diagonal Gaussian negative log-density of ``x`` per example (nats; may be negative).

    Args:
        x: targets ``[batch, ...]``.
        mean: means, same shape.
        log_var: log-variances, same shape.

    Returns:
        Tensor ``[batch]``.
    """
    x = tf.cast(x, mean.dtype)
    nll = 0.5 * (LOG_2PI + log_var + tf.square(x - mean) * tf.exp(-log_var))
    return tf.reduce_sum(_flatten(nll), axis=1)


def squared_error(x, mean):
    """Summed squared error per example (the fixed-variance L2 reconstruction term)."""
    x = tf.cast(x, mean.dtype)
    return tf.reduce_sum(_flatten(tf.square(x - mean)), axis=1)
