"""``tfvae.explorer.rest``: an alias of ``tfvae.deploy.rest_server`` (its name before 0.2), kept for this release."""

import sys

from tfvae.deploy import rest_server as _module

sys.modules[__name__] = _module
