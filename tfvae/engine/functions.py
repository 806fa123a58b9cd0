"""How one step is wrapped into what Keras' loop calls: the XLA step, stacks of batches, replicas.

Keras' ``make_train_function`` wraps ``train_step`` in ``tf.function`` and
``strategy.run`` and loops it ``steps_per_execution`` times. Here the model's
``make_train_function`` (``steps.Trainer``) hands Keras, instead of its bare
``train_step``, the one step as ``compile`` planned it:

* **plain**: ``train_step`` itself (one optimizer step on one batch);
* **XLA** (``xla_step``, one device): the step's noise drawn outside, then
  loss, gradients and the optimizer update as one XLA computation;
* **stack** (``steps_per_call = g``): a dataset element ``[g, batch, ...]``
  runs as ``g`` optimizer steps in one call, each on its own batch with the
  noise ``g`` single steps would draw (in one XLA computation with
  ``xla_step``); validation evaluates a stack as one larger batch;
* **replicas** (inside ``strategy.run``): each replica draws its rows of
  the global batch's noise and the logs are all-reduced.

Every one of them runs ``Trainer.train_on_noise`` per optimizer step, so the
model's ``step_losses`` and ``apply_step_gradients`` hooks hold on every path.
Nothing here imports ``tfvae.models``.
"""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices

from tfvae.engine import distribute


def _xla(fn):
    return tf.function(fn, jit_compile=True, reduce_retracing=True)


def train_group(model, xs, ys, eps):
    """``g`` optimizer steps, one per batch of a stack ``xs`` ``[g, batch, ...]``.

    Returns:
        the per-example terms of all ``g`` steps, ``[len(TERMS), g * batch]``.
    """
    names = model.term_means.names
    g = xs.shape[0] if xs.shape[0] is not None else tf.shape(xs)[0]

    def body(i, out):
        terms = model.train_on_noise(xs[i], None if ys is None else ys[i], None if eps is None else eps[i])
        return i + 1, out.write(i, tf.stack([terms[n] for n in names]))

    _, out = tf.while_loop(lambda i, _: i < g, body, (tf.constant(0), tf.TensorArray(tf.float32, size=g)))
    out = out.stack()  # [g, names, batch]
    return tf.reshape(tf.transpose(out, [1, 0, 2]), [len(names), -1])


def train_function_step(model):
    """The per-element training step Keras' loop runs, as ``model.compile`` planned it."""
    if model.steps_per_call > 1:
        group = _xla(lambda xs, ys, eps: train_group(model, xs, ys, eps)) if model.xla_step else (
            lambda xs, ys, eps: train_group(model, xs, ys, eps))

        def stacked(data):
            x, y = model.unpack(data)
            model.term_means.update_state(group(x, y, model.draw_noise(tf.shape(x)[1], steps=tf.shape(x)[0])))
            return model.term_means.result()

        return stacked
    xla_train = _xla(model.train_on_noise) if model.xla_step else None

    def one(data):
        if distribute.in_replica():
            x, y = model.unpack(data)
            rows = distribute.replica_rows(tf.shape(x)[0])
            return model.update_metrics(model.train_on_noise(x, y, model.draw_noise(tf.shape(x)[0], rows), rows),
                                        distributed=True)
        if xla_train is None:
            return model.train_step(data)
        x, y = model.unpack(data)
        return model.update_metrics(xla_train(x, y, model.draw_noise(tf.shape(x)[0])))

    return one


def test_function_step(model):
    """The per-element validation step: a stack is one larger batch with the noise of one step per batch."""
    xla_test = _xla(model.test_on_noise) if model.xla_step else None

    def one(data):
        x, y = model.unpack(data)
        distributed = distribute.in_replica()
        if model.steps_per_call > 1 or x.shape.rank is None:  # (Keras may relax a retraced signature)
            eps = None
            if model.steps_per_call > 1:
                eps = model.draw_noise(tf.shape(x)[1], steps=tf.shape(x)[0])
                if eps is not None:
                    eps = tf.reshape(eps, [-1, *model.noise_shape])
            x = tf.reshape(x, [-1, *model.example_shape])
            y = None if y is None else tf.reshape(y, [-1])
        if model.steps_per_call == 1:
            rows = distribute.replica_rows(tf.shape(x)[0]) if distributed else None
            eps = model.draw_noise(tf.shape(x)[0], rows)
        if xla_test is not None and not distributed:
            terms = xla_test(x, y, eps)
        else:
            terms = model.test_on_noise(x, y, eps)
        return model.update_metrics(terms, distributed)

    return one
