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
