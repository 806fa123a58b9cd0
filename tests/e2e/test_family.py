"""Every model kind on every dataset: train (1 epoch, real subset) -> eval -> generate -> export."""

import json
import os

import numpy as np
import pytest
import scipy.io
from PIL import Image

from tfvae import cli, data
from tfvae.data import sources
from tfvae.errors import TfvaeError

from tests.helpers import MNIST, NO_XLA, SHARED

pytestmark = pytest.mark.slow  # every case trains, evaluates, exports

FREY = os.path.join(SHARED, "data", "freyface")
OLIVETTI = os.path.join(SHARED, "data", "olivetti")
FASHION_IDX = os.path.join(SHARED, "data", "fashion_mnist")


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory):
    """A folder of real MNIST digits as PNGs, one subfolder per class (3 classes)."""
    root = tmp_path_factory.mktemp("digits")
    test = data.load_idx_dir(os.path.join(SHARED, "data", "mnist"))["test"]
    for i in range(150):
        label = int(test.labels[i])
        if label < 3:
            d = root / f"class_{label}"
            d.mkdir(exist_ok=True)
            Image.fromarray(test.images[i, ..., 0]).save(d / f"{i}.png")
    return root


# The dense cases but cvae-mnist train without the XLA step (NO_XLA: about 3 s less a case here); cvae-mnist keeps
# it, so a kind with labels goes through tfvae train's XLA step too, and tests/unit/test_models.py checks the XLA
# step of every kind against the graph step. MNIST comes from its IDX files but for cvae-mnist (TFDS): the same
# digits, 2 s less a load than TFDS here, and the IDX source runs too.
CASES = {
    "ae-fashion": (["--model", "ae", "--dataset", "fashion_mnist", *NO_XLA], "tfds"),
    "cvae-mnist": (["--model", "cvae", "--dataset", "mnist", "--binarize", "dynamic"], "tfds"),
    "vae2-gated-mnist": (["--model", "vae2", "--arch", "gated", "--dataset", MNIST, "--binarize", "dynamic",
                          *NO_XLA], "idx"),
    "gated-cvae-mnist": (["--model", "cvae", "--arch", "gated", "--dataset", MNIST, "--binarize", "dynamic",
                          *NO_XLA], "idx"),
    "conv-fashion-idx": (["--arch", "conv", "--dataset", f"idx:{FASHION_IDX}"], None),
    "gauss-frey": (["--arch", "conv", "--likelihood", "gaussian", "--dataset", "freyface", "--data_dir", FREY,
                    "--kl_warmup_epochs", "2", "--upsample", "resize"], None),
    "conv-olivetti-bn": (["--arch", "conv", "--batch_norm", "--dataset", "olivetti", "--data_dir", OLIVETTI,
                          "--batch", "32"], None),
    "ae-mse-olivetti": (["--model", "ae", "--arch", "conv", "--likelihood", "mse", "--dataset", "olivetti",
                         "--data_dir", OLIVETTI, "--batch", "32", "--upsample", "resize"], None),
    "cvae-folder": (["--model", "cvae", "--arch", "conv", "--dataset", "folder:{folder}"], None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_train_eval_generate(case, tmp_path, tfds_dir, digit_folder, capsys):
    flags, _ = CASES[case]
    flags = [f.replace("{folder}", str(digit_folder)) for f in flags]
    import tensorflow as tf
    run = tmp_path / "run"
    common = ["--epoch", "1", "--train_examples", "300", "--val_examples", "60", "--latent_dim", "8",
              "--hidden", "64", "--run_dir", str(run)]
    assert cli.main(["train"] + flags + common) == 0, capsys.readouterr().err
    cfg = json.loads((run / "config.json").read_text())
    hist = json.loads((run / "history.json").read_text())
    assert np.isfinite(hist[0]["val"]["loss"])
    metrics = tmp_path / "metrics.json"
    assert cli.main(["eval", "--load_weight_dir", str(run), "--num_examples", "40", "--iwae_samples", "20",
                     "--output", str(metrics), "--save_images"]) == 0, capsys.readouterr().err
    m = json.loads(metrics.read_text())
    assert m["model"] == cfg["model"]["model"] and 0 < m["n_examples"] <= 40
    assert m["per_image_sd"]["rmse"] > 0 and (m["per_image_sd"]["nll"] is None) == (m["nll"] is None)
    assert np.isfinite(m["rmse"]) and np.isfinite(m["reconstruction_loss"])
    assert Image.open(tmp_path / "reconstructions.png").size[0] > 0
    # export: every model kind gets its SavedModels, with a label input for a cvae
    exp = tmp_path / "exp"
    assert cli.main(["export", "--load_weight_dir", str(run), "--export_dir", str(exp)]) == 0, capsys.readouterr().err
    dec = tf.saved_model.load(str(exp / "decoder" / "1")).signatures["serving_default"]
    enc = tf.saved_model.load(str(exp / "encoder" / "1")).signatures["serving_default"]
    h, w, c = cfg["model"]["input_shape"]
    d = cfg["model"]["latent_dim"]
    extra = {"label": tf.constant([0, 1], tf.int64)} if cfg["model"]["model"] == "cvae" else {}
    assert set(dec.structured_input_signature[1]) == {"z"} | set(extra)
    images = dec(z=tf.zeros([2, d]), **extra)["images"].numpy()
    assert images.shape == (2, h, w, c) and 0.0 <= images.min() and images.max() <= 1.0
    assert enc(images=tf.constant(images), **extra)["z_mean"].shape == (2, d)
    out = tmp_path / "gen.png"
    rc = cli.main(["generate", "--load_weight_dir", str(run), "--num", "12", "--seed", "0", "--output", str(out)])
    err = capsys.readouterr().err
    if cfg["model"]["model"] == "ae":
        assert rc == 2 and "no prior to sample from" in err and not out.exists()
        assert m["nll"] is None and "likelihood_note" in m
        return
    assert rc == 0, err
    assert m["nll"] <= m["neg_elbo"] + 1e-3
    img = np.asarray(Image.open(out))
    h, w, c = cfg["model"]["input_shape"]
    if cfg["model"]["model"] == "cvae":
        k = cfg["model"]["num_classes"]
        assert img.shape[0] == (k * (h + 2) + 2) * 2  # one row per class
        assert cli.main(["generate", "--load_weight_dir", str(run), "--label", str(k), "--output",
                         str(tmp_path / "bad.png")]) == 2
        assert "out of range" in capsys.readouterr().err
        assert cli.main(["generate", "--load_weight_dir", str(run), "--label", "1", "--num", "4", "--nrow", "4",
                         "--output", str(out)]) == 0
        assert np.asarray(Image.open(out)).shape[0] == (h + 4) * 2
    if cfg["model"]["likelihood"] == "gaussian":
        assert "likelihood_note" in m and "Gaussian" in m["likelihood_note"]


@pytest.mark.parametrize("shape", [(64, 64, 1), (28, 20, 1), (30, 30, 3)])
def test_resize_upsampling_decoder_has_no_transposed_convs(shape):
    import keras

    from tfvae.models.config import VAEConfig
    from tfvae.models import networks

    cfg = VAEConfig(input_shape=shape, arch="conv", upsample="resize", latent_dim=4, hidden=(16,))
    dec = networks.build_decoder(cfg, 2)
    kinds = {type(layer).__name__ for layer in dec.layers}
    assert "Conv2DTranspose" not in kinds and {"UpSampling2D", "Conv2D"} <= kinds
    assert dec(np.zeros((3, 4), np.float32)).shape == (3,) + shape[:2] + (2,)
    transposed = networks.build_decoder(VAEConfig(input_shape=shape, arch="conv", latent_dim=4, hidden=(16,)), 2)
    assert any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in transposed.layers)
    # configs written before --upsample existed load as the transposed convolutions they were trained with
    old = cfg.to_dict()
    del old["upsample"]
    assert VAEConfig.from_dict(old).upsample == "transpose"
    with pytest.raises(TfvaeError, match="upsample"):
        VAEConfig(arch="conv", upsample="bicubic")


def test_olivetti_faces_are_upright_and_split_by_person():
    s = sources.load_olivetti(OLIVETTI)
    assert s["train"].images.shape == (320, 64, 64, 1) and s["test"].images.shape == (80, 64, 64, 1)
    assert np.bincount(s["test"].labels).tolist() == [2] * 40
    # Upright: the eyes (dark) are in the upper half, the chin/neck region lower.
    faces = s["train"].images[..., 0].astype(np.float64)
    rows = faces.mean(axis=(0, 2))
    eye_row = int(np.argmin(rows[10:40])) + 10
    assert 15 <= eye_row <= 35, eye_row
    # Not transposed: faces are left-right symmetric more than top-bottom.
    lr = np.abs(faces - faces[:, :, ::-1]).mean()
    tb = np.abs(faces - faces[:, ::-1, :]).mean()
    assert lr < tb


def test_freyface_shape_and_split():
    s = sources.load_freyface(FREY)
    assert s["train"].images.shape == (1565, 28, 20, 1) and s["test"].images.shape == (400, 28, 20, 1)
    again = sources.load_freyface(os.path.join(FREY, "frey_rawface.mat"))
    np.testing.assert_array_equal(s["test"].images, again["test"].images)
    # training frames in a seeded random order: the last 200 (a --validation_holdout) are not one stretch
    # of the video, so they are no closer to each other than random frames
    tail = s["train"].images[-200:].astype(np.float32)
    step = np.abs(np.diff(tail, axis=0)).mean()
    video = sources._mat_variable("freyface", FREY)[1].T.astype(np.float32)
    assert step > 2 * np.abs(np.diff(video[-200:], axis=0)).mean()
    every = np.concatenate([s["train"].images, s["test"].images]).reshape(1965, -1)
    assert len(np.unique(every, axis=0)) == len(np.unique(video, axis=0))  # nothing lost or doubled


def test_olivetti_holdout_is_one_image_of_each_person():
    s = sources.load_olivetti(OLIVETTI)
    train, test = s["train"], s["test"]
    assert len(train) == 320 and len(test) == 80
    assert sorted(train.labels[-40:]) == list(range(40)) and sorted(train.labels[-80:]) == sorted(list(range(40)) * 2)
    assert np.bincount(test.labels).tolist() == [2] * 40 and np.bincount(train.labels).tolist() == [8] * 40
    flat = lambda a: {im.tobytes() for im in a}  # noqa: E731
    assert not flat(train.images) & flat(test.images)


def test_mat_errors(tmp_path):
    with pytest.raises(TfvaeError, match="needs --data_dir"):
        sources.load_freyface(None)
    with pytest.raises(TfvaeError, match="not found"):
        sources.load_freyface(str(tmp_path))
    bad = tmp_path / "frey_rawface.mat"
    scipy.io.savemat(bad, {"faces": np.zeros((560, 3), np.uint8)})
    with pytest.raises(TfvaeError, match="no variable 'ff'"):
        sources.load_freyface(str(bad))
    bad.write_bytes(b"not a mat file at all")
    with pytest.raises(TfvaeError, match="cannot read"):
        sources.load_freyface(str(bad))


def test_folder_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TfvaeError, match="no images found"):
        sources.load_folder(str(empty))
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(mixed / "a.png")
    Image.fromarray(np.zeros((9, 8), np.uint8)).save(mixed / "b.png")
    with pytest.raises(TfvaeError, match="--image_size"):
        sources.load_folder(str(mixed))
    s = sources.load_folder(str(mixed), image_size=(6, 5), channels=3)
    assert s["train"].images.shape[1:] == (6, 5, 3)
    (mixed / "notes.txt").write_text("hello")
    with pytest.raises(TfvaeError, match="notes.txt is not a PNG or JPEG"):
        sources.load_folder(str(mixed), image_size=(6, 5))
    (mixed / "notes.txt").unlink()
    (mixed / "c.png").write_bytes(b"broken")
    with pytest.raises(TfvaeError, match="cannot read image"):
        sources.load_folder(str(mixed), image_size=(6, 5))


def test_folder_with_train_test_subfolders_and_labels(tmp_path):
    for part in ("train", "test"):
        for cls in ("cat", "dog"):
            d = tmp_path / part / cls
            d.mkdir(parents=True)
            for i in range(3):
                Image.fromarray(np.full((5, 4, 3), 40 * i, np.uint8)).save(d / f"{i}.jpg")
    s = sources.load_folder(str(tmp_path), channels=3)
    assert s["train"].images.shape == (6, 5, 4, 3) and len(s["test"]) == 6
    assert s["train"].labels.tolist() == [0, 0, 0, 1, 1, 1]
