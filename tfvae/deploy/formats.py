"""The export formats and their names, TensorFlow-free: what ``--formats`` takes and what each writes.

Everything that exports, converts, runs or serves an exported model reads its
constants here (``tfvae.deploy``), and so does the command line (``tfvae.cli``);
no other part of the package names them (tests/unit/test_formats_stay_in_deploy.py).
``parse_formats`` reads the ``--formats`` text once, in its argparse type; the
library takes the tuple it returns (``check_formats``).
"""

from tfvae.errors import TfvaeError

# The exported models (tfvae export) and their signature (the same name in every format).
SIGNATURE = "serving_default"
EXPORTED_MODELS = ("decoder", "encoder")
# tfvae export --formats: DIR/decoder/N/ (SavedModel), DIR/decoder.tflite (LiteRT), DIR/decoder.onnx (ONNX).
EXPORT_FORMATS = ("saved_model", "litert", "onnx")
FORMAT_SUFFIX = {"litert": ".tflite", "onnx": ".onnx"}  # a SavedModel is a directory
FORMAT_EXTRA = {"litert": "litert", "onnx": "onnx"}  # the pip extra with its converter or runtime
LITERT_QUANTIZATIONS = ("none", "float16", "dynamic_int8")
ONNX_OPSET = 17  # the opset tf2onnx writes (onnxruntime >= 1.31 runs it)


def parse_formats(value):
    """``--formats``: ``saved_model,litert,onnx`` (any of them, comma-separated) or ``all``.

    Args:
        value: the flag's text, or an iterable of format names.

    Returns:
        the formats asked for, in ``EXPORT_FORMATS`` order, without repeats.
    """
    names = [p.strip() for p in value.split(",")] if isinstance(value, str) else [str(p) for p in value]
    names = [n for n in names if n]
    bad = [n for n in names if n not in EXPORT_FORMATS + ("all",)]
    if bad or not names:
        raise TfvaeError(f"--formats takes {', '.join(EXPORT_FORMATS)} (comma-separated) or all, "
                         f"got {value if isinstance(value, str) else ','.join(names)!r}")
    return tuple(f for f in EXPORT_FORMATS if f in names or "all" in names)


def check_formats(formats):
    """A tuple of format names, as the library takes them (``parse_formats`` makes one from ``--formats``).

    Args:
        formats: a tuple (or list) of names from ``EXPORT_FORMATS``; not their text.

    Returns:
        the formats in ``EXPORT_FORMATS`` order, without repeats.
    """
    if isinstance(formats, str):
        raise TypeError(f"formats takes a tuple of format names, e.g. ('saved_model', 'onnx') (EXPORT_FORMATS: all), "
                        f"not the text {formats!r}; tfvae.deploy.formats.parse_formats reads --formats text")
    names = tuple(formats)
    bad = [n for n in names if n not in EXPORT_FORMATS]
    if bad or not names:
        raise TfvaeError(f"formats takes some of {', '.join(EXPORT_FORMATS)}, got {names!r}")
    return tuple(f for f in EXPORT_FORMATS if f in names)
