"""Run an exported model with its own runtime: ``tfvae.runtime.load(path)``.

The runtime follows from the path (``tfvae export --formats`` writes all three)::

    DIR/decoder/1/          a SavedModel directory  -> TensorFlow (tf.saved_model.load)
    DIR/decoder.tflite      a LiteRT flatbuffer     -> ai_edge_litert's Interpreter (the litert extra)
    DIR/decoder.onnx        an ONNX model           -> onnxruntime, CPU (the onnx extra)

``load`` returns a ``Loaded`` model: a dict from signature name to a
``Signature``, a callable with the SavedModel's input and output names that
takes and returns NumPy arrays, whatever the runtime::

    from tfvae.deploy import runtime
    decoder = runtime.load("exports/mnist/decoder.tflite")
    decode = decoder["serving_default"]          # tfvae.deploy.formats.SIGNATURE
    decode.inputs                                # {"z": Input(float32, (None, 128))}
    images = decode(z=z)["images"]               # any batch size
    decoder.metadata                             # {"model": "decoder", "latent_dim": 128, ...}

Inputs are converted to the declared dtype (Python lists and NumPy arrays alike);
a missing or unknown input name, or a shape that does not fit the declared
one, is a ``TfvaeError`` naming the input. A LiteRT signature holds one interpreter: call it
from one thread at a time (load the file once per thread). Each runtime is imported only when
a model of its format is loaded: reading an ``.onnx`` file imports neither
TensorFlow nor ai_edge_litert, and nothing here is imported by training.
"""

import collections
import contextlib
import json
import os

import numpy as np

from tfvae.deploy.formats import FORMAT_EXTRA, FORMAT_SUFFIX, SIGNATURE
from tfvae.errors import TfvaeError

# What runs each format.
RUNTIME_NAMES = {"saved_model": "TensorFlow", "litert": "ai_edge_litert", "onnx": "onnxruntime"}
# Where an export keeps its tfvae metadata (a JSON object) in each format.
METADATA_KEY = "tfvae"
SAVED_MODEL_METADATA = os.path.join("assets.extra", "tfvae.json")

Input = collections.namedtuple("Input", "dtype shape")  # numpy dtype; shape with None for any size


class Signature:
    """One signature of a loaded model: ``sig(**inputs) -> {output name: np.ndarray}``.

    Attributes:
        name: the signature's name (``serving_default``).
        inputs: ``{name: Input(dtype, shape)}``, ``None`` in a shape for any size.
        outputs: the output names, in the runtime's order.
        format: ``saved_model``, ``litert`` or ``onnx``.
    """

    def __init__(self, name, inputs, outputs, fmt, run):
        self.name, self.inputs, self.outputs, self.format = name, dict(inputs), tuple(outputs), fmt
        self._run = run

    def __call__(self, **arrays):
        missing, unknown = set(self.inputs) - set(arrays), set(arrays) - set(self.inputs)
        if missing or unknown:
            raise TfvaeError(f"signature {self.name!r} takes inputs {', '.join(sorted(self.inputs))}; got "
                             f"{', '.join(sorted(arrays)) or 'none'}")
        feeds = {}
        for key, spec in self.inputs.items():
            value = np.asarray(arrays[key], dtype=spec.dtype)
            if value.ndim != len(spec.shape) or any(d is not None and d != v for d, v in zip(spec.shape, value.shape)):
                raise TfvaeError(f"input {key!r} must have shape {_shape_text(spec.shape)}, got {list(value.shape)}")
            feeds[key] = value
        return self._run(feeds)

    def __repr__(self):
        ins = ", ".join(f"{k}: {np.dtype(v.dtype).name} {_shape_text(v.shape)}" for k, v in self.inputs.items())
        return f"<Signature {self.name} ({self.format}): {ins} -> {', '.join(self.outputs)}>"


class Loaded(dict):
    """An exported model: ``{signature name: Signature}``, with ``path``, ``format`` and ``metadata``."""

    def __init__(self, path, fmt, signatures, metadata):
        super().__init__(signatures)
        self.path, self.format, self.metadata = path, fmt, metadata or {}

    @property
    def runtime(self):
        return RUNTIME_NAMES[self.format]


def _shape_text(shape):
    return "[" + ", ".join("None" if d is None else str(d) for d in shape) + "]"


def format_of(path):
    """``saved_model``, ``litert`` or ``onnx`` for an export path; a ``TfvaeError`` for anything else."""
    path = os.path.expanduser(str(path))
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, "saved_model.pb")):
            return "saved_model"
        import glob

        found = sorted(os.path.dirname(f) for pattern in ("*/saved_model.pb", "*/*/saved_model.pb")
                       for f in glob.glob(os.path.join(glob.escape(path), pattern)))
        found += sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(tuple(FORMAT_SUFFIX.values())))
        hint = f"; it holds {', '.join(os.path.relpath(f, path) for f in found[:6])}: pass one of them" if found else ""
        raise TfvaeError(f"{path} is not a SavedModel directory (no saved_model.pb){hint}")
    for fmt, suffix in FORMAT_SUFFIX.items():
        if path.endswith(suffix):
            if not os.path.isfile(path):
                raise TfvaeError(f"{path} does not exist; pass an exported model (tfvae export --formats ...)")
            return fmt
    if not os.path.exists(path):
        raise TfvaeError(f"{path} does not exist; pass an exported model (tfvae export --formats ...)")
    raise TfvaeError(f"cannot tell which runtime reads {path}: pass a SavedModel directory, a .tflite or an .onnx file")


def _import(module, fmt, path):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise TfvaeError(f"{path}: running a {fmt} model needs {module} ({e}); install the {FORMAT_EXTRA[fmt]} "
                         f"extra: pip install \"tfvae[{FORMAT_EXTRA[fmt]}]\"") from None


