"""The networks: dense, gated and convolutional encoders and decoders (Keras layers only, no maths of the VAE)."""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras


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


@keras.saving.register_keras_serializable(package="tfvae")
class Parameters(keras.layers.Layer):
    """Free variables that are no layer's weights (a learned prior's means, pseudo-inputs), by name: ``p["means"]``.

    Created at construction (built), in the order given, so checkpoints hold them in that order.

    Args:
        shapes: ``{name: (shape, initializer)}``.
    """

    def __init__(self, shapes, **kwargs):
        super().__init__(**kwargs)
        self.shapes = {name: tuple(int(v) for v in shape) for name, (shape, _) in shapes.items()}
        for name, (shape, init) in shapes.items():
            self.add_weight(shape=self.shapes[name], initializer=init, name=name, dtype="float32")
        self.built = True

    def __getitem__(self, name):
        for v in self.weights:
            if v.name == name:
                return v
        raise KeyError(name)

    def call(self, inputs=None):
        return {v.name: v for v in self.weights}


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


def _conv_up(filters, upsample, name):
    """Doubles height and width: a 4x4 stride-2 transposed conv, or nearest x2 then a 3x3 conv (``resize``)."""
    if upsample == "resize":
        return [keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up"),
                keras.layers.Conv2D(filters, 3, padding="same", name=name)]
    return [keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", name=name)]


class DenseArch:
    """``mlp`` (ReLU layers) or ``gated`` (gated linear units) on flattened images."""

    def __init__(self, gated):
        self.gated = gated

    def hidden(self, widths, prefix):
        return _dense_stack(tuple(widths), prefix, gated=self.gated)

    def encoder_body(self, cfg):
        h, w, c = cfg.input_shape
        k = cfg.num_classes  # a cvae's one-hot label is concatenated to the flattened image
        inputs = [keras.layers.Input((h * w * c + k,))] if k else [keras.layers.Input(cfg.input_shape),
                                                                   keras.layers.Flatten()]
        return inputs + self.hidden(cfg.hidden, "enc")

    def decoder_head(self, cfg, out_channels):
        h, w, _ = cfg.input_shape
        return [keras.layers.Dense(h * w * out_channels, name="dec_out"), keras.layers.Reshape((h, w, out_channels))]

    @staticmethod
    def with_label(x, one_hot):
        """The encoder's input for a cvae: the flattened image and the one-hot label."""
        return tf.concat([tf.reshape(x, [tf.shape(x)[0], -1]), one_hot], axis=-1)


class ConvArch(DenseArch):
    """``conv``: stride-2 4x4 convolutions down, ReLU dense layers, mirrored upsampling up (transposed convs or resize + conv)."""

    def __init__(self):
        super().__init__(gated=False)

    def encoder_body(self, cfg):
        h, w, c = cfg.input_shape  # a cvae's label comes as constant planes, one per class
        return ([keras.layers.Input((h, w, c + cfg.num_classes))] + _conv_down(cfg.conv_filters, cfg.batch_norm)
                + [keras.layers.Flatten()] + self.hidden(cfg.hidden, "enc"))

    @staticmethod
    def with_label(x, one_hot):
        """The encoder's input for a cvae: the image with one constant plane per class."""
        return tf.concat([x, tf.ones_like(x[..., :1]) * one_hot[:, None, None, :]], axis=-1)

    def decoder_head(self, cfg, out_channels):
        h, w, _ = cfg.input_shape
        n = len(cfg.conv_filters)
        h0, w0 = -(-h // 2**n), -(-w // 2**n)
        f_last = cfg.conv_filters[-1]
        layers = [keras.layers.Dense(h0 * w0 * f_last, activation="relu", name="dec_project"),
                  keras.layers.Reshape((h0, w0, f_last))]
        for i, f in enumerate(reversed(cfg.conv_filters[:-1])):
            layers += _conv_up(f, cfg.upsample, f"dec_deconv_{i}")
            if cfg.batch_norm:
                layers.append(keras.layers.BatchNormalization(name=f"dec_bn_{i}"))
            layers.append(keras.layers.ReLU())
        layers += _conv_up(out_channels, cfg.upsample, "dec_out")
        if (h0 * 2**n, w0 * 2**n) != (h, w):
            layers.append(keras.layers.Cropping2D(((0, h0 * 2**n - h), (0, w0 * 2**n - w))))
        return layers


# --arch name -> the networks it builds (configs.ARCHS names them).
ARCHS = {"mlp": DenseArch(gated=False), "gated": DenseArch(gated=True), "conv": ConvArch()}


def build_encoder(cfg, out_dim):
    """Encoder network: images (plus the label for a cvae) -> ``out_dim`` numbers."""
    body = ARCHS[cfg.arch].encoder_body(cfg)
    return keras.Sequential(body + [keras.layers.Dense(out_dim, name="enc_stats")], name="encoder")


def build_decoder(cfg, out_channels, latent=None, name="decoder"):
    """Decoder network: z (plus one-hot label for a cvae) -> ``[H, W, out_channels]`` raw outputs.

    ``latent``: input size if not ``cfg.latent_dim`` (a vae2's z1).
    """
    arch = ARCHS[cfg.arch]
    layers = ([keras.layers.Input(((latent or cfg.latent_dim) + cfg.num_classes,))]
              + arch.hidden(reversed(cfg.hidden), "dec") + arch.decoder_head(cfg, out_channels))
    return keras.Sequential(layers, name=name)


def build_dense_net(cfg, name, in_dim, widths, out_dim):
    """``in_dim`` -> dense (or gated) layers ``widths`` -> ``out_dim`` linear outputs (a vae2's inner nets)."""
    body = ARCHS[cfg.arch].hidden(widths, name)
    return keras.Sequential([keras.layers.Input((in_dim,))] + body + [keras.layers.Dense(out_dim, name=f"{name}_out")],
                            name=name)


@keras.saving.register_keras_serializable(package="tfvae")
class FlowParameters(Parameters):
    """A flow's amortised parameters: dense maps of the context, and free variables (``Parameters``' ``p[name]``).

    Args:
        dense: ``{name: (in_dim, out_dim, kernel initializer)}``: ``p.dense(name, context)``.
        shapes: ``{name: (shape, initializer)}``: free variables, as ``Parameters``.
    """

    def __init__(self, dense, shapes, **kwargs):
        super().__init__(shapes, **kwargs)
        self.maps = {}
        for name, (n_in, n_out, init) in dense.items():
            layer = keras.layers.Dense(n_out, kernel_initializer=init, name=name)
            layer.build((None, n_in))
            self.maps[name] = layer

    def dense(self, name, x):
        return self.maps[name](x)


def made_masks(d, hidden):
    """The two masks of a MADE (Germain et al. 2015) over ``d`` inputs: ``[d, hidden]`` and ``[hidden, 2 d]``.

    Input i has degree i + 1, hidden unit k degree ``k mod (d - 1) + 1`` (0 when d = 1: context only); a
    hidden unit sees the inputs of degree <= its own, each output j (two per dimension) the hidden units of
    degree < j + 1, so output j depends on inputs before j only.
    """
    import numpy as np

    deg_in = np.arange(1, d + 1)
    deg_h = (np.arange(hidden) % max(1, d - 1)) + 1 if d > 1 else np.zeros(hidden, int)
    first = (deg_h[None, :] >= deg_in[:, None]).astype("float32")
    second = (np.concatenate([deg_in, deg_in])[None, :] > deg_h[:, None]).astype("float32")
    return first, second


@keras.saving.register_keras_serializable(package="tfvae")
class MADEStack(keras.layers.Layer):
    """``steps`` MADE networks with context: ``step(t, z, h)`` gives ``(m, s)``, each ``[n, d]``, from ``z_<i``.

    Per step: ``hidden = relu(z (W1 * M1) + h V + b1)``, ``[m, s] = hidden (W2 * M2) + b2``; ``W2`` and ``b2``
    start at zero (the step starts as the identity).
    """

    def __init__(self, d, context_dim, hidden, steps, **kwargs):
        super().__init__(**kwargs)
        self.d, self.context_dim, self.hidden, self.steps = int(d), int(context_dim), int(hidden), int(steps)
        self.mask1, self.mask2 = (tf.constant(m) for m in made_masks(self.d, self.hidden))
        for t in range(self.steps):
            for name, shape, init in (("w1", (self.d, self.hidden), "glorot_uniform"),
                                      ("v", (self.context_dim, self.hidden), "glorot_uniform"),
                                      ("b1", (self.hidden,), "zeros"), ("w2", (self.hidden, 2 * self.d), "zeros"),
                                      ("b2", (2 * self.d,), "zeros")):
                self.add_weight(shape=shape, initializer=init, name=f"made_{t}_{name}", dtype="float32")
        self.built = True

    def step(self, t, z, context):
        by_name = {v.name: v for v in self.weights}
        w1, v, b1, w2, b2 = (by_name[f"made_{t}_{n}"] for n in ("w1", "v", "b1", "w2", "b2"))
        h = tf.nn.relu(tf.matmul(z, w1 * self.mask1) + tf.matmul(context, v) + b1)
        out = tf.matmul(h, w2 * self.mask2) + b2
        return out[:, : self.d], out[:, self.d :]

    def call(self, inputs=None):
        return None
