"""LiteRT quantization of the shipped decoder: file size and error against the float32 model.

For each ``--litert_quantize`` choice, exports the weights (``tfvae export --formats litert``) and runs
``decoder.tflite`` and ``encoder.tflite`` with ai_edge_litert on real test digits:

  * decoder RMSE: the ``.tflite`` decoder's images against the float32 Keras decoder's, both decoding
    the float32 encoder means of the digits (what SERVING.md and tests/deploy/test_formats.py quote);
  * round trip RMSE: ``.tflite`` encoder then decoder, against the float32 Keras reconstruction;
  * max |error| of the decoder, and the file sizes.

Prints a table; the last line is one JSON object.

    python bench/litert_quantize.py [--load_weight_dir better_weight] [--num_examples 10000]
"""

import argparse
import json
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tfvae import checkpoints, data
from tfvae.deploy import export
from tfvae.deploy import runtime  # noqa: E402
from tfvae.deploy import formats  # noqa: E402


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--load_weight_dir", default="better_weight")
    p.add_argument("--num_examples", type=int, default=10000, help="test digits (default: all 10 000)")
    args = p.parse_args(argv)

    model, config, ckpt, _ = checkpoints.load_model(args.load_weight_dir)
    x, y = data.load_eval_images(data.DataConfig.from_dict(config["data"]), "test", args.num_examples)
    labels = {"label": y.astype(np.int64)} if model.config.conditional else {}
    z_mean = np.concatenate([model.encode(x[i:i + 1000], y[i:i + 1000] if labels else None)[0].numpy()
                             for i in range(0, len(x), 1000)])
    want = np.concatenate([model.decode(z_mean[i:i + 1000], y[i:i + 1000] if labels else None).numpy()
                           for i in range(0, len(x), 1000)])
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for q in formats.LITERT_QUANTIZATIONS:
            d = os.path.join(tmp, q)
            export.export_model(model, d, formats=("litert",), litert_quantize=q)
            dec = runtime.load(os.path.join(d, "decoder.tflite"))[formats.SIGNATURE]
            enc = runtime.load(os.path.join(d, "encoder.tflite"))[formats.SIGNATURE]
            got, rec = [], []
            for i in range(0, len(x), 1000):
                lab = {k: v[i:i + 1000] for k, v in labels.items()}
                got.append(dec(z=z_mean[i:i + 1000], **lab)["images"])
                rec.append(dec(z=enc(images=x[i:i + 1000], **lab)["z_mean"], **lab)["images"])
            got, rec = np.concatenate(got), np.concatenate(rec)
            rows[q] = {"decoder_bytes": os.path.getsize(os.path.join(d, "decoder.tflite")),
                       "encoder_bytes": os.path.getsize(os.path.join(d, "encoder.tflite")),
                       "decoder_rmse": rmse(got, want), "decoder_max_abs": float(np.abs(got - want).max()),
                       "round_trip_rmse": rmse(rec, want), "reconstruction_rmse_vs_images": rmse(rec, x)}
    print(f"{ckpt}: {len(x)} test digits; float32 Keras reconstruction RMSE against the images {rmse(want, x):.5f}")
    print(f"{'quantize':<14}{'decoder.tflite':>16}{'encoder.tflite':>16}{'decoder RMSE':>14}{'max |err|':>11}"
          f"{'round trip':>12}")
    for q, r in rows.items():
        print(f"{q:<14}{r['decoder_bytes'] / 1e6:>13.2f} MB{r['encoder_bytes'] / 1e6:>13.2f} MB"
              f"{r['decoder_rmse']:>14.2e}{r['decoder_max_abs']:>11.2e}{r['round_trip_rmse']:>12.2e}")
    print(json.dumps({"bench": "litert_quantize", "weights": ckpt, "num_examples": len(x), "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
