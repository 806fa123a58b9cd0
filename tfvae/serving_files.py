"""``tfvae.serving_files``: an alias of ``tfvae.deploy.tf_serving_files`` (its name before 0.2), kept for this release."""

import sys

from tfvae.deploy import tf_serving_files as _module

sys.modules[__name__] = _module
