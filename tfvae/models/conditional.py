"""The conditional VAE: the one-hot label joins the encoder's input and z (Sohn et al., 2015)."""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices

from tfvae.errors import TfvaeError
from tfvae.models import networks, registry
from tfvae.models.vae import VAE


@registry.register("cvae")
class ConditionalVAE(VAE):
    """q(z | x, y) and p(x | z, y) with ``num_classes`` classes; data are ``(images, labels)`` pairs."""

    def one_hot(self, labels, n):
        """``[n, num_classes]`` one-hot labels (one label is repeated ``n`` times)."""
        if labels is None:
            raise TfvaeError("a cvae needs labels: pass (images, labels) or label=")
        labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
        return tf.broadcast_to(tf.one_hot(labels, self.num_classes), [n, self.num_classes]) \
            if labels.shape.rank == 1 and labels.shape[0] == 1 else tf.one_hot(labels, self.num_classes)

    def encoder_input(self, x, labels):
        return networks.ARCHS[self.config.arch].with_label(x, self.one_hot(labels, tf.shape(x)[0]))

    def decoder_input(self, z, labels):
        return tf.concat([z, self.one_hot(labels, tf.shape(z)[0])], axis=-1)

    def dummy_inputs(self):
        return super().dummy_inputs(), tf.zeros([1], tf.int32)
