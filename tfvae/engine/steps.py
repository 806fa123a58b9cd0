"""The training machinery a model mixes in: noise feeding, the XLA step, stacked steps, replicas.

``Trainer`` is to ``keras.Model`` what Keras' own TF trainer is: the step's
maths stays in the model (``compute_losses``), and this module wraps it, as
``keras/src/backend/tensorflow/trainer.py``'s ``_make_function`` wraps
``train_step``:

* **noise feeding**: all of a step's randomness is drawn here, outside the
  maths, with TF's kernels from the model's seed generator (``draw_noise``),
  so the rest of the step can be compiled with XLA (whose CPU random numbers
  are slow) and the same seed gives the same numbers either way;
* **the XLA step**: ``compile(xla_step=True)`` compiles loss, gradients and
  the optimizer update of a step as one XLA computation;
* **stacked steps**: ``compile(steps_per_call=g)`` makes ``train_step`` take a
  stack ``[g, batch, ...]`` (``data.make_dataset(group=g)``) and run it as
  ``g`` optimizer steps in one call; ``test_step`` evaluates a stack as one
  batch with the noise of one step per batch. The plan comes from
  ``tfvae.training.plan``; nothing is guessed from a tensor's rank;
* **replicas**: under a ``tf.distribute`` strategy each replica draws its
  rows of the global batch's noise and the logs are all-reduced.

A model that mixes this in provides ``compute_losses(x, labels, training,
eps)`` (per-example ``TERMS``), ``noise_shape`` (``(samples, width)`` per
example, or None for no noise) and ``example_shape`` (one example's shape),
and calls ``init_engine()`` after creating its layers. This module never
imports ``tfvae.models``.
"""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras

from tfvae.engine import distribute
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
                element is a stack ``[g, batch, ...]`` that ``train_step`` runs
                as ``g`` optimizer steps (``data.make_dataset(group=g)``).
            **kwargs: ``keras.Model.compile`` arguments.
        """
        super().compile(optimizer=optimizer, **kwargs)
        self.xla_step = bool(xla_step)
        self.steps_per_call = int(steps_per_call)
        if self.steps_per_call > 1 and tf.distribute.has_strategy():
            raise TfvaeError("stacks of batches (make_dataset(group>1)) cannot be split across replicas; "
                             "use steps_per_call=1 under a tf.distribute strategy")
        self._xla_train = tf.function(self._train_on_noise, jit_compile=True, reduce_retracing=True)
        self._xla_train_group = tf.function(self._train_group_on_noise, jit_compile=True, reduce_retracing=True)
        self._xla_test = tf.function(self._test_on_noise, jit_compile=True, reduce_retracing=True)

    @property
    def metrics(self):
        return [self.term_means]

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # The model is built on creation and compiled without a Keras loss or
        # metrics, so there is nothing to build from data. Under a tf.distribute
        # strategy Keras 3's TF trainer would still draw a batch here, which
        # fails under MultiWorkerMirroredStrategy (it reduces the (images,
        # labels) structure with strategy.reduce) and opens the training
        # dataset once more, shifting its shuffle order by an epoch.
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

    def _train_on_noise(self, x, y, eps, rows=None):
        """One optimizer step on a batch with given noise; returns the per-example terms.

        ``rows``: ``(offset, global_batch)`` of this replica's examples under a strategy.
        """
        with tf.GradientTape() as tape:
            terms = self.compute_losses(x, y, training=True, eps=eps)
            if rows is not None:
                # The optimizer sums gradients over replicas: divide the local
                # sum by the GLOBAL batch so the sum is the single-device mean.
                loss = tf.nn.compute_average_loss(terms["loss"], global_batch_size=rows[1])
            else:
                loss = tf.reduce_mean(terms["loss"])
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return terms

    def _train_group_on_noise(self, xs, ys, eps):
        """``g`` optimizer steps, one per batch of a stack ``xs`` ``[g, batch, ...]``, in one call.

        Returns:
            the per-example terms of all ``g`` steps, ``[len(TERMS), g * batch]``.
        """
        names = self.term_means.names
        g = xs.shape[0] if xs.shape[0] is not None else tf.shape(xs)[0]

        def body(i, out):
            terms = self._train_on_noise(xs[i], None if ys is None else ys[i], None if eps is None else eps[i])
            return i + 1, out.write(i, tf.stack([terms[n] for n in names]))

        _, out = tf.while_loop(lambda i, _: i < g, body, (tf.constant(0), tf.TensorArray(tf.float32, size=g)))
        out = out.stack()  # [g, names, batch]
        return tf.reshape(tf.transpose(out, [1, 0, 2]), [len(names), -1])

    def _test_on_noise(self, x, y, eps):
        """The per-example terms of a batch with given noise (no update)."""
        return self.compute_losses(x, y, training=False, eps=eps)

    def _update_metrics(self, terms, distributed=False):
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
        """One optimizer step on a batch, or ``steps_per_call`` steps on a stack of batches."""
        x, y = self.unpack(data)
        if self.steps_per_call > 1:
            eps = self.draw_noise(tf.shape(x)[1], steps=tf.shape(x)[0])
            values = (self._xla_train_group if self.xla_step else self._train_group_on_noise)(x, y, eps)
            self.term_means.update_state(values)
            return self.term_means.result()
        distributed = distribute.in_replica()
        rows = distribute.replica_rows(tf.shape(x)[0]) if distributed else None
        eps = self.draw_noise(tf.shape(x)[0], rows)
        if self.xla_step and not distributed:
            terms = self._xla_train(x, y, eps)
        else:
            terms = self._train_on_noise(x, y, eps, rows)
        return self._update_metrics(terms, distributed)

    def test_step(self, data):
        """The terms of a batch, or of a stack of batches as one batch, without updates.

        A stack is evaluated as one larger batch (faster on a CPU), with the
        noise that one test step per batch would draw: the same numbers.
        """
        x, y = self.unpack(data)
        distributed = distribute.in_replica()
        rows = None
        if self.steps_per_call > 1 or x.shape.rank is None:  # (Keras may relax a retraced signature)
            if self.steps_per_call > 1:
                eps = self.draw_noise(tf.shape(x)[1], steps=tf.shape(x)[0])
                if eps is not None:
                    eps = tf.reshape(eps, [-1, *self.noise_shape])
            x = tf.reshape(x, [-1, *self.example_shape])
            y = None if y is None else tf.reshape(y, [-1])
        if self.steps_per_call == 1:
            rows = distribute.replica_rows(tf.shape(x)[0]) if distributed else None
            eps = self.draw_noise(tf.shape(x)[0], rows)
        if self.xla_step and not distributed:
            terms = self._xla_test(x, y, eps)
        else:
            terms = self._test_on_noise(x, y, eps)
        return self._update_metrics(terms, distributed)
