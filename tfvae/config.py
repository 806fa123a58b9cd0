"""What defines a run, TensorFlow-free: the three config dataclasses and the choices that are no kind's own.

The command line builds its flags' choices from the tuples here, and
``config.json`` is these dataclasses' ``to_dict()``. The export formats are
``tfvae.deploy.formats``'.
"""

import dataclasses
import math
from typing import Any, Dict, Optional, Tuple

from tfvae.errors import TfvaeError

# ----------------------------------------------------------------- choices
# The --model kinds are tfvae.models.kinds' registry (each kind's own file declares its traits and fields).
ARCHS = ("mlp", "gated", "conv")
CONV_ARCHS = ("conv",)  # architectures with convolutions (default filters; no vae2)
# How a conv decoder doubles its resolution: 4x4 stride-2 transposed convolutions, or nearest-neighbour
# resizing then a 3x3 convolution (Odena et al. 2016: no checkerboard artefacts).
UPSAMPLES = ("transpose", "resize")
LIKELIHOODS = ("bernoulli", "gaussian", "mse")
OBJECTIVES = ("elbo", "iwae")
BINARIZE_MODES = ("none", "dynamic", "static")
AUGMENTATIONS = ("none", "flip")  # training images only: flip = mirrored left-right with probability 1/2
LR_SCHEDULES = ("constant", "cosine")
XLA_MODES = ("auto", "on", "off")
STRATEGIES = ("default", "mirrored", "multiworker")
STRATEGY_HELP = ("default (one device), mirrored (every local GPU, else the CPU: MirroredStrategy) or multiworker "
                 "(the hosts in $TF_CONFIG: MultiWorkerMirroredStrategy); default: default")
def _choice(flag, value, allowed):
    if value not in allowed:
        raise TfvaeError(f"--{flag} must be one of {', '.join(allowed)}, got {value!r}")


def _at_least(flag, value, low):
    if int(value) < low:
        raise TfvaeError(f"--{flag} must be {'a positive integer' if low == 1 else f'>= {low}'}, got {value}")
    return int(value)


def _ints(values):
    return tuple(int(v) for v in values)


def _from_dict(cls, d):
    """A dataclass from a dict, unknown keys ignored (configs written by other versions)."""
    return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


# ------------------------------------------------------------------ model
# The fields every kind has; a kind's own fields (tfvae.models.kinds: Kind.fields) live in VAEConfig.options.
MODEL_DEFAULTS = dict(input_shape=(28, 28, 1), latent_dim=128, hidden=(512, 256), beta=1.0, model="vae", arch="mlp",
               likelihood="bernoulli", num_classes=0, conv_filters=(), batch_norm=False, upsample="transpose",
               objective="elbo", k=1)


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
        objective: ``elbo`` or ``iwae`` (Burda et al.: train on the
            importance-weighted bound with ``k`` samples per example).
        k: importance samples per example for ``objective="iwae"``.
        options: the kind's own fields (e.g. a vae2's ``latent_dim1`` and ``hidden2``).
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
    options: Dict[str, Any]

    def __init__(self, **fields):
        from tfvae.models import kinds

        kind = kinds.get(fields.get("model", MODEL_DEFAULTS["model"]))
        options = dict(fields.pop("options", None) or {})
        every = kinds.fields()
        for name in list(fields):
            if name in MODEL_DEFAULTS:
                continue
            value = fields.pop(name)
            if name in {f.name for f in kind.fields}:
                options[name] = value
            elif name in every:
                field, owners = every[name]
                if value is not None and field.normalise(value) != field.normalise(field.default):
                    raise TfvaeError(f"--{name} is an option of --model {', '.join(owners)}, not of {kind.name}")
            else:
                raise TypeError(f"VAEConfig got an unexpected field {name!r}")
        for name, default in MODEL_DEFAULTS.items():
            setattr(self, name, fields.get(name, default))
        self.options = {f.name: f.normalise(options.get(f.name, f.default)) for f in kind.fields}
        self._normalise_types()
        self._check_shapes()
        for flag, allowed in (("arch", ARCHS), ("likelihood", LIKELIHOODS), ("objective", OBJECTIVES),
                              ("upsample", UPSAMPLES)):
            _choice(flag, getattr(self, flag), allowed)
        kind.check(self)
        if self.arch in CONV_ARCHS and not self.conv_filters:
            self.conv_filters = (32, 64) if min(self.input_shape[:2]) < 64 else (32, 64, 128, 256)

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
        """Posterior samples drawn per example in training: ``k`` for ``objective="iwae"``, else 1."""
        return self.k if self.objective == "iwae" else 1

    def to_dict(self):
        """``config.json``'s ``model`` section: the common fields, then the kind's own (flat, JSON types)."""
        from tfvae.models import kinds

        d = {name: getattr(self, name) for name in MODEL_DEFAULTS}
        for k in ("input_shape", "hidden", "conv_filters"):
            d[k] = list(d[k])
        d.update({f.name: f.to_json(self.options[f.name]) for f in kinds.get(self.model).fields})
        return d

    @classmethod
    def from_dict(cls, d):
        """From a ``model`` section (unknown keys, and other kinds' keys, ignored)."""
        from tfvae.models import kinds

        kind = kinds.get(d.get("model", MODEL_DEFAULTS["model"]))
        own = set(MODEL_DEFAULTS) | {f.name for f in kind.fields}
        return cls(**{k: v for k, v in d.items() if k in own})

    @classmethod
    def field_names(cls, model=None):
        """The fields of ``model``'s kind (every kind's when None): what a ``VAE(...)`` keyword may set."""
        from tfvae.models import kinds

        own = [f.name for f in kinds.get(model).fields] if model else list(kinds.fields())
        return tuple(MODEL_DEFAULTS) + tuple(own)


