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

from tfvae import data, evaluate, io, plots, training

COLUMNS = ["model", "latent_dim", "beta", "epochs", "train_neg_elbo", "test_neg_elbo", "nll", "rmse",
           "active_units", "minutes"]


def _config_name(model, d, beta):
    return f"{model}-z{d}-beta{beta:g}"


def run_one(args, model, d, beta):
    """Trains (or resumes / skips) and evaluates one configuration; returns its table row and curve."""
    name = _config_name(model, d, beta)
    run_dir = os.path.join(args.out, name)
    dc = data.DataConfig(dataset=args.dataset, data_dir=args.data_dir, binarize=args.binarize,
                         train_examples=args.train_examples, val_examples=args.val_examples)
    tc = training.TrainConfig(epoch=args.epoch, batch=args.batch, learning_rate=args.learning_rate, seed=args.seed,
                              run_dir=run_dir, images=False, kl_warmup_epochs=args.kl_warmup_epochs)
    overrides = {"latent_dim": d, "beta": beta, "model": model, "hidden": args.hidden, "arch": args.arch,
                 "likelihood": args.likelihood}
    done = len(training.read_history(run_dir)) >= args.epoch
    if done:
        print(f"tfvae: sweep: {name} already trained for {args.epoch} epochs; not retraining", flush=True)
    else:
        print(f"tfvae: sweep: training {name}", flush=True)
        training.run_training(overrides, dc, tc)
    history = training.read_history(run_dir)[: args.epoch]

    metrics_path = os.path.join(run_dir, "sweep_metrics.json")
    metrics = io.read_json(metrics_path, expect=dict, fix="delete it: the sweep then evaluates this configuration "
                           "again") if os.path.isfile(metrics_path) else None
    if not metrics or metrics.get("epochs") != args.epoch or metrics.get("iwae_samples") != args.iwae_samples:
        from tfvae import checkpoints

        m, cfg, _, _ = checkpoints.load_model(os.path.join(run_dir, "checkpoints", f"epoch-{args.epoch:04d}")
                                              if os.path.isdir(os.path.join(run_dir, "checkpoints",
                                                                            f"epoch-{args.epoch:04d}"))
                                              else run_dir)
        eval_dc = dataclasses.replace(dc, train_examples=0, val_examples=0)
        images, labels = evaluate.load_eval_images(eval_dc, "test", args.eval_examples)
        metrics = evaluate.evaluate(m, images, iwae_samples=args.iwae_samples, labels=labels)
        metrics["epochs"] = args.epoch
        io.write_json(metrics_path, metrics)

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
    curve = (f"{model} z={d}" + (f" β={beta:g}" if len(args.betas) > 1 else ""), seen,
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
    plots.lower_bound(curves, os.path.join(out, "lower_bound.png"), title=title + " (train dashed, test solid)")


def run_sweep(args):
    os.makedirs(args.out, exist_ok=True)
    rows, curves = [], []
    for model, d, beta in itertools.product(args.models, args.latent_dims, args.betas):
        row, curve = run_one(args, model, d, beta)
        rows.append(row)
        curves.append(curve)
        write_results(args.out, rows, curves, f"{args.dataset} sweep")
    print(open(os.path.join(args.out, "results.md")).read())
    print(f"tfvae: sweep results in {os.path.abspath(args.out)} (results.csv, results.md, lower_bound.png)")
    return rows
