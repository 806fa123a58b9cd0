"""Command line: ``tfvae <command> [flags]`` (also ``python -m tfvae``).

Every user error ends as one line ``tfvae: error: <problem and fix>`` and
exit status 2, never a traceback.
"""

import argparse
import sys

from tfvae.errors import TfvaeError


from tfvae.argtypes import (directory, float_list as _float_list, int_list as _int_list,
                            nonneg_float as _nonneg_float, nonneg_int as _nonneg_int, output_file,
                            positive_float as _positive_float, positive_int as _positive_int, weights_dir)


STRATEGIES = ("default", "mirrored", "multiworker")  # training.STRATEGIES (not imported: no TF at parse time)
STRATEGY_HELP = ("default (one device), mirrored (every local GPU, else the CPU: MirroredStrategy) or multiworker "
                 "(the hosts in $TF_CONFIG: MultiWorkerMirroredStrategy); default: default")


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line: ``tfvae: error: ...``."""

    def error(self, message):
        self.exit(2, f"tfvae: error: {message} (see '{self.prog} --help')\n")


# ------------------------------------------------------------- commands
def add_train_parser(sub):
    p = sub.add_parser("train", help="train a model", description="Train a VAE; re-run on the same --run_dir to resume.")
    p.add_argument("--epoch", type=_positive_int, default=100, help="total epochs (default 100)")
    p.add_argument("--batch", type=_positive_int, default=100,
                   help="global batch size, split over the replicas of --strategy (default 100)")
    p.add_argument("--learning_rate", type=_positive_float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--lr_schedule", choices=["constant", "cosine"], default="constant",
                   help="learning-rate schedule: constant, or cosine decay to 1%% over the run (default constant)")
    p.add_argument("--dataset", default="mnist", help="mnist, fashion_mnist, freyface, olivetti, idx:DIR or folder:DIR (default mnist)")
    p.add_argument("--data_dir", default=None, help="TFDS data directory (default $TFDS_DATA_DIR)")
    p.add_argument("--latent_dim", type=_positive_int, default=None, help="latent size (default 128)")
    p.add_argument("--hidden", type=_int_list, default=None, help="encoder hidden widths, decoder mirrors (default 512,256)")
    p.add_argument("--beta", type=_nonneg_float, default=None, help="KL weight (default 1.0)")
    p.add_argument("--model", choices=["vae", "ae", "cvae", "vae2"], default=None,
                   help="vae (default), ae (plain auto-encoder), cvae (label-conditional VAE) or vae2 "
                        "(two stochastic layers; --latent_dim is the top one)")
    p.add_argument("--latent_dim1", type=_positive_int, default=None,
                   help="vae2: size of the bottom stochastic layer (default 2 x latent_dim)")
    p.add_argument("--hidden2", type=_int_list, default=None,
                   help="vae2: widths between the two stochastic layers (default half of --hidden)")
    p.add_argument("--arch", choices=["mlp", "gated", "conv"], default=None,
                   help="mlp (default), gated (MLP of gated linear units) or conv")
    p.add_argument("--likelihood", choices=["bernoulli", "gaussian", "mse"], default=None,
                   help="decoder: bernoulli (default), gaussian (learned variance) or mse (fixed-variance L2)")
    p.add_argument("--conv_filters", type=_int_list, default=None,
                   help="filters of the stride-2 conv blocks (default 32,64; 32,64,128,256 for 64x64 and up)")
    p.add_argument("--batch_norm", action="store_const", const=True, default=None,
                   help="batch normalisation in the conv blocks")
    p.add_argument("--kl_warmup_epochs", type=_nonneg_int, default=0,
                   help="raise the KL weight linearly from 0 to --beta over N epochs (default 0: off)")
    p.add_argument("--objective", choices=["elbo", "iwae"], default=None,
                   help="training objective: elbo (default) or iwae (importance-weighted bound, --k samples)")
    p.add_argument("--k", type=_positive_int, default=None, help="importance samples for --objective iwae")
    p.add_argument("--image_size", type=_int_list, default=None, help="H,W to resize folder: images to")
    p.add_argument("--channels", type=int, choices=[1, 3], default=1, help="folder: images as 1 (gray) or 3 (RGB)")
    p.add_argument("--binarize", choices=["none", "dynamic", "static"], default="none",
                   help="binarize pixels: none, dynamic (fresh draw per visit) or static (default none)")
    p.add_argument("--validation_holdout", type=_nonneg_int, default=0,
                   help="validate on the last N training examples instead of the test split")
    p.add_argument("--train_examples", type=_nonneg_int, default=0, help="use only the first N training examples")
    p.add_argument("--val_examples", type=_nonneg_int, default=0, help="use only the first N validation examples")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--minutes", type=_nonneg_float, default=0.0,
                   help="wall-clock budget: stop after the epoch that reaches it (default 0: none)")
    p.add_argument("--mixed_precision", action="store_true",
                   help="compute in bfloat16 (mixed_bfloat16; variables and losses stay float32)")
    p.add_argument("--deterministic", action="store_true",
                   help="TF op determinism: with the same --seed, runs repeat exactly (a little slower)")
    p.add_argument("--log_every", type=_positive_int, default=100, help="batch-level TensorBoard interval in steps")
    p.add_argument("--run_dir", type=directory, default=None, help="run directory (default runs/<dataset>-vae-<time>)")
    p.add_argument("--log_dir", type=directory, default=None, help="TensorBoard root (default <run_dir>/logs)")
    p.add_argument("--save_weight_dir", type=directory, default=None, help="also keep the best weights in this directory")
    p.add_argument("--load_weight_dir", type=weights_dir, default=None,
                   help="start from saved weights: a path, or a name under weights/")
    p.add_argument("--overwrite", action="store_true", help="replace a run directory that holds another config")
    p.add_argument("--no_images", action="store_true", help="do not write per-epoch PNGs")
    p.add_argument("--steps_per_execution", type=_positive_int, default=50,
                   help="training steps per graph call (default 50; same results, less overhead; "
                        "1 under --strategy mirrored/multiworker)")
    p.add_argument("--xla", choices=["auto", "on", "off"], default="auto",
                   help="compile each training step (loss, gradients, Adam) with XLA, the random draws staying "
                        "outside; auto (default): on for --arch mlp/gated on one device in float32, where it "
                        "measured faster (bench/RESULTS.md), off for conv, mixed precision and --strategy")
    p.add_argument("--strategy", choices=STRATEGIES, default="default", help=STRATEGY_HELP)
    p.set_defaults(func=cmd_train)
    return p


def cmd_train(args):
    from tfvae import data, training

    data_config = data.DataConfig(
        dataset=args.dataset, data_dir=args.data_dir, binarize=args.binarize,
        validation_holdout=args.validation_holdout, train_examples=args.train_examples,
        val_examples=args.val_examples, image_size=args.image_size, channels=args.channels,
    )
    train_config = training.TrainConfig(
        epoch=args.epoch, batch=args.batch, learning_rate=args.learning_rate, seed=args.seed,
        log_every=args.log_every, run_dir=args.run_dir, log_dir=args.log_dir,
        save_weight_dir=args.save_weight_dir, load_weight_dir=args.load_weight_dir,
        overwrite=args.overwrite, images=not args.no_images, steps_per_execution=args.steps_per_execution,
        lr_schedule=args.lr_schedule, kl_warmup_epochs=args.kl_warmup_epochs,
        deterministic=args.deterministic, mixed_precision=args.mixed_precision, minutes=args.minutes, strategy=args.strategy,
        xla=args.xla,
    )
    overrides = {"latent_dim": args.latent_dim, "hidden": args.hidden, "beta": args.beta, "model": args.model,
                 "arch": args.arch, "likelihood": args.likelihood, "conv_filters": args.conv_filters,
                 "batch_norm": args.batch_norm, "objective": args.objective, "k": args.k,
                 "latent_dim1": args.latent_dim1, "hidden2": args.hidden2}
    training.run_training(overrides, data_config, train_config)
    return 0


def add_eval_parser(sub):
    p = sub.add_parser("eval", help="evaluate a model over a whole split",
                       description="ELBO, importance-weighted NLL, RMSE and active units over a whole split.")
    p.add_argument("--load_weight_dir", type=weights_dir, default="better_weight",
                   help="run dir, checkpoint dir or name under weights/ (default better_weight)")
    p.add_argument("--dataset", default=None, help="dataset (default: the one in the model's config)")
    p.add_argument("--data_dir", default=None, help="TFDS data directory (default $TFDS_DATA_DIR)")
    p.add_argument("--split", default="test", choices=["test", "train"], help="split (default test)")
    p.add_argument("--num_examples", type=_positive_int, default=None, help="first N examples (default all)")
    p.add_argument("--iwae_samples", type=_positive_int, default=5000, help="importance samples K (default 5000)")
    p.add_argument("--batch", type=_positive_int, default=None, help="images per step (default ~20000/K)")
    p.add_argument("--seed", type=int, default=0, help="seed of the importance samples (default 0)")
    p.add_argument("--output", type=output_file, default=None, help="metrics JSON (default <run or weights dir>/metrics.json)")
    p.add_argument("--save_images", action="store_true", help="also write reconstructions.png beside the JSON")
    p.add_argument("--strategy", choices=STRATEGIES, default="default",
                   help="split each batch's importance sampling over replicas: " + STRATEGY_HELP)
    p.set_defaults(func=cmd_eval)
    return p


def cmd_eval(args):
    from tfvae import evaluate

    evaluate.run_eval(args)
    return 0


def add_generate_parser(sub):
    p = sub.add_parser("generate", help="decode prior samples into a PNG grid",
                       description="Decode z ~ N(0, T^2 I) into a PNG grid of images.")
    p.add_argument("--load_weight_dir", type=weights_dir, default="better_weight",
                   help="run dir, checkpoint dir or name under weights/ (default better_weight)")
    p.add_argument("--num", type=_positive_int, default=100, help="number of samples (default 100)")
    p.add_argument("--nrow", type=_positive_int, default=10, help="images per row (default 10)")
    p.add_argument("--temperature", type=_nonneg_float, default=1.0, help="prior scale T (default 1.0)")
    p.add_argument("--seed", type=int, default=None, help="seed (default: random, printed)")
    p.add_argument("--output", type=output_file, default="samples.png", help="PNG path (default samples.png)")
    p.add_argument("--scale", type=_positive_int, default=2, help="pixel upscaling (default 2)")
    p.add_argument("--label", type=int, default=None,
                   help="cvae: class of every sample (default: one row per class)")
    p.set_defaults(func=cmd_generate)
    return p


def cmd_generate(args):
    import random

    from tfvae import checkpoints, viz

    model, _, ckpt, _ = checkpoints.load_model(args.load_weight_dir)
    if not model.can_sample:
        raise TfvaeError(f"{ckpt} holds a plain auto-encoder (--model ae): it has no prior to sample from; "
                         "use 'tfvae eval --save_images' for reconstructions")
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    num, nrow, labels = args.num, args.nrow, None
    if model.config.conditional:
        k = model.num_classes
        if args.label is not None:
            if not 0 <= args.label < k:
                raise TfvaeError(f"--label {args.label} is out of range: this cvae has classes 0..{k - 1}")
            labels = [args.label] * num
        else:  # one row per class
            nrow = max(1, num // k)
            num = nrow * k
            labels = [c for c in range(k) for _ in range(nrow)]
    elif args.label is not None:
        raise TfvaeError("--label needs a conditional model (--model cvae); this one is unconditional")
    images = model.sample(num, temperature=args.temperature, seed=seed, labels=labels).numpy()
    viz.save_png(args.output, viz.make_grid(images, nrow=nrow), scale=args.scale)
    print(f"tfvae: wrote {num} samples (T={args.temperature}, seed {seed}) from {ckpt} to {args.output}")
    return 0



def add_viz_parser(sub):
    p = sub.add_parser("viz", help="pictures of a trained model's latent space",
                       description="manifold.png, latent_scatter.png, interpolation.png (and class_grid.png for a cvae).")
    p.add_argument("--load_weight_dir", type=weights_dir, default="better_weight",
                   help="run dir, checkpoint dir or name under weights/ (default better_weight)")
    p.add_argument("--output_dir", type=directory, default=None, help="where to write (default <run or weights dir>/viz)")
    p.add_argument("--num_examples", type=_positive_int, default=5000, help="test examples to encode (default 5000)")
    p.add_argument("--grid", type=_positive_int, default=20, help="manifold grid size n (default 20)")
    p.set_defaults(func=cmd_viz)
    return p


def cmd_viz(args):
    from tfvae import latent

    latent.run_viz(args)
    return 0


def add_sweep_parser(sub):
    p = sub.add_parser("sweep", help="train and evaluate a grid of latent sizes / betas / models",
                       description="Kingma & Welling's latent-dimension sweep: results.csv, results.md, lower_bound.png.")
    p.add_argument("--dataset", default="mnist", help="dataset (default mnist)")
    p.add_argument("--data_dir", default=None, help="data directory (TFDS, or the .mat file's directory)")
    p.add_argument("--latent_dims", type=_int_list, default=(2, 5, 10, 20), help="default 2,5,10,20")
    p.add_argument("--betas", type=_float_list, default=(1.0,), help="default 1.0")
    p.add_argument("--models", default="vae", type=lambda s: tuple(m for m in s.split(",") if m),
                   help="comma-separated model kinds (vae, cvae; default vae)")
    p.add_argument("--epoch", type=_positive_int, default=10, help="epochs per configuration (default 10)")
    p.add_argument("--out", type=directory, required=True, help="sweep directory")
    p.add_argument("--arch", choices=["mlp", "gated", "conv"], default=None)
    p.add_argument("--likelihood", choices=["bernoulli", "gaussian", "mse"], default=None)
    p.add_argument("--hidden", type=_int_list, default=None)
    p.add_argument("--binarize", choices=["none", "dynamic", "static"], default="none")
    p.add_argument("--batch", type=_positive_int, default=100)
    p.add_argument("--learning_rate", type=_positive_float, default=1e-3)
    p.add_argument("--kl_warmup_epochs", type=_nonneg_int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train_examples", type=_nonneg_int, default=0)
    p.add_argument("--val_examples", type=_nonneg_int, default=0)
    p.add_argument("--eval_examples", type=_positive_int, default=None, help="test images to evaluate (default all)")
    p.add_argument("--iwae_samples", type=_positive_int, default=1000, help="K for the NLL (default 1000)")
    p.set_defaults(func=cmd_sweep)
    return p


def cmd_sweep(args):
    from tfvae import models, sweep

    bad = [m for m in args.models if m not in models.MODEL_KINDS or m == "ae"]
    if bad or not args.models:
        raise TfvaeError(f"--models takes vae and/or cvae (an ae has no ELBO to sweep), got {','.join(args.models)}")
    sweep.run_sweep(args)
    return 0


def add_weights_parser(sub):
    p = sub.add_parser("weights", help="list the shipped pretrained weights",
                       description="List the weights installed with tfvae (usable as --load_weight_dir NAME): "
                                   "dataset, model kind, latent size, test metrics and model card.")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=cmd_weights)
    return p


def cmd_weights(args):
    import json

    from tfvae import zoo

    entries = [zoo.describe(name) for name in zoo.names()]
    print(json.dumps(entries, indent=2) if args.json else zoo.format_listing(entries))
    return 0


from tfvae import export, serving  # noqa: E402  (neither imports TensorFlow at import time)

COMMANDS = [add_train_parser, add_eval_parser, add_generate_parser, add_viz_parser, add_sweep_parser,
            export.add_export_parser, serving.add_sample_remote_parser, add_weights_parser]


def build_parser():
    parser = _Parser(prog="tfvae", description="Variational Auto-Encoders in TensorFlow/Keras.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add in COMMANDS:
        add(sub)
    return parser


def _parse(parser, argv):
    """``parse_args``, but an unknown flag is reported by its subcommand's parser (with its help hint)."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        commands.choices[args.command].error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv=None):
    """Entry point of the ``tfvae`` console script. Returns an exit status."""
    parser = build_parser()
    args = _parse(parser, argv)
    try:
        return args.func(args) or 0
    except TfvaeError as e:
        print(f"tfvae: error: {e}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("tfvae: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


def run(argv=None):
    sys.exit(main(argv))
