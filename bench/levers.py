"""A/B timings of the training-speed levers on the default model (bench/RESULTS.md).

Each lever is timed on the same in-memory MNIST batches (dynamically
binarized once), in interleaved rounds so that drift in the machine's load
hits every variant alike; the median over rounds is reported.

    python bench/levers.py [--rounds 3] [--steps 600] [--variants base,fused,...]

Variants: ``base`` (Keras Adam, steps_per_execution 50), ``spe1``, ``spe10``,
``xla`` (Keras' jit_compile: the whole step, random draws included),
``xla_fused`` (the same with FusedAdam), ``fused`` (FusedAdam, TF graph),
``xla_step`` (FusedAdam, ``VAE.compile(xla_step=True)``: XLA for everything
but the random draws; ``tfvae train``'s default for this model),
``xla_step_stack`` (the same, fed stacks of 10 batches that each call runs
as 10 steps inside one XLA computation: ``tfvae train``'s default since
session 6), ``xla_step_b200``, ``bf16`` (mixed_bfloat16 + FusedAdam), ``b200``/``b500``
(batch 200/500 with FusedAdam).
"""

import argparse
import json
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault(  # the shared data beside the checkout, as in the tests
    "TFDS_DATA_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tensorflow_datasets"))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfvae import data, models  # noqa: E402
from tfvae.engine import optim  # noqa: E402

from train_speed import time_epoch  # noqa: E402

VARIANTS = {
    "base": dict(opt="adam", spe=50),
    "spe1": dict(opt="adam", spe=1),
    "spe10": dict(opt="adam", spe=10),
    "xla": dict(opt="adam", spe=50, jit=True),
    "xla_fused": dict(opt="fused", spe=50, jit=True),
    "xla_step": dict(opt="fused", spe=50, xla_step=True),
    "xla_step_stack": dict(opt="fused", spe=5, xla_step=True, stack=10),
    "xla_step_b200": dict(opt="fused", spe=50, xla_step=True, batch=200),
    "fused": dict(opt="fused", spe=50),
    "bf16": dict(opt="fused", spe=50, policy="mixed_bfloat16"),
    "b200": dict(opt="fused", spe=50, batch=200),
    "b500": dict(opt="fused", spe=50, batch=500),
}


def build(v):
    keras.mixed_precision.set_global_policy(v.get("policy", "float32"))
    keras.utils.set_random_seed(0)
    model = models.build_model({})
    opt = optim.FusedAdam(1e-3) if v["opt"] == "fused" else keras.optimizers.Adam(1e-3)
    model.compile(optimizer=opt, jit_compile=v.get("jit", False), steps_per_execution=v["spe"],
                  xla_step=v.get("xla_step", False))
    keras.mixed_precision.set_global_policy("float32")
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--images", type=int, default=60000)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args()
    train, _, _ = data.load_splits(data.DataConfig("mnist"))
    rng = np.random.default_rng(0)
    x = (rng.random(train.images[: args.images].shape, dtype=np.float32)
         < train.images[: args.images] / 255.0).astype(np.float32)
    names = args.variants.split(",")
    built, times = {}, {n: [] for n in names}
    for n in names:
        v = VARIANTS[n]
        ds = tf.data.Dataset.from_tensor_slices(x).batch(v.get("batch", 100))
        ds = data.without_autotune((ds.batch(v["stack"]) if "stack" in v else ds).cache())
        built[n] = (build(v), ds)
        built[n][0].fit(ds.take(2 * v["spe"]), epochs=1, verbose=0)  # trace
    for _ in range(args.rounds):
        for n in names:
            model, ds = built[n]
            times[n].append(time_epoch(model, ds))
    base = statistics.median(times[names[0]])
    rows = []
    for n in names:
        med = statistics.median(times[n])
        rows.append({"variant": n, **VARIANTS[n], "epoch_seconds_median": round(med, 3),
                     "speedup_vs_first": round(base / med, 3)})
        print(f"{n:6s} {json.dumps(VARIANTS[n]):60s} {med:6.2f} s/epoch  x{base / med:.2f}", flush=True)
    print(json.dumps({"images": args.images, "rounds": args.rounds, "results": rows}))


if __name__ == "__main__":
    main()
