"""Sample quality: the Fréchet distance between a model's samples and test images, in a classifier's features.

``FD = |mu_s - mu_t|^2 + tr(S_s + S_t - 2 (S_s S_t)^(1/2))`` of the Gaussians fitted to the features of N
samples (decoder means, from the prior or the fitted post-hoc sampler, through the one sampling path's draws,
``tfvae.pictures.samples.draw_z`` / ``draw_u``) and of the first N test images (grey levels, not binarized),
in the penultimate layer of the dataset's shipped classifier (``tfvae.evaluation.classifier``): FID's
recipe (Heusel et al. 2017) with a classifier of the dataset in place of Inception. Lower is better; it is a
biased estimate that falls as N grows, so compare numbers of the same N only.
"""

import numpy as np

from tfvae.errors import TfvaeError

DEFAULT_N = 10000


def _psd_sqrt(s):
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(a, b):
    """The Fréchet distance between Gaussians fitted to feature sets ``a`` and ``b`` ``[n, f]``.

    ``tr((S_a S_b)^(1/2))`` is computed as the sum of the square roots of the eigenvalues of the symmetric
    ``S_a^(1/2) S_b S_a^(1/2)`` (the same eigenvalues), so singular covariances (dead ReLU features) need no
    nudging.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _psd_sqrt(s_a)
    middle = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a) + np.trace(s_b)
                 - 2.0 * np.sum(np.sqrt(np.clip(middle, 0.0, None))))


def model_samples(model, n, seed=0, sampler=None, batch=1000):
    """``n`` decoder means of prior (or ``sampler``) draws; a cvae's labels cycle through its classes."""
    from tfvae.pictures.samples import draw_u, draw_z

    eps, u = draw_z(seed, n, model.latent_dim), draw_u(seed, n)
    z = sampler.sample(eps, u) if sampler is not None else model.prior_sample(eps, u).numpy()
    labels = np.arange(n) % model.num_classes if model.config.conditional else None
    return np.concatenate([model.decode(z[i:i + batch], None if labels is None else labels[i:i + batch]).numpy()
                           for i in range(0, n, batch)])


def sample_quality(model, dataset, test_images, n=DEFAULT_N, seed=0, sampler=None):
    """The ``sample_quality`` record of ``metrics.json``, or None where ``dataset`` has no shipped classifier.

    Args:
        model: a model that samples.
        dataset: its dataset spec (which classifier).
        test_images: the test split's grey images ``[N, 28, 28, 1]`` in [0, 1], in their order.
        n: samples and test images compared.
        sampler: a fitted post-hoc sampler (``tfvae.samplers.load``), or None for the prior.
    """
    from tfvae.evaluation import classifier

    features = classifier.load(dataset)
    if features is None:
        return None
    if not model.can_sample:
        raise TfvaeError("--sample_quality needs a model that samples (this one has no prior)")
    if n > len(test_images) or n < 2:
        raise TfvaeError(f"--sample_quality N must be in 2..{len(test_images)} (the test images), got {n}")
    fd = frechet_distance(features.features(model_samples(model, n, seed, sampler)),
                          features.features(test_images[:n]))
    return {"fd": fd, "n": int(n), "seed": int(seed), "sampler": sampler.name if sampler is not None else "prior",
            "temperature": 1.0, "features": f"classifiers/{features.dataset} penultimate layer "
                                              f"({classifier.FEATURES}), test accuracy "
                                              f"{features.meta['test_accuracy']:.2%}",
            "reference": f"the first {n} test images, grey levels"}
