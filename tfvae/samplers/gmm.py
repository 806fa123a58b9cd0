"""``--sampler gmm``: a Gaussian mixture with full covariances fitted to the training codes (scikit-learn).

``sklearn.mixture.GaussianMixture(K, covariance_type="full")`` on the ``z_mean`` of the training images, the
post-hoc density of Ghosh et al. (2020, "From variational to deterministic autoencoders") and pythae's
``GaussianMixtureSampler``. A draw is ``z = mean_c + L_c eps`` with ``L_c`` the Cholesky factor of component c's
covariance and c picked by ``u`` through the weights' cumulative sum, as the mixture priors pick theirs.
"""

import os

import numpy as np

from tfvae.errors import TfvaeError
from tfvae.samplers.base import COMPONENTS, Fitted, Sampler, register

FILE = "gmm.npz"


def pick(weights, u):
    """The component each uniform ``u`` picks: ``#{k : cdf_k <= u}`` (``tfvae.models.densities.mixture_component``)."""
    cdf = np.cumsum(weights)[:-1]
    return (np.asarray(u)[:, None] >= cdf[None, :]).sum(axis=1)


class FittedMixture(Fitted):
    def __init__(self, weights, means, chol):
        self.weights, self.means, self.chol = (np.asarray(a, np.float64) for a in (weights, means, chol))
        self.components = len(self.weights)

    def sample(self, eps, u):
        c = pick(self.weights, u)
        z = self.means[c] + np.einsum("nij,nj->ni", self.chol[c], np.asarray(eps, np.float64))
        return z.astype(np.float32)

    def log_prob(self, z):
        """``log p(z)`` ``[n]`` of the mixture."""
        z = np.asarray(z, np.float64)
        d = z.shape[1]
        out = []
        for w, m, l in zip(self.weights, self.means, self.chol):
            y = np.linalg.solve(l, (z - m).T).T
            out.append(np.log(w) - 0.5 * (d * np.log(2 * np.pi) + (y**2).sum(1)) - np.log(np.diag(l)).sum())
        out = np.stack(out, 1)
        top = out.max(1, keepdims=True)
        return (top + np.log(np.exp(out - top).sum(1, keepdims=True)))[:, 0]


@register
class GMMSampler(Sampler):
    name = "gmm"
    help = "a full-covariance Gaussian mixture of --components K fitted to the training codes (scikit-learn)"
    fields = (COMPONENTS,)

    def fit(self, z, directory, options, seed=0, verbose=True):
        try:
            from sklearn.mixture import GaussianMixture
        except ImportError:  # pragma: no cover - a declared dependency
            raise TfvaeError("--sampler gmm needs scikit-learn: pip install scikit-learn") from None
        k = int(options.get("components", COMPONENTS.default))
        if not 1 <= k <= len(z):
            raise TfvaeError(f"--components must be in 1..{len(z)} (the training codes), got {k}")
        gmm = GaussianMixture(k, covariance_type="full", reg_covar=1e-6, max_iter=500, n_init=1,
                              random_state=int(seed), verbose=0).fit(z)
        np.savez(os.path.join(directory, FILE), weights=gmm.weights_, means=gmm.means_,
                 chol=np.linalg.cholesky(gmm.covariances_))
        return {"components": k, "converged": bool(gmm.converged_), "iterations": int(gmm.n_iter_),
                "train_log_likelihood_per_code": float(gmm.score(z))}

    def load(self, directory, meta):
        path = os.path.join(directory, FILE)
        try:
            with np.load(path) as f:
                return FittedMixture(f["weights"], f["means"], f["chol"])
        except (OSError, KeyError, ValueError) as e:
            raise TfvaeError(f"{path} is unreadable ({type(e).__name__}); fit it again with tfvae fit-sampler") from None
