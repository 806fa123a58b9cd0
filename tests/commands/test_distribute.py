"""``--strategy mirrored`` / ``multiworker`` (tf.distribute) for training and evaluation, on a CPU machine.

Mirrored runs over 2 logical CPU devices, which must be configured before
TensorFlow starts: in a subprocess. Multi-worker runs as two local worker
processes given ``TF_CONFIG`` with free 127.0.0.1 ports.

What is compared, honestly: under a strategy every replica draws the
reparameterisation noise of the whole global batch from the (mirrored) seed
and keeps its own rows, so a distributed step computes the same numbers as a
single-device step, up to float rounding (different summation order). The
tests therefore compare with single-device runs on the same data and seed at
tight tolerances (1e-4 relative), not "within a few percent".
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from tests.helpers import MNIST
from tfvae import checkpoints, cli, training
from tfvae.errors import TfvaeError

SMALL = ["--dataset", MNIST, "--train_examples", "400", "--val_examples", "100", "--batch", "100",
         "--latent_dim", "4", "--hidden", "32", "--no_images", "--log_every", "2"]
METRICS = ("loss", "reconstruction_loss", "kl_loss", "rmse")


def _env(tfds_dir, **extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    return dict(env, TFDS_DATA_DIR=tfds_dir, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", **extra)


def _weights(path):
    model, _, _, _ = checkpoints.load_model(str(path))
    return model.get_weights()


def _assert_same_weights(a, b, rtol=1e-4):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        scale = max(1.0, float(np.abs(x).max()))
        np.testing.assert_allclose(x, y, rtol=0, atol=rtol * scale)


def _assert_same_history(a, b, rtol=1e-4):
    assert [h["epoch"] for h in a] == [h["epoch"] for h in b]
    for ha, hb in zip(a, b):
        for split in ("train", "val"):
            for k in METRICS:
                np.testing.assert_allclose(ha[split][k], hb[split][k], rtol=rtol, err_msg=f"{split} {k}")


# ------------------------------------------------------------- user errors
def test_strategy_flags_and_tf_config_are_checked(monkeypatch, capsys, tmp_path):
    with pytest.raises(TfvaeError, match="--strategy must be one of default, mirrored, multiworker"):
        training.TrainConfig(strategy="tpu")
    assert training.TrainConfig().strategy == "default"
    for bad, match in [
        (None, "needs the TF_CONFIG environment variable"),
        ("{cluster", "not valid JSON"),
        ('{"task": {"type": "worker", "index": 0}}', 'no "cluster"'),
        ('{"cluster": {"worker": ["h1"]}, "task": {"type": "worker", "index": 0}}', "host:port"),
        ('{"cluster": {"ps": ["h1:1"]}, "task": {"type": "ps", "index": 0}}', "only \"worker\""),
        ('{"cluster": {"worker": ["h1:1", "h2:2"]}}', "saying which host this is"),
        ('{"cluster": {"worker": ["h1:1", "h2:2"]}, "task": {"type": "worker", "index": 2}}', "out of range"),
    ]:
        with pytest.raises(TfvaeError, match=match):
            training.parse_tf_config(bad)
    good = '{"cluster": {"worker": ["h1:1", "h2:2"]}, "task": {"type": "worker", "index": 1}}'
    assert training.parse_tf_config(good)["task"]["index"] == 1

    monkeypatch.delenv("TF_CONFIG", raising=False)
    for argv in (["train", "--strategy", "multiworker", "--run_dir", str(tmp_path / "r")] + SMALL,
                 ["eval", "--strategy", "multiworker", "--load_weight_dir", str(tmp_path)]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("tfvae: error: --strategy multiworker needs the TF_CONFIG")
    assert not (tmp_path / "r").exists()
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--strategy", "horovod"])
    assert e.value.code == 2


# ---------------------------------------------------------------- mirrored
MIRRORED_SCRIPT = r"""
import contextlib, json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import numpy as np
from tfvae import cli, data, models, training

root, small = sys.argv[1], json.loads(sys.argv[2])
result = {}

# 1. Plain SGD (Adam would hide a wrongly scaled gradient), uneven splits: 45 = 4 x 10 + 5 (3 + 2
#    per replica), validation 21 = 2 x 10 + 1 (1 + 0: an empty replica).
dataset = small[small.index("--dataset") + 1]
train, val, _ = data.load_splits(data.DataConfig(dataset=dataset, train_examples=45, val_examples=21))
for name in ("default", "mirrored"):
    strategy = training.make_strategy(name)
    keras.utils.set_random_seed(1)
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = models.build_model(models.VAEConfig(latent_dim=4, hidden=(32,)))
        model.compile(optimizer=keras.optimizers.SGD(1e-3))
    start = [w.copy() for w in model.get_weights()]
    steps = []  # the per-step logs (running means), as TensorBoard's batch_* scalars get them
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: steps.append(float(logs["loss"])))
    hist = model.fit(data.make_dataset(train, 10), validation_data=data.make_dataset(val, 10), epochs=1, verbose=0,
                     callbacks=[record])
    result[name] = {"replicas": strategy.num_replicas_in_sync if strategy else 1, "steps": steps,
                    "history": {k: float(v[0]) for k, v in hist.history.items()},
                    "moved": max(float(np.abs(w - s).max()) for w, s in zip(model.get_weights(), start))}
    np.savez(f"{root}/sgd-{name}.npz", *model.get_weights())

