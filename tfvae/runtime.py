"""``tfvae.runtime``: an alias of ``tfvae.deploy.runtime`` (its name before 0.2), kept for this release."""

import sys

from tfvae.deploy import runtime as _module

sys.modules[__name__] = _module
