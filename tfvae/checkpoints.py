"""Checkpoint directories: save, find, load.

A checkpoint is a self-contained directory::

    model.weights.h5   Keras weights
    config.json        {"model": ..., "data": ...}: enough to rebuild the model
    state.json         {"epoch": E, "val_loss": ...}
    optimizer.npz      optimizer variables (for exact resume; optional)

A run directory keeps ``checkpoints/epoch-NNNN`` (the two newest) and
``checkpoints/best``. ``--load_weight_dir`` accepts a checkpoint directory,
a run directory (its best checkpoint) or the name of a shipped set
(``installed_root``; the lookup order is ``resolve``'s).
"""

import glob
import os
import warnings

import numpy as np

from tfvae import io
from tfvae.models import kinds
from tfvae.errors import TfvaeError

WEIGHTS_FILE = "model.weights.h5"
KEEP_LATEST = 2


# ------------------------------------------------------------ shipped weights
# ``weights/`` sits at the top of the repository and is installed with the package as ``tfvae/weights/``
# (setup.cfg maps it), so a name such as ``better_weight`` resolves after ``pip install`` from any directory.
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))  # tfvae/


def installed_root():
    """The shipped weights: ``tfvae/weights`` of an installed package, else the checkout's ``weights/``.

    Returns None when neither exists.
    """
    installed = os.path.join(PACKAGE_DIR, "weights")
    if os.path.isdir(installed):
        return installed
    checkout = os.path.dirname(PACKAGE_DIR)
    if os.path.isfile(os.path.join(checkout, "setup.cfg")) and os.path.isdir(os.path.join(checkout, "weights")):
        return os.path.join(checkout, "weights")
    return None


def writable_home(home, what):
    """Where an output that defaults to a weights directory goes.

    The weights installed inside the package are read-only data: ``tfvae eval``
    and ``tfvae viz`` of a shipped name write into the current directory
    instead (``what`` + ``-NAME``), never into site-packages.
    """
    shipped = os.path.join(PACKAGE_DIR, "weights")
    if os.path.commonpath([os.path.realpath(home), os.path.realpath(shipped)]) == os.path.realpath(shipped) \
            and os.path.isdir(shipped):
        return os.path.join(os.getcwd(), f"{what}-{os.path.basename(os.path.normpath(home))}")
    return None


def search_roots():
    """Where names are looked up, in order: ``./weights``, then the installed weights (deduplicated)."""
    roots = []
    for root in (os.path.join(os.getcwd(), "weights"), installed_root()):
        if root and os.path.isdir(root) and os.path.realpath(root) not in [os.path.realpath(r) for r in roots]:
            roots.append(root)
    return roots


def names():
    """Names of the installed weights sets (directories holding a config.json), sorted."""
    root = installed_root()
    if not root:
        return []
    return sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "config.json")))


# --------------------------------------------------------- checkpoints
def save(directory, model, config, state, optimizer=None):
    """Writes a checkpoint directory atomically (replacing an older one)."""
    with io.atomic_dir(directory) as tmp:
        _model_only(model).save_weights(os.path.join(tmp, WEIGHTS_FILE))
        io.write_json(os.path.join(tmp, "config.json"), config)
        io.write_json(os.path.join(tmp, "state.json"), state)
        if optimizer is not None:
            values = {f"v{i:04d}": np.asarray(v.numpy()) for i, v in enumerate(optimizer.variables)}
            np.savez(os.path.join(tmp, "optimizer.npz"), **values)
    return directory


def _model_only(model):
    """The model without its optimizer (Keras would store Adam's slots in the weights file)."""
    if getattr(model, "optimizer", None) is None:
        return model
    clone = model.__class__.from_config(model.get_config())
    clone.build_all()
    clone.set_weights(model.get_weights())
    return clone


def save_epoch(run_checkpoints, epoch, model, config, state, optimizer):
    """Saves ``epoch-NNNN`` and prunes all but the newest ``KEEP_LATEST``."""
    path = save(os.path.join(run_checkpoints, f"epoch-{epoch:04d}"), model, config, state, optimizer)
    for old in epoch_dirs(run_checkpoints)[:-KEEP_LATEST]:
        import shutil

        shutil.rmtree(old, ignore_errors=True)
    return path


def epoch_dirs(run_checkpoints):
    """Epoch checkpoint directories, oldest first."""
    return sorted(d for d in glob.glob(os.path.join(run_checkpoints, "epoch-[0-9]*")) if os.path.isdir(d))


def is_checkpoint(directory):
    return os.path.isfile(os.path.join(directory, WEIGHTS_FILE)) and os.path.isfile(
        os.path.join(directory, "config.json")
    )


def _in_run_dir(run_dir):
    """A run directory's ``checkpoints/best``, else its newest epoch checkpoint; None if neither."""
    ckpts = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(ckpts):
        return None
    best = os.path.join(ckpts, "best")
    if is_checkpoint(best):
        return best
    for d in reversed(epoch_dirs(ckpts)):
        if is_checkpoint(d):
            return d
    return None


