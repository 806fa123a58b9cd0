"""What an ``--objective`` is: its name, help, traits and own fields, and the training bound from per-sample terms.

An objective is one file: a subclass of ``Objective`` decorated with ``@register``. Importing it imports no
TensorFlow. ``__call__`` takes the terms a kind computes for ``samples(cfg)`` posterior draws per example
(``log_px_z`` ``[b, S]``, ``kl`` ``[b]`` or ``[b, S]``, ``log_w`` ``[b, S]`` when ``needs_log_w``) and returns
per-example ``loss``, ``reconstruction_loss`` and ``kl_loss`` in nats (and any other per-example terms its
hooks read). The bound itself is ``tfvae.models.densities``' (``iwae_bound``), which evaluation shares.

An objective that trains parts of the model on different scalars (PIWAE) sets the engine's hooks,
``step_losses`` / ``apply_gradients`` / ``persistent_tape``, as a kind may (``tfvae.models.kinds.base.Kind``).
"""

from typing import Tuple

from tfvae.errors import TfvaeError
from tfvae.models.axes import Field, Registry  # noqa: F401  (Field: an objective's fields)

REGISTRY = Registry("objective", "elbo", "tfvae.objectives")


class Objective:
    """An ``--objective``. Subclasses set the class attributes and define ``__call__``.

    Attributes:
        name: the ``--objective`` value.
        help: one line for ``--objective``'s help and the README's table.
        fields: the ``Field``\\ s only this objective takes.
        needs_log_w: reads the importance log-weights ``log p(x, z) - log q(z | x)``.
        weighted: an importance-weighted bound (needs a posterior: not for ``--model ae``).
    """

    name = None
    help = ""
    fields: Tuple[Field, ...] = ()
    needs_log_w = True
    weighted = True
    # The engine's training hooks (None: its defaults); see tfvae.models.kinds.base.Kind.
    step_losses = None
    apply_gradients = None
    persistent_tape = False

    def check(self, cfg):
        """Validates this objective's fields of a ``VAEConfig``; raises ``TfvaeError``."""

    def samples(self, cfg):
        """Posterior draws per example of a training step."""
        return cfg.k

    def __call__(self, terms, beta, cfg):
        raise NotImplementedError


def register(cls):
    """Class decorator: registers an ``Objective`` subclass under its ``name``. Returns the class."""
    return REGISTRY.register(cls)


def mean_over_samples(t):
    """``[b]`` of a per-example ``[b]`` or per-sample ``[b, S]`` term."""
    from tfvae._tf import tf

    return t if t.shape.rank == 1 else tf.reduce_mean(t, axis=1)


def reported(terms):
    """``reconstruction_loss`` and ``kl_loss`` as the ELBO's, for every objective (to compare them)."""
    return {"reconstruction_loss": -mean_over_samples(terms["log_px_z"]), "kl_loss": mean_over_samples(terms["kl"])}


def check_groups(name, cfg):
    if cfg.iw_groups < 1:
        raise TfvaeError(f"--iw_groups of --objective {name} must be >= 1, got {cfg.iw_groups}")


# The groups M of MIWAE and PIWAE (Rainforth et al. 2018): M bounds of --k samples each.
GROUPS = Field("iw_groups", 4, "groups M of --k importance samples each (M x k draws per example; default 4)")
