import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from tests.helpers import DENSE_KINDS, EVERY_KIND, NO_XLA, TINY_TRAIN

from tfvae import checkpoints, models
from tfvae.models import densities
from tfvae.engine import functions, optim
from tfvae.errors import TfvaeError


def _batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, 28, 28, 1)) > 0.7).astype(np.float32)


def test_train_step_loss_is_rec_plus_beta_kl_averaged():
    model = models.VAE(latent_dim=4, hidden=(16,), beta=0.5).build_all()
    x = tf.constant(_batch())
    keras.utils.set_random_seed(3)
    terms = model.compute_losses(x)
    np.testing.assert_allclose(
        terms["loss"].numpy(), terms["reconstruction_loss"].numpy() + 0.5 * terms["kl_loss"].numpy(), rtol=1e-6
    )
    m, lv = model.encode(x)
    np.testing.assert_allclose(terms["kl_loss"].numpy(), densities.kl_standard_normal(m, lv).numpy(), rtol=1e-6)
    model.compile(optimizer="adam")
    logs = model.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "reconstruction_loss", "kl_loss", "rmse"}
    # per-image nats: 784 Bernoulli pixels near p=0.5 at init -> about 784*log 2
    assert 400 < logs["reconstruction_loss"] < 700


def test_gradients_flow_through_the_sample():
    model = models.VAE(latent_dim=4, hidden=(16,)).build_all()
    x = tf.constant(_batch())
    with tf.GradientTape() as tape:
        z_mean, z_log_var = model.encode(x)
        z = model.reparameterize(z_mean, z_log_var)
        rec = tf.reduce_mean(densities.bernoulli_nll(x, model.decode_logits(z)))
    grads = tape.gradient(rec, model.encoder.trainable_variables)
    # The reconstruction term alone reaches both halves of the encoder's output
    # layer (mean and log-variance) only through the reparameterised sample.
    kernel = grads[-2].numpy()
    assert np.abs(kernel[:, :4]).sum() > 0 and np.abs(kernel[:, 4:]).sum() > 0


def test_fit_with_validation_data_reports_val_metrics():
    model = models.VAE(latent_dim=4, hidden=(32,)).build_all()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    x = _batch(64)
    h = model.fit(x, validation_data=(x,), epochs=3, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert "val_loss" in h.history and "val_rmse" in h.history


def test_config_round_trip_and_identical_outputs(tmp_path):
    model = models.VAE(input_shape=(28, 28, 1), latent_dim=6, hidden=(32, 16), beta=2.0).build_all()
    cfg = model.get_config()
    clone = models.VAE.from_config(json.loads(json.dumps(cfg))).build_all()
    assert clone.get_config() == cfg
    path = str(tmp_path / "ckpt")
    checkpoints.save(path, model, {"model": model.config.to_dict()}, {"epoch": 1})
    rebuilt = models.build_model(checkpoints.read_config(path)["model"])
    checkpoints.load_weights(rebuilt, path)
    x = _batch(4)
    np.testing.assert_array_equal(model.predict(x, verbose=0), rebuilt.predict(x, verbose=0))
    z = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)
    np.testing.assert_array_equal(model.decode(z).numpy(), rebuilt.decode(z).numpy())


def test_sample_shapes_range_and_temperature():
    model = models.VAE(latent_dim=3, hidden=(8,)).build_all()
    s = model.sample(5, seed=1).numpy()
    assert s.shape == (5, 28, 28, 1) and s.min() >= 0 and s.max() <= 1
    np.testing.assert_array_equal(s, model.sample(5, seed=1).numpy())
    # temperature 0 decodes the prior mean for every sample
    t0 = model.sample(3, temperature=0.0, seed=2).numpy()
    np.testing.assert_allclose(t0[0], t0[1])


