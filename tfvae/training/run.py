"""The run loop: ``run_training(model_overrides, data_config, train_config)`` is what ``tfvae train`` calls.

A run directory holds::

    config.json         model + data + training settings (rebuilds everything)
    checkpoints/        epoch-NNNN (two newest, with optimizer state) and best/
    logs/train, logs/val  tf.summary event files (TensorBoard)
    images/             fixed-batch reconstructions and fixed-noise samples per epoch
    history.json        per epoch: train and val metrics, epoch_seconds

Running the same command on the same run directory resumes after the last
completed epoch. A run directory has one writer: the run holds ``RUN_DIR/.lock``
(``rundir.DirLock``) from before it reads ``config.json`` to its end.
"""

import contextlib
import dataclasses
import math
import os
import shutil
import sys
import tempfile

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras

from tfvae import checkpoints, data, io
from tfvae.models.config import VAEConfig
from tfvae.models import kinds
from tfvae.engine import distribute
from tfvae.errors import TfvaeError
from tfvae.training import callbacks as cb
from tfvae.training.plan import build_for_training, compile_model
from tfvae.training.rundir import DirLock, compatible_model_config, default_run_dir, prepare_run_dir, read_history


def run_training(model_overrides, data_config, train_config, verbose=None):
    """Trains a model as ``tfvae train`` does.

    Args:
        model_overrides: dict of ``VAEConfig`` fields given by the user
            (``latent_dim``, ``hidden``, ``beta``, ...); ``None`` means default.
        data_config: a ``config.DataConfig``.
        train_config: a ``config.TrainConfig``.
        verbose: Keras verbosity (default: bar on a terminal, a line per epoch otherwise).

    Under ``train_config.strategy`` ``mirrored`` or ``multiworker`` the model
    and optimizer live in ``strategy.scope()``; in a multi-worker run only the
    chief writes the run directory, the other workers write into a temporary
    directory that is deleted at the end (their returned ``run_dir`` no longer
    exists), and they start from the chief's weights, optimizer and epoch.

    Returns:
        ``(model, run_dir, history)``.
    """
    tc = train_config
    # First: multi-worker collectives must be configured before TensorFlow runs anything.
    strategy = distribute.make_strategy(tc.strategy)
    chief = distribute.is_chief(strategy)
    if chief:
        with contextlib.ExitStack() as held:  # the run directory's lock, which _run takes, until the run ends
            return _run(model_overrides, data_config, tc, verbose, strategy, chief, held)
    resolver = strategy.cluster_resolver
    scratch = tempfile.mkdtemp(prefix=f"tfvae-{resolver.task_type}{resolver.task_id}-")
    print(f"tfvae: {resolver.task_type} {resolver.task_id} is not the chief: its files go to {scratch} "
          "(deleted at the end)", flush=True)
    tc = dataclasses.replace(
        tc, run_dir=os.path.join(scratch, "run"), log_dir=None, overwrite=True,
        save_weight_dir=os.path.join(scratch, "weights") if tc.save_weight_dir else None)
    try:
        return _run(model_overrides, data_config, tc, verbose, strategy, chief)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _requested_model(model_overrides, tc):
    """The flags' model fields, merged into the config of the weights started from (checked first).

    Returns:
        ``(model dict, checkpoint started from or None)``.
    """
    if not tc.load_weight_dir:
        # Unset fields take VAEConfig's defaults once the data's shape is known.
        return {k: v for k, v in model_overrides.items() if v is not None}, None
    source = checkpoints.resolve(tc.load_weight_dir)
    base = VAEConfig.from_dict(checkpoints.read_config(source)["model"]).to_dict()
    return compatible_model_config(base, model_overrides), source


def _model_config(model_dict, source, dataset, info):
    """The model's config: the requested fields fitted to the data's shape and classes."""
    if source and tuple(model_dict["input_shape"]) != info.input_shape:
        raise TfvaeError(
            f"weights in {source} expect images of shape {tuple(model_dict['input_shape'])}, "
            f"dataset {dataset} has {info.input_shape}; pick matching data or other weights")
    model_dict = {**model_dict, "input_shape": list(info.input_shape)}
    kind = kinds.get(model_dict.get("model", "vae"))
    if kind.conditional and not source:
        model_dict["num_classes"] = info.num_classes
    model_config = VAEConfig.from_dict(model_dict)
    if model_config.conditional and info.num_classes > model_config.num_classes:
        raise TfvaeError(f"dataset {dataset} has {info.num_classes} classes, the loaded cvae "
                         f"{model_config.num_classes}; use matching data")
    return model_config


def _restore(model, run_dir, resuming, source):
    """Loads the newest loadable checkpoint of a resumed run, or the weights started from.

    Returns:
        ``(initial_epoch, history, best_val)``.
    """
    if resuming:
        def try_load(d):
            checkpoints.read_weights(model, d)
            checkpoints.load_optimizer(model.optimizer, d)

        d, state = checkpoints.latest_loadable(os.path.join(run_dir, "checkpoints"), try_load)
        if d:
            initial_epoch = int(state["epoch"])
            history = [h for h in read_history(run_dir) if h["epoch"] <= initial_epoch]
            vals = [h.get("val", {}).get("loss", math.inf) for h in history]
            print(f"tfvae: resuming {run_dir} after epoch {initial_epoch} (checkpoint {d})", flush=True)
            return initial_epoch, history, min(vals) if vals else math.inf
        print(f"tfvae: {run_dir} has no usable checkpoint; starting from epoch 1", flush=True)
    elif source:
        checkpoints.load_weights(model, source)
        print(f"tfvae: starting from weights in {source}", flush=True)
    return 0, [], math.inf


