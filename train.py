#!/usr/bin/env python
"""Train a VAE: a thin wrapper for ``tfvae train`` (same flags)."""

from tfvae.cli import run

if __name__ == "__main__":
    import sys

    run(["train"] + sys.argv[1:])
