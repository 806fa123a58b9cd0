"""The evaluation protocol: IWAE against an exact likelihood, active units, RMSE, generate."""

import math

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfvae import cli, models
from tfvae.evaluation import estimator
from tfvae.models import densities
from tfvae.models import likelihoods


def _exact_log_px(model, images):
    """log p(x) of a 1-D-latent model by quadrature over z on a fine grid."""
    z = np.linspace(-12, 12, 24001, dtype=np.float32)[:, None]
    dz = float(z[1, 0] - z[0, 0])
    logits = model.decode_logits(tf.constant(z)).numpy().reshape(len(z), -1).astype(np.float64)
    log_prior = -0.5 * (np.log(2 * np.pi) + z[:, 0].astype(np.float64) ** 2)
    out = []
    for x in images.reshape(len(images), -1).astype(np.float64):
        log_px_z = -(np.logaddexp(0, logits) - x * logits).sum(1)
        a = log_px_z + log_prior
        out.append(np.logaddexp.reduce(a) + np.log(dz))
    return np.array(out)


@pytest.fixture(scope="module")
def tiny_model():
    tf.keras.utils.set_random_seed(5)
    model = models.VAE(input_shape=(2, 3, 1), latent_dim=1, hidden=(8,)).build_all()
    # Make the decoder depend strongly on z and the encoder imperfect, so the
    # bound is loose and the importance weights have something to do.
    w = model.decoder.get_weights()
    w[0] = w[0] * 6.0
    model.decoder.set_weights(w)
    return model


def test_iwae_moves_from_elbo_to_exact_likelihood(tiny_model):
    rng = np.random.default_rng(0)
    base = (rng.random((6, 2, 3, 1)) > 0.5).astype(np.float32)
    images = np.repeat(base, 50, axis=0)  # repeats average out the Monte-Carlo noise
    exact_nll = -_exact_log_px(tiny_model, base).mean()  # the same mean: each repeat has its image's log p(x)
    r1 = estimator.evaluate(tiny_model, images, iwae_samples=1, seed=1, verbose=0)
    r10 = estimator.evaluate(tiny_model, images, iwae_samples=10, seed=1, verbose=0)
    r2000 = estimator.evaluate(tiny_model, images, iwae_samples=2000, seed=1, verbose=0)
    # K = 1 is the single-sample ELBO estimate
    assert abs(r1["nll"] - r1["neg_elbo"]) < 0.05 * r1["neg_elbo"]
    assert r1["neg_elbo"] > exact_nll + 0.1, "the test needs a loose bound"
    # the bound tightens monotonically and never goes below the truth (up to MC noise)
    assert r1["nll"] > r10["nll"] > r2000["nll"] >= exact_nll - 0.01
    assert abs(r2000["nll"] - exact_nll) < 0.05 * abs(r1["nll"] - exact_nll)
    assert r2000["nll"] <= r2000["neg_elbo"]
    # same seed -> same numbers
    again = estimator.evaluate(tiny_model, images, iwae_samples=10, seed=1, verbose=0)
    assert again["nll"] == r10["nll"]


def test_iwae_is_stable_for_extreme_log_weights(tiny_model):
    images = np.ones((3, 2, 3, 1), np.float32)
    r = estimator.evaluate(tiny_model, images, iwae_samples=5000, verbose=0)
    assert all(math.isfinite(r[k]) for k in ("nll", "neg_elbo", "bits_per_dim"))


def test_active_units_on_a_constructed_encoder():
    model = models.VAE(input_shape=(4, 4, 1), latent_dim=6, hidden=(8,)).build_all()
    w = model.encoder.get_weights()
    kernel, bias = w[-2], w[-1]
    kernel[:, 3:6] = 0.0  # means of dims 3..5 do not depend on x
    kernel[:, :3] *= 20.0  # dims 0..2 vary a lot with x
    kernel[:, 6:] = 0.0
    bias[:] = 0.3
    model.encoder.set_weights(w[:-2] + [kernel, bias])
    images = np.random.default_rng(0).random((200, 4, 4, 1)).astype(np.float32)
    r = estimator.evaluate(model, images, iwae_samples=2, verbose=0)
    assert r["active_units"] == 3
    assert estimator.active_units(np.c_[np.zeros(10), np.arange(10.0)]) == 1


def test_rmse_covers_every_image_not_one_batch():
    model = models.VAE(input_shape=(4, 4, 1), latent_dim=2, hidden=(8,)).build_all()
    rng = np.random.default_rng(1)
    images = rng.random((53, 4, 4, 1)).astype(np.float32)
    images[-3:] = 1.0  # a last batch unlike the rest
    recon = model(images).numpy()
    expected = np.sqrt(((recon - images) ** 2).reshape(53, -1).mean(1)).mean()
    r = estimator.evaluate(model, images, iwae_samples=3, batch=10, verbose=0)
    assert r["n_examples"] == 53
    np.testing.assert_allclose(r["rmse"], expected, rtol=1e-5)


def test_generate_writes_a_grid(tmp_path, capsys):
    out = tmp_path / "g.png"
    rc = cli.main(["generate", "--num", "12", "--nrow", "4", "--scale", "2", "--seed", "3", "--output", str(out)])
    assert rc == 0, capsys.readouterr().err
    img = np.asarray(Image.open(out))
    assert img.shape == ((3 * 30 + 2) * 2, (4 * 30 + 2) * 2)
    assert img.dtype == np.uint8 and img.min() < 30 and img.max() > 200  # digits: dark ground, bright strokes


def test_generate_rejects_bad_flags(capsys):
    for flags in (["--num", "0"], ["--temperature", "-1"]):
        with pytest.raises(SystemExit) as e:
            cli.main(["generate"] + flags)
        assert e.value.code == 2
        assert capsys.readouterr().err.startswith("tfvae: error:")


