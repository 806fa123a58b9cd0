"""Training speed of the package's real training step on this CPU.

Times ``VAE.train_step`` as ``tfvae train`` compiles it (``training.compile_model``)
on full MNIST for:

  (a) ``ref``: the PyTorch example's recipe, MLP 784-400-20-400-784, batch 128;
  (b) ``default``: tfvae's default, MLP 512-256, latent 128, batch 100;
  (c) ``conv``: ``tfvae train --arch conv`` (stride-2 4x4 convs 32,64, dense 512-256, latent 128), batch 100.

Prints per-epoch median seconds, images/s, GFLOP per epoch (3x the forward
FLOPs of the dense and conv layers, counted from layer shapes), the fp32 matmul
peak measured in the same run (before and after the recipes; the higher) and the roofline fraction; then input-pipeline
overhead (real pipeline, binarized as ``--binarize`` says, vs. the same elements
cached in memory, epochs alternated) and peak RSS. The last line is one JSON object.

    python bench/train_speed.py [--epochs 3] [--recipes ref,default,conv] [--binarize none|dynamic] [--xla auto]
"""

import argparse
import json
import os
import resource
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault(  # the shared data beside the checkout, as in the tests
    "TFDS_DATA_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tensorflow_datasets"))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfvae import data, models, training  # noqa: E402

RECIPES = {
    "ref": dict(hidden=(400,), latent_dim=20, batch=128),
    "default": dict(hidden=(512, 256), latent_dim=128, batch=100),
    "conv": dict(hidden=(512, 256), latent_dim=128, batch=100, arch="conv"),  # `tfvae train --arch conv`
}


def matmul_peak(n=2048, reps=20):
    """Measured fp32 matmul GFLOP/s (square n x n, the best of three runs)."""
    a, b = tf.random.normal([n, n]), tf.random.normal([n, n])
    f = tf.function(lambda a, b: tf.matmul(a, b))
    f(a, b).numpy()
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(reps):
            r = f(a, b)
        r.numpy()
        best = max(best, reps * 2 * n**3 / (time.perf_counter() - t) / 1e9)
    return best


def dense_shapes(model):
    shapes = []
    for layer in model.encoder.layers + model.decoder.layers:
        if isinstance(layer, keras.layers.Dense):
            shapes.append(tuple(layer.kernel.shape))
    return shapes


def forward_flops(model):
    """Multiply-add FLOPs (2 per MAC) of one image's forward pass through the dense and conv layers.

    Conv2D: 2 * H_out * W_out * kh * kw * C_in * C_out; Conv2DTranspose:
    2 * H_in * W_in * kh * kw * C_in * C_out (each input pixel spreads over a kh x kw patch).
    """
    total = 0
    for layer in model.encoder.layers + model.decoder.layers:
        if isinstance(layer, keras.layers.Dense):
            i, o = layer.kernel.shape
            total += 2 * i * o
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            kh, kw, _, _ = layer.kernel.shape
            _, h, w, cin = layer.input.shape
            total += 2 * h * w * kh * kw * cin * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            _, h, w, _ = layer.output.shape
            total += 2 * h * w * kh * kw * cin * cout
    return total


def gflop_per_epoch(model, n_images):
    """3 x forward FLOPs (forward + backward) of the dense and conv layers, per epoch."""
    return 3 * forward_flops(model) * n_images / 1e9


class EpochClock(keras.callbacks.Callback):
    """Seconds from the start to the end of each epoch, as ``tfvae train`` records ``epoch_seconds``.

    (Timing around ``fit`` would include what ``fit`` does after its last epoch: on this machine that
    measured 0 to 0.6 s per call, more than the effects being measured.)
    """

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.t0)


def time_epochs(model, ds, epochs, steps_per_epoch=None):
    """Trains ``epochs`` epochs on ``ds`` in one ``fit``; returns their seconds."""
    clock = EpochClock()
    model.fit(ds, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=0, callbacks=[clock])
    return clock.seconds


def time_epoch(model, ds):
    """Trains one epoch on ``ds`` (a new iterator); returns its seconds."""
    return time_epochs(model, ds, 1)[0]


