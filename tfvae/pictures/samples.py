"""Samples from a model's prior as a PNG grid: ``tfvae generate`` (a checkpoint, or an exported decoder)."""

import numpy as np

from tfvae.errors import TfvaeError
from tfvae.pictures import grids


def _sample_labels(num_classes, num, nrow, label):
    """A cvae's labels: ``label`` for every sample, or one row per class; returns ``(labels, num, nrow)``.

    ``num_classes`` 0 means unknown (an export without metadata): then ``label`` is needed.
    """
    if label is not None:
        if num_classes and not 0 <= label < num_classes:
            raise TfvaeError(f"--label {label} is out of range: this cvae has classes 0..{num_classes - 1}")
        return [label] * num, num, nrow
    if not num_classes:
        raise TfvaeError("this conditional decoder does not say how many classes it has; pass --label")
    nrow = max(1, num // num_classes)  # one row per class
    return [c for c in range(num_classes) for _ in range(nrow)], nrow * num_classes, nrow


def run_generate(load_weight_dir="better_weight", *, num=100, nrow=10, temperature=1.0, seed=None,
                 output="samples.png", scale=2, label=None):
    """``tfvae generate``: decodes ``num`` draws of z ~ N(0, T^2 I) into a PNG grid.

    A cvae samples class ``label``, or one row per class when ``label`` is None.

    Returns:
        ``(images, seed)``.
    """
    import random

    from tfvae import checkpoints

    model, _, ckpt, _ = checkpoints.load_model(load_weight_dir)
    if not model.can_sample:
        raise TfvaeError(f"{ckpt} holds a plain auto-encoder (--model ae): it has no prior to sample from; "
                         "use 'tfvae eval --save_images' for reconstructions")
    seed = seed if seed is not None else random.randrange(2**31)
    labels = None
    if model.config.conditional:
        labels, num, nrow = _sample_labels(model.num_classes, num, nrow, label)
    elif label is not None:
        raise TfvaeError("--label needs a conditional model (--model cvae); this one is unconditional")
    images = model.sample(num, temperature=temperature, seed=seed, labels=labels).numpy()
    grids.save_png(output, grids.make_grid(images, nrow=nrow), scale=scale)
    print(f"tfvae: wrote {num} samples (T={temperature}, seed {seed}) from {ckpt} to {output}")
    return images, seed


def run_generate_exported(path, *, num=100, nrow=10, temperature=1.0, seed=None, output="samples.png", scale=2,
                          label=None):
    """``tfvae generate --exported PATH``: the same samples from an exported decoder, no Keras model built.

    ``PATH`` is a SavedModel directory, a ``.tflite`` or an ``.onnx`` file (``runtime.load``);
    z ~ N(0, T^2 I) is drawn with NumPy (``default_rng(seed mod 2^64)``), so the three formats give the
    same picture for a seed (not the one ``run_generate`` draws with TensorFlow).

    Returns:
        ``(images, seed)``.
    """
    import random

    from tfvae.deploy import runtime

    loaded = runtime.load(path)
    decode = loaded.get(runtime.SIGNATURE)
    if decode is None or "z" not in decode.inputs or "images" not in decode.outputs:
        has = f"its inputs are {', '.join(decode.inputs)}" if decode else f"no {runtime.SIGNATURE} signature"
        raise TfvaeError(f"{path} is not an exported decoder ({has}); "
                         "pass DIR/decoder/N, DIR/decoder.tflite or DIR/decoder.onnx")
    meta = loaded.metadata
    if meta.get("can_sample") is False:
        raise TfvaeError(f"{path} is the decoder of a plain auto-encoder (--model ae): it has no prior to sample "
                         "from; use 'tfvae eval --save_images' for reconstructions")
    feeds = {}
    if "label" in decode.inputs:
        labels, num, nrow = _sample_labels(int(meta.get("num_classes") or 0), num, nrow, label)
        feeds["label"] = np.asarray(labels, np.int64)
    elif label is not None:
        raise TfvaeError("--label needs a conditional decoder (--model cvae); this one is unconditional")
    seed = seed if seed is not None else random.randrange(2**31)
    z = np.random.default_rng(seed % 2**64).standard_normal((num, decode.inputs["z"].shape[-1]))
    feeds["z"] = (float(temperature) * z).astype(np.float32)
    images = decode(**feeds)["images"]
    grids.save_png(output, grids.make_grid(images, nrow=nrow), scale=scale)
    print(f"tfvae: wrote {num} samples (T={temperature}, seed {seed}) from {path} ({loaded.runtime}) to {output}")
    return images, seed
