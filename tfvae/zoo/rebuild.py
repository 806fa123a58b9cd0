"""Rebuild a shipped weights set of the model zoo: train its recipe, evaluate it, draw its pictures.

    python -m tfvae.zoo.rebuild NAME [--out runs/zoo] [--skip_training]     # NAME: see RECIPES, or "all"

Each recipe is the exact ``tfvae train`` command its ``weights/NAME/MODEL_CARD.md`` quotes. After training,
the recipe's checkpoint (``best``: lowest loss on the held-out training images, never the test set; or
``last``) is copied to ``weights/NAME/`` (config.json without the machine's data path, model.weights.h5,
state.json), ``tfvae eval`` writes ``metrics.json`` on the full test split (K = 5000 importance samples for
binary data, 1000 otherwise), ``tfvae generate`` and ``tfvae viz`` draw the pictures, and for the CVAE a digit
classifier trained on the MNIST training set (``tfvae.zoo.digits``) measures ``conditional_accuracy``.
``training.json`` beside them records the command, epochs and minutes, and ``tfvae.zoo.cards`` writes
``MODEL_CARD.md`` from these files and the recipe (``--card_only``: only that, with the metric rows
``tfvae.evaluation.report`` defines; ``table``: the README's "Pretrained models" table).
"""

import argparse
import json
import os
import shutil
import sys
import time

import subprocess

from tfvae import checkpoints, io
from tfvae.evaluation import report
from tfvae.zoo import cards as zoo_cards
from tfvae.zoo.lookup import installed_root
from tfvae.zoo.recipes import OLIVETTI, RECIPES, SHARED

os.environ.setdefault("TFDS_DATA_DIR", os.path.join(SHARED, "tensorflow_datasets"))

def tfvae(argv):
    """Runs ``tfvae ARGV`` as the card quotes it, in a process of its own; returns its exit status."""
    return subprocess.run([sys.executable, "-m", "tfvae", *argv]).returncode


def train_command(name, recipe, run_dir):
    """The ``tfvae train`` argument list of a recipe."""
    budget = (["--epoch", str(recipe["epochs"])] if "epochs" in recipe
              else ["--epoch", "100000", "--minutes", str(recipe["minutes"])])
    data_dir = ["--data_dir", recipe["data_dir"]] if "data_dir" in recipe else []
    return ["train", "--run_dir", run_dir, "--seed", "0", "--no_images"] + budget + recipe["flags"] + data_dir


def chosen_checkpoint(run_dir, select):
    ckpts = os.path.join(run_dir, "checkpoints")
    return os.path.join(ckpts, "best") if select == "best" else checkpoints.epoch_dirs(ckpts)[-1]


def ship(source, dest):
    """Copies a checkpoint's files into ``dest`` (replaced whole), the config without the machine's data path."""
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for f in ("model.weights.h5", "state.json"):
        shutil.copy2(os.path.join(source, f), tmp)
    config = io.read_json(os.path.join(source, "config.json"))
    config["data"]["data_dir"] = None  # a path on this machine; users pass --data_dir
    io.write_json(os.path.join(tmp, "config.json"), config)
    keep = [f for f in ("MODEL_CARD.md", "baseline_metrics.json") if os.path.exists(os.path.join(dest, f))]
    for f in keep:
        shutil.copy2(os.path.join(dest, f), tmp)
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)


def pictures(name, recipe, dest, data_dir):
    """The recipe's PNGs into ``dest``: samples.png from ``tfvae generate``, the rest from ``tfvae viz``/eval."""
    wanted = recipe["pictures"]
    if "samples" in wanted:
        tfvae(["generate", "--load_weight_dir", dest, "--num", "100", "--nrow", "10", "--seed", "0",
                  "--output", os.path.join(dest, "samples.png")] + (["--scale", "1"] if recipe.get("data_dir") == OLIVETTI else []))
    viz_dir = dest + ".viz"
    if set(wanted) & {"manifold", "latent_scatter", "class_grid", "interpolation"}:
        tfvae(["viz", "--load_weight_dir", dest, "--output_dir", viz_dir] + data_dir)
        for p in ("manifold", "latent_scatter", "class_grid", "interpolation"):
            if p in wanted:
                shutil.copy2(os.path.join(viz_dir, f"{p}.png"), os.path.join(dest, f"{p}.png"))
        shutil.rmtree(viz_dir)
    for p in wanted:
        compact_png(os.path.join(dest, f"{p}.png"), halve=p == "reconstructions" and recipe.get("data_dir") == OLIVETTI)


