"""Training runs: a run directory, checkpoints, TensorBoard, history, resume.

``run_training(model_config, data_config, train_config)`` is what
``tfvae train`` calls. A run directory holds::

    config.json         model + data + training settings (rebuilds everything)
    checkpoints/        epoch-NNNN (two newest, with optimizer state) and best/
    logs/train, logs/val  tf.summary event files (TensorBoard)
    images/             fixed-batch reconstructions and fixed-noise samples per epoch
    history.json        per epoch: train and val metrics, epoch_seconds

Running the same command on the same run directory resumes after the last
completed epoch.
"""

import contextlib
import dataclasses
import datetime
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from typing import Optional

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras

from tfvae import checkpoints, data, io, models, optim, viz
from tfvae.errors import TfvaeError

METRICS = ("loss", "reconstruction_loss", "kl_loss", "rmse")
LR_SCHEDULES = ("constant", "cosine")
XLA_MODES = ("auto", "on", "off")
STRATEGIES = ("default", "mirrored", "multiworker")


@dataclasses.dataclass
class TrainConfig:
    """Optimisation and bookkeeping settings of a run.

    Attributes:
        epoch: total number of epochs (a resumed run continues up to it).
        batch: examples per step.
        learning_rate: Adam learning rate.
        seed: seeds weights, sampling, shuffling and dynamic binarization.
        log_every: write batch-level TensorBoard scalars every N steps.
        run_dir: where everything goes (default ``runs/<dataset>-vae-<time>``).
        log_dir: TensorBoard root (default ``<run_dir>/logs``).
        save_weight_dir: also write the best weights there (a weights dir).
        load_weight_dir: start from these weights (fine-tuning).
        overwrite: replace an existing run directory with another config.
        images: write per-epoch PNGs into ``<run_dir>/images``.
        steps_per_execution: training steps run per call into the TF graph
            (fewer Python round trips; same maths).
        lr_schedule: ``constant``, or ``cosine`` (decays to 1 % of
            ``learning_rate`` over all ``epoch`` epochs, or over the time
            budget when ``minutes`` is set).
        kl_warmup_epochs: raise the KL weight linearly from 0 over N epochs.
        deterministic: TF op determinism: the same seed gives identical runs.
        mixed_precision: layers compute in bfloat16 (variables and losses float32).
        minutes: wall-clock budget of this invocation; training stops when the
            next epoch would not fit in it, after at least one epoch (0 = no
            budget; ``epoch`` stays the upper bound).
        strategy: ``default`` (one device, as always), ``mirrored`` (every
            local GPU, else every logical CPU device, ``tf.distribute.MirroredStrategy``)
            or ``multiworker`` (hosts from ``TF_CONFIG``,
            ``tf.distribute.MultiWorkerMirroredStrategy``). ``batch`` is the
            global batch, split over the replicas.
        xla: ``on``: compile each step (loss, gradients, Adam) with XLA, the
            random draws staying outside (``VAE.compile(xla_step=True)``);
            ``off``: TF graphs with oneDNN kernels; ``auto``: ``on`` where it
            measured faster (see ``use_xla``).
    """

    epoch: int = 100
    batch: int = 100
    learning_rate: float = 1e-3
    seed: int = 0
    log_every: int = 100
    run_dir: Optional[str] = None
    log_dir: Optional[str] = None
    save_weight_dir: Optional[str] = None
    load_weight_dir: Optional[str] = None
    overwrite: bool = False
    images: bool = True
    steps_per_execution: int = 50
    lr_schedule: str = "constant"
    kl_warmup_epochs: int = 0
    deterministic: bool = False
    strategy: str = "default"
    mixed_precision: bool = False
    minutes: float = 0.0
    xla: str = "auto"

    def __post_init__(self):
        if self.xla not in XLA_MODES:
            raise TfvaeError(f"--xla must be one of {', '.join(XLA_MODES)}, got {self.xla!r}")
        if self.strategy not in STRATEGIES:
            raise TfvaeError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if not (math.isfinite(float(self.minutes)) and float(self.minutes) >= 0):
            raise TfvaeError(f"--minutes must be a number >= 0, got {self.minutes}")
        if int(self.kl_warmup_epochs) < 0:
            raise TfvaeError(f"--kl_warmup_epochs must be >= 0, got {self.kl_warmup_epochs}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise TfvaeError(f"--lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        if int(self.epoch) < 1:
            raise TfvaeError(f"--epoch must be a positive integer, got {self.epoch}")
        if int(self.batch) < 1:
            raise TfvaeError(f"--batch must be a positive integer, got {self.batch}")
        if not (math.isfinite(float(self.learning_rate)) and float(self.learning_rate) > 0):
            raise TfvaeError(f"--learning_rate must be a number > 0, got {self.learning_rate}")
        if int(self.steps_per_execution) < 1:
            raise TfvaeError(f"--steps_per_execution must be a positive integer, got {self.steps_per_execution}")
        if int(self.log_every) < 1:
            raise TfvaeError(f"--log_every must be a positive integer, got {self.log_every}")

    def to_dict(self):
        return dataclasses.asdict(self)


# What must match for a run directory to be resumed (not the epoch count).
_RESUME_KEYS = ("batch", "learning_rate", "seed", "load_weight_dir", "lr_schedule", "kl_warmup_epochs")  # not epoch, logging or speed knobs


def _resume_signature(cfg):
    return {
        "model": models.VAEConfig.from_dict(cfg["model"]).to_dict(),
        "data": data.DataConfig.from_dict(cfg["data"]).to_dict(),
        "train": {k: cfg["train"].get(k) for k in _RESUME_KEYS},
    }


def default_run_dir(dataset, model_name="vae"):
    """``runs/<dataset>-<model>-<YYYYmmdd-HHMMSS>``."""
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", dataset).strip("_") or "data"
    return os.path.join("runs", f"{slug}-{model_name}-{datetime.datetime.now():%Y%m%d-%H%M%S}")


# ------------------------------------------------------------ distribution
_STRATEGY_CACHE = {}
TF_CONFIG_EXAMPLE = ('{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}')


def parse_tf_config(text):
    """Checks the ``TF_CONFIG`` JSON that ``--strategy multiworker`` needs; returns it as a dict."""
    fix = f"set TF_CONFIG on every host, e.g. TF_CONFIG='{TF_CONFIG_EXAMPLE}' (index 1 on the second host)"
    if not text or not text.strip():
        raise TfvaeError(f"--strategy multiworker needs the TF_CONFIG environment variable; {fix}")
    try:
        cfg = json.loads(text)
    except ValueError as e:
        raise TfvaeError(f"TF_CONFIG is not valid JSON ({e}); {fix}") from None
    cluster = cfg.get("cluster") if isinstance(cfg, dict) else None
    task = cfg.get("task") if isinstance(cfg, dict) else None
    if not isinstance(cluster, dict) or not cluster:
        raise TfvaeError(f"TF_CONFIG has no \"cluster\" with the workers' host:port addresses; {fix}")
    for job, addresses in cluster.items():
        if job not in ("chief", "worker"):
            raise TfvaeError(f"TF_CONFIG cluster job {job!r}: multiworker training uses only \"worker\" "
                             f"(and optionally one \"chief\"); {fix}")
        if (not isinstance(addresses, list) or not addresses
                or not all(isinstance(a, str) and re.fullmatch(r"\S+:\d+", a) for a in addresses)):
            raise TfvaeError(f"TF_CONFIG cluster {job!r} must be a list of \"host:port\" strings, got {addresses!r}")
    if len(cluster.get("chief", [])) > 1:
        raise TfvaeError("TF_CONFIG may name one chief at most")
    if not isinstance(task, dict) or task.get("type") not in cluster or not isinstance(task.get("index"), int):
        raise TfvaeError(f"TF_CONFIG needs \"task\": {{\"type\": one of {sorted(cluster)}, \"index\": N}} "
                         f"saying which host this is, got {task!r}; {fix}")
    if not 0 <= task["index"] < len(cluster[task["type"]]):
        raise TfvaeError(f"TF_CONFIG task index {task['index']} is out of range: cluster {task['type']!r} has "
                         f"{len(cluster[task['type']])} entries")
    return cfg


def make_strategy(name):
    """The ``tf.distribute`` strategy of ``--strategy``; ``None`` for ``default``.

    ``mirrored``: every local GPU, else every logical CPU device (one replica
    on an ordinary CPU machine). ``multiworker``: the hosts in ``TF_CONFIG``
    (checked first, with a clear error). Create it before any other
    TensorFlow work: multi-worker collectives are configured at start-up.
    One instance per process is kept and reused.
    """
    if name not in STRATEGIES:
        raise TfvaeError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")
    if name == "default":
        return None
    if name == "multiworker":
        parse_tf_config(os.environ.get("TF_CONFIG"))
    if name not in _STRATEGY_CACHE:
        if name == "mirrored":
            devices = [d.name for d in tf.config.list_logical_devices("GPU")]
            devices = devices or [d.name for d in tf.config.list_logical_devices("CPU")]
            _STRATEGY_CACHE[name] = tf.distribute.MirroredStrategy(devices)
        else:
            _STRATEGY_CACHE[name] = tf.distribute.MultiWorkerMirroredStrategy()
    return _STRATEGY_CACHE[name]


def is_chief(strategy):
    """Whether this process writes the run's files (always, but for non-chief multi-worker tasks)."""
    resolver = getattr(strategy, "cluster_resolver", None) if strategy is not None else None
    if resolver is None or resolver.task_type is None:
        return True
    if resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict()


def sync_from_chief(strategy, variables, numbers=()):
    """Multi-worker: gives every worker the chief's values of ``variables``; returns the chief's ``numbers``.

    One all-reduce in which only the chief's first replica (global replica 0)
    contributes non-zeros. Used after the chief restored a checkpoint that the
    other hosts need not see (no shared file system needed).
    """
    parts = [tf.reshape(tf.cast(tf.convert_to_tensor(v), tf.float64), [-1]) for v in variables]
    flat = tf.concat(parts + [tf.constant(list(numbers), tf.float64, shape=[len(numbers)])], axis=0)
    per_replica = strategy.experimental_distribute_values_from_function(
        lambda ctx: flat if ctx.replica_id_in_sync_group == 0 else tf.zeros_like(flat))
    total = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
    start = 0
    for v, part in zip(variables, parts):
        n = int(part.shape[0])
        v.assign(tf.cast(tf.reshape(total[start : start + n], v.shape), v.dtype))
        start += n
    return [float(a) for a in total[start:].numpy()]


# --------------------------------------------------------------- callbacks
class EpochTimer(keras.callbacks.Callback):
    """Adds ``epoch_seconds`` (training only) and ``val_seconds`` to the epoch logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._tval = None

    def on_test_begin(self, logs=None):
        self._tval = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        tval = self._tval or now
        logs["epoch_seconds"] = tval - self._t0
        logs["val_seconds"] = now - tval


class TensorBoardWriter(keras.callbacks.Callback):
    """Writes ``tf.summary`` events into ``train/`` and ``val/``.

    Per epoch, both directories get ``epoch_loss``, ``epoch_reconstruction_loss``,
    ``epoch_kl_loss`` and ``epoch_rmse``; ``train/`` gets ``batch_*`` scalars every
    ``log_every`` steps; ``val/`` gets a fixed validation batch above its
    reconstructions and prior samples from fixed noise.

    Args:
        log_dir: TensorBoard root.
        fixed_batch: float images ``[n, H, W, C]`` shown every epoch.
        fixed_noise: latent draws ``[m, latent_dim]`` decoded every epoch.
        log_every: batch-scalar interval (steps).
        image_dir: if set, also save the two pictures as PNGs there.
    """

    def __init__(self, log_dir, fixed_batch, fixed_noise, log_every=100, image_dir=None,
                 fixed_labels=None, noise_labels=None):
        super().__init__()
        self.fixed_labels = fixed_labels
        self.noise_labels = noise_labels
        self.train_writer = tf.summary.create_file_writer(os.path.join(log_dir, "train"))
        self.val_writer = tf.summary.create_file_writer(os.path.join(log_dir, "val"))
        self.fixed_batch = fixed_batch
        self.fixed_noise = fixed_noise
        self.log_every = int(log_every)
        self.image_dir = image_dir

    def on_train_begin(self, logs=None):
        self._last_logged = int(self.model.optimizer.iterations.numpy()) // self.log_every

    def on_train_batch_end(self, batch, logs=None):
        # With steps_per_execution > 1 this runs once per execution: log when a
        # multiple of log_every was passed, at the step actually reached.
        step = int(self.model.optimizer.iterations.numpy())
        if step // self.log_every > self._last_logged and logs:
            self._last_logged = step // self.log_every
            self._step = step
            with self.train_writer.as_default(step=step):
                for k in METRICS:
                    if k in logs:
                        v = float(logs[k])
                        if not math.isfinite(v):
                            raise TfvaeError(
                                f"non-finite {k} ({v}) at step {self._step}, epoch {self._epoch + 1}; "
                                "lower --learning_rate (the last good checkpoint is kept)"
                            )
                        tf.summary.scalar(f"batch_{k}", v)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        step = epoch + 1
        with self.train_writer.as_default(step=step):
            for k in METRICS:
                if k in logs:
                    tf.summary.scalar(f"epoch_{k}", float(logs[k]))
            tf.summary.scalar("epoch_seconds", float(logs.get("epoch_seconds", 0.0)))
        with self.val_writer.as_default(step=step):
            for k in METRICS:
                if f"val_{k}" in logs:
                    tf.summary.scalar(f"epoch_{k}", float(logs[f"val_{k}"]))
            conditional = self.model.config.conditional
            inputs = (self.fixed_batch, self.fixed_labels) if conditional else self.fixed_batch
            recon = self.model(inputs).numpy()
            pairs = viz.pairs_grid(self.fixed_batch, recon, ncol=len(self.fixed_batch))
            tf.summary.image("reconstructions", pairs[None], step=step)
            samples = None
            if self.model.can_sample:
                decoded = self.model.decode(self.fixed_noise, self.noise_labels if conditional else None).numpy()
                samples = viz.make_grid(decoded, nrow=8)
                tf.summary.image("prior_samples", samples[None], step=step)
        self.train_writer.flush()
        self.val_writer.flush()
        if self.image_dir:
            viz.save_png(os.path.join(self.image_dir, f"recon_epoch_{step:03d}.png"), pairs, scale=2)
            if samples is not None:
                viz.save_png(os.path.join(self.image_dir, f"samples_epoch_{step:03d}.png"), samples, scale=2)


def cosine_factor(progress, alpha=0.01):
    """Cosine decay from 1 to ``alpha`` as ``progress`` goes from 0 to 1 (as keras' CosineDecay)."""
    progress = min(max(float(progress), 0.0), 1.0)
    return alpha + (1.0 - alpha) * 0.5 * (1.0 + math.cos(math.pi * progress))


class TimeBudget(keras.callbacks.Callback):
    """Stops training when the next epoch would overrun a wall-clock budget.

    The estimate of the next epoch is the last one's wall time (validation
    included); at least one epoch always runs.

    Args:
        minutes: the budget of this invocation.
        cosine_lr: if set, the peak learning rate of a budget-aware cosine
            schedule: each epoch starts at ``cosine_lr * cosine_factor(p)``,
            where ``p`` is the larger of the fraction of the budget used and
            the fraction of ``epochs`` done, so the rate reaches its floor by
            whichever limit ends the run.
        epochs: the epoch bound of the run (``--epoch``).
    """

    def __init__(self, minutes, cosine_lr=None, epochs=None):
        super().__init__()
        self.seconds = 60.0 * float(minutes)
        self.cosine_lr = cosine_lr
        self.epochs = epochs

    def on_train_begin(self, logs=None):
        self._t0 = time.perf_counter()
        self._epoch_seconds = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_t0 = time.perf_counter()
        if self.cosine_lr is None:
            return
        used = time.perf_counter() - self._t0
        if self._epoch_seconds:  # aim the floor at the last epoch that fits, not past it
            used += self._epoch_seconds
        progress = max(used / self.seconds, (epoch + 1) / self.epochs if self.epochs else 0.0)
        self.model.optimizer.learning_rate.assign(self.cosine_lr * cosine_factor(progress))

    def on_epoch_end(self, epoch, logs=None):
        self._epoch_seconds = time.perf_counter() - self._epoch_t0
        if time.perf_counter() - self._t0 + self._epoch_seconds > self.seconds:
            print(f"tfvae: stopping after epoch {epoch + 1}: another epoch (~{self._epoch_seconds:.0f} s) would "
                  f"overrun the time budget of {self.seconds / 60:g} min", flush=True)
            self.model.stop_training = True


class KLWarmup(keras.callbacks.Callback):
    """Raises the KL weight linearly from 0 to ``beta`` over the first ``epochs`` epochs.

    Epoch ``e`` (0-based) trains with ``beta * min(1, e / epochs)``; losses
    logged during warm-up use that weight.
    """

    def __init__(self, beta, epochs):
        super().__init__()
        self.target, self.epochs = float(beta), int(epochs)

    def on_epoch_begin(self, epoch, logs=None):
        self.model.beta.assign(self.target * min(1.0, epoch / self.epochs))

    def on_epoch_end(self, epoch, logs=None):
        logs["beta"] = float(self.model.beta.numpy())


class RunRecorder(keras.callbacks.Callback):
    """Appends to ``history.json`` and writes checkpoints after every epoch.

    Args:
        run_dir: the run directory.
        config: the run's config dict (stored in every checkpoint).
        history: the epochs already recorded (a resumed run continues it).
        best_val: best validation loss so far.
        save_weight_dir: optional extra directory that mirrors ``best``.
    """

    def __init__(self, run_dir, config, history, best_val=math.inf, save_weight_dir=None):
        super().__init__()
        self.run_dir = run_dir
        self.ckpt_dir = os.path.join(run_dir, "checkpoints")
        self.config = config
        self.history = list(history)
        self.best_val = best_val
        self.save_weight_dir = save_weight_dir

    def on_epoch_end(self, epoch, logs=None):
        number = epoch + 1
        loss = float(logs.get("loss", math.nan))
        if not math.isfinite(loss):
            raise TfvaeError(
                f"non-finite training loss at epoch {number} (by step {int(self.model.optimizer.iterations.numpy())}); "
                "lower --learning_rate (the last good checkpoint is kept)"
            )
        entry = {
            "epoch": number,
            "train": {k: float(logs[k]) for k in METRICS if k in logs},
            "val": {k: float(logs[f"val_{k}"]) for k in METRICS if f"val_{k}" in logs},
            "epoch_seconds": round(float(logs.get("epoch_seconds", math.nan)), 4),
            "val_seconds": round(float(logs.get("val_seconds", math.nan)), 4),
        }
        if "beta" in logs:
            entry["beta"] = logs["beta"]
        val_loss = entry["val"].get("loss", loss)
        state = {"epoch": number, "val_loss": val_loss, "step": int(self.model.optimizer.iterations.numpy())}
        # Order matters for crash safety: history first, epoch checkpoint last. A
        # resume truncates history to the newest loadable checkpoint, so a kill
        # between the writes loses at most this epoch and never leaves a gap.
        self.history.append(entry)
        io.write_json(os.path.join(self.run_dir, "history.json"), self.history)
        if val_loss < self.best_val:
            self.best_val = val_loss
            checkpoints.save(os.path.join(self.ckpt_dir, "best"), self.model, self.config, state)
            if self.save_weight_dir:
                checkpoints.save(self.save_weight_dir, self.model, self.config, state)
        checkpoints.save_epoch(self.ckpt_dir, number, self.model, self.config, state, self.model.optimizer)


# -------------------------------------------------------------------- run
def finish_images(run_dir, history, title=""):
    """End-of-run pictures in ``<run_dir>/images``: samples.gif, elbo_curve.png, loss_curves.png."""
    import glob

    from tfvae import plots

    image_dir = os.path.join(run_dir, "images")
    frames = sorted(glob.glob(os.path.join(image_dir, "samples_epoch_*.png")))
    if frames:
        viz.save_gif([viz.load_png(f) for f in frames], os.path.join(image_dir, "samples.gif"))
    if history:
        plots.elbo_curve(history, os.path.join(image_dir, "elbo_curve.png"), title)
        plots.loss_curves(history, os.path.join(image_dir, "loss_curves.png"), title)


def _compatible_model_config(base, overrides):
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


def learning_rate(tc, n_train):
    """The optimizer's learning rate: a float or a schedule over all steps of the run.

    With a time budget (``tc.minutes``) a cosine schedule cannot be laid out in
    steps in advance: the rate starts constant and :class:`TimeBudget` sets it
    each epoch from the fraction of the budget used (budget-aware schedule,
    Li et al. 2020, "Budgeted Training").
    """
    if tc.lr_schedule == "cosine" and not tc.minutes:
        steps = tc.epoch * math.ceil(n_train / tc.batch)
        return keras.optimizers.schedules.CosineDecay(tc.learning_rate, decay_steps=steps, alpha=0.01)
    return tc.learning_rate


def build_for_training(model_config, tc):
    """Builds the model; with ``tc.mixed_precision`` its layers compute in bfloat16.

    Variables, losses and the decoder's outputs stay float32, so checkpoints
    are the same either way.
    """
    if not tc.mixed_precision:
        return models.build_model(model_config)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        return models.build_model(model_config)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def use_xla(tc, model_config):
    """Whether steps are compiled with XLA (``VAE.compile(xla_step=...)``) under ``tc.xla``.

    ``auto`` turns it on for the dense architectures (``mlp``, ``gated``) on
    one device in float32: there the step measured 10-20 % faster than TF's
    graph with oneDNN kernels (XLA's small matmuls are faster and it fuses the
    elementwise work and Adam; bench/RESULTS.md). Off for ``conv`` (oneDNN's
    convolutions are faster), for bfloat16 and under a ``tf.distribute``
    strategy (gradients are all-reduced between replicas inside the step).
    """
    if tc.xla != "auto":
        return tc.xla == "on"
    return (model_config.arch in ("mlp", "gated") and not tc.mixed_precision
            and tc.strategy == "default" and not tf.distribute.has_strategy())


@dataclasses.dataclass(frozen=True)
class Feed:
    """How training data reach a model compiled by ``compile_model`` (``feed(model)`` reads it).

    Attributes:
        steps_per_call: batches stacked into one dataset element
            (``data.make_dataset(group=...)``), run by ``train_step`` as that
            many optimizer steps in one call. With the XLA step on one device
            up to ``data.CHUNK_BATCHES`` (a divisor of ``log_every``, so that
            batch-level logs still land on its multiples): the per-step costs
            around the maths (dispatching the compiled step, an iteration of
            Keras' loop, a pipeline element) are then paid once per stack
            (bench/RESULTS.md: epochs ~20 % shorter on this 2-core CPU).
            Otherwise 1.
        elements_per_epoch: dataset elements in one pass over the data.
        persistent: feed one repeating dataset (``make_dataset(repeat=True)``)
            through one iterator for the whole run, with
            ``steps_per_epoch=elements_per_epoch``: the pipeline is set up
            once, not at every epoch start. Needs Keras' steps per execution
            to divide the epoch (Keras runs whole executions), so
            ``compile_model`` lowers it to a divisor when one is at least
            half as large; without one (or under a strategy) False.
    """

    steps_per_call: int = 1
    elements_per_epoch: Optional[int] = None
    persistent: bool = False


def feed(model):
    """The ``Feed`` that ``compile_model`` chose for ``model`` (one batch per call if it did not)."""
    return getattr(model, "tfvae_feed", Feed())


def steps_per_call(model):
    """Optimizer steps per ``train_step`` call for ``model`` as ``compile_model`` compiled it (``Feed``)."""
    return feed(model).steps_per_call


def compile_model(model, tc, n_train):
    """Compiles ``model`` for training exactly as ``tfvae train`` does (bench/ uses this too).

    ``feed(model)`` then says how to build and feed the training dataset
    (``Feed``): how many batches to stack into each element, and whether one
    repeating dataset feeds the whole run.

    Under a ``tf.distribute`` strategy (call it inside ``strategy.scope()``),
    one step runs per call: Keras 3 fails to run its multi-step loop inside
    ``strategy.run`` (keras-team/keras#19246).
    """
    distributed = tf.distribute.has_strategy()
    spe = 1 if distributed else min(tc.steps_per_execution, tc.log_every)
    # Keras' jit_compile would compile the random draws too, and XLA's CPU random numbers are slow:
    # xla_step compiles the rest of the step instead (bench/RESULTS.md).
    # FusedAdam: the same Adam in one TF kernel per variable (measured faster; bench/RESULTS.md).
    adam = optim.FusedAdam
    xla_step = use_xla(tc, model.config)
    group = 1
    if xla_step and not distributed:
        group = max(g for g in range(1, data.CHUNK_BATCHES + 1) if int(tc.log_every) % g == 0)
        spe = max(1, spe // group)  # Keras counts calls, and each call runs a stack of `group` steps
    elements = data.elements_per_pass(n_train, tc.batch, group)
    divisor = max(d for d in range(1, spe + 1) if elements % d == 0)
    persistent = not distributed and 2 * divisor >= spe
    if persistent:
        spe = divisor
    model.compile(optimizer=adam(learning_rate(tc, n_train)), jit_compile=False, steps_per_execution=spe,
                  xla_step=xla_step)
    model.tfvae_feed = Feed(group, elements, persistent)
    model.optimizer.build(model.trainable_variables)
    return model


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


def run_training(model_overrides, data_config, train_config, verbose=None):
    """Trains a model as ``tfvae train`` does.

    Args:
        model_overrides: dict of architecture settings given by the user
            (``latent_dim``, ``hidden``, ``beta``); ``None`` values mean default.
        data_config: a ``data.DataConfig``.
        train_config: a ``TrainConfig``.
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
    strategy = make_strategy(tc.strategy)
    chief = is_chief(strategy)
    if chief:
        return _run_training(model_overrides, data_config, tc, verbose, strategy, chief)
    resolver = strategy.cluster_resolver
    scratch = tempfile.mkdtemp(prefix=f"tfvae-{resolver.task_type}{resolver.task_id}-")
    print(f"tfvae: {resolver.task_type} {resolver.task_id} is not the chief: its files go to {scratch} "
          "(deleted at the end)", flush=True)
    tc = dataclasses.replace(
        tc, run_dir=os.path.join(scratch, "run"), log_dir=None, overwrite=True,
        save_weight_dir=os.path.join(scratch, "weights") if tc.save_weight_dir else None)
    try:
        return _run_training(model_overrides, data_config, tc, verbose, strategy, chief)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_training(model_overrides, data_config, tc, verbose, strategy, chief):
    source = None
    if tc.load_weight_dir:
        source = checkpoints.resolve(tc.load_weight_dir)
        base = models.VAEConfig.from_dict(checkpoints.read_config(source)["model"]).to_dict()
        model_dict = _compatible_model_config(base, model_overrides)
    else:
        # Unset fields take VAEConfig's defaults once the data's shape is known.
        model_dict = {k: v for k, v in model_overrides.items() if v is not None}

    train_split, val_split, info = data.load_splits(data_config)
    if source and tuple(model_dict["input_shape"]) != info.input_shape:
        raise TfvaeError(
            f"weights in {source} expect images of shape {tuple(model_dict['input_shape'])}, "
            f"dataset {data_config.dataset} has {info.input_shape}; pick matching data or other weights"
        )
    model_dict["input_shape"] = list(info.input_shape)
    if model_dict.get("model") == "cvae" and not source:
        model_dict["num_classes"] = info.num_classes
    model_config = models.VAEConfig.from_dict(model_dict)
    if model_config.conditional and info.num_classes > model_config.num_classes:
        raise TfvaeError(f"dataset {data_config.dataset} has {info.num_classes} classes, the loaded cvae "
                         f"{model_config.num_classes}; use matching data")

    run_dir = tc.run_dir or default_run_dir(data_config.dataset, model_config.model)
    config = {
        "model": model_config.to_dict(),
        "data": data_config.to_dict(),
        "train": {**tc.to_dict(), "run_dir": None, "overwrite": None},
        "info": dataclasses.asdict(info),
        "tfvae_version": __import__("tfvae").__version__,
    }
    resuming = prepare_run_dir(run_dir, config, tc.overwrite)
    io.write_json(os.path.join(run_dir, "config.json"), config)
    print(f"tfvae: run directory {os.path.abspath(run_dir)}", flush=True)

    keras.utils.set_random_seed(tc.seed)
    if tc.deterministic:
        tf.config.experimental.enable_op_determinism()
    ckpt_dir = os.path.join(run_dir, "checkpoints")
    initial_epoch, history, best_val = 0, [], math.inf
    # Model and optimizer are created in the strategy's scope. The restore below
    # runs outside it: Keras' load_weights creates temporary variables, which in
    # a multi-worker scope would be collective ops run by the chief alone. The
    # values it assigns reach every replica's copy of the (mirrored) variables.
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_for_training(model_config, tc)
        compile_model(model, tc, info.n_train)

    if resuming:
        def try_load(d):
            checkpoints.read_weights(model, d)
            checkpoints.load_optimizer(model.optimizer, d)

        d, state = checkpoints.latest_loadable(ckpt_dir, try_load)
        if d:
            initial_epoch = int(state["epoch"])
            history = [h for h in read_history(run_dir) if h["epoch"] <= initial_epoch]
            vals = [h.get("val", {}).get("loss", math.inf) for h in history]
            best_val = min(vals) if vals else math.inf
            print(f"tfvae: resuming {run_dir} after epoch {initial_epoch} (checkpoint {d})", flush=True)
        else:
            print(f"tfvae: {run_dir} has no usable checkpoint; starting from epoch 1", flush=True)
    elif source:
        checkpoints.load_weights(model, source)
        print(f"tfvae: starting from weights in {source}", flush=True)

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        # Every worker continues from the chief's state (weights, optimizer, epoch).
        with strategy.scope():
            # best_val too, so that every worker saves (into its scratch dir) when the chief does.
            epoch, best_val = sync_from_chief(strategy, list(model.variables) + list(model.optimizer.variables),
                                              [initial_epoch, best_val])
        initial_epoch = int(epoch)
    if strategy is not None:
        replicas = strategy.num_replicas_in_sync
        print(f"tfvae: strategy {tc.strategy}: {replicas} replicas, global batch {tc.batch} "
              f"(about {tc.batch / replicas:g} per replica), one step per call"
              + ("" if chief else "; this worker is not the chief"), flush=True)

    if initial_epoch >= tc.epoch:
        print(f"tfvae: run already has {initial_epoch} epochs (--epoch {tc.epoch}); nothing to do", flush=True)
        return model, run_dir, history

    plan = feed(model)
    train_ds = data.make_dataset(train_split, tc.batch, shuffle=True, seed=tc.seed + initial_epoch,
                                 binarize=data_config.binarize, group=plan.steps_per_call, repeat=plan.persistent)
    val_ds = data.make_dataset(val_split, tc.batch, seed=data.EVAL_BINARIZE_SEED,  # stacks: ~35 % faster
                               binarize=data_config.binarize, fixed_draw=True, group=plan.steps_per_call)
    fixed, fixed_labels = next(iter(data.make_dataset(val_split.take(10), 10, seed=data.EVAL_BINARIZE_SEED,
                                                      binarize=data_config.binarize, fixed_draw=True)))
    noise = tf.random.stateless_normal([64, model_config.latent_dim], seed=[tc.seed, 99])
    noise_labels = tf.range(64) % max(1, model_config.num_classes)

    log_dir = tc.log_dir or os.path.join(run_dir, "logs")
    callbacks = [
        EpochTimer(),
        TensorBoardWriter(log_dir, fixed, noise, tc.log_every,
                          image_dir=os.path.join(run_dir, "images") if tc.images else None,
                          fixed_labels=fixed_labels, noise_labels=noise_labels),
        RunRecorder(run_dir, {k: config[k] for k in ("model", "data")}, history, best_val, tc.save_weight_dir),
    ]
    recorder = callbacks[-1]
    if tc.kl_warmup_epochs:
        callbacks.insert(0, KLWarmup(model_config.beta, tc.kl_warmup_epochs))
    if tc.minutes:
        cosine_lr = tc.learning_rate if tc.lr_schedule == "cosine" else None
        callbacks.append(TimeBudget(tc.minutes, cosine_lr, tc.epoch))  # after RunRecorder: the last epoch is saved first
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    print(
        f"tfvae: training on {info.n_train} images of {info.name} {info.input_shape}, validating on "
        f"{info.n_val} ({info.val_source}); epochs {initial_epoch + 1}..{tc.epoch}; logs in {log_dir}",
        flush=True,
    )
    model.fit(train_ds, validation_data=val_ds, epochs=tc.epoch, initial_epoch=initial_epoch,
              steps_per_epoch=plan.elements_per_epoch if plan.persistent else None,
              callbacks=callbacks, verbose=verbose, shuffle=False)
    history = recorder.history
    if tc.images:
        finish_images(run_dir, history, f"{info.name} {model_config.model} z={model_config.latent_dim}")
    last = history[-1]
    print(
        f"tfvae: done: epoch {last['epoch']} val loss {last['val'].get('loss', float('nan')):.2f} nats; "
        f"checkpoints in {ckpt_dir}",
        flush=True,
    )
    return model, run_dir, history
