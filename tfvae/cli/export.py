"""``tfvae export``."""

from tfvae.argtypes import directory, positive_int, weights_dir


def add_parser(sub):
    p = sub.add_parser("export", help="export SavedModels for TensorFlow Serving",
                       description="Write DIR/decoder/<version>/ and DIR/encoder/<version>/ SavedModels "
                                   "(signature serving_default), a TF Serving models.config, batching "
                                   "parameters and SERVING.md.")
    p.add_argument("--load_weight_dir", type=weights_dir, default="better_weight",
                   help="run dir, checkpoint dir or shipped name (tfvae weights; default better_weight)")
    p.add_argument("--export_dir", type=directory, required=True,
                   help="export root; versions go in DIR/decoder/N, DIR/encoder/N")
    p.add_argument("--version", type=positive_int, default=None,
                   help="version number (default: one above the highest present, 1 if none)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing version")
    p.set_defaults(func=run)
    return p


def run(args):
    from tfvae import export

    export.run_export(args.load_weight_dir, args.export_dir, version=args.version, overwrite=args.overwrite)
    return 0
