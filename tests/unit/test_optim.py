import keras
import numpy as np
import tensorflow as tf

from tfvae import models
from tfvae.engine import optim


def test_fused_adam_matches_keras_adam():
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(7, 3)).astype(np.float32)
    grads = [rng.normal(size=(7, 3)).astype(np.float32) for _ in range(20)]
    out = []
    for opt in (keras.optimizers.Adam(3e-2), optim.FusedAdam(3e-2)):
        v = keras.Variable(w0)
        opt.build([v])
        for g in grads:
            opt.apply_gradients([(tf.constant(g), v)])
        out.append(v.numpy())
        assert len(opt.variables) == 4  # iterations, learning rate, m, v: checkpoints interchange
    np.testing.assert_allclose(out[0], out[1], atol=2e-6)
    assert np.abs(out[0] - w0).max() > 0.1


def test_fused_adam_with_a_schedule_trains_a_vae():
    model = models.build_model({"latent_dim": 2, "hidden": [16]})
    sched = keras.optimizers.schedules.CosineDecay(1e-2, decay_steps=20)
    model.compile(optimizer=optim.FusedAdam(sched))
    x = (np.random.default_rng(0).random((64, 28, 28, 1)) > 0.7).astype(np.float32)
    h = model.fit(x, epochs=3, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