# ------------------------------------------------------------------- data
@dataclasses.dataclass
class DataConfig:
    """Everything that defines the data a model sees.

    Attributes:
        dataset: dataset spec (``mnist``, ``fashion_mnist``, ``freyface``,
            ``olivetti``, ``idx:DIR``, ``folder:DIR``).
        data_dir: where TFDS-prepared data live (default: ``TFDS_DATA_DIR``),
            or the ``.mat`` file (or its directory) of ``freyface``/``olivetti``.
        binarize: ``none``, ``dynamic`` (fresh Bernoulli draw each time an
            example is seen) or ``static`` (one draw with a fixed seed).
        validation_holdout: if > 0, validate on the last N training examples
            instead of the test split.
        train_examples: if > 0, use only the first N training examples.
        val_examples: if > 0, use only the first N validation examples.
        image_size: ``(H, W)`` to resize ``folder:`` images to.
        channels: 1 (gray) or 3 (RGB) for ``folder:`` images.
        augment: ``none`` or ``flip`` (each training image mirrored
            left-right with probability 1/2, a fresh draw every pass; faces,
            not digits). Validation and evaluation images are never changed.
    """

    dataset: str = "mnist"
    data_dir: Optional[str] = None
    binarize: str = "none"
    validation_holdout: int = 0
    train_examples: int = 0
    val_examples: int = 0
    image_size: Optional[Tuple[int, int]] = None
    channels: int = 1
    augment: str = "none"

    def __post_init__(self):
        if self.image_size is not None:
            self.image_size = _ints(self.image_size)
            if len(self.image_size) != 2 or min(self.image_size) < 1:
                raise TfvaeError(f"--image_size must be H,W with positive sizes, got {self.image_size}")
        _choice("channels", int(self.channels), (1, 3))
        self.channels = int(self.channels)
        _choice("binarize", self.binarize, BINARIZE_MODES)
        _choice("augment", self.augment, AUGMENTATIONS)
        for flag in ("validation_holdout", "train_examples", "val_examples"):
            setattr(self, flag, _at_least(flag, getattr(self, flag), 0))

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["image_size"] = list(self.image_size) if self.image_size else None
        return d

    @classmethod
    def from_dict(cls, d):
        """From a run's ``config.json`` ``data`` section (unknown keys ignored)."""
        return _from_dict(cls, d)


# --------------------------------------------------------------- training
@dataclasses.dataclass
class TrainConfig:
    """Optimisation and bookkeeping settings of a run.

    Attributes:
        epoch: total number of epochs (a resumed run continues up to it).
        batch: examples per step (the global batch under a strategy).
        learning_rate: Adam learning rate.
        seed: seeds weights, sampling, shuffling and dynamic binarization.
        log_every: write batch-level TensorBoard scalars every N steps.
        run_dir: where everything goes (default ``runs/<dataset>-<model>-<time>``).
        log_dir: TensorBoard root (default ``<run_dir>/logs``).
        save_weight_dir: also write the best weights there (a weights dir).
        load_weight_dir: start from these weights (fine-tuning).
        overwrite: replace an existing run directory with another config.
        images: write per-epoch PNGs into ``<run_dir>/images``.
        steps_per_execution: training steps run per call into the TF graph.
        lr_schedule: ``constant``, or ``cosine`` (decays to 1 % of
            ``learning_rate`` over all ``epoch`` epochs, or over the time
            budget when ``minutes`` is set).
        kl_warmup_epochs: raise the KL weight linearly from 0 over N epochs.
        deterministic: TF op determinism: the same seed gives identical runs.
        strategy: ``default`` (one device), ``mirrored`` or ``multiworker``
            (``tfvae.engine.distribute.make_strategy``).
        mixed_precision: layers compute in bfloat16 (variables and losses float32).
        minutes: wall-clock budget of this invocation (0 = none).
        xla: ``on``, ``off`` or ``auto`` (``tfvae.training.plan.use_xla``).
    """

    epoch: int = 100
    batch: int = 100
    learning_rate: float = 1e-3
    seed: int = 0
    log_every: int = 100
    run_dir: Optional[str] = None
    log_dir: Optional[str] = None
    save_weight_dir: Optional[str] = None
    load_weight_dir: Optional[str] = None
    overwrite: bool = False
    images: bool = True
    steps_per_execution: int = 50
    lr_schedule: str = "constant"
    kl_warmup_epochs: int = 0
    deterministic: bool = False
    strategy: str = "default"
    mixed_precision: bool = False
    minutes: float = 0.0
    xla: str = "auto"

    def __post_init__(self):
        _choice("xla", self.xla, XLA_MODES)
        _choice("strategy", self.strategy, STRATEGIES)
        _choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        if not (math.isfinite(float(self.minutes)) and float(self.minutes) >= 0):
            raise TfvaeError(f"--minutes must be a number >= 0, got {self.minutes}")
        if not (math.isfinite(float(self.learning_rate)) and float(self.learning_rate) > 0):
            raise TfvaeError(f"--learning_rate must be a number > 0, got {self.learning_rate}")
        _at_least("kl_warmup_epochs", self.kl_warmup_epochs, 0)
        for flag in ("epoch", "batch", "steps_per_execution", "log_every"):
            _at_least(flag, getattr(self, flag), 1)

    def to_dict(self):
        return dataclasses.asdict(self)
