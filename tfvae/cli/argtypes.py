"""argparse types of the command line's flags, TensorFlow-free.

A type that rejects its value raises ``argparse.ArgumentTypeError``; the parser
turns it into the one line ``tfvae: error: argument --FLAG: <message>`` and
exit status 2. The path types check only what can be known before any work
starts: an existing path of the wrong kind (a file where a directory is wanted,
or the reverse), or a parent that is a file. A missing path is fine: the
command creates it (outputs) or says what is missing (inputs).
"""

import argparse
import os

from tfvae.deploy.formats import parse_formats
from tfvae.errors import TfvaeError


def _int_at_least(s, low, what):
    try:
        v = int(s)
    except ValueError:
        v = low - 1
    if v < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {s!r}")
    return v


def positive_int(s):
    return _int_at_least(s, 1, "a positive integer")


def nonneg_int(s):
    return _int_at_least(s, 0, "an integer >= 0")


def _finite_float(s, what, ok):
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {s!r}") from None
    if not ok(v) or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite {what}, got {s!r}")
    return v


def positive_float(s):
    return _finite_float(s, "number > 0", lambda v: v > 0)


def nonneg_float(s):
    return _finite_float(s, "number >= 0", lambda v: v >= 0)


def int_list(s):
    try:
        v = tuple(int(p) for p in s.split(",") if p.strip())
    except ValueError:
        v = ()
    if not v or min(v) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers like 512,256, got {s!r}")
    return v


def float_list(s):
    try:
        v = tuple(float(p) for p in s.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers like 0.5,1, got {s!r}") from None
    if not v or min(v) < 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers >= 0, got {s!r}")
    return v


def port_number(s):
    """``--port``: 0..65535 (0: any free port)."""
    v = _int_at_least(s, 0, "a port number 0..65535")
    if v > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0..65535, got {s!r}")
    return v


def http_url(s):
    """An ``http://`` or ``https://`` root such as ``http://localhost:8501`` (no query, no fragment)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(s.strip())
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(f"expected the http(s) root of TF Serving's REST API, like "
                                         f"http://localhost:8501, got {s!r}")
    return s.strip().rstrip("/")


def export_formats(s):
    """``--formats``: comma-separated ``saved_model``, ``litert``, ``onnx``, or ``all``."""
    try:
        return parse_formats(s)
    except TfvaeError as e:
        raise argparse.ArgumentTypeError(str(e).replace("--formats takes", "expected")) from None


# ------------------------------------------------------------------ paths
def _blocking_ancestor(path):
    """The nearest existing ancestor of ``path`` if it is not a directory, else None."""
    probe = os.path.dirname(os.path.abspath(path))
    while probe and not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent
    return probe if probe and not os.path.isdir(probe) else None


def directory(s):
    """A directory to write into (or read from): must not exist as a file, nor sit under one."""
    path = os.path.expanduser(s)
    if os.path.exists(path) and not os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{s} is a file, not a directory; give a directory path")
    blocker = _blocking_ancestor(path)
    if blocker:
        raise argparse.ArgumentTypeError(f"{s} cannot be created: {blocker} is a file; give another directory path")
    return path


def output_file(s):
    """A file to write: must not be an existing directory; a missing parent directory is created later."""
    path = os.path.expanduser(s)
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{s} is a directory; give the path of a file (in it, or elsewhere)")
    blocker = _blocking_ancestor(path)
    if blocker:
        raise argparse.ArgumentTypeError(f"{s} cannot be written: {blocker} is a file, not a directory; "
                                         "give another path")
    return path


def weights_dir(s):
    """``--load_weight_dir``: a checkpoint or run directory, or a shipped name; never a file."""
    path = os.path.expanduser(s)
    if os.path.isfile(path):
        raise argparse.ArgumentTypeError(f"{s} is a file; give a weights directory (with model.weights.h5 and "
                                         "config.json), a run directory, or a name from 'tfvae weights'")
    return path
