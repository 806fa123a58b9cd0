"""Writes the golden fixture of tests/unit/test_golden.py (run once, with the code the fixture pins).

For each model kind a small model is built with a fixed seed, trained for two
Adam steps on real MNIST test digits and saved as a checkpoint (weights,
config, optimizer state). Its outputs on those digits are recorded: encode,
decode, reconstruction, the per-example terms for fixed noise, evaluate()
with K=5 importance samples, the exported decoder and encoder signatures (kept
as their Keras twins, EXPORT_TWINS) and the weights after one more Adam step
from the saved optimizer state (NO_OPTIMIZER: none). The same is recorded for
the shipped weights/better_weight.

    python -m tests.unit.golden.make_golden     # from the checkout's root: tests/unit/golden/<kind>/, expected.npz
"""

import json
import os

import numpy as np

from tfvae._tf import tf
import keras

from tfvae import checkpoints, data, models
from tfvae.evaluation import estimator
from tfvae.deploy import export

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SHARED = os.environ.get("TFVAE_SHARED", os.path.join(ROOT, "..", "shared"))
# The exported signatures' outputs, recorded here, equalled the Keras outputs bit for bit (the first fixture
# held both): expected.npz keeps only the Keras ones, and the test compares the exported ones with them.
EXPORT_TWINS = {"export/decoder/images": "decode", "export/encoder/z_mean": "z_mean",
                "export/encoder/z_log_var": "z_log_var"}
# Kinds saved without their optimizer state: vae_mse_beta is a vae on the mlp architecture like vae_mlp (a
# likelihood and beta add no variable), so loading its state onto the same variables checks nothing more.
NO_OPTIMIZER = {"vae_mse_beta"}

KINDS = {
    "vae_mlp": {"latent_dim": 3, "hidden": [16, 8]},
    "vae_gated_iwae": {"latent_dim": 3, "hidden": [16], "arch": "gated", "objective": "iwae", "k": 3},
    "ae": {"latent_dim": 3, "hidden": [16], "model": "ae"},
    "cvae": {"latent_dim": 2, "hidden": [16], "model": "cvae", "num_classes": 10},
    "vae2": {"latent_dim": 2, "hidden": [16], "model": "vae2", "latent_dim1": 4, "hidden2": [8]},
    "conv_bn_gaussian": {"latent_dim": 3, "hidden": [16], "arch": "conv", "conv_filters": [4, 8],
                         "batch_norm": True, "likelihood": "gaussian"},
    "vae_mse_beta": {"latent_dim": 3, "hidden": [16], "likelihood": "mse", "beta": 0.5},
}


def digits(n=16):
    splits = data.load_idx_dir(os.path.join(SHARED, "data", "mnist"))
    test = splits["test"]
    return test.images[:n], test.labels[:n]


def noise(model, n, seed):
    k = model.samples_per_example
    width = model.noise_shape[1]  # latent_dim1 + latent_dim for a vae2, latent_dim for the others
    return np.random.default_rng(seed).standard_normal((n, k, width)).astype(np.float32)


def record(model, images_u8, labels, prefix, out):
    x = tf.constant(images_u8.astype(np.float32) / 255.0)
    xb = tf.constant((images_u8 > 127).astype(np.float32))
    y = tf.constant(labels.astype(np.int32)) if model.config.conditional else None
    out[f"{prefix}/recon"] = model((x, y) if y is not None else x).numpy()
    z_mean, z_log_var = model.encode(x, y)
    out[f"{prefix}/z_mean"], out[f"{prefix}/z_log_var"] = z_mean.numpy(), z_log_var.numpy()
    z = np.random.default_rng(1).standard_normal((len(images_u8), model.latent_dim)).astype(np.float32)
    out[f"{prefix}/decode"] = model.decode(tf.constant(z), y).numpy()
    eps = tf.constant(noise(model, len(images_u8), 2)) if model.can_sample else None
    terms = model.compute_losses(xb, y, training=False, eps=eps)
    for name in ("loss", "reconstruction_loss", "kl_loss", "rmse"):
        out[f"{prefix}/terms/{name}"] = terms[name].numpy()
    m = estimator.evaluate(model, xb.numpy(), iwae_samples=5, batch=8, seed=0, verbose=0, labels=labels)
    for key in ("nll", "neg_elbo", "reconstruction_loss", "kl", "rmse", "active_units"):
        out[f"{prefix}/eval/{key}"] = np.float64(np.nan if m[key] is None else m[key])
    dec, enc = export.decoder_module(model), export.encoder_module(model)
    dargs = {"z": tf.constant(z)}
    eargs = {"images": x}
    if y is not None:
        dargs["label"] = tf.cast(y, tf.int64)
        eargs["label"] = tf.cast(y, tf.int64)
    out[f"{prefix}/export/decoder/images"] = dec.serve(**dargs)["images"].numpy()
    for key, v in enc.serve(**eargs).items():
        out[f"{prefix}/export/encoder/{key}"] = v.numpy()


def adam_step(model, images_u8, labels, eps_seed):
    xb = tf.constant((images_u8 > 127).astype(np.float32))
    y = tf.constant(labels.astype(np.int32)) if model.config.conditional else None
    eps = tf.constant(noise(model, len(images_u8), eps_seed)) if model.can_sample else None
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model.compute_losses(xb, y, training=True, eps=eps)["loss"])
    grads = tape.gradient(loss, model.trainable_variables)
    model.optimizer.apply_gradients(zip(grads, model.trainable_variables))


def main():
    images, labels = digits()
    out = {"images": images, "labels": labels}
    for kind, cfg in KINDS.items():
        keras.utils.set_random_seed(0)
        model = models.build_model({"input_shape": [28, 28, 1], **cfg})
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        for s in (10, 11):
            adam_step(model, images, labels, s)
        directory = os.path.join(HERE, kind)
        checkpoints.save(directory, model, {"model": model.config.to_dict(), "data": {"dataset": "mnist"}},
                         {"epoch": 1}, None if kind in NO_OPTIMIZER else model.optimizer)
        record(model, images, labels, kind, out)
        if kind not in NO_OPTIMIZER:
            adam_step(model, images, labels, 12)
            for i, w in enumerate(model.get_weights()):
                out[f"{kind}/after_step/{i:03d}"] = w
    model, _, _, _ = checkpoints.load_model(os.path.join(ROOT, "weights", "better_weight"))
    record(model, images, labels, "better_weight", out)
    out = {k: v for k, v in out.items() if k.partition("/")[2] not in EXPORT_TWINS}
    np.savez_compressed(os.path.join(HERE, "expected.npz"), **out)
    with open(os.path.join(HERE, "kinds.json"), "w") as f:
        json.dump(KINDS, f, indent=2)
    print(f"wrote {len(out)} arrays to {os.path.join(HERE, 'expected.npz')}")


if __name__ == "__main__":
    main()
