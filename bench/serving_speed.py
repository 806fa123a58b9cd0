"""Serving speed of the exported decoder in each runtime, in process, on this CPU.

Exports the model with ``tfvae.export`` in every format (the shipped ``weights/better_weight``
when present, else a freshly built default model: MLP 512-256, latent 128), loads the decoder
with ``tfvae.runtime.load`` (TF SavedModel: ``tf.saved_model.load``; LiteRT: ai_edge_litert's
signature runner, float32, ``--threads`` threads; ONNX Runtime: CPU provider, ``--threads``
intra-op threads) and calls it the way a server would (NumPy in, NumPy out):

  * throughput (samples/s) at batch 1, 32 and 256;
  * single-request latency at batch 1 (p50, p99, max) over ``--requests`` calls.

The runtimes are measured one after the other in one process. Targets on 2 cores:
>= 20 000 samples/s at batch 256, p50 <= 2 ms at batch 1. Prints a table; the last line is
one JSON object.

    python bench/serving_speed.py [--load_weight_dir better_weight] [--requests 2000] [--seconds 2]
                                  [--runtimes saved_model,litert,onnx] [--threads N]
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tfvae import checkpoints, models
from tfvae.cli import argtypes
from tfvae.deploy import export
from tfvae.deploy import runtime  # noqa: E402
from tfvae.deploy import formats  # noqa: E402
from tfvae.errors import TfvaeError  # noqa: E402

BATCHES = (1, 32, 256)
TARGETS = {"samples_per_s_at_256": 20000.0, "p50_ms_at_1": 2.0}
TITLES = {"saved_model": "TF SavedModel", "litert": "LiteRT", "onnx": "ONNX Runtime"}
FILES = {"saved_model": os.path.join("decoder", "1"), "litert": "decoder.tflite", "onnx": "decoder.onnx"}


def load_model(name):
    """The model behind ``name`` (a checkpoint), or a default model when there is none.

    Returns:
        ``(model, description)``.
    """
    try:
        model, _, ckpt, _ = checkpoints.load_model(name)
        return model, f"weights {ckpt}"
    except TfvaeError:
        return models.build_model({}), "fresh default model (no shipped weights)"


def throughput(fn, latent, batch, seconds, rng):
    """Samples per second of ``fn`` at one batch size, over about ``seconds``."""
    z = rng.standard_normal((batch, latent)).astype(np.float32)
    for _ in range(5):
        fn(z=z)["images"]
    calls, start = 0, time.perf_counter()
    while True:
        fn(z=z)["images"]
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls >= 10:
            return batch * calls / elapsed


def latency_ms(fn, latent, requests, rng):
    """Per-request wall times (ms) of ``requests`` batch-1 calls, each with a new z."""
    zs = rng.standard_normal((requests, 1, latent)).astype(np.float32)
    for i in range(20):
        fn(z=zs[i])["images"]
    times = np.empty(requests)
    for i in range(requests):
        t = time.perf_counter()
        fn(z=zs[i])["images"]
        times[i] = time.perf_counter() - t
    return times * 1e3


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def measure(fn, latent, args):
    rng = np.random.default_rng(0)
    rates = {b: throughput(fn, latent, b, args.seconds, rng) for b in BATCHES}
    lat = latency_ms(fn, latent, args.requests, rng)
    return {"samples_per_s": {str(b): round(r, 1) for b, r in rates.items()},
            "latency_ms_batch1": {"p50": round(float(np.percentile(lat, 50)), 4),
                                  "p99": round(float(np.percentile(lat, 99)), 4),
                                  "max": round(float(lat.max()), 4), "requests": args.requests},
            "targets_met": {"samples_per_s_at_256": bool(rates[256] >= TARGETS["samples_per_s_at_256"]),
                            "p50_ms_at_1": bool(np.percentile(lat, 50) <= TARGETS["p50_ms_at_1"])}}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--load_weight_dir", default="better_weight", help="checkpoint (default better_weight)")
    p.add_argument("--requests", type=int, default=2000, help="batch-1 requests for the latency (default 2000)")
    p.add_argument("--seconds", type=float, default=2.0, help="seconds per throughput point (default 2)")
    p.add_argument("--runtimes", type=argtypes.export_formats, default=formats.EXPORT_FORMATS,
                   help="formats to measure (default all: saved_model,litert,onnx)")
    p.add_argument("--threads", type=int, default=None, help="LiteRT and ONNX Runtime threads (default: all cores)")
    args = p.parse_args(argv)

    model, source = load_model(args.load_weight_dir)
    latent = model.config.latent_dim
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        export.export_model(model, tmp, formats=args.runtimes)
        export_s = time.perf_counter() - t
        for fmt in args.runtimes:
            fn = runtime.load(os.path.join(tmp, FILES[fmt]), threads=args.threads)[formats.SIGNATURE]
            results[fmt] = measure(fn, latent, args)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"decoder: {source}; latent {latent}, arch {model.config.arch}, hidden {list(model.config.hidden)}, "
          f"output {list(model.config.input_shape)}; export of {', '.join(args.runtimes)} {export_s:.1f} s")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores, load average {load:.2f} at the end; "
          f"threads {args.threads or os.cpu_count()} (LiteRT, ONNX Runtime)")
    print(f"{'runtime':<14}" + "".join(f"{f'batch {b} /s':>14}" for b in BATCHES) + f"{'p50 ms':>9}{'p99 ms':>9}")
    for fmt, r in results.items():
        lat = r["latency_ms_batch1"]
        print(f"{TITLES[fmt]:<14}" + "".join(f"{r['samples_per_s'][str(b)]:>14,.0f}" for b in BATCHES)
              + f"{lat['p50']:>9.3f}{lat['p99']:>9.3f}")
    for fmt, r in results.items():
        met = r["targets_met"]
        print(f"targets, {TITLES[fmt]}: >= {TARGETS['samples_per_s_at_256']:,.0f} samples/s at 256: "
              f"{'met' if met['samples_per_s_at_256'] else 'MISSED'}; p50 <= {TARGETS['p50_ms_at_1']} ms at 1: "
              f"{'met' if met['p50_ms_at_1'] else 'MISSED'}")
    print(json.dumps({"bench": "serving_speed", "source": source, "latent_dim": latent, "cpu": cpu_model(),
                      "cpu_count": os.cpu_count(), "load_average": round(load, 2), "threads": args.threads,
                      "runtimes": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
