"""``tfvae.plots``: an alias of ``tfvae.pictures.charts`` (its name before 0.2), kept for this release."""

import sys

from tfvae.pictures import charts as _module

sys.modules[__name__] = _module
