"""Crash safety, numerical failure, repeatability."""

import json
import math
import os

import keras
import pytest

from tfvae import checkpoints, cli, training
from tfvae.errors import TfvaeError

from tests.helpers import NO_XLA, TINY_TRAIN, copy_run

SMALL = list(TINY_TRAIN + NO_XLA)  # the session's tiny_run


def _metrics(run):
    return [(h["epoch"], h["train"], h["val"]) for h in json.loads((run / "history.json").read_text())]


@pytest.mark.slow  # two trainings with the XLA step
def test_deterministic_runs_repeat(tmp_path, tfds_dir):
    for name in ("a", "b"):
        assert cli.main(["train", "--epoch", "2", "--seed", "7", "--deterministic", "--run_dir",
                         str(tmp_path / name)] + list(TINY_TRAIN)) == 0  # the default step: XLA
    assert _metrics(tmp_path / "a") == _metrics(tmp_path / "b")


def test_corrupt_latest_checkpoint_falls_back(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run.path, tmp_path / "run")  # two epochs of SMALL
    weights = run / "checkpoints" / "epoch-0002" / "model.weights.h5"
    with open(weights, "r+b") as f:
        f.truncate(os.path.getsize(weights) // 3)
    capsys.readouterr()
    assert cli.main(["train", "--epoch", "3", "--run_dir", str(run)] + SMALL) == 0
    out = capsys.readouterr().out
    assert "unreadable" in out and "resuming" in out and "after epoch 1" in out
    assert [e for e, _, _ in _metrics(run)] == [1, 2, 3]


def test_non_finite_loss_stops_with_epoch_and_keeps_checkpoint(tmp_path):
    rec = training.RunRecorder(str(tmp_path), {}, [])
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer="adam")
    model.optimizer.build(model.trainable_variables)
    rec.set_model(model)
    with pytest.raises(TfvaeError, match="non-finite training loss at epoch 3"):
        rec.on_epoch_end(2, {"loss": math.nan, "val_loss": 1.0})
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "history.json").exists()


def test_interrupted_write_leaves_old_checkpoint(tmp_path):
    from tfvae import models

    model = models.build_model({"latent_dim": 2, "hidden": [8]})
    path = tmp_path / "ckpt"
    checkpoints.save(str(path), model, {"model": model.config.to_dict()}, {"epoch": 1})

    class Boom(Exception):
        pass

    def broken_save(*a, **k):
        raise Boom()

    original = checkpoints.io.write_json
    checkpoints.io.write_json = broken_save
    try:
        with pytest.raises(Boom):
            checkpoints.save(str(path), model, {"model": model.config.to_dict()}, {"epoch": 2})
    finally:
        checkpoints.io.write_json = original
    assert checkpoints.read_state(str(path)) == {"epoch": 1}
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]


def test_time_budget_stops_after_the_epoch_that_reaches_it(tmp_path, tfds_dir, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "--epoch", "50", "--minutes", "0.0001", "--run_dir", str(run)] + SMALL) == 0
    assert "time budget" in capsys.readouterr().out
    assert [e for e, _, _ in _metrics(run)] == [1]
    assert (run / "checkpoints" / "epoch-0001").is_dir()


def test_budget_cosine_reaches_its_floor_by_the_epoch_bound():
    from types import SimpleNamespace

    import tensorflow as tf

    from tfvae import training

    assert training.cosine_factor(0) == 1.0 and abs(training.cosine_factor(1) - 0.01) < 1e-12
    assert abs(training.cosine_factor(0.5) - 0.505) < 1e-12
    budget = training.TimeBudget(minutes=60, cosine_lr=1e-3, epochs=4)
    budget.set_model(SimpleNamespace(optimizer=SimpleNamespace(learning_rate=tf.Variable(1e-3)), stop_training=False))
    budget.on_train_begin()
    rates = []
    for epoch in range(4):
        budget.on_epoch_begin(epoch)
        rates.append(float(budget.model.optimizer.learning_rate.numpy()))
        budget.on_epoch_end(epoch)
    assert rates == sorted(rates, reverse=True) and abs(rates[-1] - 1e-5) < 1e-9
    assert not budget.model.stop_training  # an hour is far away


def test_a_resumed_run_counts_the_time_its_recorded_epochs_took():
    """--minutes is the run's budget: resumed with 59 of 60 seconds spent, its cosine starts near the floor; with
    61 spent it stops after one epoch."""
    from types import SimpleNamespace

    import tensorflow as tf

    from tfvae import training

    budget = training.TimeBudget(minutes=1, cosine_lr=1e-3, epochs=1000, spent=59.0)
    budget.set_model(SimpleNamespace(optimizer=SimpleNamespace(learning_rate=tf.Variable(1e-3)), stop_training=False))
    budget.on_train_begin()
    budget.on_epoch_begin(10)
    assert float(budget.model.optimizer.learning_rate.numpy()) < 0.02 * 1e-3  # 59/60 of the way down
    budget.on_epoch_end(10)
    assert not budget.model.stop_training  # a second left
    over = training.TimeBudget(minutes=1, cosine_lr=1e-3, epochs=1000, spent=61.0)
    over.set_model(SimpleNamespace(optimizer=SimpleNamespace(learning_rate=tf.Variable(1e-3)), stop_training=False))
    over.on_train_begin()
    over.on_epoch_begin(11)
    over.on_epoch_end(11)
    assert over.model.stop_training
