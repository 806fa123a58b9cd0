"""Every bad input is one line ``tfvae: error: ...``, exit status 2, no traceback, nothing written."""

import gzip
import os
import shutil

import numpy as np
import pytest
import scipy.io
from PIL import Image

from tfvae import checkpoints, cli, models

from tests.helpers import NO_XLA, SHARED, SWEEP_FLAGS, TINY_TRAIN, copy_run, write_idx


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


# ----------------------------------------------------- paths of the wrong kind
def _a_file(tmp_path, name="a_file"):
    p = tmp_path / name
    p.write_text("not a directory")
    return str(p)


def _a_dir(tmp_path, name="a_dir"):
    p = tmp_path / name
    p.mkdir(exist_ok=True)
    return str(p)


PATH_CASES = [
    # (command line built from tmp_path, the flag the line must name, what it must say)
    ("train_run_dir_file", lambda t: ["train", "--run_dir", _a_file(t)], "--run_dir", "is a file"),
    ("train_run_dir_under_file", lambda t: ["train", "--run_dir", os.path.join(_a_file(t), "run")], "--run_dir",
     "is a file"),
    ("train_log_dir_file", lambda t: ["train", "--log_dir", _a_file(t)], "--log_dir", "is a file"),
    ("train_save_weight_dir_file", lambda t: ["train", "--save_weight_dir", _a_file(t)], "--save_weight_dir",
     "is a file"),
    ("train_load_weight_dir_file", lambda t: ["train", "--load_weight_dir", _a_file(t)], "--load_weight_dir",
     "is a file"),
    ("eval_load_weight_dir_file", lambda t: ["eval", "--load_weight_dir", _a_file(t)], "--load_weight_dir",
     "is a file"),
    ("eval_output_dir", lambda t: ["eval", "--output", _a_dir(t)], "--output", "is a directory"),
    ("eval_output_under_file", lambda t: ["eval", "--output", os.path.join(_a_file(t), "m.json")], "--output",
     "is a file"),
    ("generate_output_dir", lambda t: ["generate", "--output", _a_dir(t)], "--output", "is a directory"),
    ("generate_load_weight_dir_file", lambda t: ["generate", "--load_weight_dir", _a_file(t)],
     "--load_weight_dir", "is a file"),
    ("viz_output_dir_file", lambda t: ["viz", "--output_dir", _a_file(t)], "--output_dir", "is a file"),
    ("viz_load_weight_dir_file", lambda t: ["viz", "--load_weight_dir", _a_file(t)], "--load_weight_dir",
     "is a file"),
    ("export_export_dir_file", lambda t: ["export", "--export_dir", _a_file(t)], "--export_dir", "is a file"),
    ("export_load_weight_dir_file", lambda t: ["export", "--export_dir", str(t / "e"), "--load_weight_dir",
                                               _a_file(t)], "--load_weight_dir", "is a file"),
    ("sweep_out_file", lambda t: ["sweep", "--out", _a_file(t)], "--out", "is a file"),
    ("sample_remote_output_dir", lambda t: ["sample-remote", "--url", "http://127.0.0.1:9", "--output", _a_dir(t)],
     "--output", "is a directory"),
]


@pytest.mark.parametrize("build, flag, needle", [c[1:] for c in PATH_CASES], ids=[c[0] for c in PATH_CASES])
def test_path_of_the_wrong_kind(build, flag, needle, tmp_path, capsys):
    argv = build(tmp_path)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"tfvae: error: argument {flag}: "), err
    assert needle in err and "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == before  # nothing written


def test_tfds_data_dir_that_is_a_file(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "--dataset", "mnist", "--data_dir", _a_file(tmp_path), "--run_dir", str(run)]) == 2
    _one_line_error(capsys, "--data_dir")
    assert not run.exists()