def compact_png(path, halve=False):
    """Keeps the wheel small: grey pictures as 8-bit grey, colour ones as 256-colour palettes (``halve``: a
    picture drawn at scale 2, back to scale 1)."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
    rgb = im.convert("RGB")
    r, g, b = rgb.split()
    grey = r.tobytes() == g.tobytes() == b.tobytes()
    out = rgb.convert("L") if grey else rgb.quantize(256)
    if halve:
        out = out.resize((out.width // 2, out.height // 2), Image.NEAREST)
    out.save(path, optimize=True)


def baseline_text(dest, metrics):
    path = os.path.join(dest, "baseline_metrics.json")
    if not os.path.exists(path):
        return None
    b = io.read_json(path)
    return (f"**Baseline** (the issue's yardstick): the default model (`python train.py` flags) with the same data "
            f"flags, 10 epochs (`python -m tfvae.zoo.rebuild fashion_mnist_10epochs`), evaluated the same way: "
            f"{report.summary_text(b, ['nll', 'neg_elbo'])}. These weights are "
            f"{report.METRICS['nll'].text(b['nll'] - metrics['nll'])} better (`baseline_metrics.json`).")


def nyquist_share(images):
    """Mean share of each image's (non-constant) spectral power at the period-2 frequencies, where the
    checkerboard of transposed convolutions lives: (pi, pi), (pi, 0) and (0, pi)."""
    import numpy as np

    x = np.asarray(images, np.float64)[..., 0]
    power = np.abs(np.fft.fft2(x - x.mean(axis=(1, 2), keepdims=True))) ** 2
    h, w = x.shape[1] // 2, x.shape[2] // 2
    return float(np.mean((power[:, h, w] + power[:, h, 0] + power[:, 0, w]) / power.sum(axis=(1, 2))))


def checkerboard(dest, data_dir):
    """The period-2 power share of 100 prior samples against that of the test images."""
    import dataclasses

    from tfvae import data

    model, config = checkpoints.load_model(dest)[:2]
    samples = model.sample(100, seed=0).numpy()
    dc = dataclasses.replace(data.DataConfig.from_dict(config["data"]), data_dir=data_dir)
    test, _ = data.load_eval_images(dc, "test")
    return {"nyquist_power_share_samples": nyquist_share(samples), "nyquist_power_share_test": nyquist_share(test),
            "nyquist_note": "share of spectral power at the period-2 frequencies (checkerboard artefacts), "
                            "100 prior samples against the test images (tfvae.zoo.rebuild nyquist_share)"}


def sample_quality_dataset(recipe):
    """The recipe's dataset where tfvae ships a feature classifier for it and the model samples, else None."""
    from tfvae.evaluation import classifier
    from tfvae.models import kinds

    flags = recipe["flags"]
    value = {name: flags[flags.index(name) + 1] for name in ("--dataset", "--model") if name in flags}
    if not kinds.get(value.get("--model", "vae")).can_sample:
        return None
    return classifier.dataset_of(value.get("--dataset", "mnist"))


def add_sample_quality(dest, sampler=None, n=10000):
    """Adds the sample-quality keys (``tfvae eval --sample_quality``'s) to a shipped set's metrics.json, without
    evaluating the rest again; returns the record (None for a dataset without a classifier)."""
    import dataclasses

    import numpy as np

    from tfvae import data, samplers
    from tfvae.evaluation.sample_quality import sample_quality

    model, config, ckpt, _ = checkpoints.load_model(dest)
    dc = dataclasses.replace(data.DataConfig.from_dict(config["data"]), binarize="none")
    grey = data.load_test_split(dc, "test").images.astype(np.float32) / 255
    record = sample_quality(model, dc.dataset, grey, n=n, sampler=samplers.load(ckpt, sampler))
    if record is not None:
        path = os.path.join(dest, "metrics.json")
        metrics = io.read_json(path)
        metrics.update(sample_quality=record, sample_fd=record["fd"], sample_fd_n=record["n"],
                       sample_fd_sampler=record["sampler"])
        io.write_json(path, metrics)
    return record


