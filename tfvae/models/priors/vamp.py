"""``--prior vamp``: the VampPrior (Tomczak & Welling 2018), a mixture of the posteriors of K learned pseudo-inputs.

p(z) = (1/K) sum_k q(z | u_k). The pseudo-inputs u_k are images of the data's shape, clipped to [0, 1]
(the paper's hard-tanh), starting at 0.05 +- 0.01 as the paper's MNIST runs do. q is the model's own
encoder, through the kind's ``encode``, i.e. to the top latent:

* ``vae``: q(z | u_k);
* ``vae2``: q(z2 | the mean of q(z1 | u_k)), the path that reaches the top layer (``vae2``'s inference is
  Burda et al.'s, not restructured as the paper's HVAE);
* ``cvae``: each pseudo-input has a learned label too (softmax of its own logits, starting near class
  k mod C), so the prior stays p(z), as the cvae's N(0, I) is: q(z | u_k, softmax(l_k)).
"""

from tfvae.errors import TfvaeError
from tfvae.models.priors.base import COMPONENTS, Prior, register

DEFAULT_COMPONENTS = 500
MAX_COMPONENTS = 500
INIT_MEAN, INIT_SD = 0.05, 0.01
LABEL_INIT = 4.0  # a pseudo-input's initial label logit for its class (softmax 0.86 of 10 classes)


@register
class VampPrior(Prior):
    """A mixture of the posteriors of K pseudo-inputs; their pixels (and a cvae's labels) are trained."""

    name = "vamp"
    help = "the VampPrior (Tomczak & Welling 2018): the posteriors of K learned pseudo-inputs, Monte-Carlo KL"
    fields = (COMPONENTS,)

    def check(self, cfg):
        super().check(cfg)
        k = cfg.prior_components or DEFAULT_COMPONENTS
        if not 1 <= k <= MAX_COMPONENTS:
            raise TfvaeError(f"--prior_components of a vamp prior must be in 1..{MAX_COMPONENTS}, got {k}")
        cfg.options["prior_components"] = k

    def components(self, cfg):
        return cfg.prior_components

    def build(self, model, cfg):
        import keras
        import numpy as np

        from tfvae.models import networks

        k = cfg.prior_components
        shapes = {"pseudo_inputs": ((k,) + tuple(cfg.input_shape),
                                    keras.initializers.RandomNormal(INIT_MEAN, INIT_SD, seed=0))}
        if cfg.num_classes:
            init = LABEL_INIT * np.eye(cfg.num_classes, dtype=np.float32)[np.arange(k) % cfg.num_classes]
            shapes["label_logits"] = ((k, cfg.num_classes), keras.initializers.Constant(init))
        model.prior_parameters = networks.Parameters(shapes, name="prior")

    def pseudo_inputs(self, model):
        """The pseudo-inputs as images ``[K, H, W, C]`` in [0, 1], and a cvae's soft labels ``[K, C]`` (or None)."""
        from tfvae._tf import tf

        p = model.prior_parameters
        labels = tf.nn.softmax(p["label_logits"]) if model.config.num_classes else None
        return tf.clip_by_value(p["pseudo_inputs"], 0.0, 1.0), labels

    def mixture(self, model):
        from tfvae._tf import tf

        u, labels = self.pseudo_inputs(model)
        means, log_vars = model.kind.encode(model, u, labels, training=False)
        k = tf.shape(means)[0]
        return means, log_vars, tf.fill([k], -tf.math.log(tf.cast(k, tf.float32)))
