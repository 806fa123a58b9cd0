"""What a post-hoc ``--sampler`` is: a distribution fitted to a trained model's codes, sampled instead of its prior.

A sampler is one file: a subclass of ``Sampler`` decorated with ``@register`` (TensorFlow-free to import). It is
fitted to the ``z_mean`` of the training images (``fit``), saved beside the weights (``sampler.json`` and the
sampler's own files) and loaded back (``load``) by every command that samples. Like a prior, it maps standard
normal ``eps`` and uniform ``u`` (which picks a component) to codes, ``sample(eps, u)``, in NumPy, so the one
sampling path (``tfvae.pictures.samples``) draws the same numbers for every decoder.
"""

from typing import Tuple

from tfvae.models.axes import Field, Registry  # noqa: F401  (Field: a sampler's fields)

REGISTRY = Registry("sampler", "prior", "tfvae.samplers", model_axis=False)
META = "sampler.json"  # beside the weights: which sampler, fitted to which weights (sha256), on what


class Sampler:
    """A post-hoc sampler. Subclasses define ``fit`` and ``load``; ``load`` returns a ``Fitted``."""

    name = None
    help = ""
    fields: Tuple[Field, ...] = ()

    def fit(self, z, directory, options, seed=0, verbose=True):
        """Fits to codes ``z`` ``[N, d]`` (float64) and writes the sampler's files into ``directory``; returns
        the dict ``sampler.json`` records of the fit (besides name, weights and data)."""
        raise NotImplementedError

    def load(self, directory, meta):
        """The fitted sampler saved in ``directory`` (``meta``: its ``sampler.json``)."""
        raise NotImplementedError


class Fitted:
    """A fitted sampler: ``sample(eps [n, d], u [n]) -> z [n, d]`` (NumPy float32); ``components`` of it."""

    components = 1

    def sample(self, eps, u):
        raise NotImplementedError


def register(cls):
    """Class decorator: registers a ``Sampler`` subclass under its ``name``. Returns the class."""
    return REGISTRY.register(cls)


COMPONENTS = Field("components", 10, "mixture components K of a gmm sampler (default 10)")
