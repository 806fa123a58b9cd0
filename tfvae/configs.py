"""``tfvae.configs``: an alias of ``tfvae.config`` (its name before 0.2), kept for this release."""

import sys

from tfvae import config as _module

sys.modules[__name__] = _module