def test_eval_of_shipped_weights_on_real_mnist(zoo_eval):
    """``tfvae eval --num_examples 200 --iwae_samples 50 --save_images`` of the default weights (better_weight;
    conftest's zoo_eval, which test_zoo checks against the set's metrics.json)."""
    m, out, root = zoo_eval("better_weight")
    for key in ("dataset", "split", "n_examples", "binarize", "iwae_samples", "elbo", "neg_elbo", "nll",
                "bits_per_dim", "reconstruction_loss", "kl", "rmse", "active_units", "latent_dim", "seconds"):
        assert key in m
    assert m["dataset"] == "mnist" and m["n_examples"] == 200 and m["binarize"] == "dynamic"
    assert m["nll"] <= m["neg_elbo"] and m["elbo"] == -m["neg_elbo"]
    assert 70 < m["nll"] < 95 and m["rmse"] < 0.25 and m["active_units"] >= 10
    assert "likelihood_note" not in m
    assert (root / "reconstructions.png").is_file()
    assert "NLL (importance-weighted" in out


def _exact_log_px_vae2(model, images):
    """log p(x) of a vae2 with 1-D z1 and z2 by quadrature over both on a grid."""
    z = np.linspace(-10, 10, 2001, dtype=np.float32)[:, None]
    dz = float(z[1, 0] - z[0, 0])
    z64 = z[:, 0].astype(np.float64)
    logits = model.decoder(tf.constant(z)).numpy().reshape(len(z), -1).astype(np.float64)  # z1 -> x
    pm, plv = (t.numpy()[:, 0].astype(np.float64) for t in model.kind._prior1(model, tf.constant(z)))  # z2 -> p(z1|z2)
    # log p(z1 | z2) on the grid: rows z2, columns z1
    log_p1 = -0.5 * (np.log(2 * np.pi) + plv[:, None] + (z64[None, :] - pm[:, None]) ** 2 * np.exp(-plv[:, None]))
    log_p2 = -0.5 * (np.log(2 * np.pi) + z64 ** 2)
    out = []
    for x in images.reshape(len(images), -1).astype(np.float64):
        log_px_z1 = -(np.logaddexp(0, logits) - x * logits).sum(1)
        a = log_p2[:, None] + log_p1 + log_px_z1[None, :]
        out.append(np.logaddexp.reduce(a.ravel()) + 2 * np.log(dz))
    return np.array(out)


def test_vae2_iwae_moves_from_elbo_to_exact_likelihood():
    tf.keras.utils.set_random_seed(6)
    model = models.VAE(input_shape=(2, 3, 1), latent_dim=1, latent_dim1=1, hidden=(8,), hidden2=(4,),
                       model="vae2").build_all()
    w = model.decoder.get_weights()
    w[0] = w[0] * 6.0  # x depends strongly on z1
    model.decoder.set_weights(w)
    w = model.prior1.get_weights()
    w[-2] = w[-2] * 3.0  # z1 depends on z2, with a log-variance near 0 (resolved by the grid)
    model.prior1.set_weights(w)
    for net in (model.encoder, model.encoder2):  # wide proposals (log-variance 1): importance sampling converges
        w = net.get_weights()
        w[-2][:, 1:] = 0.0
        w[-1][1:] = 1.0
        net.set_weights(w)
    rng = np.random.default_rng(0)
    base = (rng.random((6, 2, 3, 1)) > 0.5).astype(np.float32)
    images = np.repeat(base, 50, axis=0)
    exact_nll = -_exact_log_px_vae2(model, base).mean()  # the quadrature once per distinct image
    r1 = estimator.evaluate(model, images, iwae_samples=1, seed=1, verbose=0)
    r2000 = estimator.evaluate(model, images, iwae_samples=2000, seed=1, verbose=0)
    assert abs(r1["nll"] - r1["neg_elbo"]) < 0.05 * r1["neg_elbo"]
    assert r1["neg_elbo"] > exact_nll + 0.1, "the test needs a loose bound"
    assert r1["nll"] > r2000["nll"] >= exact_nll - 0.01
    assert abs(r2000["nll"] - exact_nll) < 0.05 * abs(r1["nll"] - exact_nll)


def test_fused_latent_terms_equal_the_densities():
    """evaluate's fused z and log p(z) - log q(z|x) are the textbook densities of the same draw."""
    rng = np.random.default_rng(0)
    mean = tf.constant(rng.normal(size=(3, 6)), tf.float32)
    log_var = tf.constant(rng.uniform(-6, 2, size=(3, 6)), tf.float32)
    eps = tf.constant(rng.normal(size=(3, 50, 6)), tf.float32)
    z, log_ratio = densities.sample_and_log_ratio(mean, log_var, eps)
    np.testing.assert_allclose(z.numpy(), (mean[:, None] + tf.exp(0.5 * log_var)[:, None] * eps).numpy(), rtol=1e-5,
                               atol=1e-6)
    want = densities.log_standard_normal(z) - densities.log_normal(z, mean[:, None], log_var[:, None])
    np.testing.assert_allclose(log_ratio.numpy(), want.numpy(), rtol=1e-4, atol=1e-4)


def test_fused_bernoulli_likelihood_equals_cross_entropy():
    rng = np.random.default_rng(1)
    logits = tf.constant(rng.normal(scale=12.0, size=(2, 40, 784)), tf.float32)  # saturated pixels included
    x = tf.constant((rng.random((2, 1, 784)) < 0.3).astype(np.float32))
    got = likelihoods._bernoulli_log_prob_fused(logits, x).numpy()
    want = -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.broadcast_to(x, logits.shape),
                                                                 logits=logits), axis=-1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5)
