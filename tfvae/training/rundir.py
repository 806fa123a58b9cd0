"""Run directories: their default name, whether a run resumes, and its history."""

import datetime
import os
import re
import shutil

from tfvae import io
from tfvae.config import DataConfig, VAEConfig
from tfvae.errors import TfvaeError

# What must match for a run directory to be resumed (not the epoch count).
_RESUME_KEYS = ("batch", "learning_rate", "seed", "load_weight_dir", "lr_schedule", "kl_warmup_epochs")  # not epoch, logging or speed knobs


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
    """Creates or checks the run directory; returns True when resuming."""
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
        shutil.rmtree(run_dir)
    elif os.path.isdir(run_dir) and os.listdir(run_dir) and not overwrite:
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
