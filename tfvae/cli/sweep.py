"""``tfvae sweep``: the grid flags, and ``tfvae train``'s data, model and optimisation flags."""

from tfvae.cli.argtypes import directory, float_list, int_list, positive_int
from tfvae.cli import flags


def add_parser(sub):
    p = sub.add_parser("sweep", help="train and evaluate a grid of latent sizes / betas / models",
                       description="Kingma & Welling's latent-dimension sweep: results.csv, results.md, lower_bound.png.")
    p.add_argument("--out", type=directory, required=True, help="sweep directory")
    p.add_argument("--latent_dims", type=int_list, default=(2, 5, 10, 20), help="default 2,5,10,20")
    p.add_argument("--betas", type=float_list, default=(1.0,), help="default 1.0")
    p.add_argument("--models", default="vae", type=lambda s: tuple(m for m in s.split(",") if m),
                   help="comma-separated model kinds (vae, cvae; default vae)")
    p.add_argument("--eval_examples", type=positive_int, default=None, help="test images to evaluate (default all)")
    p.add_argument("--iwae_samples", type=positive_int, default=1000, help="K for the NLL (default 1000)")
    flags.add_optimisation_flags(p, epoch_default=10)
    flags.add_data_flags(p)
    flags.add_model_flags(p, grid=True)
    p.set_defaults(func=run)
    return p


def run(args):
    from tfvae import sweep

    overrides = {k: v for k, v in flags.model_overrides(args).items() if k not in ("latent_dim", "beta", "model")}
    sweep.run_sweep(sweep.Sweep(out=args.out, models=args.models, latent_dims=args.latent_dims, betas=args.betas,
                                data_config=flags.data_config(args), train_config=flags.train_config(args),
                                model_overrides=overrides, eval_examples=args.eval_examples,
                                iwae_samples=args.iwae_samples))
    return 0
