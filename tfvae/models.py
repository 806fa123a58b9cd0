"""The model family: VAE, plain auto-encoder (AE) and conditional VAE (CVAE).

``VAEConfig`` (a dataclass, pythae style) holds everything that defines the
architecture; ``VAE`` is the subclassed ``keras.Model`` with custom
``train_step`` and ``test_step`` so that ``fit(..., validation_data=...)``,
``evaluate`` and ``predict`` all work.

* ``model``: ``vae`` (default), ``ae`` (deterministic z = encoder output,
  reconstruction loss only), ``cvae`` (one-hot label concatenated to the
  encoder input and to z), ``vae2`` (two stochastic layers, Burda et al.
  2016: ``q(z1|x) q(z2|z1)``, ``p(z2) p(z1|z2) p(x|z1)``; ``latent_dim`` is the
  top layer z2, the one with the N(0, I) prior that sampling and the exported
  decoder take).
* ``arch``: ``mlp`` (default), ``gated`` (the MLP with gated linear units,
  ``h = (xW + b) * sigmoid(xV + c)``, as in VampPrior's and Dauphin et al.'s
  networks) or ``conv`` (stride-2 conv blocks down, mirrored transposed convs
  up; optional batch norm).
* ``objective``: ``elbo`` (default) or ``iwae`` with ``k`` importance samples.
* ``likelihood``: ``bernoulli`` (logits, default), ``gaussian`` (per-pixel
  mean and a learned, bounded log-variance) or ``mse`` (fixed-variance L2,
  the seeds' reconstruction term; not a normalised density).
"""

import dataclasses
import math
from typing import Tuple

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras

from tfvae import losses
from tfvae.errors import TfvaeError

MODEL_KINDS = ("vae", "ae", "cvae", "vae2")
ARCHS = ("mlp", "gated", "conv")
LIKELIHOODS = ("bernoulli", "gaussian", "mse")
OBJECTIVES = ("elbo", "iwae")
# Bounds of the Gaussian decoder's log-variance (std from 0.0067 to 2.7).
LOG_VAR_MIN, LOG_VAR_MAX = -10.0, 2.0
# vae2: bound of |log-variance| of p(z1 | z2), softly (bound * tanh(raw / bound)).
PRIOR_LOG_VAR_BOUND = 8.0


