"""``tfvae.export``: an alias of ``tfvae.deploy.export`` (its name before 0.2), kept for this release."""

import sys

from tfvae.deploy import export as _module

sys.modules[__name__] = _module