def measure(name, recipe, run_dir, dest):
    """Ships the recipe's checkpoint to ``dest``, evaluates it into metrics.json and draws its pictures."""
    weights = chosen_checkpoint(run_dir, recipe["select"])
    ship(weights, dest)
    data_dir = ["--data_dir", recipe["data_dir"]] if "data_dir" in recipe else []
    k = 5000 if "--binarize" in recipe["flags"] else 1000
    metrics_path = os.path.join(dest, "metrics.json")
    save = ["--save_images"] if "reconstructions" in recipe["pictures"] else []
    quality = ["--sample_quality"] if sample_quality_dataset(recipe) else []
    if tfvae(["eval", "--load_weight_dir", dest, "--iwae_samples", str(k), "--output", metrics_path]
                + data_dir + save + quality):
        sys.exit(f"zoo: error: evaluating {dest} failed")
    metrics = io.read_json(metrics_path)
    metrics["weights"] = f"{os.path.relpath(weights, os.path.dirname(run_dir))} (copied to weights/{name})"
    if "class_grid" in recipe["pictures"]:  # a cvae: do its samples show the class asked for?
        from tfvae.zoo import digits

        classifier, accuracy = digits.train_digit_classifier()
        model = checkpoints.load_model(dest)[0]
        metrics["conditional_accuracy"] = digits.conditional_accuracy(model, classifier)
        metrics["conditional_accuracy_note"] = (
            f"1000 prior samples (T=1, 100 per class, seed 0) labelled by an MLP trained on the MNIST training set "
            f"(test accuracy {accuracy:.4f}; tfvae.zoo.digits)")
    if "--arch" in recipe["flags"] and "samples" in recipe["pictures"]:  # a conv decoder: any checkerboard?
        metrics.update(checkerboard(dest, recipe["data_dir"]))
    io.write_json(metrics_path, metrics)
    pictures(name, recipe, dest, data_dir)


def record(name, recipe, run_dir, dest, card_only=False):
    """training.json (command, epochs, minutes) and, for a shipped set, MODEL_CARD.md. ``card_only`` without
    the training run (another machine): the card is written from the shipped training.json, which stays."""
    if card_only and not os.path.exists(os.path.join(run_dir, "history.json")):
        print(f"zoo: no run in {run_dir}: writing the card from {os.path.join(dest, 'training.json')}")
        rec = io.read_json(os.path.join(dest, "training.json"))
    else:
        rec = training_record(name, recipe, run_dir)
        io.write_json(os.path.join(dest, "training.json"), rec)
    metrics = io.read_json(os.path.join(dest, "metrics.json"))
    if recipe.get("ship", True):
        zoo_cards.write_card(os.path.join(dest, "MODEL_CARD.md"), name, recipe, rec, metrics,
                             baseline_text(dest, metrics))
    print(json.dumps({"name": name, **rec, **{k: metrics.get(k) for k in (
        "nll", "elbo", "neg_elbo", "rmse", "conditional_accuracy", "active_units")}}))


def training_record(name, recipe, run_dir):
    """What training.json records of a run: the command, the checkpoint shipped, epochs and minutes."""
    history = io.read_json(os.path.join(run_dir, "history.json"))
    weights = chosen_checkpoint(run_dir, recipe["select"])
    shown = " ".join(train_command(name, recipe, "<run>")).replace(SHARED, "../shared")
    rec = {"command": "tfvae " + shown, "checkpoint": recipe["select"], "epochs": len(history),
           "checkpoint_epoch": io.read_json(os.path.join(weights, "state.json")).get("epoch"),
           "epoch_minutes": round(sum(e["epoch_seconds"] + e.get("val_seconds", 0.0) for e in history) / 60, 2),
           # training alone, summed over the epochs of every invocation (a run stopped and resumed)
           "train_minutes": round(sum(e["epoch_seconds"] for e in history) / 60, 2)}
    if os.path.exists(os.path.join(run_dir, "zoo_wall.json")):
        rec.update(io.read_json(os.path.join(run_dir, "zoo_wall.json")))
    return rec