def load(path, threads=None):
    """Loads an exported model with the runtime its path calls for.

    Args:
        path: a SavedModel directory, a ``.tflite`` file or an ``.onnx`` file.
        threads: CPU threads of the LiteRT interpreter and of ONNX Runtime's
            intra-op pool (default: every core). TensorFlow's pool is per
            process and keeps its own default.

    Returns:
        a ``Loaded`` model (a dict of ``Signature`` by name).
    """
    path = os.path.expanduser(str(path))
    fmt = format_of(path)
    loader = {"saved_model": _load_saved_model, "litert": _load_litert, "onnx": _load_onnx}[fmt]
    try:
        signatures, metadata = loader(path, threads or os.cpu_count() or 1)
    except (TfvaeError, MemoryError):
        raise
    except Exception as e:  # the runtimes raise their own types for a file they cannot read
        raise TfvaeError(f"{path} is not a readable {fmt} model ({(str(e).strip().splitlines() or [type(e).__name__])[0][:200]})"
                         f"; export it again with tfvae export --formats {fmt}") from None
    return Loaded(path, fmt, signatures, metadata)


def load_decoder(path, threads=None):
    """An exported decoder (``tfvae export``'s ``decoder``): ``(Loaded, Signature)``, its signature taking ``z``
    (and ``label`` for a cvae) and returning ``images``; a one-line ``TfvaeError`` for any other model."""
    loaded = load(path, threads)
    decode = loaded.get(SIGNATURE)
    if decode is None or "z" not in decode.inputs or "images" not in decode.outputs:
        has = f"its inputs are {', '.join(decode.inputs)}" if decode else f"no {SIGNATURE} signature"
        raise TfvaeError(f"{path} is not an exported decoder ({has}); "
                         "pass DIR/decoder/N, DIR/decoder.tflite or DIR/decoder.onnx")
    return loaded, decode


def _parse_metadata(text):
    try:
        meta = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


# ------------------------------------------------------------- TensorFlow
def _load_saved_model(path, threads):
    from tfvae._tf import tf

    loaded = tf.saved_model.load(path)
    signatures = {}
    for name, fn in loaded.signatures.items():
        specs = fn.structured_input_signature[1]
        inputs = {k: Input(np.dtype(s.dtype.as_numpy_dtype), tuple(s.shape.as_list())) for k, s in specs.items()}

        def run(feeds, fn=fn):
            return {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in feeds.items()}).items()}

        signatures[name] = Signature(name, inputs, sorted(fn.structured_outputs), "saved_model", run)
    meta_path = os.path.join(path, SAVED_MODEL_METADATA)
    metadata = {}
    if os.path.isfile(meta_path):
        with open(meta_path, encoding="utf-8", errors="replace") as f:
            metadata = _parse_metadata(f.read())
    return signatures, metadata


# ----------------------------------------------------------------- LiteRT
def _load_litert(path, threads):
    interpreter_module = _import("ai_edge_litert.interpreter", "litert", path)
    interpreter = interpreter_module.Interpreter(model_path=path, num_threads=threads)
    with _without_notices(LITERT_NOTICES):  # the delegate is applied at the first allocation
        interpreter.allocate_tensors()
    signatures = {}
    for name in interpreter.get_signature_list():
        runner = interpreter.get_signature_runner(name)
        inputs = {k: Input(np.dtype(d["dtype"]), tuple(None if s < 0 else int(s) for s in d["shape_signature"]))
                  for k, d in runner.get_input_details().items()}

        # The runner resizes its inputs to each call's shapes: any batch size.
        def run(feeds, runner=runner):
            return runner(**feeds)

        signatures[name] = Signature(name, inputs, list(runner.get_output_details()), "litert", run)
    with open(path, "rb") as f:
        metadata = _litert_metadata(f.read(), path)
    return signatures, metadata


# What the LiteRT runtime writes to descriptor 2 on every load (not a warning).
LITERT_NOTICES = ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",)


@contextlib.contextmanager
def _without_notices(notices):
    """Runs the block with descriptor 2 captured, then writes back every line but ``notices``."""
    import sys
    import tempfile

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real descriptor 2
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            rest = [ln for ln in captured.read().decode("utf-8", "replace").splitlines(True) if ln.strip() not in notices]
            if rest:
                sys.stderr.write("".join(rest))
                sys.stderr.flush()


def _litert_metadata(buf, path):
    """The ``tfvae`` metadata entry of a LiteRT flatbuffer ({} if it has none)."""
    schema = _import("ai_edge_litert.schema_py_generated", "litert", path)
    model = schema.Model.GetRootAs(buf, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name() == METADATA_KEY.encode():
            data = model.Buffers(entry.Buffer()).DataAsNumpy()
            return _parse_metadata(bytes(data).decode("utf-8", errors="replace")) if not isinstance(data, int) else {}
    return {}


# ------------------------------------------------------------ ONNX Runtime
ONNX_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
               "tensor(int32)": np.int32, "tensor(bool)": np.bool_}


def _load_onnx(path, threads):
    ort = _import("onnxruntime", "onnx", path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only
    session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    inputs = {i.name: Input(np.dtype(ONNX_DTYPES.get(i.type, np.float32)),
                            tuple(d if isinstance(d, int) and d > 0 else None for d in i.shape))
              for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]

    def run(feeds):
        return dict(zip(outputs, session.run(outputs, feeds)))

    metadata = _parse_metadata(session.get_modelmeta().custom_metadata_map.get(METADATA_KEY))
    return {SIGNATURE: Signature(SIGNATURE, inputs, outputs, "onnx", run)}, metadata
