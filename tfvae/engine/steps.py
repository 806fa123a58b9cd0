"""The training machinery a model mixes in: one step, its noise, its hooks; ``functions`` wraps it.

``Trainer`` is to ``keras.Model`` what Keras' own TF trainer is: the step's
maths stays in the model (``compute_losses``), ``train_step`` is one optimizer
step on one batch, and ``tfvae.engine.functions`` wraps it, as
``keras/src/backend/tensorflow/trainer.py``'s ``make_train_function`` wraps
``train_step``:

* **noise feeding**: all of a step's randomness is drawn here, outside the
  maths, with TF's kernels from the model's seed generator (``draw_noise``),
  so the rest of the step can be compiled with XLA (whose CPU random numbers
  are slow) and the same seed gives the same numbers either way;
* **the XLA step**: ``compile(xla_step=True)`` compiles loss, gradients and
  the optimizer update of a step as one XLA computation;
* **stacked steps**: ``compile(steps_per_call=g)`` makes each dataset element a
  stack ``[g, batch, ...]`` (``data.make_dataset(group=g)``) run as ``g``
  optimizer steps in one call; validation evaluates a stack as one batch with
  the noise of one step per batch. The plan comes from
  ``tfvae.training.plan``; nothing is guessed from a tensor's rank;
* **replicas**: under a ``tf.distribute`` strategy each replica draws its
  rows of the global batch's noise and the logs are all-reduced.

The hooks every path calls once per optimizer step: ``step_losses`` (the
scalars differentiated, inside the tape) and ``apply_step_gradients`` (the
gradient application). A model that mixes this in provides
``compute_losses(x, labels, training, eps)`` (per-example ``TERMS``), ``noise_shape`` (``(samples, width)`` per
example, or None for no noise) and ``example_shape`` (one example's shape),
and calls ``init_engine()`` after creating its layers. This module never
imports ``tfvae.models``.
"""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras

from tfvae.engine import distribute, functions
from tfvae.engine.metrics import TERMS, TermMeans
from tfvae.errors import TfvaeError


