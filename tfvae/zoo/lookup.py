"""Shipped weights: what each set is (``tfvae weights``), TensorFlow-free; where they are is ``tfvae.checkpoints``'.

``weights/`` sits at the top of the repository and is installed with the
package as ``tfvae/weights/`` (setup.cfg maps it), so a name such as
``better_weight`` resolves after ``pip install`` from any directory.

``--load_weight_dir X`` is looked up in this order (``checkpoints.resolve``):

1. ``X`` as a path: a checkpoint directory (``model.weights.h5`` +
   ``config.json``);
2. ``X`` as a run directory: its ``checkpoints/best``, else its newest
   ``checkpoints/epoch-NNNN``;
3. ``./weights/X`` in the current directory;
4. ``X`` among the installed weights (``tfvae weights`` lists them).
"""

import os

from tfvae import checkpoints, io
from tfvae.checkpoints import PACKAGE_DIR, installed_root, names, search_roots, writable_home  # noqa: F401
from tfvae.evaluation import report

def _first_line(path):
    if not os.path.isfile(path):
        return ""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.strip():
                return line.strip().lstrip("#").strip()
    return ""


def headline(metrics, likelihood):
    """What ``tfvae weights`` shows of a metrics dict, in order (``report.summary_keys``): name -> value."""
    return {k: metrics[k] for k in report.summary_keys(metrics, likelihood)}


def describe(name):
    """One shipped set as a dict: name, path, dataset, model, arch, likelihood, latent_dim, metrics, card."""
    path = os.path.join(checkpoints.installed_root(), name)
    config = io.read_json(os.path.join(path, "config.json"), expect=dict, required=("model",),
                          fix="reinstall tfvae (shipped weights are read-only)")
    model, data = config.get("model") or {}, config.get("data") or {}
    likelihood = model.get("likelihood", "bernoulli")
    metrics_path = os.path.join(path, "metrics.json")
    metrics = (io.read_json(metrics_path, expect=dict, fix="reinstall tfvae (shipped weights are read-only)")
               if os.path.isfile(metrics_path) else {})
    return {
        "name": name, "path": path, "dataset": data.get("dataset"), "binarize": data.get("binarize"),
        "model": model.get("model", "vae"), "arch": model.get("arch", "mlp"),
        "likelihood": likelihood, "latent_dim": model.get("latent_dim"),
        "metrics": headline(metrics, likelihood),
        "metrics_split": report.protocol({**metrics, "likelihood": likelihood}) if metrics else "",
        "card": _first_line(os.path.join(path, "MODEL_CARD.md")),
    }


def format_listing(entries):
    """Text of ``tfvae weights``: one block per set."""
    if not entries:
        return "tfvae: no shipped weights found (the installed package has no tfvae/weights directory)"
    lines = [f"tfvae: {len(entries)} shipped weights set(s) in {os.path.dirname(entries[0]['path'])}", ""]
    for e in entries:
        metrics = report.summary_text({"latent_dim": e["latent_dim"], **e["metrics"]}, list(e["metrics"]))
        lines += [
            f"{e['name']}",
            f"  data     {e['dataset']}" + (f" (binarize {e['binarize']})" if e["binarize"] not in (None, "none") else ""),
            f"  model    {e['model']}, arch {e['arch']}, likelihood {e['likelihood']}, latent {e['latent_dim']}",
            f"  metrics  {metrics or 'none recorded'}" + (f"  ({e['metrics_split']})" if e["metrics_split"] else ""),
            f"  card     {e['card'] or '-'}",
            "",
        ]
    lines.append("Use one with --load_weight_dir NAME (tfvae generate, eval, viz, export, explore, train).")
    return "\n".join(lines)
