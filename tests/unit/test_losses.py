import numpy as np
import tensorflow as tf

from tfvae.models import densities


def test_bernoulli_nll_matches_numpy():
    rng = np.random.default_rng(0)
    x = (rng.random((3, 4, 4, 1)) > 0.5).astype(np.float32)
    x[0, 0, 0, 0] = 0.3  # real-valued targets are allowed (cross-entropy)
    logits = rng.normal(size=(3, 4, 4, 1)).astype(np.float32) * 3
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(3, -1).sum(1)
    got = densities.bernoulli_nll(tf.constant(x), tf.constant(logits)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_bernoulli_nll_is_stable_for_huge_logits():
    x = tf.constant([[1.0, 0.0]])
    got = densities.bernoulli_nll(x, tf.constant([[-200.0, 200.0]])).numpy()
    np.testing.assert_allclose(got, [400.0], rtol=1e-6)


def test_kl_matches_numpy():
    rng = np.random.default_rng(1)
    m = rng.normal(size=(5, 3)).astype(np.float32)
    lv = rng.normal(size=(5, 3)).astype(np.float32)
    expected = 0.5 * (np.exp(lv) + m**2 - 1 - lv).sum(1)
    np.testing.assert_allclose(densities.kl_standard_normal(m, lv).numpy(), expected, rtol=1e-5)
    # KL of the prior to itself is zero.
    np.testing.assert_allclose(densities.kl_standard_normal(np.zeros((2, 4)), np.zeros((2, 4))).numpy(), 0.0)


def test_log_normal_matches_scipy_form():
    z = np.array([[0.5, -1.0]], np.float32)
    m = np.array([[0.1, 0.2]], np.float32)
    lv = np.array([[0.3, -0.4]], np.float32)
    var = np.exp(lv)
    expected = (-0.5 * (np.log(2 * np.pi * var) + (z - m) ** 2 / var)).sum()
    np.testing.assert_allclose(densities.log_normal(z, m, lv).numpy(), [expected], rtol=1e-5)
    np.testing.assert_allclose(
        densities.log_standard_normal(z).numpy(), [(-0.5 * (np.log(2 * np.pi) + z**2)).sum()], rtol=1e-5
    )
