"""The model's config, TensorFlow-free: ``VAEConfig``, the fields every kind has and its kind's own.

``config.json``'s ``model`` section is ``VAEConfig.to_dict()``. A kind's own
fields are declared in its file (``tfvae.models.kinds``), which is why this
class lives beside the kinds rather than in ``tfvae.config``.
"""

import dataclasses
import math
from typing import Any, Dict, Tuple

from tfvae.config import ARCHS, CONV_ARCHS, LIKELIHOODS, UPSAMPLES, _choice, _ints
from tfvae.errors import TfvaeError
from tfvae.models import kinds, objectives, posteriors, priors  # noqa: F401  (each axis' registry fills tfvae.models.axes.AXES)
from tfvae.models.axes import AXES, all_fields

# The fields every kind has; a kind's own fields (tfvae.models.kinds: Kind.fields) live in VAEConfig.options.
MODEL_DEFAULTS = dict(input_shape=(28, 28, 1), latent_dim=128, hidden=(512, 256), beta=1.0, model="vae", arch="mlp",
               likelihood="bernoulli", num_classes=0, conv_filters=(), batch_norm=False, upsample="transpose",
               objective="elbo", k=1, prior="standard", posterior="gaussian")


@dataclasses.dataclass(init=False)
class VAEConfig:
    """Architecture of a model: the fields every kind has, and its kind's own (``options``).

    ``VAEConfig(model="vae2", latent_dim1=5)``: a kind's own fields are given
    by name like the others and read as attributes (``cfg.latent_dim1``);
    ``to_dict()`` writes them beside the common ones (``config.json``'s
    ``model`` section). Another kind's field with a value is an error, with
    its default it is dropped; ``from_dict`` ignores keys no field has
    (configs of other versions, which wrote every kind's keys).

    Attributes:
        input_shape: image shape ``(H, W, C)``.
        latent_dim: size of z (a vae2's top layer z2).
        hidden: widths of the encoder's dense layers; the decoder mirrors them.
        beta: weight of the KL term in the loss (1.0 = the ELBO).
        model: a kind of ``tfvae.models.kinds.names()``: ``vae``, ``ae``
            (plain auto-encoder), ``cvae`` (label-conditional), ``vae2`` (two
            stochastic layers), or one a plugin registered.
        arch: ``mlp``, ``gated`` or ``conv``.
        likelihood: ``bernoulli``, ``gaussian`` or ``mse``.
        num_classes: label classes (conditional kinds only; 0 for the others).
        conv_filters: filters of the stride-2 conv blocks (``conv`` only;
            empty = 32,64 for small images, 32,64,128,256 from 64 pixels up).
        batch_norm: batch normalisation in the conv blocks.
        upsample: the conv decoder's upsampling, one of ``UPSAMPLES``:
            ``transpose`` (stride-2 transposed convolutions) or ``resize``
            (nearest-neighbour x2 then a 3x3 convolution).
        objective: a ``tfvae.models.objectives`` value: ``elbo``, ``iwae`` (Burda et al.: the
            importance-weighted bound with ``k`` samples per example), ``miwae``, ``piwae`` or ``ciwae``.
        k: importance samples per example (per group for miwae / piwae).
        prior: a ``tfvae.models.priors`` value: ``standard`` (N(0, I)), ``mog`` or ``vamp``.
        posterior: a ``tfvae.models.posteriors`` value: ``gaussian``, ``planar`` or ``iaf``.
        options: the own fields of the kind and of the other axes' values (e.g. a vae2's ``latent_dim1`` and
            ``hidden2``, a mixture prior's ``prior_components``).
    """

    input_shape: Tuple[int, int, int]
    latent_dim: int
    hidden: Tuple[int, ...]
    beta: float
    model: str
    arch: str
    likelihood: str
    num_classes: int
    conv_filters: Tuple[int, ...]
    batch_norm: bool
    upsample: str
    objective: str
    k: int
    prior: str
    posterior: str
    options: Dict[str, Any]

    def __init__(self, **fields):
        chosen = {axis: registry.get(fields.get(axis) or MODEL_DEFAULTS[axis]) for axis, registry in AXES.items()}
        own = {f.name: f for value in chosen.values() for f in value.fields}
        options = dict(fields.pop("options", None) or {})
        every = all_fields()
        for name in list(fields):
            if name in MODEL_DEFAULTS:
                continue
            value = fields.pop(name)
            if name in own:
                options[name] = value
            elif name in every:
                field, owners = every[name]
                if value is not None and field.normalise(value) != field.normalise(field.default):
                    axis = owners[0][0]
                    raise TfvaeError(f"--{name} is an option of --{axis} "
                                     f"{', '.join(o for a, o in owners if a == axis)}, not of {chosen[axis].name}")
            else:
                raise TypeError(f"VAEConfig got an unexpected field {name!r}")
        for name, default in MODEL_DEFAULTS.items():
            value = fields.get(name)
            setattr(self, name, default if value is None and name in AXES else fields.get(name, default))
        self.options = {f.name: f.normalise(options.get(f.name, f.default)) for f in own.values()}
        self._normalise_types()
        self._check_shapes()
        for flag, allowed in (("arch", ARCHS), ("likelihood", LIKELIHOODS), ("upsample", UPSAMPLES)):
            _choice(flag, getattr(self, flag), allowed)
        for value in chosen.values():
            value.check(self)
        if self.arch in CONV_ARCHS and not self.conv_filters:
            self.conv_filters = (32, 64) if min(self.input_shape[:2]) < 64 else (32, 64, 128, 256)

    def chosen(self):
        """``{axis: value}``: the kind, the prior, ... this config is made of."""
        return {axis: registry.get(getattr(self, axis)) for axis, registry in AXES.items()}

    def __getattr__(self, name):
        options = self.__dict__.get("options")
        if options is not None and name in options:
            return options[name]
        raise AttributeError(f"VAEConfig of --model {self.__dict__.get('model')} has no field {name!r}")

    def _normalise_types(self):
        self.input_shape, self.hidden, self.conv_filters = (_ints(self.input_shape), _ints(self.hidden),
                                                            _ints(self.conv_filters))
        self.latent_dim, self.num_classes, self.k = int(self.latent_dim), int(self.num_classes), int(self.k)
        self.beta, self.batch_norm = float(self.beta), bool(self.batch_norm)

    def _check_shapes(self):
        if len(self.input_shape) != 3 or min(self.input_shape) < 1:
            raise TfvaeError(f"input_shape must be (H, W, C) with positive sizes, got {self.input_shape}")
        if self.latent_dim < 1:
            raise TfvaeError(f"latent_dim must be a positive integer, got {self.latent_dim}")
        if not self.hidden or min(self.hidden) < 1:
            raise TfvaeError(f"hidden must be positive layer widths like 512,256, got {self.hidden}")
        if not math.isfinite(self.beta) or self.beta < 0:
            raise TfvaeError(f"beta must be a finite number >= 0, got {self.beta}")
        if self.k < 1:
            raise TfvaeError(f"--k must be a positive integer, got {self.k}")
        if self.conv_filters and min(self.conv_filters) < 1:
            raise TfvaeError(f"conv_filters must be positive, got {self.conv_filters}")

    @property
    def conditional(self):
        return self.num_classes > 0

    @property
    def samples_per_example(self):
        """Posterior samples drawn per example in training: the objective's (``k`` for iwae, ``M k`` for
        miwae / piwae, 1 for the ELBO)."""
        return objectives.get(self.objective).samples(self)

    def to_dict(self):
        """``config.json``'s ``model`` section: the common fields, then the kind's own (flat, JSON types)."""
        d = {name: getattr(self, name) for name in MODEL_DEFAULTS}
        for k in ("input_shape", "hidden", "conv_filters"):
            d[k] = list(d[k])
        for value in self.chosen().values():
            d.update({f.name: f.to_json(self.options[f.name]) for f in value.fields})
        return d

    @classmethod
    def from_dict(cls, d):
        """From a ``model`` section (unknown keys, and other kinds' keys, ignored)."""
        own = set(MODEL_DEFAULTS)
        for axis, registry in AXES.items():
            own |= {f.name for f in registry.get(d.get(axis) or MODEL_DEFAULTS[axis]).fields}
        return cls(**{k: v for k, v in d.items() if k in own})

    @classmethod
    def field_names(cls, model=None):
        """The fields a ``VAE(...)`` keyword may set: the common ones, ``model``'s kind's (every kind's when
        None) and every other axis' values'."""
        own = [f.name for f in kinds.get(model).fields] if model else list(kinds.fields())
        others = [name for axis, r in AXES.items() if axis != "model" for name in r.fields()]
        return tuple(MODEL_DEFAULTS) + tuple(own) + tuple(n for n in others if n not in own)
