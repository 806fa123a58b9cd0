"""Quality per CPU-hour: train a named recipe for a wall-clock budget, then evaluate it honestly.

    python bench/quality.py --minutes 60 --recipe gated-elbo-cosine-59k [--iwae_samples 5000] [--out runs/quality]

Trains with ``tfvae train --minutes M`` (dynamic binarization; training images held out as the recipe says),
evaluates the recipe's checkpoint (the best on the held-out images, or the final one) with ``tfvae eval``
on the full MNIST test set, prints the metrics and appends a row to bench/RESULTS.md's "Quality per
CPU-hour" table. The test set is never used to choose anything.
"""

import argparse
import datetime
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("TFDS_DATA_DIR", os.path.join(HERE, "..", "..", "shared", "tensorflow_datasets"))

from tfvae import checkpoints, cli  # noqa: E402

COMMON = ["--dataset", "mnist", "--binarize", "dynamic", "--no_images"]
# name: train flags, the training images held out (the last N of the 60 000) and the checkpoint evaluated:
# "best" (lowest held-out loss; 10 000 held out for a reliable choice) or "last" (the run's final epoch, for
# recipes whose cosine schedule ends at the budget, so that almost all images train: 1 000 are held out only
# to watch the run). The test set is never used to pick anything. The epoch count is only an upper bound:
# --minutes decides, and a cosine schedule decays over the time budget (TimeBudget in tfvae/training.py).
RECIPES = {
    "mlp-elbo": dict(flags=["--epoch", "100000"]),
    "mlp-elbo-cosine": dict(flags=["--epoch", "100000", "--lr_schedule", "cosine"]),
    "mlp-warmup-cosine": dict(flags=["--epoch", "100000", "--lr_schedule", "cosine", "--kl_warmup_epochs", "20"]),
    "mlp-elbo-cosine-b500": dict(flags=["--epoch", "100000", "--lr_schedule", "cosine", "--batch", "500",
                                        "--learning_rate", "2e-3"]),
    "gated-elbo-cosine": dict(flags=["--epoch", "100000", "--lr_schedule", "cosine", "--arch", "gated"]),
    "gated-elbo-cosine-59k": dict(flags=["--epoch", "100000", "--lr_schedule", "cosine", "--arch", "gated"],
                                  holdout=1000, select="last"),
    "gated-iwae5-cosine-59k": dict(flags=["--epoch", "100000", "--lr_schedule", "cosine", "--arch", "gated",
                                          "--objective", "iwae", "--k", "5"], holdout=1000, select="last"),
    "vae2-elbo-cosine": dict(flags=["--epoch", "100000", "--lr_schedule", "cosine", "--model", "vae2",
                                    "--latent_dim", "50", "--latent_dim1", "100"]),
    "mlp-iwae5-cosine": dict(flags=["--epoch", "100000", "--lr_schedule", "cosine", "--objective", "iwae", "--k", "5"]),
    "conv-elbo-cosine": dict(flags=["--epoch", "100000", "--lr_schedule", "cosine", "--arch", "conv",
                                    "--latent_dim", "32"]),
    "conv-elbo-cosine-59k": dict(flags=["--epoch", "100000", "--lr_schedule", "cosine", "--arch", "conv",
                                        "--latent_dim", "32"], holdout=1000, select="last"),
    "conv-iwae5-cosine": dict(flags=["--epoch", "100000", "--lr_schedule", "cosine", "--arch", "conv",
                                     "--latent_dim", "32", "--objective", "iwae", "--k", "5"]),
}
TABLE = "## Quality per CPU-hour (`python bench/quality.py`)"


def _is_table_heading(line):
    # any heading level and suffix: RESULTS.md's section is "# Quality per CPU-hour (...), both machines"
    return line.startswith("#") and "Quality per CPU-hour" in line


def add_row(results, row):
    """Inserts ``row`` after the last row of RESULTS.md's quality table (creating the section if missing)."""
    text = open(results).read() if os.path.exists(results) else "# Benchmark results\n"
    if not any(_is_table_heading(line) for line in text.split("\n")):
        text = (text.rstrip("\n") + f"\n\n{TABLE}\n\nTest NLL on dynamically binarized MNIST (full test set, "
                "`tfvae eval`).\n\n| recipe | flags | training images / checkpoint | budget (min) | epochs' time (min) "
                "| epochs | test −ELBO | test NLL | K | date |\n|---|---|---|---|---|---|---|---|---|---|\n")
    lines = text.split("\n")
    i = next(n for n, line in enumerate(lines) if _is_table_heading(line))
    while not lines[i].startswith("|"):  # the header row
        i += 1
    while i < len(lines) and lines[i].startswith("|"):
        i += 1
    lines.insert(i, row)
    with open(results + ".tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace(results + ".tmp", results)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", choices=sorted(RECIPES), required=True)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--iwae_samples", type=int, default=5000)
    ap.add_argument("--out", default=os.path.join("runs", "quality"))
    ap.add_argument("--eval_only", action="store_true",
                    help="evaluate the run already trained under --out (e.g. after an interrupted evaluation)")
    args = ap.parse_args()
    recipe = RECIPES[args.recipe]
    holdout, select = recipe.get("holdout", 10000), recipe.get("select", "best")
    run = os.path.join(args.out, f"{args.recipe}-{args.minutes:g}min")
    if not args.eval_only:
        rc = cli.main(["train", "--run_dir", run, "--minutes", str(args.minutes), "--validation_holdout", str(holdout)]
                      + COMMON + recipe["flags"])
        if rc:
            sys.exit(rc)
    elif not os.path.exists(os.path.join(run, "history.json")):
        sys.exit(f"quality: error: no trained run in {run}; drop --eval_only to train it")
    history = json.load(open(os.path.join(run, "history.json")))
    # minutes of training and validation epochs, as history.json recorded them (start-up and tracing excluded)
    train_min = sum(e["epoch_seconds"] + e.get("val_seconds", 0.0) for e in history) / 60
    metrics_path = os.path.join(run, "metrics.json")
    weights = run if select == "best" else checkpoints.epoch_dirs(os.path.join(run, "checkpoints"))[-1]
    rc = cli.main(["eval", "--load_weight_dir", weights, "--iwae_samples", str(args.iwae_samples),
                   "--output", metrics_path])
    if rc:
        sys.exit(rc)
    m = json.load(open(metrics_path))
    epochs = len(history)
    images = f"{60000 - holdout:,}".replace(",", " ")  # 59 000
    row = (f"| {args.recipe} | {' '.join(recipe['flags'])} | {images} / {select} | {args.minutes:g} | "
           f"{train_min:.1f} | {epochs} | {m['neg_elbo']:.2f} | **{m['nll']:.2f}** | {m['iwae_samples']} | "
           f"{datetime.date.today()} |")
    print(row)
    add_row(os.path.join(HERE, "RESULTS.md"), row)
    print(json.dumps({"recipe": args.recipe, "training_images": 60000 - holdout, "checkpoint": select,
                      "weights": weights, "minutes": args.minutes, "train_minutes": round(train_min, 2),
                      "epochs": epochs, "neg_elbo": m["neg_elbo"], "nll": m["nll"], "iwae_samples": m["iwae_samples"]}))


if __name__ == "__main__":
    main()