@dataclasses.dataclass
class VAEConfig:
    """Architecture of a model.

    Attributes:
        input_shape: image shape ``(H, W, C)``.
        latent_dim: size of z.
        hidden: widths of the encoder's dense layers; the decoder mirrors them.
        beta: weight of the KL term in the loss (1.0 = the ELBO).
        model: ``vae``, ``ae`` or ``cvae``.
        arch: ``mlp``, ``gated`` or ``conv``.
        likelihood: ``bernoulli``, ``gaussian`` or ``mse``.
        num_classes: label classes (``cvae`` only).
        conv_filters: filters of the stride-2 conv blocks (``conv`` only;
            empty = 32,64 for small images, 32,64,128,256 from 64 pixels up).
        batch_norm: batch normalisation in the conv blocks.
        objective: ``elbo`` or ``iwae`` (Burda et al.: train on the
            importance-weighted bound with ``k`` samples per example).
        k: importance samples per example for ``objective="iwae"``.
        latent_dim1: size of the bottom stochastic layer z1 (``vae2`` only;
            0 = twice ``latent_dim``).
        hidden2: widths of the dense layers between z1 and z2 (``vae2`` only;
            empty = half of each ``hidden`` width, Burda et al.'s proportions).
    """

    input_shape: Tuple[int, int, int] = (28, 28, 1)
    latent_dim: int = 128
    hidden: Tuple[int, ...] = (512, 256)
    beta: float = 1.0
    model: str = "vae"
    arch: str = "mlp"
    likelihood: str = "bernoulli"
    num_classes: int = 0
    conv_filters: Tuple[int, ...] = ()
    batch_norm: bool = False
    objective: str = "elbo"
    k: int = 1
    latent_dim1: int = 0
    hidden2: Tuple[int, ...] = ()

    def __post_init__(self):
        self.input_shape = tuple(int(v) for v in self.input_shape)
        self.hidden = tuple(int(v) for v in self.hidden)
        self.conv_filters = tuple(int(v) for v in self.conv_filters)
        self.latent_dim = int(self.latent_dim)
        self.beta = float(self.beta)
        self.num_classes = int(self.num_classes)
        self.batch_norm = bool(self.batch_norm)
        if len(self.input_shape) != 3 or min(self.input_shape) < 1:
            raise TfvaeError(f"input_shape must be (H, W, C) with positive sizes, got {self.input_shape}")
        if self.latent_dim < 1:
            raise TfvaeError(f"latent_dim must be a positive integer, got {self.latent_dim}")
        if not self.hidden or min(self.hidden) < 1:
            raise TfvaeError(f"hidden must be positive layer widths like 512,256, got {self.hidden}")
        if not math.isfinite(self.beta) or self.beta < 0:
            raise TfvaeError(f"beta must be a finite number >= 0, got {self.beta}")
        for name, allowed in (("model", MODEL_KINDS), ("arch", ARCHS), ("likelihood", LIKELIHOODS)):
            if getattr(self, name) not in allowed:
                raise TfvaeError(f"--{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if self.model == "cvae" and self.num_classes < 2:
            raise TfvaeError(f"a cvae needs labelled data with >= 2 classes, got {self.num_classes}")
        if self.model != "cvae":
            self.num_classes = 0
        if self.arch == "conv" and not self.conv_filters:
            self.conv_filters = (32, 64) if min(self.input_shape[:2]) < 64 else (32, 64, 128, 256)
        self.k = int(self.k)
        if self.objective not in OBJECTIVES:
            raise TfvaeError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.k < 1:
            raise TfvaeError(f"--k must be a positive integer, got {self.k}")
        if self.objective == "iwae" and self.model == "ae":
            raise TfvaeError("--objective iwae needs a vae or cvae (an auto-encoder has no posterior to sample)")
        if self.conv_filters and min(self.conv_filters) < 1:
            raise TfvaeError(f"conv_filters must be positive, got {self.conv_filters}")
        self.latent_dim1 = int(self.latent_dim1)
        self.hidden2 = tuple(int(v) for v in self.hidden2)
        if self.model != "vae2":
            self.latent_dim1, self.hidden2 = 0, ()
            return
        if self.arch == "conv":
            raise TfvaeError("--model vae2 is built for --arch mlp or gated, not conv")
        if self.latent_dim1 < 0 or (self.hidden2 and min(self.hidden2) < 1):
            raise TfvaeError(f"--latent_dim1 must be >= 1 and --hidden2 positive widths, got "
                             f"{self.latent_dim1} and {self.hidden2}")
        self.latent_dim1 = self.latent_dim1 or 2 * self.latent_dim
        self.hidden2 = self.hidden2 or tuple(max(1, w // 2) for w in self.hidden)

    @property
    def conditional(self):
        return self.model == "cvae"

    def to_dict(self):
        d = dataclasses.asdict(self)
        for k in ("input_shape", "hidden", "conv_filters", "hidden2"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, d):
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


# ------------------------------------------------------------ networks
@keras.saving.register_keras_serializable(package="tfvae")
class GatedDense(keras.layers.Layer):
    """A gated linear unit: ``(x W + b) * sigmoid(x V + c)`` (Dauphin et al. 2017).

    One matmul computes both halves. VampPrior (Tomczak & Welling 2018) uses
    these in place of ReLU layers for its MNIST VAEs.

    Args:
        units: output width.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.dense = keras.layers.Dense(2 * self.units, name="linear_and_gate")

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, x):
        h, gate = keras.ops.split(self.dense(x), 2, axis=-1)
        return h * keras.ops.sigmoid(gate)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _dense_stack(widths, prefix, gated=False):
    if gated:
        return [GatedDense(w, name=f"{prefix}_gated_{i}") for i, w in enumerate(widths)]
    return [keras.layers.Dense(w, activation="relu", name=f"{prefix}_dense_{i}") for i, w in enumerate(widths)]


def _conv_down(filters, batch_norm):
    layers = []
    for i, f in enumerate(filters):
        layers.append(keras.layers.Conv2D(f, 4, strides=2, padding="same", name=f"enc_conv_{i}"))
        if batch_norm:
            layers.append(keras.layers.BatchNormalization(name=f"enc_bn_{i}"))
        layers.append(keras.layers.ReLU())
    return layers


def build_encoder(cfg, out_dim):
    """Encoder network: images (plus label planes for a cvae) -> ``out_dim`` numbers."""
    h, w, c = cfg.input_shape
    k = cfg.num_classes
    if cfg.arch != "conv":
        inputs = [keras.layers.Input((h * w * c + k,))] if k else [keras.layers.Input(cfg.input_shape), keras.layers.Flatten()]
        body = _dense_stack(cfg.hidden, "enc", gated=cfg.arch == "gated")
    else:
        inputs = [keras.layers.Input((h, w, c + k))]
        body = _conv_down(cfg.conv_filters, cfg.batch_norm) + [keras.layers.Flatten()] + _dense_stack(cfg.hidden, "enc")
    return keras.Sequential(inputs + body + [keras.layers.Dense(out_dim, name="enc_stats")], name="encoder")


def build_decoder(cfg, out_channels, latent=None, name="decoder"):
    """Decoder network: z (plus one-hot label for a cvae) -> ``[H, W, out_channels]`` raw outputs.

    ``latent``: input size if not ``cfg.latent_dim`` (a vae2's z1).
    """
    h, w, _ = cfg.input_shape
    layers = [keras.layers.Input(((latent or cfg.latent_dim) + cfg.num_classes,))] + \
        _dense_stack(tuple(reversed(cfg.hidden)), "dec", gated=cfg.arch == "gated")
    if cfg.arch != "conv":
        layers += [keras.layers.Dense(h * w * out_channels, name="dec_out"), keras.layers.Reshape((h, w, out_channels))]
    else:
        n = len(cfg.conv_filters)
        h0, w0 = -(-h // 2**n), -(-w // 2**n)
        f_last = cfg.conv_filters[-1]
        layers += [keras.layers.Dense(h0 * w0 * f_last, activation="relu", name="dec_project"),
                   keras.layers.Reshape((h0, w0, f_last))]
        for i, f in enumerate(reversed(cfg.conv_filters[:-1])):
            layers.append(keras.layers.Conv2DTranspose(f, 4, strides=2, padding="same", name=f"dec_deconv_{i}"))
            if cfg.batch_norm:
                layers.append(keras.layers.BatchNormalization(name=f"dec_bn_{i}"))
            layers.append(keras.layers.ReLU())
        layers.append(keras.layers.Conv2DTranspose(out_channels, 4, strides=2, padding="same", name="dec_out"))
        if (h0 * 2**n, w0 * 2**n) != (h, w):
            layers.append(keras.layers.Cropping2D(((0, h0 * 2**n - h), (0, w0 * 2**n - w))))
    return keras.Sequential(layers, name=name)


def build_dense_net(cfg, name, in_dim, widths, out_dim):
    """``in_dim`` -> dense (or gated) layers ``widths`` -> ``out_dim`` linear outputs (a vae2's inner nets)."""
    body = _dense_stack(tuple(widths), name, gated=cfg.arch == "gated")
    return keras.Sequential([keras.layers.Input((in_dim,))] + body + [keras.layers.Dense(out_dim, name=f"{name}_out")],
                            name=name)


# -------------------------------------------------------------- metrics
TERMS = ("loss", "reconstruction_loss", "kl_loss", "rmse")


@keras.saving.register_keras_serializable(package="tfvae")
class TermMeans(keras.metrics.Metric):
    """Running means of several per-example terms, updated together.

    One state vector and one count instead of a ``keras.metrics.Mean`` per
    term: the same numbers with a few ops per step instead of a few dozen
    (it shows on a CPU step of a few milliseconds; bench/step_breakdown.py).

    Args:
        names: the terms, in the order ``update_state`` gets them.
    """

    def __init__(self, names=TERMS, name="terms", **kwargs):
        super().__init__(name=name, **kwargs)
        self.names = tuple(names)
        self.total = self.add_variable(shape=(len(self.names),), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values):
        """``values``: ``[len(names), batch]``."""
        values = tf.cast(values, self.total.dtype)
        self.total.assign_add(tf.reduce_sum(values, axis=1))
        self.count.assign_add(tf.cast(tf.shape(values)[1], self.count.dtype))

    def result(self):
        """``{name: running mean}`` (Keras puts a dict result's items into the logs)."""
        means = tf.math.divide_no_nan(self.total, self.count)
        return {n: means[i] for i, n in enumerate(self.names)}

    def reset_state(self):
        self.total.assign(tf.zeros_like(self.total))
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "names": list(self.names)}


# ---------------------------------------------------------------- model
@keras.saving.register_keras_serializable(package="tfvae")
class VAE(keras.Model):
    """VAE / AE / CVAE with a N(0, I) prior and a Bernoulli, Gaussian or L2 decoder.

    The loss per example is ``-log p(x | z) + beta * KL(q(z | x) || p(z))`` in
    nats (an AE has no KL term and a deterministic z), averaged over the batch.
    Data are images, or ``(images, labels)`` pairs (labels required by a cvae).

    Args:
        input_shape: image shape ``(H, W, C)``; inputs are floats in [0, 1].
        latent_dim: size of z.
        hidden: dense widths of the encoder (the decoder mirrors them).
        beta: KL weight.
        **kwargs: the other ``VAEConfig`` fields (``model``, ``arch``,
            ``likelihood``, ``num_classes``, ``conv_filters``, ``batch_norm``)
            and ``keras.Model`` arguments.
    """

    def __init__(self, input_shape=(28, 28, 1), latent_dim=128, hidden=(512, 256), beta=1.0, **kwargs):
        fields = {k: kwargs.pop(k) for k in list(kwargs) if k in VAEConfig.__dataclass_fields__}
        super().__init__(**kwargs)
        self.config = VAEConfig(input_shape=input_shape, latent_dim=latent_dim, hidden=hidden, beta=beta, **fields)
        cfg = self.config
        channels = cfg.input_shape[-1]
        stats = cfg.latent_dim if cfg.model == "ae" else 2 * cfg.latent_dim
        out_channels = 2 * channels if cfg.likelihood == "gaussian" else channels
        if cfg.model == "vae2":
            # encoder: x -> z1 stats; encoder2: z1 -> z2 stats; prior1: z2 -> p(z1|z2) stats; decoder: z1 -> x.
            d1, d2 = cfg.latent_dim1, cfg.latent_dim
            self.encoder = build_encoder(cfg, 2 * d1)
            self.encoder2 = build_dense_net(cfg, "encoder2", d1, cfg.hidden2, 2 * d2)
            self.prior1 = build_dense_net(cfg, "prior1", d2, tuple(reversed(cfg.hidden2)), 2 * d1)
            self.decoder = build_decoder(cfg, out_channels, latent=d1)
        else:
            self.encoder = build_encoder(cfg, stats)
            self.decoder = build_decoder(cfg, out_channels)
        # A variable, so KL warm-up can change it without retracing.
        self.beta = keras.Variable(cfg.beta, trainable=False, name="beta", dtype="float32")
        self.seed_generator = keras.random.SeedGenerator(seed=None, name="sampling_seed")

        self.term_means = TermMeans(TERMS)
        self.xla_step = False  # set by compile(xla_step=...)

    # ------------------------------------------------------------------ API
    @property
    def latent_dim(self):
        return self.config.latent_dim

    @property
    def num_classes(self):
        return self.config.num_classes

    @property
    def can_sample(self):
        return self.config.model != "ae"

    def _one_hot(self, labels, n):
        if labels is None:
            raise TfvaeError("a cvae needs labels: pass (images, labels) or label=")
        labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
        return tf.broadcast_to(tf.one_hot(labels, self.num_classes), [n, self.num_classes]) \
            if labels.shape.rank == 1 and labels.shape[0] == 1 else tf.one_hot(labels, self.num_classes)

    def encode(self, x, labels=None, training=False):
        """Returns ``(z_mean, z_log_var)``, each ``[batch, latent_dim]``.

        An AE returns its code and a zero log-variance.
        """
        x = tf.cast(x, tf.float32)
        if self.config.conditional:
            y = self._one_hot(labels, tf.shape(x)[0])
            if self.config.arch != "conv":
                x = tf.concat([tf.reshape(x, [tf.shape(x)[0], -1]), y], axis=-1)
            else:
                planes = tf.ones_like(x[..., :1]) * y[:, None, None, :]
                x = tf.concat([x, planes], axis=-1)
        # float32 out of the networks whatever the compute dtype (bf16 mixed precision).
        stats = tf.cast(self.encoder(x, training=training), tf.float32)
        if self.config.model == "vae2":  # q(z2 | z1) at the mean of q(z1 | x)
            z1_mean, _ = tf.split(stats, 2, axis=-1)
            stats = tf.cast(self.encoder2(z1_mean, training=training), tf.float32)
        if self.config.model == "ae":
            return stats, tf.zeros_like(stats)
        z_mean, z_log_var = tf.split(stats, 2, axis=-1)
        return z_mean, z_log_var

    def reparameterize(self, z_mean, z_log_var, rows=None):
        """Draws ``z = mean + exp(log_var / 2) * eps`` (differentiable).

        Args:
            z_mean, z_log_var: ``[batch, latent_dim]``.
            rows: ``(offset, global_batch)`` under a ``tf.distribute`` strategy
                (see ``draw_noise``).
        """
        eps = self.draw_noise(tf.shape(z_mean)[0], rows)[:, 0, : self.latent_dim]
        return z_mean + tf.exp(0.5 * z_log_var) * eps

    @property
    def samples_per_example(self):
        """Posterior samples drawn per example in training: ``k`` for ``objective="iwae"``, else 1."""
        return self.config.k if self.config.objective == "iwae" else 1

    def draw_noise(self, batch, rows=None, steps=None):
        """Standard-normal noise for one training (or validation) step.

        All of a step's randomness, drawn with TF's kernels from the model's
        seed generator, so that the rest of the step can be compiled with XLA
        (whose CPU random-number code is slow) and the same seed gives the same
        numbers either way.

        Args:
            batch: examples in this batch (this replica's share under a strategy).
            rows: ``(offset, global_batch)`` under a ``tf.distribute`` strategy
                (see ``replica_rows``): the noise is drawn for the whole global
                batch with the (mirrored) seed and this replica takes its own
                rows, so replicas get different noise and a one-worker split
                draws exactly the noise a single device would.

            steps: draw for this many consecutive steps at once (a stack of
                batches, ``train_step``): one draw per step, in order, so the
                noise is exactly what that many single steps would draw.

        Returns:
            ``[batch, samples_per_example, latent_dim1 + latent_dim]`` (z1's
            noise first for a vae2), with a leading ``[steps]`` axis if
            ``steps`` is given; or ``None`` for an auto-encoder.
        """
        if self.config.model == "ae":
            return None
        width = self.config.latent_dim1 + self.config.latent_dim
        k = self.samples_per_example
        if steps is not None:
            def one(i, out):
                return i + 1, out.write(i, self.draw_noise(batch, rows))

            _, out = tf.while_loop(lambda i, _: i < steps, one,
                                   (tf.constant(0), tf.TensorArray(tf.float32, size=steps)))
            return out.stack()
        if rows is None:
            return keras.random.normal(tf.stack([batch, k, width]), seed=self.seed_generator)
        offset, total = rows
        return keras.random.normal(tf.stack([total, k, width]), seed=self.seed_generator)[offset : offset + batch]

    def decoder_output(self, z, labels=None, training=False):
        """Raw decoder output (logits, or mean and log-variance parameters), ``[batch, H, W, C']``.

        A vae2 decodes its top z through the mean of ``p(z1 | z2)``.
        """
        z = tf.cast(z, tf.float32)
        if self.config.model == "vae2":
            z, _ = self._prior1(z, training)
        if self.config.conditional:
            z = tf.concat([z, self._one_hot(labels, tf.shape(z)[0])], axis=-1)
        return tf.cast(self.decoder(z, training=training), tf.float32)

    def _prior1(self, z2, training=False):
        """Mean and (softly bounded) log-variance of a vae2's ``p(z1 | z2)``."""
        mean, raw = tf.split(tf.cast(self.prior1(z2, training=training), tf.float32), 2, axis=-1)
        return mean, PRIOR_LOG_VAR_BOUND * tf.tanh(raw / PRIOR_LOG_VAR_BOUND)

    def vae2_terms(self, x, eps, training=False):
        """Per-sample terms of a vae2 for given standard-normal noise.

        ``z1 ~ q(z1|x)``, ``z2 ~ q(z2|z1)``; the importance weight is
        ``log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1)``.

        Args:
            x: images ``[b, H, W, C]``.
            eps: noise ``[b, k, latent_dim1 + latent_dim]`` (z1's, then z2's).
            training: passed to the networks.

        Returns:
            dict: ``log_w`` and ``log_px_z`` ``[b, k]``; ``kl`` ``[b, k]``
            (``log q(z1|x) - log p(z1|z2)`` plus the analytic KL of ``q(z2|z1)``
            from N(0, I)); ``z_mean``, ``z_log_var`` ``[b, latent_dim]``
            (``q(z2|z1)`` at the mean of ``q(z1|x)``); ``raw`` ``[b, H, W, C']``
            (decoder output of the first sample) and ``recon`` (decoder means
            at the mean of ``q(z1|x)``).
        """
        d1, d2 = self.config.latent_dim1, self.config.latent_dim
        b, k = tf.shape(eps)[0], tf.shape(eps)[1]
        x = tf.cast(x, tf.float32)
        m1, lv1 = tf.split(tf.cast(self.encoder(x, training=training), tf.float32), 2, axis=-1)
        z1 = m1[:, None, :] + tf.exp(0.5 * lv1)[:, None, :] * eps[..., :d1]
        flat1 = tf.reshape(z1, [-1, d1])
        m2, lv2 = tf.split(tf.cast(self.encoder2(flat1, training=training), tf.float32), 2, axis=-1)
        z2 = m2 + tf.exp(0.5 * lv2) * tf.reshape(eps[..., d1:], [-1, d2])
        pm1, plv1 = self._prior1(z2, training)
        raw = tf.cast(self.decoder(flat1, training=training), tf.float32)
        log_px_z = tf.reshape(self.log_likelihood(tf.repeat(x, k, axis=0), raw), [b, k])
        log_q1 = losses.log_normal(z1, m1[:, None, :], lv1[:, None, :])
        log_p1 = tf.reshape(losses.log_normal(flat1, pm1, plv1), [b, k])
        log_q2 = tf.reshape(losses.log_normal(z2, m2, lv2), [b, k])
        log_p2 = tf.reshape(losses.log_standard_normal(z2), [b, k])
        kl = log_q1 - log_p1 + tf.reshape(losses.kl_standard_normal(m2, lv2), [b, k])
        top_mean, top_log_var = tf.split(tf.cast(self.encoder2(m1, training=training), tf.float32), 2, axis=-1)
        first = tf.reshape(raw, tf.concat([[b, k], tf.shape(raw)[1:]], 0))[:, 0]
        return {"log_w": log_px_z + log_p1 + log_p2 - log_q1 - log_q2, "log_px_z": log_px_z, "kl": kl,
                "z_mean": top_mean, "z_log_var": top_log_var, "raw": first,
                "recon": self.mean_image(tf.cast(self.decoder(m1, training=training), tf.float32))}

    def _vae2_losses(self, x, eps, training):
        """ELBO (k = 1) or importance-weighted bound (``objective="iwae"``) of a vae2."""
        k = self.samples_per_example
        b = tf.shape(x)[0]
        t = self.vae2_terms(x, eps, training)
        rec, kl = -tf.reduce_mean(t["log_px_z"], axis=1), tf.reduce_mean(t["kl"], axis=1)
        loss = -(tf.reduce_logsumexp(t["log_w"], axis=1) - math.log(k)) if k > 1 else rec + self.beta * kl
        err = tf.reshape(self.mean_image(t["raw"]) - tf.cast(x, tf.float32), [b, -1])
        return {"loss": loss, "reconstruction_loss": rec, "kl_loss": kl,
                "rmse": tf.sqrt(tf.reduce_mean(tf.square(err), axis=1))}

    def decode_logits(self, z, labels=None):
        """Decoder logits of a Bernoulli model (the raw output for the others)."""
        return self.decoder_output(z, labels)

    def mean_image(self, raw):
        """Decoder means in [0, 1] from the raw output."""
        c = self.config.input_shape[-1]
        return tf.sigmoid(raw[..., :c])

    def log_likelihood(self, x, raw):
        """``log p(x | z)`` per example (nats; for ``mse``, minus the squared error)."""
        c = self.config.input_shape[-1]
        if self.config.likelihood == "bernoulli":
            return -losses.bernoulli_nll(x, raw)
        if self.config.likelihood == "gaussian":
            log_var = LOG_VAR_MIN + (LOG_VAR_MAX - LOG_VAR_MIN) * tf.sigmoid(raw[..., c:])
            return -losses.gaussian_nll(x, tf.sigmoid(raw[..., :c]), log_var)
        return -losses.squared_error(x, tf.sigmoid(raw))

    def decode(self, z, labels=None):
        """Decoder means (pixel probabilities for Bernoulli) in [0, 1], ``[batch, H, W, C]``."""
        return self.mean_image(self.decoder_output(z, labels))

    def call(self, inputs, training=False):
        """Reconstructions of ``inputs`` (images, or ``(images, labels)``), decoded from ``z_mean``."""
        x, y = self._unpack(inputs)
        if self.config.model == "vae2":  # through the mean of q(z1 | x), not the top layer
            m1, _ = tf.split(tf.cast(self.encoder(tf.cast(x, tf.float32), training=training), tf.float32), 2, axis=-1)
            return self.mean_image(tf.cast(self.decoder(m1, training=training), tf.float32))
        z_mean, _ = self.encode(x, y, training=training)
        return self.decode(z_mean, y)

    def sample(self, n, temperature=1.0, seed=None, labels=None):
        """Decodes ``n`` draws of ``z ~ N(0, temperature^2 I)``.

        Args:
            n: number of samples.
            temperature: prior standard deviation scale (>= 0).
            seed: integer for repeatable samples.
            labels: class of each sample (a cvae needs them; one int is repeated).

        Returns:
            Tensor ``[n, H, W, C]`` of decoder means.
        """
        if not self.can_sample:
            raise TfvaeError("a plain auto-encoder (--model ae) has no prior to sample from; "
                             "use eval --save_images for reconstructions, or train a vae")
        shape = [int(n), self.latent_dim]
        z = tf.random.stateless_normal(shape, seed=[int(seed), 7]) if seed is not None else tf.random.normal(shape)
        if labels is not None:
            labels = tf.broadcast_to(tf.reshape(tf.constant(labels, tf.int32), [-1]), [int(n)])
        return self.decode(float(temperature) * z, labels)

    # ---------------------------------------------------------- training
    @staticmethod
    def _unpack(data):
        if isinstance(data, (tuple, list)):
            return data[0], (data[1] if len(data) > 1 else None)
        return data, None

    def compute_losses(self, x, labels=None, training=False, rows=None, eps=None):
        """Per-example terms for a batch.

        Args:
            x: images ``[batch, H, W, C]``.
            labels: ``[batch]`` int labels (a cvae needs them).
            training: passed to the networks.
            rows: ``(offset, global_batch)`` of this replica's examples under a
                ``tf.distribute`` strategy (passed on to ``draw_noise``).
            eps: the step's noise from ``draw_noise`` (drawn here if ``None``).

        Returns:
            dict of ``[batch]`` tensors: ``reconstruction_loss``, ``kl_loss``,
            ``loss`` and ``rmse``.
        """
        if eps is None:
            eps = self.draw_noise(tf.shape(x)[0], rows)
        if self.config.model == "vae2":
            return self._vae2_losses(x, eps, training)
        if self.samples_per_example > 1:
            return self._iwae_losses(x, labels, eps, training)
        z_mean, z_log_var = self.encode(x, labels, training=training)
        if self.config.model == "ae":
            z, kl = z_mean, tf.zeros_like(z_mean[:, 0])
        else:
            z = z_mean + tf.exp(0.5 * z_log_var) * eps[:, 0, :]
            kl = losses.kl_standard_normal(z_mean, z_log_var)
        raw = self.decoder_output(z, labels, training=training)
        rec = -self.log_likelihood(x, raw)
        loss = rec + self.beta * kl
        err = tf.reshape(self.mean_image(raw) - tf.cast(x, raw.dtype), [tf.shape(x)[0], -1])
        rmse = tf.sqrt(tf.reduce_mean(tf.square(err), axis=1))
        return {"loss": loss, "reconstruction_loss": rec, "kl_loss": kl, "rmse": rmse}

    def _iwae_losses(self, x, labels, eps, training):
        """The importance-weighted bound with k samples per example (Burda et al., 2016).

        ``loss = -log (1/k) sum_i p(x, z_i) / q(z_i | x)``; ``reconstruction_loss``
        is the mean of ``-log p(x | z_i)`` and ``kl_loss`` the analytic KL, for
        comparison with ELBO training. ``beta`` is not used by this objective.
        """
        k = self.config.k
        z_mean, z_log_var = self.encode(x, labels, training=training)
        b, d = tf.shape(z_mean)[0], self.latent_dim
        z = z_mean[:, None, :] + tf.exp(0.5 * z_log_var)[:, None, :] * eps
        rep_labels = None if labels is None else tf.repeat(labels, k)
        raw = self.decoder_output(tf.reshape(z, [-1, d]), rep_labels, training=training)
        log_px_z = tf.reshape(self.log_likelihood(tf.repeat(x, k, axis=0), raw), [b, k])
        log_w = log_px_z + losses.log_standard_normal(z) - losses.log_normal(
            z, z_mean[:, None, :], z_log_var[:, None, :])
        bound = tf.reduce_logsumexp(log_w, axis=1) - math.log(k)
        mean = tf.reshape(self.mean_image(raw), tf.concat([[b, k], tf.shape(x)[1:]], 0))[:, 0]
        err = tf.reshape(mean - tf.cast(x, mean.dtype), [b, -1])
        return {"loss": -bound, "reconstruction_loss": -tf.reduce_mean(log_px_z, axis=1),
                "kl_loss": losses.kl_standard_normal(z_mean, z_log_var),
                "rmse": tf.sqrt(tf.reduce_mean(tf.square(err), axis=1))}

    @property
    def metrics(self):
        return [self.term_means]

    def _update_metrics(self, terms, distributed=False):
        tracker = self.term_means
        tracker.update_state(tf.stack([terms[n] for n in tracker.names]))
        if not distributed:
            return tracker.result()
        # Inside a replica a metric reads its own replica's share (the totals are
        # SyncOnRead variables, summed only when read outside the replicas, as
        # Keras does at the end of an epoch). The per-step logs are the global
        # running means: one all-reduce of (totals, count).
        local = tf.concat([tf.cast(tracker.total, tf.float32), tf.reshape(tf.cast(tracker.count, tf.float32), [1])], 0)
        both = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, local)
        # Across hosts Keras 3 reduces every log with strategy.reduce(MEAN, v, axis=0),
        # which rejects scalars (tensorflow/tensorflow#72388): give it [1]-shaped
        # values (the same on every replica), which it reduces to the scalar.
        shape = [1] if self._multi_worker() else []
        means = tf.math.divide_no_nan(both[:-1], both[-1])
        return {n: tf.reshape(means[i], shape) for i, n in enumerate(tracker.names)}

    @staticmethod
    def _multi_worker():
        strategy = tf.distribute.get_strategy()
        return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
                and strategy.extended._in_multi_worker_mode())  # Keras' own test for that reduction

    @staticmethod
    def in_replica():
        """True inside ``strategy.run`` of a ``tf.distribute`` strategy (not the default one)."""
        return tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context()

    @staticmethod
    def replica_rows(n):
        """``(offset, global_batch)`` of this replica's ``n`` examples in the global batch.

        Replicas are ordered by their id; one all-gather of the local sizes
        (they differ on a last, partial batch).
        """
        ctx = tf.distribute.get_replica_context()
        sizes = ctx.all_gather(tf.reshape(tf.cast(n, tf.int32), [1]), axis=0)
        rid = tf.cast(ctx.replica_id_in_sync_group, tf.int32)
        return tf.reduce_sum(sizes[:rid]), tf.reduce_sum(sizes)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # A tfvae model is built on creation (build_all) and compiled without a
        # Keras loss or metrics, so there is nothing to build from data. Under a
        # tf.distribute strategy Keras 3's TF trainer would still draw a batch
        # here, which fails under MultiWorkerMirroredStrategy (it reduces the
        # (images, labels) structure with strategy.reduce) and opens the
        # training dataset once more, shifting its shuffle order by an epoch.
        if (all(layer.built for layer in self._flatten_layers())
                and getattr(self, "_compile_metrics", None) is None
                and getattr(self, "_compile_loss", None) is None
                and (self.optimizer is None or self.optimizer.built)):
            return
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def compile(self, optimizer="rmsprop", xla_step=False, **kwargs):
        """``keras.Model.compile`` plus ``xla_step``.

        Args:
            optimizer: as for Keras.
            xla_step: compile each training and validation step (loss,
                gradients, optimizer update, metrics' inputs) with XLA, while
                the step's noise is drawn outside it with TF's kernels
                (``draw_noise``; XLA's CPU random numbers are slow). One device
                only: under a ``tf.distribute`` strategy steps run as TF graphs.
                Keras' own ``jit_compile`` would compile the draws too.
            **kwargs: ``keras.Model.compile`` arguments.
        """
        super().compile(optimizer=optimizer, **kwargs)
        self.xla_step = bool(xla_step)
        self._xla_train = tf.function(self._train_on_noise, jit_compile=True, reduce_retracing=True)
        self._xla_train_group = tf.function(self._train_group_on_noise, jit_compile=True, reduce_retracing=True)
        self._xla_test = tf.function(self._test_on_noise, jit_compile=True, reduce_retracing=True)

    def _train_on_noise(self, x, y, eps, rows=None):
        """One optimizer step on a batch with given noise; returns the per-example terms.

        ``rows``: ``(offset, global_batch)`` of this replica's examples under a strategy.
        """
        with tf.GradientTape() as tape:
            terms = self.compute_losses(x, y, training=True, eps=eps)
            if rows is not None:
                # The optimizer sums gradients over replicas: divide the local
                # sum by the GLOBAL batch so the sum is the single-device mean.
                loss = tf.nn.compute_average_loss(terms["loss"], global_batch_size=rows[1])
            else:
                loss = tf.reduce_mean(terms["loss"])
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return terms

    def _train_group_on_noise(self, xs, ys, eps):
        """``g`` optimizer steps, one per batch of a stack ``xs`` ``[g, batch, H, W, C]``.

        The steps run in a loop inside the call (with ``xla_step``, inside one
        XLA computation), so the per-step costs outside the maths (dispatching
        the compiled step, Keras' loop around it, one pipeline element) are
        paid once per stack.

        Returns:
            the per-example terms of all ``g`` steps, ``[len(names), g * batch]``.
        """
        names = self.term_means.names
        g = xs.shape[0] if xs.shape[0] is not None else tf.shape(xs)[0]

        def body(i, out):
            terms = self._train_on_noise(xs[i], None if ys is None else ys[i], None if eps is None else eps[i])
            return i + 1, out.write(i, tf.stack([terms[n] for n in names]))

        _, out = tf.while_loop(lambda i, _: i < g, body, (tf.constant(0), tf.TensorArray(tf.float32, size=g)))
        out = out.stack()  # [g, names, batch]
        return tf.reshape(tf.transpose(out, [1, 0, 2]), [len(names), -1])

    def _is_stack(self, x):
        """Whether ``x`` is a stack of batches (one more axis than a batch of images).

        Raises:
            TfvaeError: for a stack inside a ``tf.distribute`` replica (a
                strategy would split the stack, not its batches).
        """
        stack = x.shape.rank == len(self.config.input_shape) + 2
        if stack and self.in_replica():
            raise TfvaeError("stacks of batches (make_dataset(group>1)) cannot be split across replicas; "
                             "use group=1 under a tf.distribute strategy")
        return stack

    def _train_stack(self, xs, ys):
        """``train_step`` for a stack of batches (``data.make_dataset(group=g)``)."""
        eps = self.draw_noise(tf.shape(xs)[1], steps=tf.shape(xs)[0])
        step = self._xla_train_group if self.xla_step else self._train_group_on_noise
        values = step(xs, ys, eps)
        self.term_means.update_state(values)
        return self.term_means.result()

    def _test_on_noise(self, x, y, eps):
        """The per-example terms of a batch with given noise (no update)."""
        return self.compute_losses(x, y, training=False, eps=eps)

    def train_step(self, data):
        """One optimizer step on a batch, or one per batch of a stack of batches.

        A stack (``[g, batch, H, W, C]`` images, as ``data.make_dataset(group=g)``
        yields them) runs as ``g`` consecutive steps in one call; the logs are
        the running means either way.
        """
        x, y = self._unpack(data)
        distributed = self.in_replica()
        if self._is_stack(x):
            return self._train_stack(x, y)
        rows = self.replica_rows(tf.shape(x)[0]) if distributed else None
        eps = self.draw_noise(tf.shape(x)[0], rows)
        if self.xla_step and not distributed:
            terms = self._xla_train(x, y, eps)
        else:
            terms = self._train_on_noise(x, y, eps, rows)
        return self._update_metrics(terms, distributed)

    def test_step(self, data):
        """The terms of a batch, or of a stack of batches (``make_dataset(group=g)``), without updates.

        A stack is evaluated as one larger batch (faster on a CPU), with the
        noise that one test step per batch would draw: the same numbers.
        """
        x, y = self._unpack(data)
        distributed = self.in_replica()
        if self._is_stack(x):
            eps = self.draw_noise(tf.shape(x)[1], steps=tf.shape(x)[0])
            if eps is not None:
                eps = tf.reshape(eps, [-1, self.samples_per_example, self.config.latent_dim1 + self.config.latent_dim])
            x = tf.reshape(x, [-1, *self.config.input_shape])
            y = None if y is None else tf.reshape(y, [-1])
            rows = None
        else:
            if x.shape.rank is None:  # Keras relaxed the signature (it was called with batches and stacks)
                x = tf.reshape(x, [-1, *self.config.input_shape])
                y = None if y is None else tf.reshape(y, [-1])
            rows = self.replica_rows(tf.shape(x)[0]) if distributed else None
            eps = self.draw_noise(tf.shape(x)[0], rows)
        if self.xla_step and not distributed:
            terms = self._xla_test(x, y, eps)
        else:
            terms = self._test_on_noise(x, y, eps)
        return self._update_metrics(terms, distributed)

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
        x = tf.zeros((1,) + self.config.input_shape)
        self((x, tf.zeros([1], tf.int32)) if self.config.conditional else x)
        return self


def build_model(model_config):
    """Builds a model from a ``VAEConfig`` or its dict form."""
    if isinstance(model_config, dict):
        model_config = VAEConfig.from_dict(model_config)
    return VAE(**model_config.to_dict()).build_all()
