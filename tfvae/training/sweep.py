"""``tfvae sweep``: train and evaluate a grid of configurations, one table and one figure.

For each (model, latent dim, beta) the sweep trains a run in
``<out>/<model>-z<d>-beta<b>/`` (resuming or skipping one already finished),
evaluates it on the test split and writes::

    results.csv, results.md   latent dim, beta, epochs, train -ELBO, test -ELBO, NLL, RMSE,
                              active units, minutes
    lower_bound.png           the bound against training examples seen (log x-axis),
                              train dashed and test solid: Kingma & Welling's Figure 2 layout
"""

import csv
import dataclasses
import itertools
import os

from typing import Optional, Tuple

from tfvae import config, data, io
from tfvae.models import kinds
from tfvae.evaluation.estimator import evaluate
from tfvae.pictures import charts
from tfvae.training.rundir import DirLock, read_history
from tfvae.training.run import run_training
from tfvae.errors import TfvaeError

COLUMNS = ["model", "latent_dim", "beta", "epochs", "train_neg_elbo", "test_neg_elbo", "nll", "rmse",
           "active_units", "minutes"]


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A sweep: every (model, latent dim, beta) of the grid trained with the same data and training settings.

    Attributes:
        out: the sweep directory (one run directory per configuration in it).
        models, latent_dims, betas: the grid.
        data_config: a ``config.DataConfig``.
        train_config: a ``config.TrainConfig`` (``run_dir`` and ``images`` are set per configuration).
        model_overrides: the other ``VAEConfig`` fields, as for ``run_training``.
        eval_examples: test images to evaluate (None: all).
        iwae_samples: K of the importance-weighted NLL.
    """

    out: str
    models: Tuple[str, ...] = ("vae",)
    latent_dims: Tuple[int, ...] = (2, 5, 10, 20)
    betas: Tuple[float, ...] = (1.0,)
    data_config: config.DataConfig = dataclasses.field(default_factory=config.DataConfig)
    train_config: config.TrainConfig = dataclasses.field(default_factory=lambda: config.TrainConfig(epoch=10))
    model_overrides: dict = dataclasses.field(default_factory=dict)
    eval_examples: Optional[int] = None
    iwae_samples: int = 1000

    def __post_init__(self):
        bad = [m for m in self.models if m not in kinds.names() or not kinds.get(m).stochastic]
        if bad or not self.models:
            raise TfvaeError(f"--models takes vae and/or cvae (an ae has no ELBO to sweep), got "
                             f"{','.join(self.models)}")


def _config_name(model, d, beta):
    return f"{model}-z{d}-beta{beta:g}"


def _evaluated(sweep, run_dir, epochs):
    """The configuration's test metrics (``sweep_metrics.json``, evaluated again when stale)."""
    metrics_path = os.path.join(run_dir, "sweep_metrics.json")
    metrics = io.read_json(metrics_path, expect=dict, fix="delete it: the sweep then evaluates this configuration "
                           "again") if os.path.isfile(metrics_path) else None
    if metrics and metrics.get("epochs") == epochs and metrics.get("iwae_samples") == sweep.iwae_samples:
        return metrics
    from tfvae import checkpoints

    last = os.path.join(run_dir, "checkpoints", f"epoch-{epochs:04d}")
    m, _, _, _ = checkpoints.load_model(last if os.path.isdir(last) else run_dir)
    eval_dc = dataclasses.replace(sweep.data_config, train_examples=0, val_examples=0)
    images, labels = data.load_eval_images(eval_dc, "test", sweep.eval_examples)
    metrics = evaluate(m, images, iwae_samples=sweep.iwae_samples, labels=labels)
    metrics["epochs"] = epochs
    io.write_json(metrics_path, metrics)
    return metrics


def run_one(sweep, model, d, beta):
    """Trains (or resumes / skips) and evaluates one configuration; returns its table row and curve."""
    name = _config_name(model, d, beta)
    run_dir = os.path.join(sweep.out, name)
    epochs = sweep.train_config.epoch
    tc = dataclasses.replace(sweep.train_config, run_dir=run_dir, images=False)
    overrides = {**sweep.model_overrides, "latent_dim": d, "beta": beta, "model": model}
    if len(read_history(run_dir)) >= epochs:
        print(f"tfvae: sweep: {name} already trained for {epochs} epochs; not retraining", flush=True)
    else:
        print(f"tfvae: sweep: training {name}", flush=True)
        run_training(overrides, sweep.data_config, tc)
    history = read_history(run_dir)[:epochs]
    metrics = _evaluated(sweep, run_dir, epochs)

    last = history[-1]["train"]
    seconds = sum(h.get("epoch_seconds", 0) + h.get("val_seconds", 0) for h in history)
    row = {
        "model": model, "latent_dim": d, "beta": beta, "epochs": len(history),
        "train_neg_elbo": last["reconstruction_loss"] + last["kl_loss"],
        "test_neg_elbo": metrics["neg_elbo"], "nll": metrics["nll"], "rmse": metrics["rmse"],
        "active_units": metrics["active_units"], "minutes": seconds / 60,
    }
    n_train = io.read_json(os.path.join(run_dir, "config.json"), expect=dict, required=("info",),
                           fix=f"restore it, or delete {run_dir} to train this configuration again")["info"]["n_train"]
    seen = [h["epoch"] * n_train for h in history]
    curve = (f"{model} z={d}" + (f" β={beta:g}" if len(sweep.betas) > 1 else ""), seen,
             [-(h["train"]["reconstruction_loss"] + h["train"]["kl_loss"]) for h in history],
             [-(h["val"]["reconstruction_loss"] + h["val"]["kl_loss"]) for h in history])
    return row, curve


def _fmt(v, digits=2):
    if v is None:
        return "–"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def write_results(out, rows, curves, title):
    with io.atomic_path(os.path.join(out, "results.csv"), ".csv") as tmp:
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(rows)
    head = "| model | latent dim | β | epochs | train −ELBO | test −ELBO | NLL | RMSE | active units | minutes |"
    lines = [f"# {title}", "", head, "|" + "---|" * 10]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[c]:g}" if c == "beta" else _fmt(r[c], 4 if c == "rmse" else 2)
                                     for c in COLUMNS) + " |")
    with io.atomic_path(os.path.join(out, "results.md"), ".md") as tmp:
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
    charts.lower_bound(curves, os.path.join(out, "lower_bound.png"), title=title + " (train dashed, test solid)")


def run_sweep(sweep):
    """Runs every configuration of a ``Sweep``; writes results.csv, results.md and lower_bound.png into its ``out``.

    The sweep holds ``<out>/.lock`` (``rundir.DirLock``) throughout: a second sweep on the same ``out`` is
    refused, having written nothing. Each configuration's run locks its own run directory too.

    Returns:
        the table's rows.
    """
    with DirLock(sweep.out, "--out", "tfvae sweep"):
        rows, curves = [], []
        title = f"{sweep.data_config.dataset} sweep"
        for model, d, beta in itertools.product(sweep.models, sweep.latent_dims, sweep.betas):
            row, curve = run_one(sweep, model, d, beta)
            rows.append(row)
            curves.append(curve)
            write_results(sweep.out, rows, curves, title)
        with open(os.path.join(sweep.out, "results.md")) as f:
            print(f.read())
        print(f"tfvae: sweep results in {os.path.abspath(sweep.out)} (results.csv, results.md, lower_bound.png)")
    return rows
