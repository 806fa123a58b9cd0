"""``tfvae.serving``: an alias of ``tfvae.deploy.client`` (its name before 0.2), kept for this release.

Its ``sample_remote`` is now ``tfvae.pictures.samples.sample_remote``, the one sampling path; the alias
still offers it.
"""

import sys
import types

from tfvae.deploy import client as _module
from tfvae.pictures.samples import sample_remote

# The client module itself, seen through a module that adds sample_remote (the client no longer holds it).
_alias = types.ModuleType(__name__, __doc__)
_alias.__dict__.update({k: v for k, v in vars(_module).items() if not k.startswith("__")})
_alias.sample_remote = sample_remote
sys.modules[__name__] = _alias
