"""``tfvae.losses``: an alias of ``tfvae.models.densities`` (its name before 0.2), kept for this release."""

import sys

from tfvae.models import densities as _module

sys.modules[__name__] = _module
