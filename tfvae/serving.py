"""``tfvae.serving``: an alias of ``tfvae.deploy.client`` (its name before 0.2), kept for this release."""

import sys

from tfvae.deploy import client as _module

sys.modules[__name__] = _module
