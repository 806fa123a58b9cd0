"""What a ``--posterior`` is: its name, help, traits and own fields, and q(z | x) beyond the encoder's Gaussian.

A posterior is one file: a subclass of ``Posterior`` decorated with ``@register``; importing it imports no
TensorFlow. Every posterior starts from the kind's diagonal Gaussian on the top latent, ``z0 = mean +
exp(log_var / 2) * eps``; a flow then maps ``z0`` to ``z`` in ``steps`` invertible steps whose parameters
depend on ``x`` through the encoder's statistics (the context: ``[mean, log_var]``), and
``log q(z | x) = log N(z0; mean, var) - sum_t log |det dz_t / dz_(t-1)|`` (``transform``'s ``log_det``).

A flow's own networks are one layer on the model, ``model.posterior_parameters`` (inference variables:
``Kind.inference_variables``). Each flow starts as the identity (zero-initialised gates / output layers), so
an untrained flow model gives the Gaussian model's numbers.
"""

from typing import Tuple

from tfvae.errors import TfvaeError
from tfvae.models.axes import Field, Registry  # noqa: F401  (Field: a posterior's fields)

REGISTRY = Registry("posterior", "gaussian", "tfvae.posteriors")


class Posterior:
    """A ``--posterior``. A flow sets ``flow = True`` and defines ``build`` and ``transform``.

    Attributes:
        name, help, fields: as every axis value's.
        flow: transforms the Gaussian's draws (so the KL is a Monte-Carlo term).
    """

    name = None
    help = ""
    fields: Tuple[Field, ...] = ()
    flow = True

    def check(self, cfg):
        from tfvae.models import kinds

        if self.flow and not kinds.get(cfg.model).stochastic:
            raise TfvaeError(f"--posterior {self.name} needs a model with a posterior (--model {cfg.model} has none)")
        if self.flow and cfg.flow_steps < 1:
            raise TfvaeError(f"--flow_steps must be >= 1, got {cfg.flow_steps}")

    def build(self, model, cfg):
        """Creates the flow's networks on the model (``model.posterior_parameters``)."""

    def transform(self, model, z0, context):
        """``(z [n, d], log_det [n])`` of base draws ``z0`` ``[n, d]`` with context ``[n, 2 d]``."""
        raise NotImplementedError


def register(cls):
    """Class decorator: registers a ``Posterior`` subclass under its ``name``. Returns the class."""
    return REGISTRY.register(cls)


STEPS = Field("flow_steps", 4, "steps T of a flow posterior (default 4)")
