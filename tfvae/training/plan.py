"""How a run trains, planned once: the XLA step, stacks of batches, Keras' steps per execution, the optimizer.

``plan_feed`` decides; ``compile_model`` compiles with the plan and returns it; the
run loop then builds its datasets with ``plan.steps_per_call`` (stacks of
that many batches) and ``plan.persistent``. Nothing reads the plan back from
the model or guesses it from a tensor.
"""

import dataclasses
import math
from typing import Optional

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras

from tfvae import data, models
from tfvae.engine import optim

DENSE_ARCHS = ("mlp", "gated")  # where the XLA step measured faster (use_xla)


def learning_rate(tc, n_train):
    """The optimizer's learning rate: a float or a schedule over all steps of the run.

    With a time budget (``tc.minutes``) a cosine schedule cannot be laid out in
    steps in advance: the rate starts constant and ``callbacks.TimeBudget``
    sets it each epoch from the fraction of the budget used (budget-aware
    schedule, Li et al. 2020, "Budgeted Training").
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
    """Whether steps are compiled with XLA (``compile(xla_step=...)``) under ``tc.xla``.

    ``auto`` turns it on for the dense architectures (``mlp``, ``gated``) on
    one device in float32: there the step measured 10-20 % faster than TF's
    graph with oneDNN kernels (XLA's small matmuls are faster and it fuses the
    elementwise work and Adam; bench/RESULTS.md). Off for ``conv`` (oneDNN's
    convolutions are faster), for bfloat16 and under a ``tf.distribute``
    strategy (gradients are all-reduced between replicas inside the step).
    """
    if tc.xla != "auto":
        return tc.xla == "on"
    return (model_config.arch in DENSE_ARCHS and not tc.mixed_precision
            and tc.strategy == "default" and not tf.distribute.has_strategy())


@dataclasses.dataclass(frozen=True)
class Feed:
    """How a run feeds and steps its model (``plan_feed``).

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
            to divide the epoch (Keras runs whole executions), so ``plan_feed``
            lowers it to a divisor when one is at least half as large; without
            one (or under a strategy) False.
        steps_per_execution: Keras' calls of the step per execution.
        xla_step: whether each step is one XLA computation (``use_xla``).
    """

    steps_per_call: int = 1
    elements_per_epoch: Optional[int] = None
    persistent: bool = False
    steps_per_execution: int = 1
    xla_step: bool = False


def plan_feed(tc, model_config, n_train, distributed=None):
    """The ``Feed`` of a run with settings ``tc`` for a model of ``model_config`` on ``n_train`` images.

    Under a ``tf.distribute`` strategy (``distributed``; default: whether one
    is in scope) one step runs per call: Keras 3 fails to run its multi-step
    loop inside ``strategy.run`` (keras-team/keras#19246).
    """
    if distributed is None:
        distributed = tf.distribute.has_strategy()
    spe = 1 if distributed else min(tc.steps_per_execution, tc.log_every)
    xla_step = use_xla(tc, model_config)
    group = 1
    if xla_step and not distributed:
        group = max(g for g in range(1, data.CHUNK_BATCHES + 1) if int(tc.log_every) % g == 0)
        spe = max(1, spe // group)  # Keras counts calls, and each call runs a stack of `group` steps
    elements = data.elements_per_pass(n_train, tc.batch, group)
    divisor = max(d for d in range(1, spe + 1) if elements % d == 0)
    persistent = not distributed and 2 * divisor >= spe
    return Feed(group, elements, persistent, divisor if persistent else spe, xla_step)


def compile_model(model, tc, n_train, feed=None):
    """Compiles ``model`` for training exactly as ``tfvae train`` does (bench/ uses this too).

    Call it inside ``strategy.scope()`` under a strategy. The optimizer is
    ``FusedAdam`` (the same Adam in one TF kernel per variable, measured
    faster; bench/RESULTS.md); Keras' ``jit_compile`` stays off (it would
    compile the random draws too, and XLA's CPU random numbers are slow), the
    XLA step compiles the rest of the step instead.

    Returns:
        the ``Feed`` it compiled with (``feed``, or ``plan_feed(...)``).
    """
    feed = feed or plan_feed(tc, model.config, n_train)
    model.compile(optimizer=optim.FusedAdam(learning_rate(tc, n_train)), jit_compile=False,
                  steps_per_execution=feed.steps_per_execution, xla_step=feed.xla_step,
                  steps_per_call=feed.steps_per_call)
    model.optimizer.build(model.trainable_variables)
    return feed
