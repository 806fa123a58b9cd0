"""Optimizers: Adam with TensorFlow's fused update kernel.

Keras 3's ``Adam.update_step`` builds the update from about ten small ops per
variable. ``FusedAdam`` does the same maths in one ``ResourceApplyAdam``
kernel per variable (the kernel ``tf.keras`` 2 used), which matters on a CPU
where a step of a small MLP is only a few milliseconds: see
``bench/RESULTS.md``. Same hyper-parameters, same variables (so checkpoints
of either load into the other), same results to float rounding.
"""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices
import keras


@keras.saving.register_keras_serializable(package="tfvae")
class FusedAdam(keras.optimizers.Adam):
    """``keras.optimizers.Adam`` whose update is TF's fused ``ResourceApplyAdam``.

    Falls back to Keras' own update for ``amsgrad`` and sparse gradients.
    Under a ``tf.distribute`` strategy the kernel runs on each replica's copy
    (tests/test_distribute.py checks mirrored against single-device).
    """

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=m.handle, v=v.handle,
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
            lr=lr, beta1=beta_1, beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype),
        )