def resolve(path_or_name):
    """Finds the checkpoint directory that ``--load_weight_dir`` names.

    Looked up in this order: the path itself as a checkpoint
    directory, the path as a run directory, ``./weights/NAME``, then the
    weights installed with the package.

    Args:
        path_or_name: a checkpoint directory, a run directory, or a weights name.

    Returns:
        path of a checkpoint directory.
    """
    if os.path.isfile(path_or_name):
        raise TfvaeError(f"--load_weight_dir {path_or_name} is a file; give a weights directory (with "
                         f"{WEIGHTS_FILE} and config.json), a run directory, or a name from 'tfvae weights'")
    candidates = [path_or_name]
    if not os.path.isabs(path_or_name):
        candidates += [os.path.join(root, path_or_name) for root in search_roots()]
    for c in candidates:
        if is_checkpoint(c):
            return c
        found = _in_run_dir(c)
        if found:
            return found
    shipped = ", ".join(names()) or "none installed"
    raise TfvaeError(
        f"--load_weight_dir {path_or_name!r}: no weights found (expected a directory with {WEIGHTS_FILE} and "
        f"config.json, a run directory with checkpoints/, or a shipped name: {shipped}; see 'tfvae weights')"
    )


def read_config(directory):
    """A checkpoint's ``config.json``; a corrupt one is a one-line ``TfvaeError``."""
    config = io.read_json(os.path.join(directory, "config.json"), expect=dict, required=("model",),
                          fix=f"restore it, or re-save the weights in {directory}")
    if not isinstance(config["model"], dict):
        raise TfvaeError(f"{os.path.join(directory, 'config.json')} has the wrong shape ('model' is not an object); "
                         f"restore it, or re-save the weights in {directory}")
    return config


def read_state(directory):
    p = os.path.join(directory, "state.json")
    return io.read_json(p, expect=dict, fix="restore it, or delete it (it only records the epoch and loss)") \
        if os.path.isfile(p) else {}


def read_weights(model, directory):
    """``model.load_weights`` of a checkpoint, quiet about the optimizer it does not store."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.load_weights(os.path.join(directory, WEIGHTS_FILE))


def load_weights(model, directory):
    """Loads a checkpoint's weights into a built model; clear error if incompatible."""
    try:
        read_weights(model, directory)
    except Exception as e:  # h5py / keras raise several types
        raise TfvaeError(
            f"weights in {directory} do not fit this model ({str(e).splitlines()[0][:200]}); "
            "load them with the architecture in their config.json"
        ) from None


def load_optimizer(optimizer, directory):
    """Restores optimizer variables saved by ``save``; returns False if absent or mismatched."""
    p = os.path.join(directory, "optimizer.npz")
    if not os.path.isfile(p):
        return False
    with np.load(p) as f:
        values = [f[k] for k in sorted(f.files)]
    if len(values) != len(optimizer.variables) or any(
        tuple(v.shape) != tuple(a.shape) for v, a in zip(optimizer.variables, values)
    ):
        warnings.warn(f"optimizer state in {directory} does not match; starting the optimizer fresh")
        return False
    for v, a in zip(optimizer.variables, values):
        v.assign(a)
    return True


def latest_loadable(run_checkpoints, try_load):
    """Newest epoch checkpoint for which ``try_load(dir)`` succeeds.

    A corrupt or truncated newest checkpoint gets a warning and the previous
    one is used.

    Returns:
        ``(directory, state)`` or ``(None, None)`` when none is usable.
    """
    for d in reversed(epoch_dirs(run_checkpoints)):
        try:
            try_load(d)
            state = read_state(d)
            int(state["epoch"])  # a state.json without the epoch is as unusable as a corrupt one
            return d, state
        except Exception as e:  # corrupt file: fall back
            print(f"tfvae: warning: checkpoint {d} is unreadable ({str(e).splitlines()[0][:120]}); "
                  "falling back to the previous one")
    return None, None


def load_model(path_or_name):
    """Rebuilds a model from ``--load_weight_dir`` and loads its weights.

    Returns:
        ``(model, config, checkpoint_dir, home_dir)``: ``home_dir`` is the run
        directory for a run's checkpoint, else the checkpoint directory itself
        (where ``metrics.json`` goes by default).
    """
    from tfvae import models

    ckpt = resolve(path_or_name)
    config = read_config(ckpt)
    kind = config["model"].get("model", "vae")
    if kind not in kinds.names():
        raise TfvaeError(f"{ckpt} holds a --model {kind} model, a kind this tfvae does not know (it knows "
                         f"{', '.join(kinds.names())}); install the package that registers it (entry-point group "
                         f"{kinds.ENTRY_POINT_GROUP})")
    try:
        model = models.build_model(config["model"])
    except (KeyError, TypeError, ValueError) as e:
        raise TfvaeError(f"config.json in {ckpt} is not a tfvae model config ({str(e)[:200]}); restore it, or "
                         "re-save the weights with the tfvae that trained them") from None
    load_weights(model, ckpt)
    parent = os.path.dirname(os.path.abspath(ckpt))
    home = os.path.dirname(parent) if os.path.basename(parent) == "checkpoints" else ckpt
    return model, config, ckpt, home
