"""``tfvae.sweep``: an alias of ``tfvae.training.sweep`` (its name before 0.2), kept for this release."""

import sys

from tfvae.training import sweep as _module

sys.modules[__name__] = _module
