"""Where the time of one training step goes (default model, or the reference recipe).

    python bench/step_breakdown.py [--recipe default|ref] [--steps 600]

Times, per step, in graph loops of ``--steps`` steps over one fixed batch (no input pipeline):

* ``matmuls``: only the dense layers' matmuls of forward + backward (the FLOPs the roofline counts);
* ``forward``: the loss (encoder, sampling, decoder, Bernoulli likelihood, KL);
* ``forward+backward``: the loss and its gradients, no optimizer;
* ``optimizer``: ``FusedAdam.apply_gradients`` alone, on fixed gradients;
* ``optimizer, raw kernels``: the same ``ResourceApplyAdam`` kernels called directly (no Keras wrapper);
* ``step without metrics``: loss, gradients and ``apply_gradients``, no metric updates;
* ``train_step``: the package's ``VAE.train_step`` (gradients + Adam + metrics), XLA-compiled as ``tfvae
  train`` runs it (``--xla off``: the TF graph with oneDNN kernels). The other rows are TF graphs.

Each row also gives GFLOP/s against the counted FLOPs of a whole step and the fraction of the fp32 matmul
peak measured in the same run. The last line is one JSON object.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfvae import models  # noqa: E402
from tfvae.engine import optim  # noqa: E402

from train_speed import RECIPES, dense_shapes, matmul_peak  # noqa: E402


def timed(fn, *args, reps=3):
    fn(*args)  # trace + warm up
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        out = fn(*args)
        tf.nest.map_structure(lambda v: v.numpy() if hasattr(v, "numpy") else v, out)
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", choices=sorted(RECIPES), default="default")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--inter_op", type=int, default=0, help="TF inter-op threads (default 0: TF's choice)")
    ap.add_argument("--intra_op", type=int, default=0, help="TF intra-op threads (default 0: TF's choice)")
    ap.add_argument("--xla", choices=["on", "off"], default="on",
                    help="train_step row: XLA-compiled step (tfvae train's default for this model) or TF graph")
    args = ap.parse_args()
    tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
    tf.config.threading.set_intra_op_parallelism_threads(args.intra_op)
    spec = RECIPES[args.recipe]
    keras.utils.set_random_seed(0)
    model = models.build_model(models.VAEConfig(latent_dim=spec["latent_dim"], hidden=spec["hidden"]))
    model.compile(optimizer=optim.FusedAdam(1e-3), steps_per_execution=1, xla_step=args.xla == "on")
    model.optimizer.build(model.trainable_variables)
    b, steps = spec["batch"], args.steps
    x = tf.constant((np.random.default_rng(0).random((b, 28, 28, 1)) > 0.7).astype(np.float32))
    shapes = dense_shapes(model)
    gflop_step = 3 * sum(2 * i * o for i, o in shapes) * b / 1e9
    peak = matmul_peak()
    variables = model.trainable_variables

    mats = [tf.random.normal([i, o]) * 0.05 for i, o in shapes]
    acts = [tf.random.normal([b, i]) for i, _ in shapes]
    outs = [tf.random.normal([b, o]) for _, o in shapes]

    @tf.function
    def matmuls():
        acc = tf.constant(0.0)
        for _ in tf.range(steps):
            for a, w, g in zip(acts, mats, outs):
                y = tf.matmul(a + acc, w)               # forward
                dw = tf.matmul(a, g, transpose_a=True)  # weight gradient
                dx = tf.matmul(g, w, transpose_b=True)  # input gradient
                acc += 1e-30 * (y[0, 0] + dw[0, 0] + dx[0, 0])
        return acc

    @tf.function
    def forward():
        acc = tf.constant(0.0)
        for _ in tf.range(steps):
            acc += tf.reduce_mean(model.compute_losses(x, training=True)["loss"])
        return acc

    @tf.function
    def forward_backward():
        acc = tf.constant(0.0)
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(model.compute_losses(x, training=True)["loss"])
            grads = tape.gradient(loss, variables)
            acc += loss + 1e-30 * tf.add_n([g[0] if g.shape.rank == 1 else g[0, 0] for g in grads])
        return acc

    grads = [tf.zeros_like(v) + 1e-6 for v in variables]

    @tf.function
    def optimizer():
        for _ in tf.range(steps):
            model.optimizer.apply_gradients(zip(grads, variables))
        return tf.constant(0.0)

    @tf.function
    def raw_adam():  # the same kernels with the scalars computed once: Keras' apply_gradients wrapper excluded
        opt = model.optimizer
        for _ in tf.range(steps):
            t = tf.cast(opt.iterations + 1, tf.float32)
            b1, b2 = tf.constant(0.9), tf.constant(0.999)
            p1, p2 = tf.pow(b1, t), tf.pow(b2, t)
            for g, v in zip(grads, variables):
                i = opt._get_variable_index(v)
                tf.raw_ops.ResourceApplyAdam(var=v.handle, m=opt._momentums[i].handle, v=opt._velocities[i].handle,
                                             beta1_power=p1, beta2_power=p2, lr=tf.constant(1e-3), beta1=b1,
                                             beta2=b2, epsilon=tf.constant(1e-7), grad=g)
            opt.iterations.assign_add(1)
        return tf.constant(0.0)

    @tf.function
    def step_without_metrics():
        acc = tf.constant(0.0)
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(model.compute_losses(x, training=True)["loss"])
            model.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            acc += loss
        return acc

    @tf.function
    def train_step():
        acc = tf.constant(0.0)
        for _ in tf.range(steps):
            acc += model.train_step(x)["loss"]
        return acc

    rows = {}
    for name, fn in (("matmuls", matmuls), ("forward", forward), ("forward+backward", forward_backward),
                     ("optimizer", optimizer), ("optimizer, raw kernels", raw_adam),
                     ("step without metrics", step_without_metrics), ("train_step", train_step)):
        ms = 1e3 * timed(fn) / steps
        rows[name] = {"ms_per_step": round(ms, 3), "gflops": round(gflop_step / ms * 1e3, 1),
                      "fraction_of_peak": round(gflop_step / ms * 1e3 / peak, 3)}
        print(f"{name:24s} {ms:7.3f} ms/step  ({rows[name]['gflops']:6.1f} GFLOP/s at the step's FLOP count, "
              f"{100 * rows[name]['fraction_of_peak']:.1f}% of peak)", flush=True)
    print(json.dumps({"recipe": args.recipe, "batch": b, "gflop_per_step": round(gflop_step, 4),
                      "matmul_peak_gflops": round(peak, 1), "rows": rows}))


if __name__ == "__main__":
    main()
