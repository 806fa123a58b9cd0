"""The training terms and their running means."""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras

# The per-example terms every model's ``compute_losses`` returns; the logs,
# history.json and TensorBoard carry their running means under these names.
TERMS = ("loss", "reconstruction_loss", "kl_loss", "rmse")


@keras.saving.register_keras_serializable(package="tfvae")
class TermMeans(keras.metrics.Metric):
    """Running means of several per-example terms, updated together.

    One state vector and one count instead of a ``keras.metrics.Mean`` per
    term: the same numbers with a few ops per step instead of a few dozen
    (it shows on a CPU step of a few milliseconds; bench/step_breakdown.py).

    Args:
        names: the terms, in the order ``update_state`` gets them.
    """

    def __init__(self, names=TERMS, name="terms", **kwargs):
        super().__init__(name=name, **kwargs)
        self.names = tuple(names)
        self.total = self.add_variable(shape=(len(self.names),), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values):
        """``values``: ``[len(names), batch]``."""
        values = tf.cast(values, self.total.dtype)
        self.total.assign_add(tf.reduce_sum(values, axis=1))
        self.count.assign_add(tf.cast(tf.shape(values)[1], self.count.dtype))

    def result(self):
        """``{name: running mean}`` (Keras puts a dict result's items into the logs)."""
        means = tf.math.divide_no_nan(self.total, self.count)
        return {n: means[i] for i, n in enumerate(self.names)}

    def reset_state(self):
        self.total.assign(tf.zeros_like(self.total))
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "names": list(self.names)}