def table_metric(home):
    """A set's "test metric" cell: ``report``'s summary of its metrics.json, with how it was measured."""
    m = io.read_json(os.path.join(home, "metrics.json"))
    cell = f"{report.summary_text(m)} ({report.protocol(m)})"
    if os.path.exists(os.path.join(home, "baseline_metrics.json")):
        base = io.read_json(os.path.join(home, "baseline_metrics.json"))
        cell += f"; the 10-epoch default model: {report.summary_text(base, [report.headline_key(base)])}"
    return cell


def table(weights_root):
    """The README's "Pretrained models" table, from each shipped set's metrics.json and training.json."""
    rows = ["| name | what | picture | test metrics | minutes | rebuild |", "|---|---|---|---|---|---|"]
    for name in ["better_weight"] + [n for n in RECIPES if RECIPES[n].get("ship", True)]:
        home = os.path.join(weights_root, name)
        if not os.path.exists(os.path.join(home, "metrics.json")):  # a recipe not built yet
            continue
        metric = table_metric(home)
        rec = io.read_json(os.path.join(home, "training.json")) if name != "better_weight" else {"wall_minutes": 60}
        picture = next(p for p in ("class_grid", "manifold", "samples", "reconstructions") if os.path.exists(
            os.path.join(home, f"{p}.png")))
        picture = f'<img src="weights/{name}/{picture}.png" width="180" alt="{name} {picture}">'
        what = RECIPES[name]["title"] if name in RECIPES else "gated-MLP VAE, IWAE k = 5, MNIST (dynamic binarization)"
        command = ("`python bench/quality.py --minutes 60 --recipe gated-iwae5-cosine-59k`" if name == "better_weight"
                   else f"`python -m tfvae.zoo.rebuild {name}`")
        rows.append(f"| `{name}` | {what} | {picture} | {metric} | {rec.get('wall_minutes', 0):.0f} | {command} |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", choices=sorted(RECIPES) + ["all", "table"], help="a recipe, all of them, or 'table' "
                    "(print the README's table of the shipped sets)")
    ap.add_argument("--out", default=os.path.join("runs", "zoo"), help="where the training runs go")
    ap.add_argument("--weights", default=installed_root(), help="where the sets go")
    ap.add_argument("--skip_training", action="store_true", help="only finish a run already trained under --out")
    ap.add_argument("--card_only", action="store_true", help="only rewrite training.json and "
                    "MODEL_CARD.md (no training, no evaluation; without the run under --out, only the card)")
    ap.add_argument("--sample_quality_only", action="store_true", help="only add the sample-quality keys "
                    "(tfvae eval --sample_quality) to the shipped metrics.json, then rewrite the card")
    args = ap.parse_args()
    if args.name == "table":
        print(table(args.weights))
        return
    for name in sorted(RECIPES) if args.name == "all" else [args.name]:
        recipe, run_dir = RECIPES[name], os.path.join(args.out, name)
        shipped = recipe.get("ship", True)
        dest = os.path.join(args.weights, name) if shipped else os.path.join(args.out, name + "-weights")
        if args.sample_quality_only:
            print(name, add_sample_quality(dest), flush=True)
            args.card_only = True
        if not (args.skip_training or args.card_only):
            start = time.time()
            if tfvae(train_command(name, recipe, run_dir)):
                sys.exit(f"zoo: error: training {name} failed")
            io.write_json(os.path.join(run_dir, "zoo_wall.json"), {"wall_minutes": round((time.time() - start) / 60, 2)})
        if not args.card_only:
            measure(name, recipe, run_dir, dest)
        if "baseline_of" in recipe:
            home = os.path.join(args.weights, recipe["baseline_of"])
            os.makedirs(home, exist_ok=True)
            shutil.copy2(os.path.join(dest, "metrics.json"), os.path.join(home, "baseline_metrics.json"))
        record(name, recipe, run_dir, dest, card_only=args.card_only)


if __name__ == "__main__":
    main()
