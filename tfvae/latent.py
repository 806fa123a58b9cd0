"""``tfvae.latent``: its old names, now in ``tfvae.pictures`` (latent_maps, samples), kept for this release."""

from tfvae.pictures.latent_maps import (  # noqa: F401
    class_grid, encode_means, interpolation, latent_scatter, manifold, most_active_dims, pca2, run_viz)
from tfvae.pictures.samples import run_generate, run_generate_exported  # noqa: F401
