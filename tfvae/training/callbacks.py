"""The callbacks of a training run: timing, TensorBoard, KL warm-up, the time budget, history and checkpoints."""

import math
import os
import time

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras

from tfvae import checkpoints, io
from tfvae.pictures import grids
from tfvae.engine.metrics import TERMS
from tfvae.errors import TfvaeError


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
                for k in TERMS:
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
            for k in TERMS:
                if k in logs:
                    tf.summary.scalar(f"epoch_{k}", float(logs[k]))
            tf.summary.scalar("epoch_seconds", float(logs.get("epoch_seconds", 0.0)))
        with self.val_writer.as_default(step=step):
            for k in TERMS:
                if f"val_{k}" in logs:
                    tf.summary.scalar(f"epoch_{k}", float(logs[f"val_{k}"]))
            conditional = self.model.config.conditional
            inputs = (self.fixed_batch, self.fixed_labels) if conditional else self.fixed_batch
            recon = self.model(inputs).numpy()
            pairs = grids.pairs_grid(self.fixed_batch, recon, ncol=len(self.fixed_batch))
            tf.summary.image("reconstructions", pairs[None], step=step)
            samples = None
            if self.model.can_sample:
                decoded = self.model.decode(self.fixed_noise, self.noise_labels if conditional else None).numpy()
                samples = grids.make_grid(decoded, nrow=8)
                tf.summary.image("prior_samples", samples[None], step=step)
        self.train_writer.flush()
        self.val_writer.flush()
        if self.image_dir:
            grids.save_png(os.path.join(self.image_dir, f"recon_epoch_{step:03d}.png"), pairs, scale=2)
            if samples is not None:
                grids.save_png(os.path.join(self.image_dir, f"samples_epoch_{step:03d}.png"), samples, scale=2)


def cosine_factor(progress, alpha=0.01):
    """Cosine decay from 1 to ``alpha`` as ``progress`` goes from 0 to 1 (as keras' CosineDecay)."""
    progress = min(max(float(progress), 0.0), 1.0)
    return alpha + (1.0 - alpha) * 0.5 * (1.0 + math.cos(math.pi * progress))


class TimeBudget(keras.callbacks.Callback):
    """Stops training when the next epoch would overrun a wall-clock budget.

    The budget is the run's: a resumed run starts with the time of the epochs
    it recorded (``spent``, training and validation), so a run killed and
    resumed stops, and anneals its cosine, where one uninterrupted run would
    (the time of an epoch cut short by the kill is not counted). The estimate
    of the next epoch is the last one's wall time (validation included); at
    least one epoch of each invocation runs.

    Args:
        minutes: the budget of the run.
        spent: seconds already used by the epochs of the history a resumed run continues.
        cosine_lr: if set, the peak learning rate of a budget-aware cosine
            schedule: each epoch starts at ``cosine_lr * cosine_factor(p)``,
            where ``p`` is the larger of the fraction of the budget used and
            the fraction of ``epochs`` done, so the rate reaches its floor by
            whichever limit ends the run.
        epochs: the epoch bound of the run (``--epoch``).
    """

    def __init__(self, minutes, cosine_lr=None, epochs=None, spent=0.0):
        super().__init__()
        self.seconds = 60.0 * float(minutes)
        self.cosine_lr = cosine_lr
        self.epochs = epochs
        self.spent = float(spent)

    def on_train_begin(self, logs=None):
        self._t0 = time.perf_counter() - self.spent
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
            "train": {k: float(logs[k]) for k in TERMS if k in logs},
            "val": {k: float(logs[f"val_{k}"]) for k in TERMS if f"val_{k}" in logs},
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


def finish_images(run_dir, history, title=""):
    """End-of-run pictures in ``<run_dir>/images``: samples.gif, elbo_curve.png, loss_curves.png."""
    import glob

    from tfvae.pictures import charts

    image_dir = os.path.join(run_dir, "images")
    frames = sorted(glob.glob(os.path.join(image_dir, "samples_epoch_*.png")))
    if frames:
        grids.save_gif([grids.load_png(f) for f in frames], os.path.join(image_dir, "samples.gif"))
    if history:
        charts.elbo_curve(history, os.path.join(image_dir, "elbo_curve.png"), title)
        charts.loss_curves(history, os.path.join(image_dir, "loss_curves.png"), title)
