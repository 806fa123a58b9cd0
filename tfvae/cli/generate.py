"""``tfvae generate``."""

from tfvae.cli.argtypes import nonneg_float, output_file, positive_int, weights_dir
from tfvae.cli.fit_sampler import add_sampler_flag


def add_parser(sub):
    p = sub.add_parser("generate", help="decode prior samples into a PNG grid",
                       description="Decode z ~ N(0, T^2 I) into a PNG grid of images, with the Keras model of "
                                   "a checkpoint or with an exported decoder.")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--load_weight_dir", type=weights_dir, default="better_weight",
                        help="run dir, checkpoint dir or shipped name (tfvae weights; default better_weight)")
    source.add_argument("--exported", default=None, metavar="PATH",
                        help="an exported decoder instead: DIR/decoder/N (SavedModel), DIR/decoder.tflite (LiteRT) "
                             "or DIR/decoder.onnx (ONNX); a --seed gives the same picture as from the checkpoint")
    p.add_argument("--num", type=positive_int, default=100, help="number of samples (default 100)")
    p.add_argument("--nrow", type=positive_int, default=10, help="images per row (default 10)")
    p.add_argument("--temperature", type=nonneg_float, default=1.0, help="prior scale T (default 1.0)")
    p.add_argument("--seed", type=int, default=None, help="seed (default: random, printed)")
    p.add_argument("--output", type=output_file, default="samples.png", help="PNG path (default samples.png)")
    p.add_argument("--scale", type=positive_int, default=2, help="pixel upscaling (default 2)")
    p.add_argument("--label", type=int, default=None, help="cvae: class of every sample (default: one row per class)")
    add_sampler_flag(p)
    p.set_defaults(func=run)
    return p


def run(args):
    from tfvae.pictures import samples

    options = dict(num=args.num, nrow=args.nrow, temperature=args.temperature, seed=args.seed, output=args.output,
                   scale=args.scale, label=args.label)
    if args.exported:
        samples.run_generate_exported(args.exported, **options)
    else:
        samples.run_generate(args.load_weight_dir, sampler=args.sampler, **options)
    return 0