# ------------------------------------------------ JSON files of ours, broken
def _corrupt(path, how):
    text = {"garbage": "{\"model\": {\"latent_dim\": 4,", "empty": "", "binary": None,
            "list": "[1, 2, 3]", "no_model": "{\"data\": {}}"}[how]
    if text is None:
        path.write_bytes(b"\xff\xfe\x00garbage")
    else:
        path.write_text(text)
    return path.read_bytes()


@pytest.mark.parametrize("how", ["garbage", "empty", "binary", "list", "no_model"])
@pytest.mark.parametrize("command", ["generate", "eval", "export", "viz"])
def test_corrupt_config_json_of_weights(how, command, tmp_path, capsys):
    path = _small_checkpoint(tmp_path)
    before = _corrupt(path / "config.json", how)
    out = tmp_path / "out"
    argv = {"generate": ["generate", "--output", str(out / "s.png")], "eval": ["eval", "--output", str(out / "m.json")],
            "export": ["export", "--export_dir", str(out)], "viz": ["viz", "--output_dir", str(out)]}[command]
    assert cli.main(argv + ["--load_weight_dir", str(path)]) == 2
    _one_line_error(capsys, "config.json")
    assert (path / "config.json").read_bytes() == before and not out.exists()


def _train_argv(run, epochs):
    return ["train", *TINY_TRAIN, *NO_XLA, "--epoch", str(epochs), "--run_dir", str(run)]


@pytest.fixture
def trained_run(tiny_run, tmp_path):
    """A copy of the session's two-epoch tiny run."""
    return copy_run(tiny_run.path, tmp_path / "run")


@pytest.mark.parametrize("name, how", [("config.json", "garbage"), ("config.json", "list"),
                                       ("history.json", "garbage"), ("history.json", "empty"),
                                       ("history.json", "no_model")])
def test_corrupt_json_of_a_run_on_resume(name, how, trained_run, capsys):
    run = trained_run
    before = _corrupt(run / name, how)
    snapshot = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert cli.main(_train_argv(run, 3)) == 2  # resume to epoch 3
    _one_line_error(capsys, name)
    assert (run / name).read_bytes() == before
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == snapshot  # nothing overwritten


def test_corrupt_run_config_with_overwrite_replaces_the_run(trained_run, capsys):
    run = trained_run
    _corrupt(run / "config.json", "garbage")
    assert cli.main(_train_argv(run, 1) + ["--overwrite"]) == 0
    checkpoints.io.read_json(str(run / "config.json"), expect=dict)


def test_corrupt_state_json_falls_back_to_the_previous_checkpoint(trained_run, capsys):
    run = trained_run
    _corrupt(run / "checkpoints" / "epoch-0002" / "state.json", "garbage")
    capsys.readouterr()
    assert cli.main(_train_argv(run, 3)) == 0
    out = capsys.readouterr().out
    assert "epoch-0002 is unreadable" in out and "resuming" in out and "after epoch 1" in out


def test_corrupt_sweep_metrics(swept, tmp_path, capsys):
    out = copy_run(swept[0], tmp_path / "sweep")  # a copy of the session's sweep (SWEEP_FLAGS)
    argv = ["sweep", *SWEEP_FLAGS, "--out", str(out)]
    metrics = out / "vae-z2-beta1" / "sweep_metrics.json"
    before = _corrupt(metrics, "garbage")
    capsys.readouterr()
    assert cli.main(argv) == 2
    _one_line_error(capsys, "sweep_metrics.json")
    assert metrics.read_bytes() == before


@pytest.mark.parametrize("name", ["config.json", "metrics.json"])
def test_corrupt_json_of_shipped_weights(name, tmp_path, monkeypatch, capsys):
    root = tmp_path / "installed"
    shutil.copytree(os.path.join(checkpoints.installed_root(), "better_weight"), root / "better_weight",
                    ignore=shutil.ignore_patterns("*.h5"))
    monkeypatch.setattr(checkpoints, "installed_root", lambda: str(root))
    before = _corrupt(root / "better_weight" / name, "garbage")
    assert cli.main(["weights"]) == 2
    _one_line_error(capsys, name)
    assert (root / "better_weight" / name).read_bytes() == before
