"""Pictures: ``grids`` (image grids as PNG), ``charts`` (curves, scatter plots, titled images),
``latent_maps`` (``tfvae viz``), ``samples`` (``tfvae generate``)."""
