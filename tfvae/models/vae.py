"""``tfvae.models.vae``: its old names (0.1), kept for this release: the model is ``tfvae.models.model.VAE``,
the fused latent terms and rmse are ``tfvae.models.densities``'."""

from tfvae.models.densities import rmse, sample_and_log_ratio  # noqa: F401
from tfvae.models.model import VAE  # noqa: F401
