"""What one ``tfvae export`` writes, checked once before anything is loaded or written: ``ExportPlan``.

``ExportPlan.checked(export_dir, formats, ...)`` runs every check an export
needs before TensorFlow is imported (the formats, ``--litert_quantize``
against them, a writable ``--export_dir``, a free ``--version``, the
converters installed) and returns a frozen plan; ``run_export`` builds it and
hands it to ``export_model``, which builds one itself when called as a library
function. ``formats`` is a tuple of names (``formats.EXPORT_FORMATS`` for all
of them): the command line's ``--formats`` text is parsed by its argparse type
(``formats.parse_formats``), not here.
"""

import dataclasses
import os
from typing import Optional, Tuple

from tfvae.deploy import convert
from tfvae.deploy.formats import EXPORTED_MODELS, LITERT_QUANTIZATIONS, check_formats
from tfvae.errors import TfvaeError


# --------------------------------------------------------------- versions
def existing_versions(export_dir):
    """Version numbers present under ``DIR/decoder`` or ``DIR/encoder``, ascending."""
    found = set()
    for name in EXPORTED_MODELS:
        base = os.path.join(export_dir, name)
        if os.path.isdir(base):
            found.update(int(e) for e in os.listdir(base) if e.isdigit() and os.path.isdir(os.path.join(base, e)))
    return sorted(found)


def choose_version(export_dir, version=None, overwrite=False):
    """The version to write.

    Args:
        export_dir: the export root.
        version: requested version, or None for one above the highest present.
        overwrite: allow replacing an existing version.

    Returns:
        the version number (int >= 1).
    """
    present = existing_versions(export_dir)
    if version is None:
        return (present[-1] + 1) if present else 1
    if version in present and not overwrite:
        raise TfvaeError(
            f"version {version} already exists in {export_dir} (decoder/{version}, encoder/{version}); "
            f"pass --overwrite to replace it, or drop --version to write version {present[-1] + 1}"
        )
    return int(version)


# ----------------------------------------------------------------- checks
def _check_writable(export_dir):
    """Raises ``TfvaeError`` unless ``export_dir`` is, or can be made, a writable directory."""
    probe = export_dir
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise TfvaeError(f"--export_dir {export_dir}: {probe} is not a directory; choose another export directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise TfvaeError(f"--export_dir {export_dir}: {probe} is not writable; choose a writable directory")


def _check_options(formats, litert_quantize):
    if litert_quantize not in LITERT_QUANTIZATIONS:
        raise TfvaeError(f"--litert_quantize must be one of {', '.join(LITERT_QUANTIZATIONS)}, got {litert_quantize!r}")
    if litert_quantize != "none" and "litert" not in formats:
        raise TfvaeError(f"--litert_quantize {litert_quantize} applies to LiteRT files only; add litert to --formats "
                         f"(e.g. --formats {','.join(formats + ('litert',))})")


@dataclasses.dataclass(frozen=True)
class ExportPlan:
    """One export, checked: where it goes, in which formats, at which version.

    Build it with ``ExportPlan.checked``; the constructor itself checks nothing.

    Attributes:
        export_dir: the export root, absolute.
        formats: the formats to write, in ``formats.EXPORT_FORMATS`` order.
        litert_quantize: ``none``, ``float16`` or ``dynamic_int8`` (the ``.tflite`` files).
        version: the SavedModel version asked for (None: one above the highest present at write time).
        overwrite: replace an existing version.
    """

    export_dir: str
    formats: Tuple[str, ...] = ("saved_model",)
    litert_quantize: str = "none"
    version: Optional[int] = None
    overwrite: bool = False

    @classmethod
    def checked(cls, export_dir, formats=("saved_model",), litert_quantize="none", version=None, overwrite=False):
        """The plan, after every check that can fail before TensorFlow is imported (one-line ``TfvaeError``).

        Args:
            export_dir: export root (created at write time if missing).
            formats: a tuple of format names (``formats.EXPORT_FORMATS``: all of them).
            litert_quantize: ``none``, ``float16`` or ``dynamic_int8``.
            version: SavedModel version number (default: one above the highest present).
            overwrite: replace an existing version.
        """
        formats = check_formats(formats)
        _check_options(formats, litert_quantize)
        export_dir = os.path.abspath(os.fspath(export_dir))
        _check_writable(export_dir)
        if "saved_model" in formats:
            choose_version(export_dir, version, overwrite)  # a taken --version fails here, before any loading
        convert.require_converters(formats)
        return cls(export_dir, formats, litert_quantize, None if version is None else int(version), bool(overwrite))

    @property
    def saved_model(self):
        """Whether a SavedModel version is written."""
        return "saved_model" in self.formats

    def version_to_write(self):
        """The SavedModel version, chosen when the export writes (None without ``saved_model``).

        Chosen again from the directory as it is then, not when the plan was checked: another export may have
        written a version in between.
        """
        return choose_version(self.export_dir, self.version, self.overwrite) if self.saved_model else None
