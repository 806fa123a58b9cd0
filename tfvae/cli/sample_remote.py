"""``tfvae sample-remote``."""

from tfvae.cli.argtypes import nonneg_float, nonneg_int, output_file, positive_float, positive_int
from tfvae.deploy.formats import SIGNATURE


def add_parser(sub):
    p = sub.add_parser("sample-remote", help="sample from a decoder served by TensorFlow Serving",
                       description="Draw z ~ N(0, T^2 I), decode it on a TF Serving server (REST or gRPC) "
                                   "and write a PNG grid.")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="REST endpoint, e.g. http://localhost:8501")
    where.add_argument("--grpc", help="gRPC endpoint HOST:PORT, e.g. localhost:8500")
    p.add_argument("--model", default="decoder", help="served model name (default decoder)")
    p.add_argument("--version", type=positive_int, default=None, help="model version (default: the server's latest)")
    p.add_argument("--signature_name", default=SIGNATURE, help=f"signature (default {SIGNATURE})")
    p.add_argument("--num", type=positive_int, default=16, help="number of samples (default 16)")
    p.add_argument("--latent_dim", type=positive_int, default=None,
                   help="size of z (default: read from the server's model metadata)")
    p.add_argument("--label", type=nonneg_int, default=None, help="class of every sample (conditional decoders)")
    p.add_argument("--temperature", type=nonneg_float, default=1.0, help="prior scale T (default 1.0)")
    p.add_argument("--seed", type=int, default=None, help="seed (default: random, printed)")
    p.add_argument("--rest_format", choices=["row", "columnar"], default="row",
                   help="REST request body: row ({\"instances\": ...}) or columnar ({\"inputs\": ...}) (default row)")
    p.add_argument("--timeout", type=positive_float, default=30.0, help="seconds per request (default 30)")
    p.add_argument("--nrow", type=positive_int, default=8, help="images per row (default 8)")
    p.add_argument("--scale", type=positive_int, default=2, help="pixel upscaling (default 2)")
    p.add_argument("--output", type=output_file, default="samples.png", help="PNG path (default samples.png)")
    p.set_defaults(func=run)
    return p


def run(args):
    from tfvae.pictures import samples

    samples.sample_remote(args.url, args.grpc, model=args.model, version=args.version,
                          signature_name=args.signature_name, num=args.num, latent_dim=args.latent_dim,
                          label=args.label, temperature=args.temperature, seed=args.seed,
                          rest_format=args.rest_format, timeout=args.timeout, nrow=args.nrow, scale=args.scale,
                          output=args.output)
    return 0
