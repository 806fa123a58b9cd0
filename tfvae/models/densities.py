"""Per-example log-densities and divergences used by the models.

Every function returns one value per example (shape ``[batch]``, or ``[batch, k]`` per sample), summed
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


def reparameterize(mean, log_var, eps):
    """``z = mean + exp(log_var / 2) * eps`` for ``eps`` ``[b, k, d]`` and a ``[b, d]`` posterior: ``[b, k, d]``."""
    return mean[:, None, :] + tf.exp(0.5 * log_var)[:, None, :] * eps


def draw_and_log_ratio(z_mean, z_log_var, eps):
    """``z`` (``reparameterize``) and ``log p(z) - log q(z | x)`` ``[b, k]`` for a N(0, I) prior.

    With ``z`` drawn through ``eps``, ``(z - mean)^2 / var = eps^2``, so
    ``log p(z) - log q(z | x) = 0.5 * sum(eps^2 + log_var - z^2)`` (the
    ``log 2 pi`` terms cancel): no division and no broadcast of the ``[b, d]``
    posterior over the ``[b, k, d]`` samples in TF's slow broadcasting kernels.
    Training (the importance-weighted bound) and evaluation both take it from here.

    Returns:
        ``z [b, k, d]``, ``log_ratio [b, k]``.
    """
    z = reparameterize(z_mean, z_log_var, eps)
    return z, 0.5 * tf.reduce_sum(tf.square(eps) + z_log_var[:, None, :] - tf.square(z), axis=-1)


# ``draw_and_log_ratio`` as one fused XLA pass, for evaluation's many samples (no gradient needed: a
# compiled function nested in a compiled training step cannot be differentiated with dynamic shapes).
sample_and_log_ratio = tf.function(draw_and_log_ratio, jit_compile=True)


def iwae_bound(log_w):
    """``log (1/k) sum_i exp(log_w_i)`` over the last axis of ``[b, k]`` log-weights (Burda et al., 2016).

    The importance-weighted lower bound on ``log p(x)``; k = 1 gives the
    single-sample ELBO. Training (``objectives.IWAE``) and evaluation both
    take it from here.
    """
    k = log_w.shape[-1]
    log_k = math.log(k) if k is not None else tf.math.log(tf.cast(tf.shape(log_w)[-1], log_w.dtype))
    return tf.reduce_logsumexp(log_w, axis=-1) - log_k


def rmse(mean, x):
    """Per-example root mean squared error of decoder means against the images, ``[batch]``."""
    err = tf.reshape(mean - tf.cast(x, mean.dtype), [tf.shape(x)[0], -1])
    return tf.sqrt(tf.reduce_mean(tf.square(err), axis=1))


def log_normal_from_noise(log_var, eps):
    """``log q(z | x)`` ``[b, k]`` of ``z = reparameterize(mean, log_var, eps)``: ``(z - mean)^2 / var = eps^2``."""
    return -0.5 * tf.reduce_sum(LOG_2PI + log_var[:, None, :] + tf.square(eps), axis=-1)


def log_normal_components(z, means, log_vars):
    """``log N(z_n; mean_k, diag exp(log_var_k))`` ``[n, K]`` for ``z`` ``[n, d]`` and ``K`` components ``[K, d]``.

    Expanded into matrix products (``sum (z - m)^2 / v = z^2 . 1/v - 2 z . m/v + m^2 . 1/v``), so that n
    points against K components cost two ``[n, d] x [d, K]`` matmuls, not an ``[n, K, d]`` broadcast.
    """
    inv = tf.exp(-log_vars)
    quad = (tf.matmul(tf.square(z), inv, transpose_b=True) - 2.0 * tf.matmul(z, means * inv, transpose_b=True)
            + tf.reduce_sum(tf.square(means) * inv, axis=-1)[None, :])
    const = tf.reduce_sum(LOG_2PI + log_vars, axis=-1)[None, :]
    return -0.5 * (const + tf.maximum(quad, 0.0))


def log_mixture(z, means, log_vars, log_weights):
    """``log sum_k w_k N(z; mean_k, diag exp(log_var_k))`` ``[n]`` of a diagonal-Gaussian mixture."""
    return tf.reduce_logsumexp(log_normal_components(z, means, log_vars) + log_weights[None, :], axis=-1)


def mixture_component(log_weights, u):
    """The component ``[n]`` (int32) that uniform ``u`` ``[n]`` in [0, 1) picks: ``#{k : cdf_k <= u}``, the
    inverse of the weights' cumulative sum (comparisons only, so every runtime can run it)."""
    cdf = tf.cumsum(tf.exp(log_weights))[:-1]
    return tf.reduce_sum(tf.cast(u[:, None] >= cdf[None, :], tf.int32), axis=-1)


def mixture_sample(means, log_vars, log_weights, eps, u):
    """``z = mean_c + exp(log_var_c / 2) * eps`` ``[n, d]``, component ``c = mixture_component(log_weights, u)``."""
    c = mixture_component(log_weights, u)
    return tf.gather(means, c) + tf.exp(0.5 * tf.gather(log_vars, c)) * eps
