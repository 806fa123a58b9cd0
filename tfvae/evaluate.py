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

from tfvae import losses

ACTIVE_UNIT_THRESHOLD = 0.01


@tf.function(jit_compile=True)
def _bernoulli_log_likelihood(logits, x):
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


@tf.function(jit_compile=True)
def _sample_and_log_ratio(z_mean, z_log_var, eps):
    """``z = mean + exp(log_var / 2) * eps`` and ``log p(z) - log q(z | x)`` in one fused XLA pass.

    With ``z`` drawn through ``eps``, ``(z - mean)^2 / var = eps^2``, so
    ``log p(z) - log q(z | x) = 0.5 * sum(eps^2 + log_var - z^2)`` (the
    ``log 2 pi`` terms cancel): no division and no broadcast of the
    ``[b, d]`` posterior over the ``[b, k, d]`` samples in TF's slow
    broadcasting kernels.

    Returns:
        ``z [b, k, d]``, ``log_ratio [b, k]``.
    """
    z = z_mean[:, None, :] + tf.exp(0.5 * z_log_var)[:, None, :] * eps
    return z, 0.5 * tf.reduce_sum(tf.square(eps) + z_log_var[:, None, :] - tf.square(z), axis=-1)


def log_importance_weights(model, x, k, seed, labels=None, rows=None):
    """``log p(x, z_k) - log q(z_k | x)`` for ``k`` samples per example.

    Args:
        model: a VAE or CVAE.
        x: images ``[b, H, W, C]``.
        k: samples per example.
        seed: int32 ``[2]`` tensor for the stateless draw.
        labels: ``[b]`` int labels (a cvae needs them).
        rows: ``(offset, n)`` when ``x`` is rows ``offset..offset+b`` of a batch
            of ``n`` split over replicas: the noise is drawn for all ``n`` rows
            and sliced, so every example gets the draw it gets unsplit.

    Returns:
        ``(log_w [b, k], log_px_given_z [b, k], z_mean [b, d], z_log_var [b, d], recon [b, H, W, C])``.
    """
    if model.config.model == "vae2":
        b, d = tf.shape(x)[0], model.config.latent_dim1 + model.config.latent_dim
        if rows is None:
            eps = tf.random.stateless_normal(tf.stack([b, k, d]), seed=seed)
        else:
            offset, n = rows
            eps = tf.random.stateless_normal(tf.stack([n, k, d]), seed=seed)[offset : offset + b]
        t = model.vae2_terms(x, eps)
        return t["log_w"], t["log_px_z"], t["z_mean"], t["z_log_var"], t["recon"]
    z_mean, z_log_var = model.encode(x, labels)
    b, d = tf.shape(z_mean)[0], tf.shape(z_mean)[1]
    if rows is None:
        eps = tf.random.stateless_normal(tf.stack([b, k, d]), seed=seed)
    else:
        offset, n = rows
        eps = tf.random.stateless_normal(tf.stack([n, k, d]), seed=seed)[offset : offset + b]
    z, log_ratio = _sample_and_log_ratio(z_mean, z_log_var, eps)
    rep_labels = None if labels is None else tf.repeat(labels, k)
    raw = model.decoder_output(tf.reshape(z, [-1, d]), rep_labels)
    if model.config.likelihood == "bernoulli":
        # Broadcast x against the k samples instead of tiling it:
        # log p(x|z) = -sum(softplus(l) - x * l) is the Bernoulli log-likelihood from logits.
        # (Pixel counts spelled out: a replica's share of a batch may be empty, where -1 is ambiguous.)
        pixels = math.prod(model.config.input_shape)
        logits = tf.reshape(raw, [b, k, pixels])
        log_px_z = _bernoulli_log_likelihood(logits, tf.reshape(x, [b, 1, pixels]))
    else:
        log_px_z = tf.reshape(model.log_likelihood(tf.repeat(x, k, axis=0), raw), [b, k])
    recon = model.decode(z_mean, labels)
    return log_px_z + log_ratio, log_px_z, z_mean, z_log_var, recon


