"""Run directories: their default name, their one writer (``DirLock``), whether a run resumes, and its history."""

import datetime
import errno
import os
import re
import shutil
import sys
import time

try:
    import fcntl
except ImportError:  # Windows: no flock, and so no lock (see DirLock)
    fcntl = None

from tfvae import io
from tfvae.config import DataConfig
from tfvae.models.config import VAEConfig
from tfvae.errors import TfvaeError

# What must match for a run directory to be resumed (not the epoch count).
_RESUME_KEYS = ("batch", "learning_rate", "seed", "load_weight_dir", "lr_schedule", "kl_warmup_epochs")  # not epoch, logging or speed knobs


LOCK_NAME = ".lock"  # inside the locked directory; it stays there (its content: the last holder's pid)


class DirLock:
    """One writer per directory: an exclusive ``flock`` on ``DIR/.lock``, held from ``acquire`` to ``release``.

    ``with DirLock(run_dir):`` creates the directory if need be and takes the lock, or raises a
    ``TfvaeError``, ``FLAG DIR is in use by another COMMAND (pid N); wait for it, or pass another FLAG``,
    having written nothing. The holder writes its pid into the file. The kernel drops the lock with the
    last open file description, so a process that dies (``kill -9`` too) leaves no stale lock; the file
    itself stays. One process opening the file twice holds two descriptions: a second ``DirLock`` on the
    same directory in the same process is refused too, and sequential ones work.

    Where ``fcntl`` does not exist (Windows) it locks nothing; on a file system without ``flock`` it says
    so once and goes on unlocked.
    """

    def __init__(self, directory, flag="--run_dir", command="tfvae train"):
        self.directory, self.flag, self.command = directory, flag, command
        self._fd = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()

    def acquire(self):
        os.makedirs(self.directory, exist_ok=True)
        if fcntl is None:
            return
        # No O_TRUNC: a refused process must not touch the holder's file.
        fd = os.open(os.path.join(self.directory, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            busy = e.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
            holder = _holder_pid(fd) if busy else None
            os.close(fd)
            if not busy:
                print(f"tfvae: note: cannot lock {self.directory} ({e.strerror}); nothing stops another "
                      f"{self.command} from writing into it too", file=sys.stderr, flush=True)
                return
            raise TfvaeError(f"{self.flag} {self.directory} is in use by another {self.command} (pid {holder}); "
                             f"wait for it, or pass another {self.flag}") from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self):
        if self._fd is not None:
            os.close(self._fd)  # closing the (only) description drops the lock
            self._fd = None


def _holder_pid(fd, wait=1.0):
    """The pid the holder wrote (it writes it just after locking: wait a moment for it), or ``unknown``."""
    deadline = time.monotonic() + wait
    while True:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text.isdigit() or time.monotonic() > deadline:
            return text if text.isdigit() else "unknown"
        time.sleep(0.02)


def _clear(run_dir):
    """Removes everything in ``run_dir`` but its lock file (held by this process: ``--overwrite``)."""
    for name in os.listdir(run_dir):
        path = os.path.join(run_dir, name)
        if name == LOCK_NAME:
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def _resume_signature(cfg):
    return {
        "model": VAEConfig.from_dict(cfg["model"]).to_dict(),
        "data": DataConfig.from_dict(cfg["data"]).to_dict(),
        "train": {k: cfg["train"].get(k) for k in _RESUME_KEYS},
    }


def default_run_dir(dataset, model_name="vae"):
    """``runs/<dataset>-<model>-<YYYYmmdd-HHMMSS>``."""
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", dataset).strip("_") or "data"
    return os.path.join("runs", f"{slug}-{model_name}-{datetime.datetime.now():%Y%m%d-%H%M%S}")


def read_history(run_dir):
    """A run's ``history.json`` (``[]`` if absent); corrupt or wrongly shaped: a one-line ``TfvaeError``."""
    path = os.path.join(run_dir, "history.json")
    if not os.path.isfile(path):
        return []
    fix = ("restore it, delete it to resume without the earlier epochs' curves, or --overwrite to start the run "
           "again")
    history = io.read_json(path, expect=list, fix=fix)
    for h in history:
        if not (isinstance(h, dict) and isinstance(h.get("epoch"), int) and isinstance(h.get("val", {}), dict)):
            raise TfvaeError(f"{path} has the wrong shape (every entry needs an integer 'epoch' and a 'val' "
                             f"object); {fix}")
    return history


def prepare_run_dir(run_dir, config, overwrite):
    """Creates or checks the run directory (its lock, if any, already held); returns True when resuming."""
    cfg_path = os.path.join(run_dir, "config.json")
    if os.path.isfile(cfg_path):
        fix = "restore it, use another --run_dir, or --overwrite to replace the run"
        try:
            old = io.read_json(cfg_path, expect=dict, fix=fix)
        except TfvaeError:
            if not overwrite:
                raise
            old = None
        if old is not None and _resume_signature(old) == _resume_signature(config):
            read_history(run_dir)  # a corrupt history fails here, before anything is written
            return True
        if not overwrite:
            raise TfvaeError(
                f"run directory {run_dir} holds a run with a different config; "
                "use another --run_dir, or --overwrite to replace it"
            )
        _clear(run_dir)
    elif os.path.isdir(run_dir) and set(os.listdir(run_dir)) - {LOCK_NAME} and not overwrite:
        raise TfvaeError(f"run directory {run_dir} exists and is not a tfvae run; use another --run_dir or --overwrite")
    os.makedirs(run_dir, exist_ok=True)
    return False


def compatible_model_config(base, overrides):
    """Checks explicit flags against a loaded model config; returns the merged config."""
    merged = dict(base)
    for k, v in overrides.items():
        if v is None:
            continue
        if k in ("beta", "objective", "k"):  # training choices, not architecture
            merged[k] = v
            continue
        have = base.get(k)
        want = list(v) if isinstance(v, (tuple, list)) else v
        if have != want:
            raise TfvaeError(
                f"--{k} {','.join(map(str, want)) if isinstance(want, list) else want} contradicts the loaded "
                f"weights ({k}={have}); drop the flag (architecture comes from --load_weight_dir)"
            )
    return merged
