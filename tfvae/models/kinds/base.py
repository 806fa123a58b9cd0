"""What a ``--model`` kind is: its name, help, traits and own config fields, and the maths it changes.

A kind is one file: a subclass of ``Kind`` (usually of the plain VAE,
``tfvae.models.kinds.vae.VAEKind``) decorated with ``@register``. Importing
it imports no TensorFlow: the flags, ``tfvae weights``, the test harness and
the README's kind table read its name, ``help``, traits and ``fields``
without building anything. Its maths methods receive the Keras model
(``tfvae.models.VAE``, one class for every kind) and import TensorFlow when
they first run.

Kinds from other packages register through the ``tfvae.kinds`` entry-point
group (``tfvae.models.kinds.load_plugins``): a module that defines and
registers one kind, so ``tfvae train --model NAME`` works with no tfvae
file changed.
"""

from typing import Tuple

from tfvae.errors import TfvaeError
from tfvae.models.axes import FIELD_TYPES, Field, Registry, describe  # noqa: F401  (Field: a kind's fields)

# --model name -> the Kind instance: the axis' registry (built-in kinds and plugins register into it).
REGISTRY = Registry("model", "vae", "tfvae.kinds")
KINDS = REGISTRY.values


class Kind:
    """A ``--model`` kind. Subclasses set the class attributes and override the maths that differs.

    Attributes:
        name: the ``--model`` value (set by ``register``).
        help: one line for ``--model``'s help and the README's table.
        fields: the ``Field``s only this kind takes.
        stochastic: has a posterior and a prior (an auto-encoder has neither).
        conditional: takes a label with every image (``num_classes`` comes from the data).
        can_sample: has a prior to sample from (``tfvae generate``).
        has_likelihood_bound: evaluation reports an ELBO and an importance-weighted NLL.
        conv: builds with ``--arch conv`` (else only the dense architectures).
        analytic_kl: its KL term has a closed form when the prior's has (a vae2's z1 term has none).
    """

    name = None
    help = ""
    fields: Tuple[Field, ...] = ()
    stochastic = True
    conditional = False
    can_sample = True
    has_likelihood_bound = True
    conv = True
    analytic_kl = True

    # The training hooks (None: the engine's defaults, tfvae.engine.steps.Trainer). Every path, XLA step,
    # stacks and replicas, calls them once per optimizer step; a kind never overrides train_step.
    #   step_losses(model, terms, rows) -> {name: scalar}: what the step differentiates (inside the tape);
    #   apply_gradients(model, tape, losses): the gradient application (e.g. parts of the model on other
    #   scalars, a second optimizer); set persistent_tape when it takes several gradients of one tape.
    step_losses = None
    apply_gradients = None
    persistent_tape = False

    # ------------------------------------------------------------ config
    def check(self, cfg):
        """Validates (and fills in) this kind's fields of a ``VAEConfig``; raises ``TfvaeError``."""
        if self.conditional and cfg.num_classes < 2:
            raise TfvaeError(f"a {self.name} needs labelled data with >= 2 classes, got {cfg.num_classes}")
        if not self.conditional:
            cfg.num_classes = 0
        if cfg.objective != "elbo" and not self.stochastic:
            raise TfvaeError(f"--objective {cfg.objective} needs a vae or cvae (--model {self.name} has no posterior "
                             "to sample)")
        if not self.conv and cfg.arch == "conv":
            raise TfvaeError(f"--model {self.name} is built for --arch mlp or gated, not conv")

    # The networks of the posterior q (model attributes): what PIWAE trains on its own bound.
    inference_networks = ("encoder",)

    def inference_variables(self, model):
        """The trainable variables of the inference side (encoder networks, a flow posterior's)."""
        out = [v for name in self.inference_networks for v in getattr(model, name).trainable_variables]
        extra = getattr(model, "posterior_parameters", None)
        return out + (list(extra.trainable_variables) if extra is not None else [])

    def noise_width(self, cfg):
        """Standard-normal numbers per posterior sample of a step (None: the kind draws no noise)."""
        return cfg.latent_dim

    def describe(self):
        """The kind as the README's table and ``tfvae --help`` show it."""
        return describe(self)


def register(cls):
    """Class decorator: registers a ``Kind`` subclass under its ``name``. Returns the class."""
    return REGISTRY.register(cls)
