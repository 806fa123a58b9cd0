"""``tfvae fit-sampler``."""

from tfvae.cli.argtypes import directory, int_list, positive_int, weights_dir

SAMPLERS = ("gmm", "two_stage")  # tfvae.samplers' built-in ones (checked against the registry by the tests)


def add_parser(sub):
    p = sub.add_parser("fit-sampler", help="fit a post-hoc sampler (gmm, two_stage) to a model's training codes",
                       description="Fit a sampler to the z_mean of the training images and save it beside the "
                                   "weights (<weights>/sampler/); generate, viz, export and explore then sample "
                                   "from it instead of the prior (--sampler prior forces the prior).")
    p.add_argument("--load_weight_dir", type=weights_dir, required=True,
                   help="run dir, checkpoint dir or shipped name (a shipped set's sampler goes into ./NAME-SAMPLER/)")
    p.add_argument("--sampler", required=True, choices=SAMPLERS,
                   help="gmm: a full-covariance Gaussian mixture (scikit-learn); two_stage: a second small VAE on "
                        "the codes (Dai & Wipf 2019)")
    p.add_argument("--components", type=positive_int, default=None, help="gmm: mixture components K (default 10)")
    p.add_argument("--stage_epochs", type=positive_int, default=None, help="two_stage: epochs (default 50)")
    p.add_argument("--stage_hidden", type=int_list, default=None, help="two_stage: dense widths (default 512,512)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fit (default 0)")
    p.add_argument("--out", type=directory, default=None,
                   help="write a copy of the weights with the sampler here instead of beside the weights")
    p.set_defaults(func=run)
    return p


def run(args):
    from tfvae import samplers

    options = {f.name: getattr(args, f.name) for f in samplers.get(args.sampler).fields
               if getattr(args, f.name, None) is not None}
    samplers.fit(args.load_weight_dir, args.sampler, options, seed=args.seed, out=args.out)
    return 0


def add_sampler_flag(p):
    """``--sampler`` of the commands that sample: the fitted one by default, ``prior`` to force the prior."""
    p.add_argument("--sampler", default=None, choices=("prior",) + SAMPLERS,
                   help="what z is drawn from: the sampler fitted beside the weights (tfvae fit-sampler) when there "
                        "is one, else the prior (default); prior forces the model's prior")
