"""``tfvae eval``."""

from tfvae.cli.argtypes import output_file, positive_int, weights_dir
from tfvae.cli.fit_sampler import add_sampler_flag
from tfvae.config import STRATEGIES, STRATEGY_HELP


def add_parser(sub):
    p = sub.add_parser("eval", help="evaluate a model over a whole split",
                       description="ELBO, importance-weighted NLL, RMSE and active units over a whole split.")
    p.add_argument("--load_weight_dir", type=weights_dir, default="better_weight",
                   help="run dir, checkpoint dir or shipped name (tfvae weights; default better_weight)")
    p.add_argument("--dataset", default=None, help="dataset (default: the one in the model's config)")
    p.add_argument("--data_dir", default=None, help="TFDS data directory (default $TFDS_DATA_DIR)")
    p.add_argument("--split", default="test", choices=["test", "train"], help="split (default test)")
    p.add_argument("--num_examples", type=positive_int, default=None, help="first N examples (default all)")
    p.add_argument("--iwae_samples", type=positive_int, default=5000, help="importance samples K (default 5000)")
    p.add_argument("--batch", type=positive_int, default=None, help="images per step (default ~20000/K for 28x28 "
                   "images, fewer for larger images and conv decoders)")
    p.add_argument("--seed", type=int, default=0, help="seed of the importance samples (default 0)")
    p.add_argument("--output", type=output_file, default=None,
                   help="metrics JSON (default <run or weights dir>/metrics.json)")
    p.add_argument("--save_images", action="store_true", help="also write reconstructions.png beside the JSON")
    p.add_argument("--strategy", choices=STRATEGIES, default="default",
                   help="split each batch's importance sampling over replicas: " + STRATEGY_HELP)
    p.add_argument("--sample_quality", type=positive_int, nargs="?", const=10000, default=None, metavar="N",
                   help="also the Fréchet distance of N samples (decoder means) to N test images in the penultimate "
                        "features of the dataset's shipped classifier (mnist, fashion_mnist; N default 10000)")
    add_sampler_flag(p)
    p.set_defaults(func=run)
    return p


def run(args):
    from tfvae.evaluation import run as evaluation

    evaluation.run_eval(args.load_weight_dir, dataset=args.dataset, data_dir=args.data_dir, split=args.split,
                      num_examples=args.num_examples, iwae_samples=args.iwae_samples, batch=args.batch,
                      seed=args.seed, output=args.output, save_images=args.save_images, strategy=args.strategy,
                      sample_quality=args.sample_quality, sampler=args.sampler)
    return 0
