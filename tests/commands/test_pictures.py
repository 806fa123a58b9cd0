"""Pictures: per-epoch images, end-of-run gif and curves, tfvae viz, tfvae sweep."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

from tfvae import cli
from tfvae.pictures import latent_maps

from tests.helpers import SWEEP_FLAGS, TINY_TRAIN


@pytest.fixture(scope="module")
def trained_run(small_run):
    """The session's four-epoch run with pictures (helpers.SMALL_TRAIN)."""
    return small_run.path


def test_run_images_gif_and_curves(trained_run):
    images = trained_run / "images"
    epochs = len(json.loads((trained_run / "history.json").read_text()))
    for e in range(1, epochs + 1):
        for kind in ("recon", "samples"):
            im = Image.open(images / f"{kind}_epoch_{e:03d}.png")
            a = np.asarray(im)
            assert a.std() > 10  # not blank
    # the same fixed noise every epoch: the sample grids have the same layout and differ in content
    gif = Image.open(images / "samples.gif")
    assert gif.n_frames == epochs == 4
    for name in ("elbo_curve.png", "loss_curves.png"):
        a = np.asarray(Image.open(images / name).convert("L"))
        assert a.shape[0] > 200 and a.std() > 5


def test_no_images(tiny_run):
    assert "--no_images" in TINY_TRAIN and (tiny_run.path / "history.json").is_file()
    assert not (tiny_run.path / "images").exists()


def test_viz_command(trained_run, tmp_path):
    out = tmp_path / "viz"
    assert cli.main(["viz", "--load_weight_dir", str(trained_run), "--output_dir", str(out),
                     "--num_examples", "300", "--grid", "8"]) == 0
    for name in ("manifold.png", "latent_scatter.png", "interpolation.png"):
        a = np.asarray(Image.open(out / name).convert("L"))
        assert a.std() > 5, name
    assert not (out / "class_grid.png").exists()


def test_manifold_uses_most_active_dims():
    z = np.zeros((100, 5))
    z[:, 3] = np.linspace(-2, 2, 100)
    z[:, 1] = np.linspace(-1, 1, 100)
    assert latent_maps.most_active_dims(z) == [3, 1]
    pts = latent_maps.pca2(np.c_[z, np.zeros(100)])
    assert pts.shape == (100, 2)


def test_sweep_freyface_is_resumable(swept, capsys):
    out = swept[0]  # tfvae sweep SWEEP_FLAGS --out OUT, run once for the session
    args = ["sweep", *SWEEP_FLAGS, "--out", str(out)]
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [r["latent_dim"] for r in rows] == ["2", "3"]
    for r in rows:
        assert float(r["nll"]) <= float(r["test_neg_elbo"]) + 1e-3
    assert "| vae | 2 |" in (out / "results.md").read_text()
    assert np.asarray(Image.open(out / "lower_bound.png")).std() > 5
    capsys.readouterr()
    assert cli.main(args) == 0
    assert capsys.readouterr().out.count("not retraining") == 2
