"""Flags declared once: ``tfvae train`` and ``tfvae sweep`` share them, and one mapping turns them into configs.

Choices come from ``tfvae.config`` and the kind registry (``tfvae.models.kinds``: ``--model`` and each
kind's own flags); the types from ``tfvae.cli.argtypes``.
Nothing here imports TensorFlow.
"""

from tfvae import config
from tfvae.models import axes, kinds, objectives, posteriors, priors
from tfvae.models.config import MODEL_DEFAULTS
from tfvae.cli.argtypes import (directory, int_list, nonneg_float, nonneg_int, positive_float, positive_int,
                            weights_dir)


def add_data_flags(p):
    p.add_argument("--dataset", default="mnist",
                   help="mnist, fashion_mnist, freyface, olivetti, idx:DIR or folder:DIR (default mnist)")
    p.add_argument("--data_dir", default=None, help="TFDS data directory (default $TFDS_DATA_DIR), or the "
                                                    ".mat file (or its directory) of freyface/olivetti")
    p.add_argument("--binarize", choices=config.BINARIZE_MODES, default="none",
                   help="binarize pixels: none, dynamic (fresh draw per visit) or static (default none)")
    p.add_argument("--augment", choices=config.AUGMENTATIONS, default="none",
                   help="training images only: none (default) or flip (mirrored left-right with probability 1/2, "
                        "for faces)")
    p.add_argument("--validation_holdout", type=nonneg_int, default=0,
                   help="validate on the last N training examples instead of the test split")
    p.add_argument("--train_examples", type=nonneg_int, default=0, help="use only the first N training examples")
    p.add_argument("--val_examples", type=nonneg_int, default=0, help="use only the first N validation examples")
    p.add_argument("--image_size", type=int_list, default=None, help="H,W to resize folder: images to")
    p.add_argument("--channels", type=int, choices=[1, 3], default=1, help="folder: images as 1 (gray) or 3 (RGB)")


def add_model_flags(p, grid=False):
    """The architecture; with ``grid`` (a sweep) without the three flags a sweep takes as lists.

    ``--model`` and each kind's own flags come from the kind registry (``tfvae.models.kinds``).
    """
    if not grid:
        p.add_argument("--latent_dim", type=positive_int, default=None, help="latent size (default 128)")
        p.add_argument("--beta", type=nonneg_float, default=None, help="KL weight (default 1.0)")
        p.add_argument("--model", choices=kinds.names(), default=None,
                       help="; ".join(f"{n}: {kinds.get(n).help}" for n in kinds.names()) + " (default vae)")
    p.add_argument("--hidden", type=int_list, default=None,
                   help="encoder hidden widths, decoder mirrors (default 512,256)")
    p.add_argument("--prior", choices=priors.names(), default=None, help=_axis_help(priors.REGISTRY))
    p.add_argument("--posterior", choices=posteriors.names(), default=None, help=_axis_help(posteriors.REGISTRY))
    for name, (field, owners) in axes.all_fields().items():
        _add_field_flag(p, field, owners)
    p.add_argument("--arch", choices=config.ARCHS, default=None,
                   help="mlp (default), gated (MLP of gated linear units) or conv")
    p.add_argument("--likelihood", choices=config.LIKELIHOODS, default=None,
                   help="decoder: bernoulli (default), gaussian (learned variance) or mse (fixed-variance L2)")
    p.add_argument("--conv_filters", type=int_list, default=None,
                   help="filters of the stride-2 conv blocks (default 32,64; 32,64,128,256 for 64x64 and up)")
    p.add_argument("--batch_norm", action="store_const", const=True, default=None,
                   help="batch normalisation in the conv blocks")
    p.add_argument("--upsample", choices=config.UPSAMPLES, default=None,
                   help="conv decoder upsampling: transpose (4x4 stride-2 transposed convolutions, default) or "
                        "resize (nearest-neighbour x2, then a 3x3 convolution: no checkerboard artefacts)")
    p.add_argument("--objective", choices=objectives.names(), default=None, help=_axis_help(objectives.REGISTRY))
    p.add_argument("--k", type=positive_int, default=None,
                   help="importance samples per example (per group for miwae, piwae) of an importance-weighted "
                        "--objective (default 1)")


