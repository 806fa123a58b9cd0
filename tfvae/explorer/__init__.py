"""The latent-space explorer in the browser: ``tfvae explore``.

* ``tfvae.explorer.page``: what the page is told about the model (TensorFlow-free);
* ``tfvae.deploy.rest_server``: TF Serving's REST API over the exported decoder and encoder;
* ``tfvae.explorer.server``: the development server (page, ``/explorer.json``, ``/v1/``);
* ``static/``: the page itself (HTML, CSS, JS, bundled test images), shipped with the package.
"""