# 2. tfvae train (Adam, shuffling), 1 epoch, then resumed to 2, mirrored (the single-device run is the module's).
for epoch in ("1", "2"):
    assert cli.main(["train", "--epoch", epoch, "--strategy", "mirrored", "--run_dir", f"{root}/mirrored"] + small) == 0

# 3. tfvae eval of the mirrored run's checkpoint on one device, and in batches of 7 over 2 replicas (3 + 4; the
#    last batch of 1 leaves a replica empty).
for name in ("default", "mirrored"):
    assert cli.main(["eval", "--load_weight_dir", f"{root}/mirrored", "--num_examples", "50", "--iwae_samples", "64",
                     "--batch", "7", "--seed", "3", "--strategy", name, "--output", f"{root}/eval-{name}.json"]) == 0
print("RESULT " + json.dumps(result))
"""


@pytest.fixture(scope="module")
def started(tmp_path_factory, tfds_dir):
    """The mirrored subprocess and the two multi-worker processes, all started when the module's first strategy
    test asks (they run together, and beside ``single``, which trains in this process meanwhile):
    ``{"mirrored": (process, its directory), "workers": ([processes], their directory)}``."""
    root = tmp_path_factory.mktemp("mirrored")
    with open(root / "stdout", "w") as out, open(root / "stderr", "w") as err:  # files: nothing waits on a pipe
        mirrored = subprocess.Popen([sys.executable, "-c", MIRRORED_SCRIPT, str(root), json.dumps(SMALL)],
                                    env=_env(tfds_dir), cwd=root, stdout=out, stderr=err)
    work = tmp_path_factory.mktemp("multiworker")
    ports = _free_ports(2)
    script = work / "worker.py"
    script.write_text(textwrap.dedent(WORKER_SCRIPT))
    workers = []
    for i in range(2):
        scratch = work / f"tmp{i}"
        scratch.mkdir()
        tf_config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": i}}
        env = _env(tfds_dir, TF_CONFIG=json.dumps(tf_config), TMPDIR=str(scratch))
        with open(work / f"worker{i}.log", "w") as log:
            workers.append(subprocess.Popen([sys.executable, str(script), str(work / f"w{i}"), str(work / "run"),
                                             MNIST], env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT))
    yield {"mirrored": (mirrored, root), "workers": (workers, work)}
    for proc in [mirrored] + workers:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def single(tmp_path_factory, tfds_dir):
    """The single-device reference both strategies are compared with: ``tfvae train SMALL`` for one epoch, then
    resumed to two (in this process)."""
    run = tmp_path_factory.mktemp("single") / "run"
    for epoch in ("1", "2"):
        assert cli.main(["train", "--epoch", epoch, "--run_dir", str(run)] + SMALL) == 0
    return run


@pytest.mark.slow  # a subprocess on two logical CPUs, four trainings
def test_mirrored_on_two_devices_matches_one_device(started, single):
    """Training steps, metrics, resume and eval under MirroredStrategy (2 logical CPUs) equal single-device ones.

    1. One epoch of plain SGD on uneven splits: weights agree to 1e-4 of their
       size while training moved them by far more, and every train/val metric
       (per epoch, and the per-step running means) agrees to 1e-4 relative (a gradient or metric off by the replica count,
       or noise not matching, would not).
    2. ``tfvae train --strategy mirrored`` then resume vs ``--strategy default`` (the module's ``single``):
       same ``history.json`` metrics and checkpoint weights (1e-4 relative).
    3. ``tfvae eval --strategy mirrored`` vs default of one checkpoint: same NLL, ELBO, RMSE, active units.
    """
    proc, tmp_path = started["mirrored"]
    proc.wait(timeout=600)
    stdout, stderr = (tmp_path / "stdout").read_text(), (tmp_path / "stderr").read_text()
    assert proc.returncode == 0, stdout[-3000:] + stderr[-5000:]
    result = json.loads(stdout.split("RESULT ", 1)[1].splitlines()[0])

    # 1. the maths of a step
    assert (result["default"]["replicas"], result["mirrored"]["replicas"]) == (1, 2)
    d, m = np.load(tmp_path / "sgd-default.npz"), np.load(tmp_path / "sgd-mirrored.npz")
    diff = max(float(np.abs(d[k] - m[k]).max()) for k in d.files)
    assert result["default"]["moved"] > 1e-3
    assert diff < 1e-4 * result["default"]["moved"], (diff, result["default"]["moved"])
    assert set(result["mirrored"]["history"]) == {f"{p}{k}" for p in ("", "val_") for k in METRICS}
    for k, v in result["default"]["history"].items():
        np.testing.assert_allclose(result["mirrored"]["history"][k], v, rtol=1e-4, err_msg=k)
    assert len(result["mirrored"]["steps"]) == 5
    np.testing.assert_allclose(result["mirrored"]["steps"], result["default"]["steps"], rtol=1e-4)

    # 2. tfvae train + resume
    assert "strategy mirrored: 2 replicas, global batch 100" in stdout
    assert f"resuming {tmp_path}/mirrored after epoch 1" in stdout
    hist = {n: json.loads((d / "history.json").read_text()) for n, d in (("default", single),
                                                                            ("mirrored", tmp_path / "mirrored"))}
    assert [h["epoch"] for h in hist["mirrored"]] == [1, 2]
    _assert_same_history(hist["default"], hist["mirrored"])
    assert json.loads((tmp_path / "mirrored" / "config.json").read_text())["train"]["strategy"] == "mirrored"
    _assert_same_weights(_weights(single / "checkpoints/epoch-0002"),
                         _weights(tmp_path / "mirrored/checkpoints/epoch-0002"))

    # 3. tfvae eval
    ev = {n: json.loads((tmp_path / f"eval-{n}.json").read_text()) for n in ("default", "mirrored")}
    assert ev["mirrored"]["n_examples"] == 50 and ev["mirrored"]["iwae_samples"] == 64
    for k in ("nll", "neg_elbo", "reconstruction_loss", "kl", "rmse"):
        np.testing.assert_allclose(ev["mirrored"][k], ev["default"][k], rtol=1e-5, err_msg=k)
    assert ev["mirrored"]["active_units"] == ev["default"]["active_units"]


# ------------------------------------------------------------ multi-worker
WORKER_SCRIPT = r"""
import json, os, sys
import numpy as np
from tfvae import data, training

out, run_dir, dataset = sys.argv[1], sys.argv[2], sys.argv[3]
dc = data.DataConfig(dataset=dataset, train_examples=400, val_examples=100)
for epoch in (1, 2):  # the second call resumes the run from the chief's epoch-1 checkpoint
    tc = training.TrainConfig(epoch=epoch, batch=100, run_dir=run_dir, images=False, log_every=2,
                              strategy="multiworker")
    model, rd, _ = training.run_training({"latent_dim": 4, "hidden": (32,)}, dc, tc, verbose=2)
    np.savez(f"{out}-{epoch}.npz", *model.get_weights())
    print("WORKER " + json.dumps({"epoch": epoch, "run_dir": rd, "exists": os.path.isdir(rd)}), flush=True)
"""


def _free_ports(n):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _wait_for_workers(procs, timeout):
    """Waits for the processes; kills the rest when one fails or time runs out."""
    deadline = time.monotonic() + timeout
    try:
        while any(p.poll() is None for p in procs):
            if any(p.poll() not in (None, 0) for p in procs) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return [p.returncode for p in procs]


@pytest.mark.slow  # two worker processes
def test_multiworker_two_local_workers(started, single):
    """Two workers on 127.0.0.1 from ``TF_CONFIG``: one epoch, then a resume to two.

    Both workers end every call with identical weights, equal (1e-4
    relative) to a single-device run on the same data and seed; only the
    chief's run directory exists, and the worker's scratch dirs are gone.
    """
    workers, tmp_path = started["workers"]
    run = tmp_path / "run"
    codes = _wait_for_workers(workers, timeout=600)
    logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], f"exit codes {codes}\n--- worker 0\n{logs[0][-4000:]}\n--- worker 1\n{logs[1][-4000:]}"

    reports = [[json.loads(line.split(" ", 1)[1]) for line in log.splitlines() if line.startswith("WORKER ")]
               for log in logs]
    assert [r["epoch"] for r in reports[0]] == [1, 2] == [r["epoch"] for r in reports[1]]
    assert all(r["run_dir"] == str(run) and r["exists"] for r in reports[0])
    assert all(r["run_dir"].startswith(str(tmp_path / "tmp1")) and not r["exists"] for r in reports[1])
    assert os.listdir(tmp_path / "tmp1") == []
    assert "resuming" in logs[0] and "is not the chief" in logs[1]

    # identical weights on both workers, after the first call and after the resumed one
    for epoch in (1, 2):
        a, b = np.load(tmp_path / f"w0-{epoch}.npz"), np.load(tmp_path / f"w1-{epoch}.npz")
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k])
    final = [np.load(tmp_path / "w0-2.npz")[k] for k in np.load(tmp_path / "w0-2.npz").files]

    # the chief's run directory holds the run
    assert sorted(os.listdir(run / "checkpoints")) == ["best", "epoch-0001", "epoch-0002"]
    assert [h["epoch"] for h in json.loads((run / "history.json").read_text())] == [1, 2]
    assert os.listdir(run / "logs" / "train") and os.listdir(run / "logs" / "val")
    _assert_same_weights(_weights(run / "checkpoints/epoch-0002"), final, rtol=1e-6)

    # the same as one device, resumed the same way (the module's single-device run)
    _assert_same_history(json.loads((single / "history.json").read_text()),
                         json.loads((run / "history.json").read_text()))
    _assert_same_weights(_weights(single / "checkpoints/epoch-0002"), final)
