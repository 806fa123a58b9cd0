"""``--model cvae``: the conditional VAE: the one-hot label joins the encoder's input and z (Sohn et al., 2015)."""

from tfvae.errors import TfvaeError
from tfvae.models.kinds.base import register
from tfvae.models.kinds.vae import VAEKind


@register
class CVAEKind(VAEKind):
    """q(z | x, y) and p(x | z, y) with ``num_classes`` classes; data are ``(images, labels)`` pairs."""

    name = "cvae"
    help = "label-conditional VAE (one-hot label joins the encoder's input and z; generate --label)"
    conditional = True

    def one_hot(self, model, labels, n):
        """``[n, num_classes]`` one-hot labels (one label is repeated ``n`` times); soft labels ``[n, C]``
        (floats, a VampPrior's learned ones) pass as they are."""
        from tfvae._tf import tf

        if labels is None:
            raise TfvaeError("a cvae needs labels: pass (images, labels) or label=")
        labels = tf.convert_to_tensor(labels)
        if labels.dtype.is_floating and labels.shape.rank == 2:
            return labels
        labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
        k = model.num_classes
        return tf.broadcast_to(tf.one_hot(labels, k), [n, k]) \
            if labels.shape.rank == 1 and labels.shape[0] == 1 else tf.one_hot(labels, k)

    def encoder_input(self, model, x, labels):
        from tfvae._tf import tf
        from tfvae.models import networks

        return networks.ARCHS[model.config.arch].with_label(x, self.one_hot(model, labels, tf.shape(x)[0]))

    def decoder_input(self, model, z, labels):
        from tfvae._tf import tf

        return tf.concat([z, self.one_hot(model, labels, tf.shape(z)[0])], axis=-1)

    def dummy_inputs(self, model):
        from tfvae._tf import tf

        return super().dummy_inputs(model), tf.zeros([1], tf.int32)
