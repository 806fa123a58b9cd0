"""Quality per CPU-hour: train a named recipe for a wall-clock budget, then evaluate it honestly.

    python bench/quality.py --minutes 60 --recipe mlp-iwae5-cosine [--iwae_samples 5000] [--out runs/quality]

Trains with ``tfvae train --minutes M`` (dynamic binarization, 10 000 training images held out for model
selection), evaluates the best checkpoint with ``tfvae eval`` on the full MNIST test set, prints the
metrics and appends a row to bench/RESULTS.md's "Quality per CPU-hour" table.
"""

import argparse
import datetime
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
os.environ.setdefault("TFDS_DATA_DIR", os.path.join(HERE, "..", "..", "shared", "tensorflow_datasets"))

from tfvae import cli  # noqa: E402

COMMON = ["--dataset", "mnist", "--binarize", "dynamic", "--validation_holdout", "10000", "--no_images"]
RECIPES = {
    # name: train flags. The epoch count is only an upper bound: --minutes decides, and a cosine schedule
    # decays over the time budget (TimeBudget in tfvae/training.py).
    "mlp-elbo": ["--epoch", "100000"],
    "mlp-elbo-cosine": ["--epoch", "100000", "--lr_schedule", "cosine"],
    "mlp-warmup-cosine": ["--epoch", "100000", "--lr_schedule", "cosine", "--kl_warmup_epochs", "20"],
    "mlp-elbo-cosine-b500": ["--epoch", "100000", "--lr_schedule", "cosine", "--batch", "500", "--learning_rate", "2e-3"],
    "gated-elbo-cosine": ["--epoch", "100000", "--lr_schedule", "cosine", "--arch", "gated"],
    "vae2-elbo-cosine": ["--epoch", "100000", "--lr_schedule", "cosine", "--model", "vae2", "--latent_dim", "50",
                         "--latent_dim1", "100"],
    "mlp-iwae5-cosine": ["--epoch", "100000", "--lr_schedule", "cosine", "--objective", "iwae", "--k", "5"],
    "conv-elbo-cosine": ["--epoch", "100000", "--lr_schedule", "cosine", "--arch", "conv", "--latent_dim", "32"],
    "conv-iwae5-cosine": ["--epoch", "100000", "--lr_schedule", "cosine", "--arch", "conv", "--latent_dim", "32",
                          "--objective", "iwae", "--k", "5"],
}
TABLE = "## Quality per CPU-hour (`python bench/quality.py`)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", choices=sorted(RECIPES), required=True)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--iwae_samples", type=int, default=5000)
    ap.add_argument("--out", default=os.path.join("runs", "quality"))
    ap.add_argument("--eval_only", action="store_true",
                    help="evaluate the run already trained under --out (e.g. after an interrupted evaluation)")
    args = ap.parse_args()
    run = os.path.join(args.out, f"{args.recipe}-{args.minutes:g}min")
    if not args.eval_only:
        rc = cli.main(["train", "--run_dir", run, "--minutes", str(args.minutes)] + COMMON + RECIPES[args.recipe])
        if rc:
            sys.exit(rc)
    elif not os.path.exists(os.path.join(run, "history.json")):
        sys.exit(f"quality: error: no trained run in {run}; drop --eval_only to train it")
    history = json.load(open(os.path.join(run, "history.json")))
    # minutes of training and validation epochs, as history.json recorded them (start-up and tracing excluded)
    train_min = sum(e["epoch_seconds"] + e.get("val_seconds", 0.0) for e in history) / 60
    metrics_path = os.path.join(run, "metrics.json")
    rc = cli.main(["eval", "--load_weight_dir", run, "--iwae_samples", str(args.iwae_samples),
                   "--output", metrics_path])
    if rc:
        sys.exit(rc)
    m = json.load(open(metrics_path))
    epochs = len(history)
    row = (f"| {args.recipe} | {' '.join(RECIPES[args.recipe])} | {args.minutes:g} | {train_min:.1f} | {epochs} | "
           f"{m['neg_elbo']:.2f} | **{m['nll']:.2f}** | {m['iwae_samples']} | {datetime.date.today()} |")
    print(row)
    results = os.path.join(HERE, "RESULTS.md")
    text = open(results).read()
    if TABLE not in text:
        text += (f"\n{TABLE}\n\nTest NLL on dynamically binarized MNIST (full test set, `tfvae eval`).\n\n"
                 "| recipe | flags | budget (min) | epochs' time (min) | epochs | test −ELBO | test NLL | K | date |\n"
                 "|---|---|---|---|---|---|---|---|---|\n")
    with open(results, "w") as f:
        f.write(text.rstrip("\n") + "\n" + row + "\n")
    print(json.dumps({"recipe": args.recipe, "minutes": args.minutes, "train_minutes": round(train_min, 2),
                      "epochs": epochs, "neg_elbo": m["neg_elbo"], "nll": m["nll"], "iwae_samples": m["iwae_samples"]}))


if __name__ == "__main__":
    main()