def evaluate(model, images, iwae_samples=5000, batch=None, seed=0, verbose=1, labels=None, strategy=None):
    """Evaluates a model over every image given.

    Args:
        model: a trained VAE / CVAE / AE.
        images: float32 array ``[N, H, W, C]`` in [0, 1] (binarized as in training).
        iwae_samples: K importance samples per image.
        batch: images per step (default: about 20000 / K rows of decoder work per step).
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
        dict with ``elbo, neg_elbo, nll, bits_per_dim, reconstruction_loss, kl, rmse,
        active_units, n_examples, iwae_samples, latent_dim, seconds``. For an AE,
        which has no likelihood bound, ``elbo``, ``neg_elbo``, ``nll``,
        ``bits_per_dim`` and ``kl`` are ``None`` and ``reconstruction_loss`` is
        ``-log p(x | z)`` at the code.
    """
    k = int(iwae_samples)
    n = len(images)
    is_ae = model.config.model == "ae"
    if model.config.conditional and labels is None:
        raise ValueError("a cvae is evaluated with labels")
    if batch is None:
        batch = max(1, 20000 // k) if not is_ae else 500
    batch = min(batch, n)

    def per_example(x, y, seed_pair, rows=None):
        if is_ae:
            code, _ = model.encode(x, y)
            raw = model.decoder_output(code, y)
            rec = -model.log_likelihood(x, raw)
            recon = model.mean_image(raw)
            nll, kl = tf.zeros_like(rec), tf.zeros_like(rec)
            z_mean = code
        else:
            log_w, log_px_z, z_mean, z_log_var, recon = log_importance_weights(model, x, k, seed_pair, y, rows)
            nll = -(tf.reduce_logsumexp(log_w, axis=1) - math.log(k))
            rec = -tf.reduce_mean(log_px_z, axis=1)
            if model.config.model == "vae2":  # no closed form for z1: the k-sample mean of log q - log p
                kl = -tf.reduce_mean(log_w - log_px_z, axis=1)
            else:
                kl = losses.kl_standard_normal(z_mean, z_log_var)
        err = tf.reshape(recon - x, [tf.shape(x)[0], math.prod(model.config.input_shape)])
        rmse = tf.sqrt(tf.reduce_mean(tf.square(err), axis=1))
        return nll, rec, kl, rmse, z_mean

    if strategy is None:
        step = tf.function(per_example, jit_compile=False, reduce_retracing=True)
    else:
        step = _split_over_replicas(per_example, strategy, conditional=model.config.conditional)

    sums = {"nll": 0.0, "rec": 0.0, "kl": 0.0, "rmse": 0.0}
    means = []
    bar = _Progress(n) if verbose else None
    t0 = time.perf_counter()
    for i, start in enumerate(range(0, n, batch)):
        x = tf.constant(images[start : start + batch], tf.float32)
        y = None if labels is None or not model.config.conditional else tf.constant(labels[start : start + batch], tf.int32)
        out = step(x, y, tf.constant([seed, i], tf.int32))
        for key, v in zip(("nll", "rec", "kl", "rmse"), out[:4]):
            sums[key] += float(tf.reduce_sum(tf.cast(v, tf.float64)))
        means.append(out[4].numpy())
        if bar:
            bar.update(min(start + batch, n))
    seconds = time.perf_counter() - t0
    z = np.concatenate(means).astype(np.float64)
    n_pixels = int(np.prod(images.shape[1:]))
    rec, kl, nll = sums["rec"] / n, sums["kl"] / n, sums["nll"] / n
    return {
        "n_examples": n,
        "iwae_samples": None if is_ae else k,
        "elbo": None if is_ae else -(rec + kl),
        "neg_elbo": None if is_ae else rec + kl,
        "nll": None if is_ae else nll,
        "bits_per_dim": None if is_ae else nll / (n_pixels * math.log(2)),
        "reconstruction_loss": rec,
        "kl": None if is_ae else kl,
        "rmse": sums["rmse"] / n,
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


# ------------------------------------------------------------- the command
TABLE_ROWS = [
    ("nll", "NLL (importance-weighted, K={iwae_samples})", "nats"),
    ("bits_per_dim", "bits/dim", ""),
    ("neg_elbo", "-ELBO", "nats"),
    ("reconstruction_loss", "  reconstruction", "nats"),
    ("kl", "  KL", "nats"),
    ("rmse", "RMSE (reconstruction from z_mean)", ""),
    ("active_units", "active units (Var > 0.01)", "of {latent_dim}"),
    ("seconds", "time", "s"),
]


def format_table(m):
    """A readable table of a metrics dict."""
    lines = [f"{m['dataset']} / {m['split']}: {m['n_examples']} images, binarize={m['binarize']}, "
             f"model={m.get('model', 'vae')}, likelihood={m.get('likelihood', 'bernoulli')}"]
    for key, label, unit in TABLE_ROWS:
        v = m[key]
        if v is None:
            continue
        val = f"{v:.4f}" if isinstance(v, float) and key in ("bits_per_dim", "rmse") else (
            f"{v:.2f}" if isinstance(v, float) else str(v))
        lines.append(f"  {label.format(**m):<44} {val:>10} {unit.format(**m)}")
    if m.get("likelihood_note"):
        lines.append(f"  note: {m['likelihood_note']}")
    return "\n".join(lines)


def load_eval_images(data_config, split="test", num_examples=None):
    """The split's images (float32 in [0, 1]) and labels, binarized the way the model was trained.

    A model trained with dynamic binarization is evaluated on one Bernoulli draw
    of the whole split, made with numpy's ``default_rng(EVAL_BINARIZE_SEED)``
    (``data.static_binarize``), independent of the training pipeline, so the
    numbers repeat; ``num_examples`` takes the first images of that draw.
    """
    from tfvae import data

    s = data.load_test_split(data_config, split)
    if data_config.binarize == "dynamic":
        s = data.static_binarize(s, data.EVAL_BINARIZE_SEED)
    if num_examples:
        s = s.take(num_examples)
    return s.images.astype(np.float32) / 255.0, s.labels


def run_eval(args):
    """``tfvae eval``: evaluates, prints the table, writes JSON (and images)."""
    import contextlib
    import dataclasses
    import os

    from tfvae import checkpoints, data, io, training, viz
    from tfvae.errors import TfvaeError

    # First: multi-worker collectives must be configured before TensorFlow runs anything.
    strategy = training.make_strategy(getattr(args, "strategy", "default"))
    chief = training.is_chief(strategy)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model, config, ckpt, home = checkpoints.load_model(args.load_weight_dir)
    dc = data.DataConfig.from_dict(config["data"])
    dc = dataclasses.replace(dc, train_examples=0, val_examples=0, validation_holdout=0)
    if args.dataset:
        dc = dataclasses.replace(dc, dataset=args.dataset)
    if args.data_dir:
        dc = dataclasses.replace(dc, data_dir=args.data_dir)
    from tfvae import zoo

    output = args.output or os.path.join(zoo.writable_home(home, "eval") or home, "metrics.json")
    print(f"tfvae: evaluating {ckpt} on {dc.dataset}/{args.split}; writing {output}", flush=True)
    images, labels = load_eval_images(dc, args.split, args.num_examples)
    want = tuple(model.config.input_shape)
    if images.shape[1:] != want:
        raise TfvaeError(
            f"model expects images of shape {want}, dataset {dc.dataset} has {images.shape[1:]}; "
            "evaluate on the data it was trained on"
        )
    if model.config.conditional and labels.max() >= model.num_classes:
        raise TfvaeError(f"labels of {dc.dataset} go up to {labels.max()}, the cvae knows {model.num_classes} classes")
    if strategy is not None:
        print(f"tfvae: strategy {args.strategy}: {strategy.num_replicas_in_sync} replicas share each batch"
              + ("" if chief else "; this worker is not the chief and writes nothing"), flush=True)
    m = evaluate(model, images, iwae_samples=args.iwae_samples, batch=args.batch, seed=args.seed, labels=labels,
                 strategy=strategy)
    binary = bool(np.isin(images, (0.0, 1.0)).all())
    likelihood = model.config.likelihood
    result = {
        "dataset": dc.dataset,
        "split": args.split,
        "n_examples": m["n_examples"],
        "binarize": dc.binarize,
        "model": model.config.model,
        "likelihood": likelihood,
        "iwae_samples": m["iwae_samples"],
        **{k: m[k] for k in ("elbo", "neg_elbo", "nll", "bits_per_dim", "reconstruction_loss", "kl", "rmse",
                             "active_units", "latent_dim", "seconds")},
        "rmse_note": "RMSE of the decoder mean given z_mean against the (binarized) input, per image, averaged",
        "weights": os.path.abspath(ckpt),
        "seed": args.seed,
    }
    if model.config.model == "ae":
        result["likelihood_note"] = "an auto-encoder defines no likelihood: only reconstruction loss and RMSE"
    elif likelihood == "mse":
        result["likelihood_note"] = ("the mse decoder's 'log p(x|z)' is minus the squared error, not a normalised "
                                     "density: nll and elbo are not likelihoods")
    elif likelihood == "gaussian":
        result["likelihood_note"] = ("Gaussian densities of real-valued pixels in [0, 1]: nats, may be negative; "
                                     "bits_per_dim is not comparable with discrete-data numbers")
    elif not binary:
        result["likelihood_note"] = (
            "the data are not binary: the Bernoulli 'NLL' and ELBO are cross-entropies, not likelihoods"
        )
    print(format_table(result), flush=True)
    if not chief:
        return result
    io.write_json(output, result)
    print(f"tfvae: wrote {output}")
    if args.save_images:
        n = min(50, len(images))
        recon = model((images[:n], labels[:n]) if model.config.conditional else images[:n]).numpy()
        path = os.path.join(os.path.dirname(os.path.abspath(output)), "reconstructions.png")
        viz.save_png(path, viz.pairs_grid(images[:n], recon, ncol=10), scale=2)
        print(f"tfvae: wrote {path}")
    return result
