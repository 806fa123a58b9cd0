"""Atomic file writing: a reader never sees a half-written file.

Everything tfvae writes goes through a temporary name in the same directory
followed by ``os.replace`` (atomic on POSIX).
"""

import contextlib
import json
import os
import shutil
import tempfile

from tfvae.errors import TfvaeError


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temporary path beside ``path``; on success renames it over ``path``.

    Args:
        path: the final file name.
        suffix: ending the temporary name must have (some writers insist on
            one, e.g. ``.weights.h5``).
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are ordinary files
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(path, obj):
    """Writes ``obj`` as indented JSON, atomically."""
    with atomic_path(path, ".json") as tmp:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())


def read_json(path, expect=None, required=(), fix="restore it from a copy, or delete it and re-run the tfvae "
                                                   "command that wrote it"):
    """Reads a JSON file of ours; a corrupt, truncated or wrongly shaped one is a ``TfvaeError``.

    Args:
        path: the file.
        expect: the type the top level must have (``dict`` or ``list``), or None.
        required: keys a ``dict`` must hold.
        fix: what the user should do, for the error line.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise TfvaeError(f"{path} is corrupt (not UTF-8 text); {fix}") from None
    except OSError as e:
        raise TfvaeError(f"cannot read {path} ({e.strerror or e}); {fix}") from None
    if not text.strip():
        raise TfvaeError(f"{path} is empty (truncated?); {fix}")
    try:
        obj = json.loads(text)
    except ValueError as e:
        raise TfvaeError(f"{path} is corrupt or truncated (not valid JSON: {e}); {fix}") from None
    if expect is not None and not isinstance(obj, expect):
        raise TfvaeError(f"{path} has the wrong shape (a JSON {_json_kind(expect)} was expected, found "
                         f"{_json_kind(type(obj))}); {fix}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise TfvaeError(f"{path} has the wrong shape (no {', '.join(repr(k) for k in missing)}); {fix}")
    return obj


def _json_kind(t):
    return {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(t, t.__name__)


@contextlib.contextmanager
def atomic_dir(path):
    """Yields a temporary directory beside ``path``; on success it replaces ``path``.

    The old directory (if any) is moved aside first and removed only after the
    new one is in place.
    """
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
    os.chmod(tmp, 0o755)
    try:
        yield tmp
        old = None
        if os.path.exists(path):
            old = tempfile.mkdtemp(prefix=".old-", dir=parent)
            os.rmdir(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
