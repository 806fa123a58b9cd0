"""MODEL_CARD.md of a zoo set, written from its recipe, training.json and metrics.json (``tfvae.zoo.rebuild`` calls it)."""

from tfvae.evaluation import report


DATA = {
    "mnist": "MNIST from TFDS (`mnist`): 60 000 training images, of which the last 1 000 are held out to watch "
             "the run (`--validation_holdout 1000`); the 10 000 test images are used only for the numbers below. "
             "Dynamic binarization: a fresh Bernoulli draw of every pixel each epoch; the test set is binarized "
             "once with NumPy (seed 4321) for evaluation.",
    "fashion_mnist": "FashionMNIST from TFDS (`fashion_mnist`): 60 000 training images, the last 1 000 held out "
                     "(`--validation_holdout 1000`); the 10 000 test images are used only for the numbers below. "
                     "Dynamic binarization as for MNIST (test set binarized once, seed 4321).",
    "freyface": "Frey Face (`frey_rawface.mat`, 1 965 frames of 28×20, grey levels scaled to [0, 1], not "
                "binarized). Split with seed 0 (`tfvae.data.sources`): 400 random frames are the test split, the "
                "other 1 565 train, in a seeded random order; the last 200 of those are held out as the validation "
                "split (`--validation_holdout 200`), so they are random frames too, not the video's last seconds. "
                "Pass `--data_dir` (the file or its directory) to `eval`, `viz` and `explore`.",
    "olivetti": "Olivetti faces (`olivettifaces.mat`, 400 images of 64×64, 40 people × 10, grey levels in [0, 1]). "
                "Split with seed 0 (`tfvae.data.sources`): 2 images of every person are the test split (80), 8 "
                "train (320); of those, one image of every person (40, `--validation_holdout 40`) is held out as "
                "the validation split, and the model was **selected on that validation split**, never on the test "
                "images. Training images are mirrored left-right at random (`--augment flip`). Pass `--data_dir` to "
                "`eval`, `viz` and `explore`.",
}

def metrics_table(m):
    """The card's metric table: ``tfvae.evaluation.report``'s rows for a card, the headline first."""
    return report.markdown_table(m)


def write_card(path, name, recipe, record, metrics, baseline=None):
    """Writes ``path`` (MODEL_CARD.md) from what the recipe ran and measured."""
    data_dir = f" --data_dir ../shared/data/{metrics['dataset']}" if metrics["dataset"] in ("freyface", "olivetti") else ""
    k = f" --iwae_samples {metrics['iwae_samples']}" if metrics.get("iwae_samples") else ""
    chosen = (f"the checkpoint with the lowest loss on the validation split (epoch {record['checkpoint_epoch']} of "
              f"{record['epochs']})" if record["checkpoint"] == "best"
              else f"the last epoch ({record['epochs']}), fixed in advance; the held-out images only watched the run")
    wall = f"{record['wall_minutes']:.0f} minutes of wall clock" if "wall_minutes" in record else "wall clock not recorded"
    text = [f"# {name}: {recipe['title']}", "", recipe["about"], "",
            "## Data", "", DATA[metrics["dataset"]], "",
            "## How it was trained", "",
            "```bash", f"python -m tfvae.zoo.rebuild {name}", f"# = {record['command']}", "```", "",
            f"- Shipped weights: {chosen}.",
            f"- Time on this 2-core CPU machine (no GPU): {wall}, {record['epoch_minutes']:.1f} minutes inside "
            "epochs (training + validation); other training jobs shared the two cores, so a machine to itself runs "
            "the same epochs faster. Seed 0.",
            *([f"- {recipe['note']}"] if recipe.get("note") else []),
            "", "## Evaluation", "",
            f"`tfvae eval --load_weight_dir {name}{k}{data_dir}` on the full test split "
            f"({metrics['n_examples']} images, seed 0; the evaluation too shared the cores with other jobs):", "",
            metrics_table(metrics), "", f"The bar this set had to meet (issue #21): {recipe['bar']}.", ""]
    if metrics.get("likelihood_note"):
        text += [f"Note: {metrics['likelihood_note']}.", ""]
    if baseline:
        text += [baseline, ""]
    if recipe.get("paper"):
        text += ["**Reference:** " + recipe["paper"], ""]
    if metrics.get("conditional_accuracy") is not None:
        text += [f"Conditional accuracy: {metrics['conditional_accuracy_note']}.", ""]
    if metrics.get("nyquist_power_share_samples") is not None:
        text += [f"Checkerboard check: the share of spectral power at the period-2 frequencies, where transposed "
                 f"convolutions leave their checkerboard, is {metrics['nyquist_power_share_samples']:.2e} in 100 "
                 f"prior samples against {metrics['nyquist_power_share_test']:.2e} in the test images: the samples "
                 "carry no more of it than real faces (measured for this resize decoder; no transposed-convolution "
                 "decoder was trained for the zoo).", ""]
    pictures = [p for p in recipe["pictures"]]
    text += ["## Pictures", ""] + [f"- `{p}.png`: {PICTURES[p]}" for p in pictures] + [""]
    text += ["## Use", "", "```bash",
             f"tfvae weights                                   # lists it with its headline metric"]
    if "samples" in pictures:
        text.append(f"tfvae generate --load_weight_dir {name} --output samples.png")
    text += [f"tfvae viz --load_weight_dir {name}{data_dir}",
             f"tfvae export --load_weight_dir {name} --export_dir export/{name}",
             f"tfvae explore --load_weight_dir {name}", "```", ""]
    with open(path, "w") as f:
        f.write("\n".join(text))


PICTURES = {
    "samples": "decoder means of z drawn from the prior N(0, I) (`tfvae generate --seed 0`)",
    "manifold": "the 2-D latent decoded on a 20×20 grid through the inverse normal CDF (`tfvae viz`)",
    "latent_scatter": "the test images' z_mean, coloured by label (`tfvae viz`)",
    "class_grid": "one row per class, one shared z per column (`tfvae viz`)",
    "interpolation": "decoded straight lines between the codes of test pairs (`tfvae viz`)",
    "reconstructions": "rows of test images, each above its reconstruction from z_mean (`tfvae eval --save_images`)",
}
