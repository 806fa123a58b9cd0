"""Serving speed of the exported decoder SavedModel, in process, on this CPU.

Exports the model with ``tfvae.export`` (the shipped ``weights/better_weight``
when present, else a freshly built default model: MLP 512-256, latent 128),
reloads the decoder with ``tf.saved_model.load`` and calls its
``serving_default`` signature the way a server would (NumPy in, NumPy out):

  * throughput (samples/s) at batch 1, 32 and 256;
  * single-request latency at batch 1 (p50, p99, max) over ``--requests`` calls.

Targets on 2 cores: >= 20 000 samples/s at batch 256, p50 <= 2 ms at batch 1.
Prints a table; the last line is one JSON object.

    python bench/serving_speed.py [--load_weight_dir better_weight] [--requests 2000] [--seconds 2]
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfvae import checkpoints, export, models  # noqa: E402
from tfvae.errors import TfvaeError  # noqa: E402

BATCHES = (1, 32, 256)
TARGETS = {"samples_per_s_at_256": 20000.0, "p50_ms_at_1": 2.0}


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
        fn(z=tf.constant(z))["images"].numpy()
    calls, start = 0, time.perf_counter()
    while True:
        fn(z=tf.constant(z))["images"].numpy()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls >= 10:
            return batch * calls / elapsed


def latency_ms(fn, latent, requests, rng):
    """Per-request wall times (ms) of ``requests`` batch-1 calls, each with a new z."""
    zs = rng.standard_normal((requests, 1, latent)).astype(np.float32)
    for i in range(20):
        fn(z=tf.constant(zs[i]))["images"].numpy()
    times = np.empty(requests)
    for i in range(requests):
        t = time.perf_counter()
        fn(z=tf.constant(zs[i]))["images"].numpy()
        times[i] = time.perf_counter() - t
    return times * 1e3


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--load_weight_dir", default="better_weight", help="checkpoint (default better_weight)")
    p.add_argument("--requests", type=int, default=2000, help="batch-1 requests for the latency (default 2000)")
    p.add_argument("--seconds", type=float, default=2.0, help="seconds per throughput point (default 2)")
    args = p.parse_args(argv)

    model, source = load_model(args.load_weight_dir)
    latent = model.config.latent_dim
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        result = export.export_model(model, tmp)
        export_s = time.perf_counter() - t
        fn = tf.saved_model.load(result["decoder"]).signatures[export.SIGNATURE]
        rng = np.random.default_rng(0)
        rates = {b: throughput(fn, latent, b, args.seconds, rng) for b in BATCHES}
        lat = latency_ms(fn, latent, args.requests, rng)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"decoder SavedModel: {source}; latent {latent}, hidden {list(model.config.hidden)}, "
          f"output {list(model.config.input_shape)}; export {export_s:.1f} s")
    print(f"CPU: {os.cpu_count()} cores, load average {load:.2f} at the end (other processes share them)")
    print(f"{'batch':>6} {'samples/s':>12} {'ms/call':>9}")
    for b, r in rates.items():
        print(f"{b:>6} {r:>12,.0f} {1e3 * b / r:>9.3f}")
    p50, p99 = float(np.percentile(lat, 50)), float(np.percentile(lat, 99))
    print(f"batch-1 latency over {args.requests} requests: p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {lat.max():.3f} ms")
    ok_rate = bool(rates[256] >= TARGETS["samples_per_s_at_256"])
    ok_p50 = bool(p50 <= TARGETS["p50_ms_at_1"])
    print(f"targets: >= {TARGETS['samples_per_s_at_256']:,.0f} samples/s at 256: {'met' if ok_rate else 'MISSED'}; "
          f"p50 <= {TARGETS['p50_ms_at_1']} ms at 1: {'met' if ok_p50 else 'MISSED'}")
    print(json.dumps({
        "bench": "serving_speed", "source": source, "latent_dim": latent, "cpu_count": os.cpu_count(),
        "load_average": round(load, 2),
        "samples_per_s": {str(b): round(r, 1) for b, r in rates.items()},
        "latency_ms_batch1": {"p50": round(p50, 4), "p99": round(p99, 4), "max": round(float(lat.max()), 4),
                              "requests": args.requests},
        "targets_met": {"samples_per_s_at_256": ok_rate, "p50_ms_at_1": ok_p50},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
