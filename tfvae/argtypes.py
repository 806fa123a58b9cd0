"""``tfvae.argtypes``: an alias of ``tfvae.cli.argtypes`` (its name before 0.2), kept for this release."""

import sys

from tfvae.cli import argtypes as _module

sys.modules[__name__] = _module
