"""LiteRT and ONNX conversions of the exported models: ``tfvae export --formats litert,onnx``.

Both convert the same ``tf.Module``s the SavedModel export writes
(``export.decoder_module`` / ``encoder_module``), so the three formats serve
one computation with the same input and output names:

* LiteRT: TensorFlow's converter reads the SavedModel just written (its
  ``serving_default`` signature) with built-in ops only; the flatbuffer keeps
  that signature, dynamic batch included (``shape_signature`` -1).
  ``--litert_quantize`` float16 stores the weights as float16; dynamic_int8
  stores them as int8 and quantizes activations on the fly (float32 in and out
  either way).
* ONNX: ``tf2onnx`` converts the module's ``serve`` function (opset
  ``ONNX_OPSET``); the batch dimension stays symbolic and a cvae's ``label``
  stays int64.

Every file carries its tfvae metadata (``runtime.METADATA_KEY``: the model,
latent size, image shape, classes, whether it can sample): a LiteRT metadata
entry, an ONNX ``metadata_props`` entry, and ``assets.extra/tfvae.json`` in a
SavedModel. A converter that cannot take a model raises one ``TfvaeError``
naming the format.
"""

import json
import logging
import os

import numpy as np

from tfvae import io
from tfvae.deploy import runtime
from tfvae.deploy.formats import FORMAT_EXTRA, LITERT_QUANTIZATIONS, ONNX_OPSET, SIGNATURE
from tfvae.errors import TfvaeError

ONNX_PACKAGES = ("tf2onnx", "onnx")  # the converter (onnxruntime is only needed to run the file)


def metadata(model, name, version=None, litert_quantize=None):
    """What ``runtime.load(...).metadata`` returns for the exported ``name`` (decoder or encoder) of ``model``."""
    cfg = model.config
    meta = {"model": name, "kind": cfg.model, "latent_dim": int(cfg.latent_dim),
            "input_shape": [int(v) for v in cfg.input_shape], "num_classes": int(cfg.num_classes),
            "can_sample": bool(model.can_sample), "saved_model_version": version, "prior": cfg.prior,
            "posterior": cfg.posterior}
    if litert_quantize is not None:
        meta["litert_quantize"] = litert_quantize
    return meta


def write_saved_model_metadata(saved_model_dir, meta):
    io.write_json(os.path.join(saved_model_dir, runtime.SAVED_MODEL_METADATA), meta)


def require_converters(formats):
    """Raises a one-line ``TfvaeError`` naming the extra when a converter of ``formats`` is not installed.

    Only looks for the packages (``tf2onnx`` imports TensorFlow, which must come through ``tfvae._tf``).
    """
    if "onnx" in formats:
        import importlib.util

        for package in ONNX_PACKAGES:
            if importlib.util.find_spec(package) is None:
                raise TfvaeError(f"--formats onnx needs {package}, which is not installed; install the "
                                 f"{FORMAT_EXTRA['onnx']} extra: pip install \"tfvae[{FORMAT_EXTRA['onnx']}]\"")


def _cannot(fmt, name, model, error):
    line = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
    others = ",".join(f for f in ("saved_model", "litert", "onnx") if f != fmt)
    return TfvaeError(f"--formats {fmt} cannot take the {name} of this {model.config.model} model "
                      f"({model.config.arch}, {model.config.likelihood}): {line}; export it with --formats {others}")


# ----------------------------------------------------------------- LiteRT
def litert_bytes(saved_model_dir, quantize="none"):
    """The LiteRT flatbuffer of a SavedModel's ``serving_default`` signature, built-in ops only."""
    from tfvae._tf import tf

    if quantize not in LITERT_QUANTIZATIONS:
        raise TfvaeError(f"--litert_quantize must be one of {', '.join(LITERT_QUANTIZATIONS)}, got {quantize!r}")
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=[SIGNATURE])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # alone: dynamic-range int8 weights
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def with_litert_metadata(buf, meta):
    """``buf`` with a ``tfvae`` metadata entry holding ``meta`` as JSON."""
    from tfvae._tf import tf  # noqa: F401  (first: TensorFlow without its start-up notices)
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(buf))
    data = schema.BufferT()
    data.data = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), np.uint8)
    model.buffers.append(data)
    entry = schema.MetadataT()
    entry.name, entry.buffer = runtime.METADATA_KEY, len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name != runtime.METADATA_KEY.encode()] + [entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def write_litert(saved_model_dir, path, model, name, quantize, meta):
    """Converts the SavedModel at ``saved_model_dir`` (the ``name`` of ``model``) into ``path``."""
    try:
        buf = litert_bytes(saved_model_dir, quantize)
    except (TfvaeError, OSError, MemoryError):
        raise
    except Exception as e:  # the converter's errors come in several types
        raise _cannot("litert", name, model, e) from None
    with open(path, "wb") as f:
        f.write(with_litert_metadata(buf, meta))


# ------------------------------------------------------------------- ONNX
def onnx_proto(module):
    """The ONNX ``ModelProto`` of a servable module's ``serve`` function; only standard ONNX ops."""
    from tfvae._tf import tf  # noqa: F401  (first: TensorFlow without its start-up notices)
    import onnx
    import tf2onnx

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    proto, _ = tf2onnx.convert.from_function(module.serve, input_signature=module.serve.input_signature,
                                             opset=ONNX_OPSET)
    unknown = sorted({n.op_type for n in proto.graph.node
                      if n.domain not in ("", "ai.onnx") or not onnx.defs.has(n.op_type)})
    if unknown:
        raise ValueError(f"no ONNX operator for {', '.join(unknown)}")
    onnx.checker.check_model(proto)
    return proto


def write_onnx(module, path, model, name, meta):
    """Converts ``module`` (the ``name`` of ``model``) into the ONNX file ``path``."""
    try:
        proto = onnx_proto(module)
    except (TfvaeError, OSError, MemoryError):
        raise
    except Exception as e:
        raise _cannot("onnx", name, model, e) from None
    entry = proto.metadata_props.add()
    entry.key, entry.value = runtime.METADATA_KEY, json.dumps(meta, sort_keys=True)
    proto.producer_name = "tfvae (tf2onnx)"
    with open(path, "wb") as f:
        f.write(proto.SerializeToString())
