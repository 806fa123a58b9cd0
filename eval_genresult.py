#!/usr/bin/env python
"""Generate samples: a thin wrapper for ``tfvae generate`` (same flags)."""

from tfvae.cli import run

if __name__ == "__main__":
    import sys

    run(["generate"] + sys.argv[1:])
