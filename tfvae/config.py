"""What defines a run, TensorFlow-free: its data and training settings, and the choices that are no kind's own.

The command line builds its flags' choices from the tuples here, and
``config.json``'s ``data`` and ``train`` sections are these dataclasses'
``to_dict()``; its ``model`` section is ``tfvae.models.config.VAEConfig``,
which sits beside the kinds whose fields it holds. The export formats are
``tfvae.deploy.formats``'.
"""

import dataclasses
import math
from typing import Optional, Tuple

from tfvae.errors import TfvaeError

# ----------------------------------------------------------------- choices
# The --model kinds are tfvae.models.kinds' registry (each kind's own file declares its traits and fields).
ARCHS = ("mlp", "gated", "conv")
CONV_ARCHS = ("conv",)  # architectures with convolutions (default filters; no vae2)
# How a conv decoder doubles its resolution: 4x4 stride-2 transposed convolutions, or nearest-neighbour
# resizing then a 3x3 convolution (Odena et al. 2016: no checkerboard artefacts).
UPSAMPLES = ("transpose", "resize")
LIKELIHOODS = ("bernoulli", "gaussian", "mse")
# The --objective bounds, like --prior and --model, are an axis' registry (tfvae.models.objectives).
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