def bench_recipe(name, spec, train, epochs, spe, peak, xla="auto", binarize="none"):
    keras.utils.set_random_seed(0)
    tc = training.TrainConfig(batch=spec["batch"], steps_per_execution=spe, log_every=10**9, xla=xla)
    model = models.build_model(models.VAEConfig(latent_dim=spec["latent_dim"], hidden=spec["hidden"],
                                                arch=spec.get("arch", "mlp")))
    feed = training.compile_model(model, tc, len(train))
    # Fed as tfvae train feeds it (the plan compile_model returns): stacks of batches where the step runs several per call, and
    # one repeating dataset through one iterator where Keras' executions divide the epoch.
    steps = feed.elements_per_epoch if feed.persistent else None

    def dataset(repeat):
        return data.make_dataset(train, spec["batch"], shuffle=True, seed=0, binarize=binarize,
                                 group=feed.steps_per_call, repeat=repeat)

    real = dataset(feed.persistent)
    # Pipeline overhead: the same elements, kept in memory after the first pass (cache), against the pipeline.
    mem = data.without_autotune(dataset(False).cache())
    mem = mem.repeat() if feed.persistent else mem
    # Trace, compile and warm up (and fill the cache): the last, partial batch is a second shape (XLA compiles
    # each shape once). Then alternate real and in-memory fits of 2 epochs, so that drift in the machine's load
    # hits both alike, and time the second epoch of each: in a run, the first epoch's set-up happens once.
    time_epochs(model, real, 2, steps), time_epochs(model, mem, 2, steps)
    times, mem_times = [], []
    for _ in range(epochs):
        times.append(time_epochs(model, real, 2, steps)[-1])
        mem_times.append(time_epochs(model, mem, 2, steps)[-1])
    med = statistics.median(times)
    gflop = gflop_per_epoch(model, len(train))
    return {
        "recipe": name,
        "batch": spec["batch"],
        "xla_step": model.xla_step,
        "epoch_seconds_median": round(med, 3),
        "epoch_seconds_all": [round(t, 3) for t in times],
        "images_per_s": round(len(train) / med),
        "gflop_per_epoch": round(gflop, 1),
        "gflops": round(gflop / med, 1),
        "roofline_fraction": round(gflop / med / peak, 3),
        "in_memory_epoch_seconds_median": round(statistics.median(mem_times), 3),
        "in_memory_epoch_seconds_all": [round(t, 3) for t in mem_times],
        # each real epoch against the in-memory epoch right after it: drift between rounds cancels
        "pipeline_overhead": round(statistics.median(t / m for t, m in zip(times, mem_times)) - 1, 3),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--recipes", default="ref,default,conv")
    ap.add_argument("--xla", choices=training.XLA_MODES, default="auto", help="as tfvae train --xla")
    ap.add_argument("--binarize", choices=data.BINARIZE_MODES, default="none",
                    help="as tfvae train --binarize (default none: tfvae train's default, and the grey values the "
                         "PyTorch example trains on)")
    ap.add_argument("--steps_per_execution", type=int, default=training.TrainConfig.steps_per_execution)
    ap.add_argument("--dataset", default="mnist")
    args = ap.parse_args()

    train, _, _ = data.load_splits(data.DataConfig(args.dataset))
    # The peak, measured before and after the recipes, the higher counting: a single measurement reads low
    # whenever the machine is busy elsewhere (this VM's measurements range 186-216 GFLOP/s).
    peaks = [matmul_peak()]
    print(f"fp32 matmul peak (2048^3, measured before the recipes): {peaks[0]:.1f} GFLOP/s; threads: "
          f"intra={tf.config.threading.get_intra_op_parallelism_threads()} cores={os.cpu_count()}", flush=True)
    rows = []
    for name in args.recipes.split(","):
        row = bench_recipe(name, RECIPES[name], train, args.epochs, args.steps_per_execution, peaks[0], args.xla,
                           args.binarize)
        rows.append(row)
        print(f"{name}: {row['epoch_seconds_median']:.2f} s/epoch", flush=True)
    peaks.append(matmul_peak())
    peak = max(peaks)
    print(f"fp32 matmul peak after the recipes: {peaks[1]:.1f} GFLOP/s; the fractions below are of {peak:.1f}")
    for row in rows:
        row["roofline_fraction"] = round(row["gflops"] / peak, 3)
        print(f"{row['recipe']:8s} batch {row['batch']:4d}: {row['epoch_seconds_median']:.2f} s/epoch "
              f"({row['images_per_s']} img/s), {row['gflop_per_epoch']} GFLOP/epoch, {row['gflops']} GFLOP/s = "
              f"{100 * row['roofline_fraction']:.1f}% of peak; pipeline overhead "
              f"{100 * row['pipeline_overhead']:+.1f}%", flush=True)
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps({"matmul_peak_gflops": round(peak, 1), "matmul_peaks_measured": [round(p, 1) for p in peaks],
                      "steps_per_execution": args.steps_per_execution,
                      "binarize": args.binarize, "xla": args.xla,
                      "peak_rss_gb": round(rss_gb, 2), "recipes": rows}))


if __name__ == "__main__":
    main()
