"""Every bad input is one line ``tfvae: error: ...``, exit status 2, no traceback, nothing written."""

import gzip
import os
import shutil

import numpy as np
import pytest
import scipy.io
from PIL import Image

from tfvae import checkpoints, cli, models

from conftest import SHARED, write_idx


def _idx_copy(tmp_path):
    d = tmp_path / "idx"
    shutil.copytree(os.path.join(SHARED, "data", "mnist"), d)
    return d


def _bad_idx_missing(tmp_path):
    d = _idx_copy(tmp_path)
    os.remove(d / "t10k-labels-idx1-ubyte.gz")
    return [f"idx:{d}"], "missing t10k-labels"


def _bad_idx_magic(tmp_path):
    d = _idx_copy(tmp_path)
    with gzip.open(d / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x09\x07" + b"\x00" * 64)
    return [f"idx:{d}"], "magic"


def _bad_idx_truncated(tmp_path):
    d = _idx_copy(tmp_path)
    raw = gzip.open(d / "t10k-images-idx3-ubyte.gz").read()
    with gzip.open(d / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(raw[: len(raw) // 2])
    return [f"idx:{d}"], "truncated"


def _bad_idx_lengths(tmp_path):
    d = _idx_copy(tmp_path)
    write_idx(d / "t10k-labels-idx1-ubyte.gz", np.zeros(9999), compress=True)
    return [f"idx:{d}"], "differ in length"


def _bad_folder_empty(tmp_path):
    (tmp_path / "empty").mkdir()
    return [f"folder:{tmp_path / 'empty'}"], "no images found"


def _bad_folder_non_image(tmp_path):
    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(3):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(d / f"{i}.png")
    (d / "readme.txt").write_text("x")
    return [f"folder:{d}"], "readme.txt is not a PNG or JPEG"


def _bad_folder_mixed(tmp_path):
    d = tmp_path / "imgs"
    d.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(d / "a.png")
    Image.fromarray(np.zeros((8, 9), np.uint8)).save(d / "b.png")
    return [f"folder:{d}"], "--image_size"


def _bad_mat_variable(tmp_path):
    p = tmp_path / "frey_rawface.mat"
    scipy.io.savemat(p, {"something": np.zeros((560, 3), np.uint8)})
    return ["freyface", "--data_dir", str(p)], "no variable 'ff'"


def _bad_tfds_absent(tmp_path):
    return ["mnist", "--data_dir", str(tmp_path / "no_tfds")], "TFDS_DATA_DIR"


def _bad_unknown(tmp_path):
    return ["cifar11"], "unknown dataset"


DATA_CASES = [_bad_idx_missing, _bad_idx_magic, _bad_idx_truncated, _bad_idx_lengths, _bad_folder_empty,
              _bad_folder_non_image, _bad_folder_mixed, _bad_mat_variable, _bad_tfds_absent, _bad_unknown]


def _one_line_error(capsys, needle):
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfvae: error:"), out.err
    assert needle in lines[0], lines[0]
    assert "Traceback" not in out.err + out.out


@pytest.mark.parametrize("case", DATA_CASES, ids=lambda f: f.__name__[5:])
def test_bad_data(case, tmp_path, capsys):
    spec, needle = case(tmp_path)
    run = tmp_path / "run"
    rc = cli.main(["train", "--dataset"] + spec + ["--run_dir", str(run), "--epoch", "1"])
    assert rc == 2
    _one_line_error(capsys, needle)
    assert not run.exists()


@pytest.mark.parametrize("flags, needle", [
    (["--latent_dim", "-3"], "--latent_dim"),
    (["--learning_rate", "-1"], "--learning_rate"),
    (["--hidden", "512,x"], "--hidden"),
    (["--kl_warmup_epochs", "-1"], "--kl_warmup_epochs"),
    (["--model", "gan"], "--model"),
    (["--xla", "maybe"], "--xla"),
])
def test_more_bad_flags(flags, needle, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train"] + flags)
    assert e.value.code == 2
    _one_line_error(capsys, needle)


def _small_checkpoint(tmp_path, **kw):
    model = models.build_model({"latent_dim": 4, "hidden": [16], **kw})
    path = tmp_path / "weights"
    checkpoints.save(str(path), model, {"model": model.config.to_dict(), "data": {"dataset": "mnist"}}, {"epoch": 1})
    return path


def test_wrong_architecture_weights(tmp_path, tfds_dir, capsys):
    path = _small_checkpoint(tmp_path)
    # config.json claims another architecture than the stored weights
    cfg = checkpoints.read_config(str(path))
    cfg["model"]["hidden"] = [32]
    checkpoints.io.write_json(str(path / "config.json"), cfg)
    assert cli.main(["eval", "--load_weight_dir", str(path), "--num_examples", "10"]) == 2
    _one_line_error(capsys, "do not fit")
    assert cli.main(["generate", "--load_weight_dir", str(path), "--output", str(tmp_path / "x.png")]) == 2
    _one_line_error(capsys, "do not fit")
    assert not (tmp_path / "x.png").exists() and not (path / "metrics.json").exists()


def test_flag_contradicting_loaded_weights(tmp_path, tfds_dir, capsys):
    path = _small_checkpoint(tmp_path)
    run = tmp_path / "run"
    assert cli.main(["train", "--load_weight_dir", str(path), "--latent_dim", "8", "--run_dir", str(run)]) == 2
    _one_line_error(capsys, "contradicts the loaded weights")
    assert not run.exists()


def test_eval_on_data_of_another_shape(tmp_path, tfds_dir, capsys):
    path = _small_checkpoint(tmp_path)
    out = tmp_path / "m.json"
    assert cli.main(["eval", "--load_weight_dir", str(path), "--dataset", "freyface", "--data_dir",
                     os.path.join(SHARED, "data", "freyface"), "--output", str(out)]) == 2
    _one_line_error(capsys, "expects images of shape (28, 28, 1)")
    assert not out.exists()


def test_existing_metrics_not_half_written(tmp_path, tfds_dir, capsys):
    """A failing eval leaves an existing metrics.json untouched."""
    path = _small_checkpoint(tmp_path)
    out = tmp_path / "m.json"
    out.write_text('{"old": true}')
    assert cli.main(["eval", "--load_weight_dir", str(path), "--dataset", "cifar11", "--output", str(out)]) == 2
    assert out.read_text() == '{"old": true}'
