"""Speed of ``tfvae eval``'s importance-weighted NLL on this CPU.

Times ``estimator.evaluate`` (the code ``tfvae eval`` runs) with K importance
samples on the first N MNIST test images and extrapolates to the full 10 000:

    python bench/eval_speed.py [--load_weight_dir better_weight] [--num 300] [--iwae_samples 5000]

The last line is one JSON object.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault(  # the shared data beside the checkout, as in the tests
    "TFDS_DATA_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tensorflow_datasets"))

from tfvae import checkpoints, data
from tfvae.evaluation import estimator  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--load_weight_dir", default="better_weight")
    ap.add_argument("--num", type=int, default=300)
    ap.add_argument("--iwae_samples", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=None)
    args = ap.parse_args()
    model, config, ckpt, _ = checkpoints.load_model(args.load_weight_dir)
    dc = data.DataConfig.from_dict(config["data"])
    images, labels = data.load_eval_images(dc, "test", args.num)
    estimator.evaluate(model, images[:4], iwae_samples=args.iwae_samples, batch=args.batch, verbose=0)  # trace
    m = estimator.evaluate(model, images, iwae_samples=args.iwae_samples, batch=args.batch, verbose=0, labels=labels)
    per_image = m["seconds"] / len(images)
    decoder_flop = 2 * sum(int(v.shape[0]) * int(v.shape[1]) for v in model.decoder.trainable_variables
                           if len(v.shape) == 2)
    gflops = decoder_flop * args.iwae_samples / per_image / 1e9
    out = {"weights": ckpt, "num": len(images), "iwae_samples": args.iwae_samples, "seconds": round(m["seconds"], 2),
           "ms_per_image": round(1000 * per_image, 2), "full_test_set_seconds": round(per_image * 10000, 1),
           "decoder_gflops": round(gflops, 1), "nll": round(m["nll"], 3)}
    print(f"{len(images)} images x K={args.iwae_samples}: {m['seconds']:.1f} s -> {out['full_test_set_seconds']:.0f} s "
          f"for the 10 000 test images ({gflops:.0f} GFLOP/s in the decoder matmuls)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
