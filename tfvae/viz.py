"""``tfvae.viz``: an alias of ``tfvae.pictures.grids`` (its name before 0.2), kept for this release."""

import sys

from tfvae.pictures import grids as _module

sys.modules[__name__] = _module
