"""``tfvae viz``."""

from tfvae.cli.argtypes import directory, positive_int, weights_dir


def add_parser(sub):
    p = sub.add_parser("viz", help="pictures of a trained model's latent space",
                       description="manifold.png, latent_scatter.png, interpolation.png (and class_grid.png for a cvae, "
                                   "pseudo_inputs.png for a VampPrior).")
    p.add_argument("--load_weight_dir", type=weights_dir, default="better_weight",
                   help="run dir, checkpoint dir or shipped name (tfvae weights; default better_weight)")
    p.add_argument("--output_dir", type=directory, default=None, help="where to write (default <run or weights dir>/viz)")
    p.add_argument("--num_examples", type=positive_int, default=5000, help="test examples to encode (default 5000)")
    p.add_argument("--data_dir", default=None,
                   help="where the test images are (default: the model's config; freyface/olivetti: the .mat file "
                        "or its directory)")
    p.add_argument("--grid", type=positive_int, default=20, help="manifold grid size n (default 20)")
    p.set_defaults(func=run)
    return p


def run(args):
    from tfvae.pictures import latent_maps

    latent_maps.run_viz(args.load_weight_dir, output_dir=args.output_dir, num_examples=args.num_examples, grid=args.grid,
                   data_dir=args.data_dir)
    return 0
