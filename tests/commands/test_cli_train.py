"""``tfvae train`` end to end on a real-MNIST subset."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tfvae import cli, models, training

from tests.helpers import ROOT, SMALL_TRAIN

SMALL = list(SMALL_TRAIN)  # 20 steps an epoch, batch logs every 5


def read_scalars(event_dir):
    """{tag: {step: value}} from the tf.summary event files in a directory."""
    out = {}
    for path in glob.glob(os.path.join(event_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for v in event.summary.value:
                if v.metadata.plugin_data.plugin_name == "scalars":
                    out.setdefault(v.tag, {})[event.step] = float(tf.make_ndarray(v.tensor))
    return out


def read_tags(event_dir):
    tags = set()
    for path in glob.glob(os.path.join(event_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(v.tag for v in event.summary.value)
    return tags


def test_train_writes_the_run_directory(small_run):
    """The session's uninterrupted four-epoch run (conftest.small_run: ``tfvae train --epoch 4 SMALL``)."""
    run = small_run.path
    assert f"run directory {run}" in small_run.out
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"]["latent_dim"] == 8 and cfg["model"]["hidden"] == [64, 32]
    assert cfg["data"]["dataset"] == "mnist"
    hist = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    for split in ("train", "val"):
        assert set(hist[0][split]) == {"loss", "reconstruction_loss", "kl_loss", "rmse"}
    assert hist[0]["epoch_seconds"] > 0
    # a 1-epoch model on real digits is far better than chance (543 nats)
    assert hist[0]["val"]["loss"] < 400
    for d in ("checkpoints/best", "checkpoints/epoch-0004"):
        assert (run / d / "model.weights.h5").is_file() and (run / d / "config.json").is_file()
    train_scalars = read_scalars(run / "logs" / "train")
    val_scalars = read_scalars(run / "logs" / "val")
    for tag in ("epoch_loss", "epoch_reconstruction_loss", "epoch_kl_loss", "epoch_rmse"):
        assert sorted(train_scalars[tag]) == sorted(val_scalars[tag]) == [1, 2, 3, 4]
    for epoch in (1, 4):
        np.testing.assert_allclose(val_scalars["epoch_loss"][epoch], hist[epoch - 1]["val"]["loss"], rtol=1e-5)
    assert sorted(train_scalars["batch_loss"]) == list(range(5, 81, 5))  # 20 steps an epoch, logged every 5
    assert {"reconstructions", "prior_samples"} <= read_tags(run / "logs" / "val")
    assert (run / "images" / "recon_epoch_001.png").is_file() and (run / "images" / "recon_epoch_004.png").is_file()


def test_resume_after_kill(small_run, tmp_path, tfds_dir, capsys):
    run = tmp_path / "run"
    cmd = ["train", "--epoch", "4", "--run_dir", str(run)] + SMALL
    env = dict(os.environ, TFDS_DATA_DIR=tfds_dir)
    proc = subprocess.Popen([sys.executable, "-m", "tfvae"] + cmd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while not glob.glob(str(run / "checkpoints" / "epoch-0001")) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = json.loads((run / "history.json").read_text())
    assert 1 <= len(done_before) < 4, "the kill should land mid-run"
    assert cli.main(cmd) == 0, capsys.readouterr().err[-2000:]  # the same command again, resumed
    out = capsys.readouterr().out
    assert "resuming" in out and "after epoch" in out
    hist = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    assert hist[-1]["val"]["loss"] < hist[0]["val"]["loss"]
    # ... and ends where an uninterrupted run of the same command ends (the session's small_run), within noise
    final = json.loads((small_run.path / "history.json").read_text())[-1]["val"]["loss"]
    assert abs(hist[-1]["val"]["loss"] - final) < 0.03 * final


def test_same_run_dir_with_other_config_is_refused(small_run, capsys):
    run = small_run.path
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name != ".lock"}
    assert cli.main(["train", "--epoch", "1", "--run_dir", str(run)] + SMALL + ["--latent_dim", "4"]) == 2
    err = capsys.readouterr().err
    assert "tfvae: error: run directory" in err and "--overwrite" in err
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name != ".lock"} == before


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--latent_dim", "0"], "--latent_dim"),
        (["--latent_dim", "abc"], "--latent_dim"),
        (["--batch", "0"], "--batch"),
        (["--epoch", "-1"], "--epoch"),
        (["--learning_rate", "0"], "--learning_rate"),
        (["--binarize", "sometimes"], "--binarize"),
    ],
)
def test_bad_flags_are_one_line_errors(flags, message, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train"] + flags)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tfvae: error:") and message in err[0]


def test_unknown_dataset_and_missing_weights(tmp_path, capsys):
    assert cli.main(["train", "--dataset", "cifar11", "--run_dir", str(tmp_path / "r")]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    assert cli.main(["train", "--load_weight_dir", str(tmp_path / "nope"), "--run_dir", str(tmp_path / "r")]) == 2
    assert "no weights found" in capsys.readouterr().err


def test_train_py_wrapper_help():
    res = subprocess.run([sys.executable, "train.py", "--help"], capture_output=True, text=True,
                         cwd=ROOT)
    assert res.returncode == 0 and "--load_weight_dir" in res.stdout and "--epoch" in res.stdout


def test_xla_auto_is_on_for_dense_models_on_one_device_in_float32():
    dense, conv = models.VAEConfig(arch="gated"), models.VAEConfig(arch="conv")
    assert training.use_xla(training.TrainConfig(), dense)
    assert not training.use_xla(training.TrainConfig(), conv)
    assert not training.use_xla(training.TrainConfig(mixed_precision=True), dense)
    assert not training.use_xla(training.TrainConfig(strategy="mirrored"), dense)
    assert training.use_xla(training.TrainConfig(xla="on"), conv)
    assert not training.use_xla(training.TrainConfig(xla="off"), dense)


@pytest.mark.parametrize("arch, n, batch, log_every, spe, expected", [
    # XLA step: stacks of 10, 60 stacks per MNIST epoch, 5 calls per execution (50 steps): one iterator per run
    ("mlp", 60000, 100, 100, 50, training.Feed(10, 60, True, 5, True)),
    # batch 128: 46 stacks of 10, one of 8 and the partial batch = 48 elements; 4 calls (a divisor) per execution
    ("mlp", 60000, 128, 100, 50, training.Feed(10, 48, True, 4, True)),
    # --log_every 5: stacks of 5, so batch logs land on multiples of 5
    ("mlp", 2000, 100, 5, 50, training.Feed(5, 4, True, 1, True)),
    # TF graph step (conv): single batches; 600 per epoch, 50 per execution
    ("conv", 60000, 100, 100, 50, training.Feed(1, 600, True, 50, False)),
    # 53 batches per epoch: no divisor of 53 near 50, so Keras' 50 steps per execution and a new iterator per epoch
    ("conv", 5300, 100, 100, 50, training.Feed(1, 53, False, 50, False)),
])
def test_feed_plan(arch, n, batch, log_every, spe, expected):
    """The plan of a run: stack size, elements per epoch, one iterator per run or not; compile follows it."""
    model = models.build_model(models.VAEConfig(latent_dim=4, hidden=(16,), arch=arch, conv_filters=(4, 8)))
    tc = training.TrainConfig(batch=batch, log_every=log_every, steps_per_execution=spe)
    feed = training.plan_feed(tc, model.config, n)
    assert feed == expected
    assert training.compile_model(model, tc, n) == feed
    assert (model.steps_per_call, model.steps_per_execution, model.xla_step) == (
        feed.steps_per_call, feed.steps_per_execution, feed.xla_step)
