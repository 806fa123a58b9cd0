"""``tfvae train``."""

from tfvae.cli import flags


def add_parser(sub):
    p = sub.add_parser("train", help="train a model", description="Train a VAE; re-run on the same --run_dir to resume.")
    flags.add_optimisation_flags(p, epoch_default=100)
    flags.add_data_flags(p)
    flags.add_model_flags(p)
    flags.add_run_flags(p)
    p.set_defaults(func=run)
    return p


def run(args):
    from tfvae.training import run as training

    training.run_training(flags.model_overrides(args), flags.data_config(args), flags.train_config(args))
    return 0
