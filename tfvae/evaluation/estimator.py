"""Honest evaluation over a whole split: ELBO, importance-weighted NLL, RMSE, active units.

The importance-weighted estimate (Burda et al., 2016) with K samples is::

    nll(x) = -log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x),   z_k ~ q(z | x)

computed with log-sum-exp. It is an upper bound on -log p(x) that tightens
as K grows; K = 1 gives the (single-sample) negative ELBO.
"""

import math
import sys
import time

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras
import numpy as np

from tfvae.config import CONV_ARCHS
from tfvae.engine.steps import normal_noise
from tfvae.models import densities

ACTIVE_UNIT_THRESHOLD = 0.01


def _noise(model, k, seed, b, rows=None):
    """Stateless noise ``[b, k, width]`` for ``k`` importance samples (None without noise): ``normal_noise``."""
    return None if model.noise_shape is None else normal_noise(b, k, model.noise_shape[1], seed, rows)


# Decoder work per evaluation step: 20 000 decodes of a 28 x 28 image (K = 5000: 4 MNIST images per step), as
# pixels, so that a 64 x 64 image gets proportionally fewer; a conv decoder holds filters per pixel, 8x less.
DECODE_PIXELS_PER_STEP = 20000 * 28 * 28
CONV_SHARE = 8


