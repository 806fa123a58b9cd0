"""What a ``--prior`` is: its name, help, traits and own fields, and p(z) on the model's top latent.

A prior is one file: a subclass of ``Prior`` decorated with ``@register``. Importing it imports no
TensorFlow (the flags and the README's table read its spec); its maths methods receive the Keras model
(``tfvae.models.VAE``) and import TensorFlow when they first run.

Every built-in prior is a mixture of diagonal Gaussians on the top latent (``latent_dim``): ``mixture`` gives
its components' means and log-variances and its log-weights, and ``log_prob`` / ``sample`` work from that
one view (``tfvae.models.densities.log_mixture`` / ``mixture_sample``). A prior with its own variables
creates them in ``build`` as one layer, ``model.prior_parameters``; the standard normal has none, so the
checkpoints of models without a learned prior are what they always were.
"""

from typing import Tuple

from tfvae.errors import TfvaeError
from tfvae.models.axes import Field, Registry, describe  # noqa: F401  (Field: a prior's fields)

REGISTRY = Registry("prior", "standard", "tfvae.priors")


class Prior:
    """A ``--prior``. Subclasses set the class attributes and define ``mixture`` (and ``build`` if learned).

    Attributes:
        name: the ``--prior`` value (set by ``register``).
        help: one line for ``--prior``'s help and the README's table.
        fields: the ``Field``\\ s only this prior takes.
        analytic_kl: KL(q(z|x) || p(z)) of a Gaussian posterior has a closed form; otherwise training and
            evaluation estimate it from the posterior samples (``kl_estimator``: ``monte_carlo``).
        learned: has variables (trained with the model).
    """

    name = None
    help = ""
    fields: Tuple[Field, ...] = ()
    analytic_kl = False
    learned = True

    @property
    def kl_estimator(self):
        """How the KL term of a Gaussian posterior is computed: ``analytic`` or ``monte_carlo``."""
        return "analytic" if self.analytic_kl else "monte_carlo"

    def check(self, cfg):
        """Validates (and fills in) this prior's fields of a ``VAEConfig``; raises ``TfvaeError``."""
        from tfvae.models import kinds

        if self.learned and not kinds.get(cfg.model).stochastic:
            raise TfvaeError(f"--prior {self.name} needs a model with a posterior (--model {cfg.model} has none)")

    def components(self, cfg):
        """Number of mixture components (1 for a single Gaussian)."""
        return 1

    def build(self, model, cfg):
        """Creates this prior's variables on the model (``model.prior_parameters``); none by default."""

    def mixture(self, model):
        """``(means [K, d], log_vars [K, d], log_weights [K])`` of the prior's components, float32."""
        raise NotImplementedError

    def log_prob(self, model, z):
        """``log p(z)`` ``[n]`` of top latents ``z`` ``[n, latent_dim]``."""
        from tfvae.models import densities

        return densities.log_mixture(z, *self.mixture(model))

    def sample(self, model, eps, u):
        """Prior draws ``z`` ``[n, d]`` from standard-normal ``eps`` ``[n, d]`` and uniform ``u`` ``[n]`` in [0, 1).

        ``u`` picks the component (by the inverse of the weights' cumulative sum), ``eps`` the point in it:
        ``z = mean_c + exp(log_var_c / 2) * eps``. Scaling ``eps`` by a temperature scales each component.
        """
        from tfvae.models import densities

        return densities.mixture_sample(*self.mixture(model), eps, u)


def register(cls):
    """Class decorator: registers a ``Prior`` subclass under its ``name``. Returns the class."""
    return REGISTRY.register(cls)


# The one field both mixtures take (declared once, so the two declarations are the same field).
COMPONENTS = Field("prior_components", 0, "mixture components K (default: mog 10, vamp 500; vamp at most 500)")
