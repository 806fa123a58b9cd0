"""What the explorer's page is told about the model (``/explorer.json``), TensorFlow-free.

Read from the weights' ``config.json`` and ``metrics.json`` (the files
``tfvae weights`` and ``tfvae eval`` read and write): name, dataset, kind,
shapes, the label classes of a conditional model, the headline metrics, the
bundled test images that fit the model, and where the page sends its
predict requests (this server, or ``--serving_url``).
"""

import os

from tfvae import checkpoints, io
from tfvae.models.config import MODEL_DEFAULTS
from tfvae.models import kinds
from tfvae.errors import TfvaeError
from tfvae.evaluation import report

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
# Bundled test images (python -m tfvae.explorer.examples): a 10 x 10 grid, row k = ten test images of class k.
EXAMPLES = {"mnist": "examples/mnist.png", "fashion_mnist": "examples/fashion_mnist.png"}
EXAMPLE_SHAPE = [28, 28, 1]
CLASS_NAMES = {
    "mnist": [str(k) for k in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
}

def _display_name(load_weight_dir, ckpt):
    """A shipped name as typed; a path by the name of its run (or checkpoint) directory."""
    if os.sep not in load_weight_dir and not os.path.isabs(load_weight_dir):
        return load_weight_dir
    parent = os.path.dirname(os.path.abspath(ckpt))
    return os.path.basename(os.path.dirname(parent) if os.path.basename(parent) == "checkpoints" else ckpt)


def _metrics(ckpt, likelihood, stochastic):
    """``metrics.json`` of the checkpoint, else of its run directory: (the numbers shown, in order, as
    ``report.rows(m, "page")`` picks them; how they are shown; split; protocol)."""
    parent = os.path.dirname(os.path.abspath(ckpt))
    homes = [ckpt] + ([os.path.dirname(parent)] if os.path.basename(parent) == "checkpoints" else [])
    for home in homes:
        path = os.path.join(home, "metrics.json")
        if os.path.isfile(path):
            found = io.read_json(path, expect=dict, fix="run tfvae eval again to rewrite it")
            found = {**found, "likelihood": likelihood}  # the config's: metrics.json may predate the key
            keys = report.rows(found, "page", stochastic=stochastic)
            return ({k: found[k] for k in keys}, report.shown(found, keys), report.split_text(found),
                    report.protocol(found, keys))
    return {}, [], "", ""


def page_config(load_weight_dir, serving_url=None):
    """The JSON object the page starts from.

    Args:
        load_weight_dir: a checkpoint or run directory, or a shipped weights name.
        serving_url: a TF Serving REST root the page calls (None: this server's own endpoint).

    Returns:
        dict: ``name``, ``checkpoint``, ``dataset``, ``binarize``, ``kind``, ``arch``, ``likelihood``,
        ``latent_dim``, ``input_shape``, ``stochastic``, ``conditional``, ``num_classes``,
        ``class_names``, ``metrics`` (name: value, in the order shown), ``metrics_shown`` (``report.shown``: name,
        formatted value and unit of each), ``metrics_split``, ``metrics_note`` (``report.protocol``: split, images,
        K, binarization, what the bounds bound), ``serving_url`` ("" for this server) and
        ``examples`` (``{"url", "per_class"}`` or None).
    """
    ckpt = checkpoints.resolve(load_weight_dir)
    config = checkpoints.read_config(ckpt)
    model, data = config["model"], config.get("data") or {}
    kind = model.get("model", MODEL_DEFAULTS["model"])
    if kind not in kinds.names():
        raise TfvaeError(f"{os.path.join(ckpt, 'config.json')}: unknown model kind {kind!r} (this tfvae knows "
                         f"{', '.join(kinds.names())}); explore it with the tfvae that trained it")
    traits = kinds.get(kind)
    prior = model.get("prior") or MODEL_DEFAULTS["prior"]
    if prior != MODEL_DEFAULTS["prior"]:
        raise TfvaeError(f"{ckpt} holds a model with --prior {prior}: the explorer samples z from N(0, I) only; draw "
                         f"its samples with tfvae generate --load_weight_dir {ckpt}")
    try:
        shape = [int(v) for v in model.get("input_shape", MODEL_DEFAULTS["input_shape"])]
        latent = int(model.get("latent_dim", MODEL_DEFAULTS["latent_dim"]))
        num_classes = int(model.get("num_classes") or 0) if traits.conditional else 0
    except (TypeError, ValueError):
        raise TfvaeError(f"{os.path.join(ckpt, 'config.json')} has the wrong shape (input_shape, latent_dim or "
                         "num_classes is not a number); restore it") from None
    dataset = data.get("dataset")
    names = CLASS_NAMES.get(dataset, [])
    class_names = [names[k] if k < len(names) else str(k) for k in range(num_classes)]
    examples = None
    if dataset in EXAMPLES and shape == EXAMPLE_SHAPE and os.path.isfile(os.path.join(STATIC, EXAMPLES[dataset])):
        examples = {"url": EXAMPLES[dataset], "per_class": 10, "class_names": CLASS_NAMES[dataset]}
    likelihood = model.get("likelihood", MODEL_DEFAULTS["likelihood"])
    metrics, shown, split, note = _metrics(ckpt, likelihood, traits.stochastic)
    return {
        "name": _display_name(load_weight_dir, ckpt), "checkpoint": os.path.abspath(ckpt), "dataset": dataset,
        "binarize": data.get("binarize"), "kind": kind, "arch": model.get("arch", MODEL_DEFAULTS["arch"]),
        "likelihood": likelihood, "latent_dim": latent, "input_shape": shape,
        "stochastic": traits.stochastic, "conditional": traits.conditional, "num_classes": num_classes,
        "class_names": class_names, "metrics": metrics, "metrics_shown": shown, "metrics_split": split,
        "metrics_note": note,
        "serving_url": (serving_url or "").rstrip("/"), "examples": examples,
    }
