"""``tf.distribute`` helpers: the strategy of ``--strategy``, the chief, and a replica's rows.

Nothing here knows a model: the training steps (``tfvae.engine.steps``), the
run loop and evaluation call these.
"""

import json
import os
import re

from tfvae._tf import tf  # first: TensorFlow without its start-up notices

from tfvae.config import STRATEGIES
from tfvae.errors import TfvaeError

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


def in_replica():
    """True inside ``strategy.run`` of a ``tf.distribute`` strategy (not the default one)."""
    return tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context()


def replica_rows(n):
    """``(offset, global_batch)`` of this replica's ``n`` examples in the global batch.

    Replicas are ordered by their id; one all-gather of the local sizes
    (they differ on a last, partial batch).
    """
    ctx = tf.distribute.get_replica_context()
    sizes = ctx.all_gather(tf.reshape(tf.cast(n, tf.int32), [1]), axis=0)
    rid = tf.cast(ctx.replica_id_in_sync_group, tf.int32)
    return tf.reduce_sum(sizes[:rid]), tf.reduce_sum(sizes)


def multi_worker():
    """Whether the current strategy spans several hosts (Keras then reduces every log across them)."""
    strategy = tf.distribute.get_strategy()
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode())  # Keras' own test for that reduction