class Trainer:
    """``train_step``/``test_step``/``compile`` for a ``keras.Model`` whose maths is ``compute_losses``."""

    def init_engine(self):
        """Creates the seed generator and the running means (after the model's layers: checkpoint order)."""
        self.seed_generator = keras.random.SeedGenerator(seed=None, name="sampling_seed")
        self.term_means = TermMeans(TERMS)
        self.xla_step = False
        self.steps_per_call = 1

    # ------------------------------------------------------------- noise
    def draw_noise(self, batch, rows=None, steps=None):
        """Standard-normal noise for one training (or validation) step.

        Args:
            batch: examples in this batch (this replica's share under a strategy).
            rows: ``(offset, global_batch)`` under a ``tf.distribute`` strategy
                (``distribute.replica_rows``): the noise is drawn for the whole
                global batch with the (mirrored) seed and this replica takes its
                own rows, so replicas get different noise and a one-worker split
                draws exactly the noise a single device would.
            steps: draw for this many consecutive steps at once (a stack of
                batches): one draw per step, in order, so the noise is exactly
                what that many single steps would draw.

        Returns:
            ``[batch, *noise_shape]``, with a leading ``[steps]`` axis if
            ``steps`` is given; or ``None`` for a model without noise.
        """
        if self.noise_shape is None:
            return None
        if steps is not None:
            def one(i, out):
                return i + 1, out.write(i, self.draw_noise(batch, rows))

            _, out = tf.while_loop(lambda i, _: i < steps, one,
                                   (tf.constant(0), tf.TensorArray(tf.float32, size=steps)))
            return out.stack()
        k, width = self.noise_shape
        if rows is None:
            return keras.random.normal(tf.stack([batch, k, width]), seed=self.seed_generator)
        offset, total = rows
        return keras.random.normal(tf.stack([total, k, width]), seed=self.seed_generator)[offset : offset + batch]

    # ----------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", xla_step=False, steps_per_call=1, **kwargs):
        """``keras.Model.compile`` plus ``xla_step`` and ``steps_per_call``.

        Args:
            optimizer: as for Keras.
            xla_step: compile each training and validation step (loss,
                gradients, optimizer update, metrics' inputs) with XLA, the
                step's noise being drawn outside it (``draw_noise``). One
                device only: under a ``tf.distribute`` strategy steps run as TF
                graphs. Keras' own ``jit_compile`` would compile the draws too.
            steps_per_call: batches per dataset element: with ``g > 1`` every
                element is a stack ``[g, batch, ...]`` that runs as ``g``
                optimizer steps in one call (``data.make_dataset(group=g)``).
            **kwargs: ``keras.Model.compile`` arguments.

        ``train_step`` stays one optimizer step on one batch; how it is wrapped
        (XLA, stacks, replicas) is ``tfvae.engine.functions``' job, called from
        ``make_train_function`` as Keras calls its own wrapping.
        """
        super().compile(optimizer=optimizer, **kwargs)
        self.xla_step = bool(xla_step)
        self.steps_per_call = int(steps_per_call)
        if self.steps_per_call > 1 and tf.distribute.has_strategy():
            raise TfvaeError("stacks of batches (make_dataset(group>1)) cannot be split across replicas; "
                             "use steps_per_call=1 under a tf.distribute strategy")

    def make_train_function(self, force=False):
        """Keras' ``make_train_function``, handing its loop the step as ``compile`` planned it.

        Keras 3 (TF backend) builds its function as ``self._make_function(self.train_step)``;
        this passes the wrapped step (``functions.train_function_step``) instead, so Keras keeps
        its iterator, steps-per-execution and distribution loop around it.
        """
        if self.train_function is not None and not force:
            return self.train_function
        self.train_function = self._make_function(functions.train_function_step(self))
        return self.train_function

    def make_test_function(self, force=False):
        """As ``make_train_function``, for ``test_step`` (``functions.test_function_step``)."""
        if self.test_function is not None and not force:
            return self.test_function
        self.test_function = self._make_function(functions.test_function_step(self))
        return self.test_function

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit``; for a ``tf.data.Dataset`` ``shuffle`` defaults to False.

        tfvae's datasets shuffle themselves (``data.make_dataset(shuffle=True)``,
        a fresh order every pass); Keras ignores ``shuffle`` for a dataset and
        would warn about its default ``True`` on every call.
        """
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)
        return super().fit(x, *args, **kwargs)

    @property
    def metrics(self):
        return [self.term_means]

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # The model is built on creation and compiled without a Keras loss or
        # metrics, so there is nothing to build from data. Under a tf.distribute
        # strategy Keras 3's TF trainer would still draw a batch here, which
        # fails under MultiWorkerMirroredStrategy (it reduces the (images,
        # labels) structure with strategy.reduce) and opens the training
        # dataset once more, shifting its shuffle order by an epoch. Keras 3.15
        # offers no public hook to skip it: fit() and evaluate() call this private
        # method whenever a distribution strategy is set, so it is overridden here.
        if (all(layer.built for layer in self._flatten_layers())
                and getattr(self, "_compile_metrics", None) is None
                and getattr(self, "_compile_loss", None) is None
                and (self.optimizer is None or self.optimizer.built)):
            return
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    # ------------------------------------------------------------- steps
    @staticmethod
    def unpack(data):
        """``(images, labels or None)`` of a batch that is images or ``(images, labels)``."""
        if isinstance(data, (tuple, list)):
            return data[0], (data[1] if len(data) > 1 else None)
        return data, None

    # A kind or objective that takes several gradients of one tape (step_losses) sets this.
    persistent_tape = False

    def step_losses(self, terms, rows=None):
        """The scalars a training step differentiates, computed inside its tape: ``{"loss": batch mean}``.

        ``rows``: ``(offset, global_batch)`` under a strategy: the optimizer sums
        gradients over replicas, so the local sum is divided by the GLOBAL batch
        and the sum is the single-device mean. A model overrides this (with
        ``apply_step_gradients``) to train parts of itself on other scalars.
        """
        if rows is not None:
            return {"loss": tf.nn.compute_average_loss(terms["loss"], global_batch_size=rows[1])}
        return {"loss": tf.reduce_mean(terms["loss"])}

    def apply_step_gradients(self, tape, losses):
        """The gradient-application hook: one optimizer step from ``step_losses``' scalars.

        Every path calls it once per optimizer step (the plain graph step, the
        XLA step, each step of a stack, each replica), so what a model changes
        here holds everywhere. The default: the gradient of ``losses["loss"]``
        for every trainable variable, applied by the model's optimizer.
        """
        grads = tape.gradient(losses["loss"], self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))

    def train_on_noise(self, x, y, eps, rows=None):
        """One optimizer step on a batch with given noise; returns the per-example terms."""
        with tf.GradientTape(persistent=self.persistent_tape) as tape:
            terms = self.compute_losses(x, y, training=True, eps=eps)
            losses = self.step_losses(terms, rows)
        self.apply_step_gradients(tape, losses)
        return terms

    def test_on_noise(self, x, y, eps):
        """The per-example terms of a batch with given noise (no update)."""
        return self.compute_losses(x, y, training=False, eps=eps)

    def update_metrics(self, terms, distributed=False):
        """Adds a step's per-example terms to the running means; returns the logs."""
        tracker = self.term_means
        tracker.update_state(tf.stack([terms[n] for n in tracker.names]))
        if not distributed:
            return tracker.result()
        # Inside a replica a metric reads its own replica's share (the totals are
        # SyncOnRead variables, summed only when read outside the replicas, as
        # Keras does at the end of an epoch). The per-step logs are the global
        # running means: one all-reduce of (totals, count).
        local = tf.concat([tf.cast(tracker.total, tf.float32), tf.reshape(tf.cast(tracker.count, tf.float32), [1])], 0)
        both = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, local)
        # Across hosts Keras 3 reduces every log with strategy.reduce(MEAN, v, axis=0),
        # which rejects scalars (tensorflow/tensorflow#72388): give it [1]-shaped
        # values (the same on every replica), which it reduces to the scalar.
        shape = [1] if distribute.multi_worker() else []
        means = tf.math.divide_no_nan(both[:-1], both[-1])
        return {n: tf.reshape(means[i], shape) for i, n in enumerate(tracker.names)}

    def train_step(self, data):
        """One optimizer step on one batch (Keras' contract); ``functions`` wraps it for XLA, stacks, replicas."""
        x, y = self.unpack(data)
        return self.update_metrics(self.train_on_noise(x, y, self.draw_noise(tf.shape(x)[0])))

    def test_step(self, data):
        """The terms of one batch, without updates."""
        x, y = self.unpack(data)
        return self.update_metrics(self.test_on_noise(x, y, self.draw_noise(tf.shape(x)[0])))
