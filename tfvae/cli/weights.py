"""``tfvae weights``."""


def add_parser(sub):
    p = sub.add_parser("weights", help="list the shipped pretrained weights",
                       description="List the weights installed with tfvae (usable as --load_weight_dir NAME): "
                                   "dataset, model kind, latent size, test metrics and model card.")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=run)
    return p


def run(args):
    import json

    from tfvae import zoo

    entries = [zoo.describe(name) for name in zoo.names()]
    print(json.dumps(entries, indent=2) if args.json else zoo.format_listing(entries))
    return 0
