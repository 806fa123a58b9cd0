"""A run directory has one writer: ``tfvae train`` locks ``RUN_DIR/.lock``, ``tfvae sweep`` locks ``OUT/.lock``."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tfvae import cli
from tfvae.errors import TfvaeError
from tfvae.training import rundir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Small and fast: 64 train / 32 test images (conftest's tiny_idx_dir), two steps an epoch, no XLA compile.
TINY = ["--batch", "32", "--latent_dim", "2", "--hidden", "16", "--no_images", "--xla", "off"]


def _train_cmd(run, epochs, idx_dir):
    return [sys.executable, "-m", "tfvae", "train", "--dataset", f"idx:{idx_dir}", "--epoch", str(epochs),
            "--run_dir", str(run)] + TINY


def _env():
    return dict(os.environ, PYTHONPATH=ROOT)


def _wait_for(path, proc, seconds=120):
    deadline = time.time() + seconds
    while not os.path.exists(path):
        assert proc.poll() is None, f"the first train ended early (rc {proc.returncode})"
        assert time.time() < deadline, f"{path} did not appear"
        time.sleep(0.02)


def _snapshot(d):
    """Every file and directory under ``d`` with its size and mtime."""
    out = {".": os.stat(d).st_mtime_ns}
    for dirpath, dirs, files in os.walk(d):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            st = os.stat(p)
            out[os.path.relpath(p, d)] = (st.st_size, st.st_mtime_ns)
    return out


def _is_locked(d):
    fd = os.open(os.path.join(d, rundir.LOCK_NAME), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _message(flag, d, command, pid):
    return (f"tfvae: error: {flag} {d} is in use by another {command} (pid {pid}); wait for it, "
            f"or pass another {flag}")


@pytest.mark.slow  # two train processes
def test_a_second_train_on_a_busy_run_dir_exits_2_and_writes_nothing(tmp_path, tiny_idx_dir):
    run = tmp_path / "run"
    with open(tmp_path / "first.log", "w") as log:
        first = subprocess.Popen(_train_cmd(run, 3, tiny_idx_dir), env=_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(run / "config.json", first)
        first.send_signal(signal.SIGSTOP)  # frozen (still holding the lock): the run dir cannot change under us
        before = _snapshot(run)
        second = subprocess.run(_train_cmd(run, 3, tiny_idx_dir), env=_env(), capture_output=True, text=True,
                                timeout=120)
        after = _snapshot(run)
        first.send_signal(signal.SIGCONT)
        assert second.returncode == 2, second.stderr[-2000:]
        assert second.stderr.splitlines() == [_message("--run_dir", run, "tfvae train", first.pid)], second.stderr
        assert "run directory" not in second.stdout
        assert after == before  # nothing written: no config.json change, no logs, no checkpoints
        assert first.wait(timeout=120) == 0, (tmp_path / "first.log").read_text()[-2000:]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    hist = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in hist] == [1, 2, 3]  # the first run's history, whole
    assert not _is_locked(run)


def test_kill_9_leaves_no_stale_lock(tmp_path, tiny_idx_dir, capsys):
    run = tmp_path / "run"
    first = subprocess.Popen(_train_cmd(run, 3, tiny_idx_dir), env=_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        _wait_for(run / "checkpoints" / "epoch-0001", first)
        first.send_signal(signal.SIGSTOP)  # mid-run, holding the lock
        assert _is_locked(run)
        assert (run / rundir.LOCK_NAME).read_text().strip() == str(first.pid)
    finally:
        first.kill()
        first.wait()
    done = json.loads((run / "history.json").read_text())
    assert 1 <= len(done) < 3, "the kill should land mid-run"
    assert not _is_locked(run)  # the kernel dropped it with the process; the file stays
    assert cli.main(_train_cmd(run, 3, tiny_idx_dir)[3:]) == 0  # the same command again, in this process
    assert f"resuming {run} after epoch" in capsys.readouterr().out
    assert [h["epoch"] for h in json.loads((run / "history.json").read_text())] == [1, 2, 3]
    assert (run / rundir.LOCK_NAME).read_text().strip() == str(os.getpid())


def test_overwrite_keeps_the_lock_file_and_removes_the_rest(tmp_path, tiny_idx_dir, capsys):
    run = tmp_path / "run"
    (run / "checkpoints" / "epoch-0009").mkdir(parents=True)
    (run / "config.json").write_text("an older run's, unreadable")  # --overwrite replaces such a run
    (run / "notes.txt").write_text("mine")
    (run / rundir.LOCK_NAME).write_text("4242\n")  # left by an earlier run
    inode = os.stat(run / rundir.LOCK_NAME).st_ino
    assert cli.main(_train_cmd(run, 1, tiny_idx_dir)[3:] + ["--overwrite"]) == 0
    assert os.stat(run / rundir.LOCK_NAME).st_ino == inode  # the same (locked) file, not a new one
    assert (run / rundir.LOCK_NAME).read_text() == f"{os.getpid()}\n"
    assert sorted(os.listdir(run)) == [rundir.LOCK_NAME, "checkpoints", "config.json", "history.json", "logs"]
    assert sorted(os.listdir(run / "checkpoints")) == ["best", "epoch-0001"]
    assert json.loads((run / "config.json").read_text())["model"]["latent_dim"] == 2
    assert not _is_locked(run)  # released when the run returned


def test_a_sweep_on_a_busy_out_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "sweep"
    out.mkdir()
    fd = os.open(out / rundir.LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # this process plays the running sweep
        os.write(fd, b"4242\n")
        before = _snapshot(out)
        capsys.readouterr()
        assert cli.main(["sweep", "--out", str(out), "--latent_dims", "2", "--epoch", "1", "--hidden", "8"]) == 2
        err = capsys.readouterr().err
        assert err.splitlines() == [_message("--out", out, "tfvae sweep", 4242)], err
        assert _snapshot(out) == before
    finally:
        os.close(fd)


def test_without_fcntl_nothing_is_locked(tmp_path, monkeypatch):
    monkeypatch.setattr(rundir, "fcntl", None)  # as on Windows
    d = tmp_path / "new" / "run"
    with rundir.DirLock(str(d)), rundir.DirLock(str(d)):
        assert d.is_dir() and not (d / rundir.LOCK_NAME).exists()


def test_the_lock_is_released_when_the_run_raises(tmp_path):
    d = str(tmp_path / "run")
    with pytest.raises(RuntimeError):
        with rundir.DirLock(d):
            raise RuntimeError("boom")
    with rundir.DirLock(d):  # sequential: free again
        with pytest.raises(TfvaeError, match=r"in use by another tfvae train \(pid %d\)" % os.getpid()):
            rundir.DirLock(d).acquire()  # concurrent, in one process: refused too