def _callbacks(model, config, tc, run_dir, history, best_val, val_split, binarize):
    """The run's callbacks; the last-but-one (or last) is the ``RunRecorder`` that keeps the history."""
    fixed, fixed_labels = next(iter(data.make_dataset(val_split.take(10), 10, seed=data.EVAL_BINARIZE_SEED,
                                                      binarize=binarize, fixed_draw=True)))
    noise = tf.random.stateless_normal([64, model.config.latent_dim], seed=[tc.seed, 99])
    noise_labels = tf.range(64) % max(1, model.config.num_classes)
    log_dir = tc.log_dir or os.path.join(run_dir, "logs")
    callbacks = [
        cb.EpochTimer(),
        cb.TensorBoardWriter(log_dir, fixed, noise, tc.log_every,
                             image_dir=os.path.join(run_dir, "images") if tc.images else None,
                             fixed_labels=fixed_labels, noise_labels=noise_labels),
        cb.RunRecorder(run_dir, {k: config[k] for k in ("model", "data")}, history, best_val, tc.save_weight_dir),
    ]
    if tc.kl_warmup_epochs:
        callbacks.insert(0, cb.KLWarmup(model.config.beta, tc.kl_warmup_epochs))
    if tc.minutes:
        cosine_lr = tc.learning_rate if tc.lr_schedule == "cosine" else None
        spent = sum(v for h in history for v in (h.get("epoch_seconds"), h.get("val_seconds"))  # a resumed run's
                    if isinstance(v, (int, float)) and math.isfinite(v))
        # after RunRecorder: the last epoch is saved first
        callbacks.append(cb.TimeBudget(tc.minutes, cosine_lr, tc.epoch, spent=spent))
    return callbacks, log_dir


def _run(model_overrides, data_config, tc, verbose, strategy, chief, held=None):
    model_dict, source = _requested_model(model_overrides, tc)
    train_split, val_split, info = data.load_splits(data_config)
    model_config = _model_config(model_dict, source, data_config.dataset, info)
    run_dir = tc.run_dir or default_run_dir(data_config.dataset, model_config.model)
    config = {"model": model_config.to_dict(), "data": data_config.to_dict(),
              "train": {**tc.to_dict(), "run_dir": None, "overwrite": None}, "info": dataclasses.asdict(info),
              "tfvae_version": __import__("tfvae").__version__}
    if held is not None:  # the chief: one writer per run directory (a second one stops here, having written nothing)
        held.enter_context(DirLock(run_dir, "--run_dir", "tfvae train"))
    resuming = prepare_run_dir(run_dir, config, tc.overwrite)
    io.write_json(os.path.join(run_dir, "config.json"), config)
    print(f"tfvae: run directory {os.path.abspath(run_dir)}", flush=True)

    keras.utils.set_random_seed(tc.seed)
    if tc.deterministic:
        tf.config.experimental.enable_op_determinism()
    # Model and optimizer are created in the strategy's scope. The restore below
    # runs outside it: Keras' load_weights creates temporary variables, which in
    # a multi-worker scope would be collective ops run by the chief alone. The
    # values it assigns reach every replica's copy of the (mirrored) variables.
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_for_training(model_config, tc)
        feed = compile_model(model, tc, info.n_train)
    initial_epoch, history, best_val = _restore(model, run_dir, resuming, source)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        # Every worker continues from the chief's state (weights, optimizer, epoch); best_val too,
        # so that every worker saves (into its scratch dir) when the chief does.
        with strategy.scope():
            epoch, best_val = distribute.sync_from_chief(
                strategy, list(model.variables) + list(model.optimizer.variables), [initial_epoch, best_val])
        initial_epoch = int(epoch)
    if strategy is not None:
        replicas = strategy.num_replicas_in_sync
        print(f"tfvae: strategy {tc.strategy}: {replicas} replicas, global batch {tc.batch} "
              f"(about {tc.batch / replicas:g} per replica), one step per call"
              + ("" if chief else "; this worker is not the chief"), flush=True)
    if initial_epoch >= tc.epoch:
        print(f"tfvae: run already has {initial_epoch} epochs (--epoch {tc.epoch}); nothing to do", flush=True)
        return model, run_dir, history

    train_ds = data.make_dataset(train_split, tc.batch, shuffle=True, seed=tc.seed + initial_epoch,
                                 binarize=data_config.binarize, group=feed.steps_per_call, repeat=feed.persistent,
                                 augment=data_config.augment)
    val_ds = data.make_dataset(val_split, tc.batch, seed=data.EVAL_BINARIZE_SEED,  # stacks: ~35 % faster
                               binarize=data_config.binarize, fixed_draw=True, group=feed.steps_per_call)
    callbacks, log_dir = _callbacks(model, config, tc, run_dir, history, best_val, val_split, data_config.binarize)
    recorder = next(c for c in callbacks if isinstance(c, cb.RunRecorder))
    print(f"tfvae: training on {info.n_train} images of {info.name} {info.input_shape}, validating on "
          f"{info.n_val} ({info.val_source}); epochs {initial_epoch + 1}..{tc.epoch}; logs in {log_dir}", flush=True)
    model.fit(train_ds, validation_data=val_ds, epochs=tc.epoch, initial_epoch=initial_epoch,
              steps_per_epoch=feed.elements_per_epoch if feed.persistent else None, callbacks=callbacks,
              verbose=(1 if sys.stdout.isatty() else 2) if verbose is None else verbose, shuffle=False)
    history = recorder.history
    if tc.images:
        cb.finish_images(run_dir, history, f"{info.name} {model_config.model} z={model_config.latent_dim}")
    last = history[-1]
    print(f"tfvae: done: epoch {last['epoch']} val loss {last['val'].get('loss', float('nan')):.2f} nats; "
          f"checkpoints in {os.path.join(run_dir, 'checkpoints')}", flush=True)
    return model, run_dir, history
