"""``tfvae export``."""

from tfvae.cli.argtypes import directory, export_formats, positive_int, weights_dir
from tfvae.deploy.formats import EXPORT_FORMATS, LITERT_QUANTIZATIONS


def add_parser(sub):
    p = sub.add_parser("export", help="export the decoder and encoder (SavedModel, LiteRT, ONNX)",
                       description="Write DIR/decoder/<version>/ and DIR/encoder/<version>/ SavedModels "
                                   "(signature serving_default) with a TF Serving models.config and batching "
                                   "parameters, DIR/decoder.tflite and DIR/encoder.tflite (LiteRT), "
                                   "DIR/decoder.onnx and DIR/encoder.onnx (ONNX), as --formats asks, "
                                   "and SERVING.md.")
    p.add_argument("--load_weight_dir", type=weights_dir, default="better_weight",
                   help="run dir, checkpoint dir or shipped name (tfvae weights; default better_weight)")
    p.add_argument("--export_dir", type=directory, required=True,
                   help="export root; versions go in DIR/decoder/N, DIR/encoder/N")
    p.add_argument("--formats", type=export_formats, default=("saved_model",),
                   help=f"comma-separated {', '.join(EXPORT_FORMATS)}, or all (default saved_model)")
    p.add_argument("--litert_quantize", choices=LITERT_QUANTIZATIONS, default="none",
                   help="weights of the .tflite files: none (float32), float16 or dynamic_int8 (default none)")
    p.add_argument("--version", type=positive_int, default=None,
                   help="SavedModel version number (default: one above the highest present, 1 if none)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing version")
    p.set_defaults(func=run)
    return p


def run(args):
    from tfvae.deploy import export

    export.run_export(args.load_weight_dir, args.export_dir, version=args.version, overwrite=args.overwrite,
                      formats=args.formats, litert_quantize=args.litert_quantize)
    return 0
