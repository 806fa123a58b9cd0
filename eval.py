#!/usr/bin/env python
"""Evaluate a model: a thin wrapper for ``tfvae eval`` (same flags)."""

from tfvae.cli import run

if __name__ == "__main__":
    import sys

    run(["eval"] + sys.argv[1:])