def test_iwae_objective_is_a_tighter_bound_and_trains():
    keras.utils.set_random_seed(0)
    elbo_model = models.VAE(latent_dim=4, hidden=(32,)).build_all()
    iwae_model = models.VAE(latent_dim=4, hidden=(32,), objective="iwae", k=50).build_all()
    iwae_model.set_weights(elbo_model.get_weights())
    x = tf.constant(_batch(16))
    elbo = np.mean([elbo_model.compute_losses(x)["loss"].numpy().mean() for _ in range(20)])
    iwae = np.mean([iwae_model.compute_losses(x)["loss"].numpy().mean() for _ in range(5)])
    assert iwae < elbo  # -log-likelihood bound with k=50 is tighter than the -ELBO
    assert iwae_model.get_config()["objective"] == "iwae" and iwae_model.get_config()["k"] == 50
    iwae_model.compile(optimizer=keras.optimizers.Adam(1e-2))
    h = iwae_model.fit(_batch(64), epochs=3, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_iwae_through_the_cli(trained):
    run = trained(*TINY_TRAIN, *NO_XLA, "--objective", "iwae", "--k", "5", "--epoch", "1").path
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"]["objective"] == "iwae" and cfg["model"]["k"] == 5


def test_gated_layers_compute_a_glu_and_round_trip(tmp_path):
    model = models.VAE(latent_dim=4, hidden=(16, 8), arch="gated").build_all()
    layer = model.encoder.get_layer("enc_gated_0")
    x = np.random.default_rng(1).normal(size=(3, 784)).astype(np.float32)
    kernel, bias = (v.numpy() for v in layer.dense.weights)
    pre = x @ kernel + bias
    expected = pre[:, :16] / (1 + np.exp(-pre[:, 16:]))
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    path = str(tmp_path / "ckpt")
    checkpoints.save(path, model, {"model": model.config.to_dict()}, {"epoch": 1})
    rebuilt = models.build_model(checkpoints.read_config(path)["model"])
    checkpoints.load_weights(rebuilt, path)
    z = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.decode(z).numpy(), rebuilt.decode(z).numpy())
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    h = model.fit(_batch(64), epochs=3, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_vae2_bounds_round_trip_and_training():
    keras.utils.set_random_seed(0)
    elbo_model = models.VAE(latent_dim=4, latent_dim1=6, hidden=(32,), hidden2=(16,), model="vae2").build_all()
    cfg = elbo_model.get_config()
    assert cfg["latent_dim1"] == 6 and cfg["hidden2"] == [16]
    iwae_model = models.VAE.from_config({**cfg, "objective": "iwae", "k": 50}).build_all()
    iwae_model.set_weights(elbo_model.get_weights())
    x = tf.constant(_batch(16))
    terms = elbo_model.compute_losses(x)
    np.testing.assert_allclose(terms["loss"].numpy(),
                               (terms["reconstruction_loss"] + terms["kl_loss"]).numpy(), rtol=1e-5)
    elbo = np.mean([elbo_model.compute_losses(x)["loss"].numpy().mean() for _ in range(20)])
    iwae = np.mean([iwae_model.compute_losses(x)["loss"].numpy().mean() for _ in range(5)])
    assert iwae < elbo
    # the top layer is what sampling, encode and the exported decoder use
    assert elbo_model.encode(x)[0].shape == (16, 4)
    assert elbo_model.sample(3, seed=1).shape == (3, 28, 28, 1)
    assert elbo_model(x).shape == (16, 28, 28, 1)
    elbo_model.compile(optimizer=keras.optimizers.Adam(1e-2))
    h = elbo_model.fit(_batch(64), epochs=3, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    with pytest.raises(TfvaeError, match="vae2"):
        models.VAEConfig(model="vae2", arch="conv")
    assert models.VAEConfig(latent_dim=50, model="vae2", hidden=(200, 200)).hidden2 == (100, 100)


@pytest.mark.parametrize("kwargs", DENSE_KINDS.values(), ids=DENSE_KINDS.keys())
def test_xla_step_is_the_graph_step(kwargs):
    """compile(xla_step=True) runs the same step: same noise, same terms, same update.

    Plain SGD, whose update is linear in the gradient, shows the gradients agree to float rounding. Under
    Adam (FusedAdam, as tfvae train runs it) the logs agree too, and so do the weights, but for the odd
    element whose gradient is rounding noise: Adam's update m / sqrt(v) rescales that noise to a full step.
    """
    x = tf.constant(_batch(16, seed=5))
    data = (x, tf.constant(np.arange(16) % 10)) if kwargs.get("model") == "cvae" else x
    for make_optimizer in (lambda: keras.optimizers.SGD(0.05), lambda: optim.FusedAdam(1e-2)):
        results = []
        for xla in (False, True):
            keras.utils.set_random_seed(7)  # same initial weights and sampling seed
            model = models.VAE(**kwargs).build_all()
            start = [w.copy() for w in model.get_weights()]
            model.compile(optimizer=make_optimizer(), xla_step=xla)
            train, test = functions.train_function_step(model), functions.test_function_step(model)
            logs = [train(data) for _ in range(3)]  # the step make_train_function hands Keras' loop
            val = test(data)
            results.append(({k: float(v) for k, v in logs[-1].items()}, {k: float(v) for k, v in val.items()},
                            [w.copy() for w in model.get_weights()], start))
        (logs_tf, val_tf, w_tf, start_tf), (logs_xla, val_xla, w_xla, start_xla) = results
        for a, b in zip(start_tf, start_xla):
            np.testing.assert_array_equal(a, b)
        assert logs_tf.keys() == logs_xla.keys() == set(models.TERMS)
        for k in logs_tf:
            np.testing.assert_allclose(logs_xla[k], logs_tf[k], rtol=1e-4, err_msg=k)
            np.testing.assert_allclose(val_xla[k], val_tf[k], rtol=1e-4, err_msg=k)
        assert max(np.abs(a - b).max() for a, b in zip(w_tf, start_tf)) > 1e-3  # the steps moved the weights
        off = np.concatenate([(~np.isclose(a, b, rtol=1e-4, atol=1e-5)).ravel() for a, b in zip(w_tf, w_xla)])
        if isinstance(model.optimizer, keras.optimizers.SGD):
            assert not off.any()
        else:
            assert off.mean() < 0.02


@pytest.mark.parametrize("kwargs, xla", [(kw, xla) for name, kw in EVERY_KIND.items() for xla in (True, False)
                                         if not xla or name in DENSE_KINDS],
                         ids=[f"{name}-{'xla' if xla else 'graph'}" for name in EVERY_KIND for xla in (True, False)
                              if not xla or name in DENSE_KINDS])
def test_a_stack_of_batches_is_that_many_steps(kwargs, xla):
    """The wrapped step on a stack [3, 8, ...] (compile(steps_per_call=3), make_dataset(group=3)) = three train_steps.

    The same noise (one draw per step, from the same seed stream), the same updates (FusedAdam, as tfvae
    train runs it) and the same running-mean logs; test_step on a stack = on the stack as one batch.
    """
    rng = np.random.default_rng(1)
    xs = tf.constant((rng.random((3, 8, 28, 28, 1)) > 0.7).astype(np.float32))
    ys = tf.constant(rng.integers(0, 10, (3, 8)))
    results = []
    for stacked in (True, False):
        keras.utils.set_random_seed(7)
        model = models.VAE(**kwargs).build_all()
        start = [w.copy() for w in model.get_weights()]
        model.compile(optimizer=optim.FusedAdam(1e-2), xla_step=xla, steps_per_call=3 if stacked else 1)
        step = tf.function(functions.train_function_step(model))  # what make_train_function hands Keras
        if stacked:
            logs = step((xs, ys))
        else:
            for i in range(3):
                logs = step((xs[i], ys[i]))
        results.append(({k: float(v) for k, v in logs.items()}, model.get_weights(), int(model.optimizer.iterations)))
    (logs_s, w_s, it_s), (logs_1, w_1, it_1) = results
    assert it_s == it_1 == 3
    assert logs_s.keys() == set(models.TERMS)
    for k in logs_s:
        np.testing.assert_allclose(logs_s[k], logs_1[k], rtol=1e-5, err_msg=k)
    assert max(np.abs(a - b).max() for a, b in zip(w_1, start)) > 1e-3  # the steps moved the weights
    # equal but for float rounding (XLA may fuse a loop body differently), which Adam can blow up to a full
    # step for the odd element whose gradient is rounding noise (as in test_xla_step_is_the_graph_step)
    off = np.concatenate([(~np.isclose(a, b, rtol=1e-4, atol=1e-5)).ravel() for a, b in zip(w_s, w_1)])
    assert off.mean() < 0.001
    # validation: a stack gives what one test_step per batch gives (the same noise), without updates
    seed, before = model.seed_generator.state.numpy(), model.get_weights()
    model.term_means.reset_state()
    model.steps_per_call = 3  # the plan: validation data come as stacks too
    v_stack = {k: float(v) for k, v in tf.function(functions.test_function_step(model))((xs, ys)).items()}
    model.term_means.reset_state()
    model.seed_generator.state.assign(seed)
    model.steps_per_call = 1
    one = tf.function(functions.test_function_step(model))
    for i in range(3):
        v_one = one((xs[i], ys[i]))
    for k in v_stack:
        np.testing.assert_allclose(v_stack[k], float(v_one[k]), rtol=1e-5, err_msg=k)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_draw_noise_shapes():
    assert models.VAE(latent_dim=4, hidden=(8,)).build_all().draw_noise(5).shape == (5, 1, 4)
    assert models.VAE(latent_dim=4, hidden=(8,), objective="iwae", k=3).build_all().draw_noise(5).shape == (5, 3, 4)
    assert models.VAE(latent_dim=2, hidden=(8,), model="vae2", latent_dim1=6).build_all().draw_noise(5).shape == (5, 1, 8)
    assert models.VAE(latent_dim=4, hidden=(8,), model="ae").build_all().draw_noise(5) is None