def default_batch(config, k):
    """Images per evaluation step with ``k`` importance samples each, sized to bound the decoder's memory."""
    pixels = DECODE_PIXELS_PER_STEP // (CONV_SHARE if config.arch in CONV_ARCHS else 1)
    return max(1, pixels // (math.prod(config.input_shape) * int(k)))


def evaluate(model, images, iwae_samples=5000, batch=None, seed=0, verbose=1, labels=None, strategy=None):
    """Evaluates a model over every image given.

    Args:
        model: a trained VAE / CVAE / AE.
        images: float32 array ``[N, H, W, C]`` in [0, 1] (binarized as in training).
        iwae_samples: K importance samples per image.
        batch: images per step (default ``default_batch``: about 20000 / K
            MNIST-sized decodes per step, fewer for larger images and conv nets).
        seed: seed of the importance samples (numbers repeat for the same seed).
        verbose: show progress with ETA.
        labels: ``[N]`` int labels (a cvae needs them).
        strategy: a ``tf.distribute`` strategy: each batch is split into
            contiguous parts, one per replica (``strategy.run``), and the
            per-example results are gathered back in order. An example's
            importance samples do not depend on the split, so the numbers
            equal the single-device ones up to float rounding. Build the model
            in ``strategy.scope()``. ``None``: one device.

    Returns:
        dict with ``elbo, neg_elbo, nll, bits_per_dim, reconstruction_loss, kl, kl_estimator, rmse,
        per_image_sd, active_units, n_examples, iwae_samples, latent_dim, seconds``;
        ``per_image_sd`` holds the standard deviation over the images of
        ``nll``, ``neg_elbo``, ``reconstruction_loss`` and ``rmse`` (the mean
        over N images is uncertain by about sd / sqrt(N)). For an AE,
        which has no likelihood bound, ``elbo``, ``neg_elbo``, ``nll``,
        ``bits_per_dim`` and ``kl`` are ``None`` and ``reconstruction_loss`` is
        ``-log p(x | z)`` at the code.
    """
    k = int(iwae_samples)
    n = len(images)
    bound = model.has_likelihood_bound
    if model.config.conditional and labels is None:
        raise ValueError("a cvae is evaluated with labels")
    if batch is None:
        batch = default_batch(model.config, k) if bound else 500
    batch = min(batch, n)

    def per_example(x, y, seed_pair, rows=None):
        t = model.log_weights(x, y, _noise(model, k, seed_pair, tf.shape(x)[0], rows), k)
        rec = -tf.reduce_mean(t["log_px_z"], axis=1)
        nll = -densities.iwae_bound(t["log_w"]) if bound else tf.zeros_like(rec)
        return nll, rec, t["kl"], densities.rmse(t["recon"], x), t["z_mean"]

    if strategy is None:
        step = tf.function(per_example, jit_compile=False, reduce_retracing=True)
    else:
        step = _split_over_replicas(per_example, strategy, conditional=model.config.conditional)

    sums = {"nll": 0.0, "rec": 0.0, "kl": 0.0, "rmse": 0.0}
    squares = {"nll": 0.0, "neg_elbo": 0.0, "rec": 0.0, "rmse": 0.0}  # for the per-image spread
    means = []
    bar = _Progress(n) if verbose else None
    t0 = time.perf_counter()
    for i, start in enumerate(range(0, n, batch)):
        x = tf.constant(images[start : start + batch], tf.float32)
        y = None if labels is None or not model.config.conditional else tf.constant(labels[start : start + batch], tf.int32)
        out = step(x, y, tf.constant([seed, i], tf.int32))
        values = dict(zip(("nll", "rec", "kl", "rmse"), (tf.cast(v, tf.float64) for v in out[:4])))
        values["neg_elbo"] = values["rec"] + values["kl"]
        for key in sums:
            sums[key] += float(tf.reduce_sum(values[key]))
        for key in squares:
            squares[key] += float(tf.reduce_sum(tf.square(values[key])))
        means.append(out[4].numpy())
        if bar:
            bar.update(min(start + batch, n))
    seconds = time.perf_counter() - t0
    z = np.concatenate(means).astype(np.float64)
    n_pixels = int(np.prod(images.shape[1:]))
    rec, kl, nll = sums["rec"] / n, sums["kl"] / n, sums["nll"] / n
    mean = {"nll": nll, "neg_elbo": rec + kl, "rec": rec, "rmse": sums["rmse"] / n}
    # standard deviation over the images: a mean over n images is uncertain by about sd / sqrt(n)
    sd = {key: math.sqrt(max(0.0, squares[key] / n - mean[key] ** 2) * n / max(1, n - 1)) for key in squares}
    return {
        "n_examples": n,
        "iwae_samples": k if bound else None,
        "elbo": -(rec + kl) if bound else None,
        "neg_elbo": rec + kl if bound else None,
        "nll": nll if bound else None,
        "bits_per_dim": nll / (n_pixels * math.log(2)) if bound else None,
        "reconstruction_loss": rec,
        "kl": kl if bound else None,
        "kl_estimator": model.kl_estimator if bound else None,
        "rmse": sums["rmse"] / n,
        "per_image_sd": {"nll": sd["nll"] if bound else None, "neg_elbo": sd["neg_elbo"] if bound else None,
                         "reconstruction_loss": sd["rec"], "rmse": sd["rmse"]},
        "active_units": active_units(z),
        "latent_dim": int(z.shape[1]),
        "seconds": seconds,
    }


def _split_over_replicas(per_example, strategy, conditional):
    """``per_example(x, y, seed, rows)`` run as ``step(x, y, seed)`` over a strategy's replicas.

    Every replica gets the whole batch, keeps its contiguous share
    ``[n * r // R, n * (r + 1) // R)`` and the outputs are gathered in replica
    order (across hosts too under multi-worker), i.e. in the batch's order.
    """
    replicas = strategy.num_replicas_in_sync

    def replica_fn(x, y, seed_pair):
        rid = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int32)
        n = tf.shape(x)[0]
        lo, hi = n * rid // replicas, n * (rid + 1) // replicas
        return per_example(x[lo:hi], y[lo:hi] if conditional else None, seed_pair, (lo, n))

    @tf.function(jit_compile=False, reduce_retracing=True)
    def step(x, y, seed_pair):
        if y is None:
            y = tf.zeros(tf.shape(x)[:1], tf.int32)
        out = strategy.run(replica_fn, args=(x, y, seed_pair))
        return tuple(strategy.gather(v, axis=0) for v in out)

    return step


class _Progress:
    """Keras progress bar on a terminal; a line every 10 % with ETA otherwise (logs, CI)."""

    def __init__(self, total):
        self.total = total
        self.tty = sys.stdout.isatty()
        self.bar = keras.utils.Progbar(total, unit_name="image") if self.tty else None
        self.t0 = time.perf_counter()
        self.next_report = 0.1

    def update(self, done):
        if self.bar:
            self.bar.update(done)
            return
        frac = done / self.total
        if frac >= self.next_report or done == self.total:
            el = time.perf_counter() - self.t0
            eta = el / frac - el if frac > 0 else float("nan")
            print(f"  {done}/{self.total} images, {el:.0f}s elapsed, ETA {eta:.0f}s", flush=True)
            while self.next_report <= frac:
                self.next_report += 0.1


def active_units(z_means, threshold=ACTIVE_UNIT_THRESHOLD):
    """Number of latent dimensions whose posterior mean varies across data (Burda et al.)."""
    return int((np.asarray(z_means, np.float64).var(axis=0) > threshold).sum())