def add_optimisation_flags(p, epoch_default):
    p.add_argument("--epoch", type=positive_int, default=epoch_default,
                   help=f"total epochs (default {epoch_default})")
    p.add_argument("--batch", type=positive_int, default=100,
                   help="global batch size, split over the replicas of --strategy (default 100)")
    p.add_argument("--learning_rate", type=positive_float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--lr_schedule", choices=config.LR_SCHEDULES, default="constant",
                   help="learning-rate schedule: constant, or cosine decay to 1%% over the run (default constant)")
    p.add_argument("--kl_warmup_epochs", type=nonneg_int, default=0,
                   help="raise the KL weight linearly from 0 to --beta over N epochs (default 0: off)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--minutes", type=nonneg_float, default=0.0,
                   help="wall-clock budget of the run: stop after the epoch that reaches it; a resumed run counts the "
                        "time of the epochs it recorded (default 0: none)")
    p.add_argument("--mixed_precision", action="store_true",
                   help="compute in bfloat16 (mixed_bfloat16; variables and losses stay float32)")
    p.add_argument("--deterministic", action="store_true",
                   help="TF op determinism: with the same --seed, runs repeat exactly (a little slower)")
    p.add_argument("--xla", choices=config.XLA_MODES, default="auto",
                   help="compile each training step (loss, gradients, Adam) with XLA, the random draws staying "
                        "outside; auto (default): on for --arch mlp/gated on one device in float32, where it "
                        "measured faster (bench/RESULTS.md), off for conv, mixed precision and --strategy")


def add_run_flags(p):
    """What only a single ``tfvae train`` run takes: its directories, logging, execution and strategy."""
    p.add_argument("--log_every", type=positive_int, default=100, help="batch-level TensorBoard interval in steps")
    p.add_argument("--run_dir", type=directory, default=None, help="run directory (default runs/<dataset>-vae-<time>)")
    p.add_argument("--log_dir", type=directory, default=None, help="TensorBoard root (default <run_dir>/logs)")
    p.add_argument("--save_weight_dir", type=directory, default=None,
                   help="also keep the best weights in this directory")
    p.add_argument("--load_weight_dir", type=weights_dir, default=None,
                   help="start from saved weights: a path, or a shipped name (tfvae weights)")
    p.add_argument("--overwrite", action="store_true", help="replace a run directory that holds another config")
    p.add_argument("--no_images", action="store_true", help="do not write per-epoch PNGs")
    p.add_argument("--steps_per_execution", type=positive_int, default=50,
                   help="training steps per graph call (default 50; same results, less overhead; "
                        "1 under --strategy mirrored/multiworker)")
    p.add_argument("--strategy", choices=config.STRATEGIES, default="default", help=config.STRATEGY_HELP)


# --------------------------------------------------------- flags -> configs
_FIELD_ARGTYPES = {"widths": int_list, "float": nonneg_float}


def _axis_help(registry):
    return ("; ".join(f"{n}: {registry.get(n).help}" for n in registry.names())
            + f" (default {MODEL_DEFAULTS[registry.axis]})")


def _add_field_flag(p, field, owners):
    """``--NAME`` of an axis value's own ``Field``, its help prefixed by the values that take it."""
    by_axis = {}
    for axis, value in owners:
        by_axis.setdefault(axis, []).append(value)
    help = "; ".join(f"{', '.join(v)}" if a == "model" else f"--{a} {', '.join(v)}" for a, v in by_axis.items())
    help = f"{help}: {field.help}"
    if field.type == "bool":
        p.add_argument(f"--{field.name}", action="store_const", const=True, default=None, help=help)
        return
    kind = _FIELD_ARGTYPES.get(field.type) or (positive_int if field.minimum >= 1 else nonneg_int)
    p.add_argument(f"--{field.name}", type=kind, default=None, help=help)


COMMON_MODEL_FIELDS = ("latent_dim", "hidden", "beta", "model", "arch", "likelihood", "conv_filters", "batch_norm",
                       "upsample", "objective", "k", "prior", "posterior")


def model_fields():
    """The model flags a run takes: the common ones and every axis value's own."""
    return COMMON_MODEL_FIELDS + tuple(axes.all_fields())


def model_overrides(args):
    """The ``VAEConfig`` fields the flags set (None: not given)."""
    return {k: getattr(args, k, None) for k in model_fields()}


def data_config(args):
    return config.DataConfig(**{f: getattr(args, f) for f in config.DataConfig.__dataclass_fields__
                                 if hasattr(args, f)})


def train_config(args, **fixed):
    """The ``TrainConfig`` of the flags given (the others keep their defaults), with ``fixed`` on top."""
    given = {f: getattr(args, f) for f in config.TrainConfig.__dataclass_fields__ if hasattr(args, f)}
    if hasattr(args, "no_images"):
        given["images"] = not args.no_images
    return config.TrainConfig(**{**given, **fixed})
