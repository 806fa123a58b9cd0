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

import dataclasses
from typing import Any, Tuple

from tfvae.errors import TfvaeError

# What a field's value is: how the config normalises it and how the command line parses it.
FIELD_TYPES = ("int", "float", "widths", "bool")


@dataclasses.dataclass(frozen=True)
class Field:
    """One config field a kind owns (``config.json`` key, ``--NAME`` flag).

    Attributes:
        name: the key and the flag's name.
        default: its value when not given (0 / () mean "derive it in ``Kind.check``").
        help: the flag's help, without the kind's name (the flag adds it).
        type: one of ``FIELD_TYPES``: ``int`` (>= ``minimum``), ``float``,
            ``widths`` (positive layer widths, ``512,256`` on the command line) or ``bool``.
        minimum: the smallest value an ``int`` field takes on the command line.
    """

    name: str
    default: Any
    help: str
    type: str = "int"
    minimum: int = 1

    def normalise(self, value):
        if self.type == "widths":
            return tuple(int(v) for v in value)
        return {"int": int, "float": float, "bool": bool}[self.type](value)

    def to_json(self, value):
        return list(value) if self.type == "widths" else value


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
    """

    name = None
    help = ""
    fields: Tuple[Field, ...] = ()
    stochastic = True
    conditional = False
    can_sample = True
    has_likelihood_bound = True
    conv = True

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

    def noise_width(self, cfg):
        """Standard-normal numbers per posterior sample of a step (None: the kind draws no noise)."""
        return cfg.latent_dim

    def describe(self):
        """The kind as the README's table and ``tfvae --help`` show it."""
        own = ", ".join(f"--{f.name}" for f in self.fields)
        return f"{self.help}" + (f" (its own flags: {own})" if own else "")


# --model name -> the Kind instance. Filled by @register (built-in kinds and plugins).
KINDS = {}


def register(cls):
    """Class decorator: registers a ``Kind`` subclass under its ``name``. Returns the class."""
    if not (isinstance(cls.name, str) and cls.name.isidentifier()):
        raise ValueError(f"a kind needs a name that is an identifier, got {cls.name!r}")
    seen = {}
    for f in cls.fields:
        if f.type not in FIELD_TYPES:
            raise ValueError(f"kind {cls.name}: field {f.name} has type {f.type!r}, not one of {FIELD_TYPES}")
        seen[f.name] = f
    for other in KINDS.values():
        for f in other.fields:
            if f.name in seen and other.name != cls.name and seen[f.name] != f:
                raise ValueError(f"kind {cls.name}: field {f.name} is declared differently by kind {other.name}")
    KINDS[cls.name] = cls()
    return cls
