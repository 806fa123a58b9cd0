"""``tfvae.convert``: an alias of ``tfvae.deploy.convert`` (its name before 0.2), kept for this release."""

import sys

from tfvae.deploy import convert as _module

sys.modules[__name__] = _module
