"""Export for TensorFlow Serving, LiteRT and ONNX: ``tfvae export``.

A trained model becomes a decoder and an encoder that need no tfvae to run, in
the formats ``--formats`` asks for (default ``saved_model``; ``all``)::

    DIR/decoder/<version>/     saved_model: z [None, latent_dim] (+ label [None] int64 for a cvae)
                               -> images [None, H, W, C], decoder means in [0, 1]; and the prior's
                               signatures prior_sample (eps, u -> z) and prior_log_prob (z -> log_prob)
    DIR/encoder/<version>/     saved_model: images [None, H, W, C] in [0, 1] (+ label)
                               -> z_mean, z_log_var [None, latent_dim]
    DIR/decoder.tflite, DIR/encoder.tflite   litert: the same signature (--litert_quantize)
    DIR/decoder.onnx, DIR/encoder.onnx       onnx: the same input and output names
    DIR/models.config          TF Serving model config (both models; when a version exists)
    DIR/batching_parameters.txt
    DIR/SERVING.md             how to serve and call them

The LiteRT and ONNX files are converted from the same modules as the
SavedModels (``tfvae.deploy.convert``). Without ``saved_model`` in ``--formats`` no
version is written: the SavedModel the LiteRT converter reads goes to a
temporary directory. The ``.tflite`` and ``.onnx`` files have no versions: each
export that asks for their format replaces them (their metadata records the
SavedModel version written with them, if any).

Each SavedModel is a ``tf.Module`` holding one ``tf.function`` with an
``input_signature`` (calling ``model.decode`` or ``model.encode``, so it
serves exactly what the Keras model computes) and the variables of the Keras
sub-model it reads, saved as the ``serving_default`` signature (tag
``serve``). A version is written into a temporary directory beside its final
place and renamed there once both models are complete, so a server watching
``DIR`` never loads a half-written version; the other files are written under
temporary names and renamed with it, so an export that fails (a converter that
cannot take the model, a full disk) leaves nothing of itself behind.

``run_export`` checks what it will write once, as an ``ExportPlan``
(``tfvae.deploy.plan``: formats, quantization, directory, version,
converters), before the weights or TensorFlow are loaded, and hands the plan to
``export_model``.

TensorFlow is imported only when an export runs: ``import tfvae.cli`` stays cheap.
"""

import contextlib
import os
import tempfile

from tfvae import io
from tfvae.deploy import convert
from tfvae.deploy.formats import EXPORTED_MODELS as MODEL_NAMES, FORMAT_SUFFIX, SIGNATURE  # noqa: F401
from tfvae.deploy.plan import ExportPlan, choose_version, existing_versions  # noqa: F401  (their home is plan)
from tfvae.deploy.tf_serving_files import batching_parameters, models_config, serving_readme
from tfvae.errors import TfvaeError


# ------------------------------------------------------------ signatures
def _num_classes(model):
    """Label classes of a conditional model (0 for an unconditional one)."""
    return int(getattr(model, "num_classes", 0) or 0)


def _servable(name, fn, input_signature):
    """A ``tf.Module`` with ``serve = tf.function(fn)`` and the variables it reads.

    The module tracks the ``tf.Variable`` objects the traced function captures
    (the Keras sub-model's weights), not the Keras model itself: Keras 3
    variables saved through a tracked Keras model are restored by
    ``tf.saved_model.load`` but not by the session-based loaders of
    TensorFlow Serving and ``saved_model_cli run`` ("Could not find variable";
    keras-team/keras#20095). ``keras.export.ExportArchive`` does the same.
    """
    from tfvae._tf import tf

    module = tf.Module(name=name)
    module.serve = tf.function(fn, input_signature=input_signature)
    module.signature_functions = {SIGNATURE: module.serve}
    module.model_variables = list(module.serve.get_concrete_function().variables)
    return module


def _add_signature(module, key, fn, input_signature):
    """A further named signature of a SavedModel (``key``); its variables join the module's."""
    from tfvae._tf import tf

    f = tf.function(fn, input_signature=input_signature)
    setattr(module, key, f)
    module.signature_functions[key] = f
    have = {id(v) for v in module.model_variables}
    module.model_variables += [v for v in f.get_concrete_function().variables if id(v) not in have]


def add_prior_signatures(module, model):
    """The decoder SavedModel's ``prior_sample`` (``eps [None, latent_dim]``, ``u [None]`` -> ``z``) and
    ``prior_log_prob`` (``z`` -> ``log_prob [None]``): the model's prior (``Prior.sample`` / ``log_prob``), so a
    learned prior is sampled without tfvae. (LiteRT and ONNX files hold the ``serving_default`` decoder only.)"""
    from tfvae._tf import tf

    d = int(model.config.latent_dim)
    z_spec = tf.TensorSpec([None, d], tf.float32, name="z")
    _add_signature(module, "prior_sample", lambda eps, u: {"z": model.prior_sample(eps, u)},
                   [tf.TensorSpec([None, d], tf.float32, name="eps"), tf.TensorSpec([None], tf.float32, name="u")])
    _add_signature(module, "prior_log_prob", lambda z: {"log_prob": model.prior_log_prob(z)}, [z_spec])
    return module


def decoder_module(model):
    """The decoder as a servable ``tf.Module``.

    Args:
        model: a built ``models.VAE``.

    Returns:
        ``tf.Module`` holding ``model.decoder``'s variables, whose ``serve`` function maps
        ``z`` float32 ``[None, latent_dim]`` (and ``label`` int64 ``[None]``
        when the model is conditional) to ``{"images": [None, H, W, C]}``.
    """
    from tfvae._tf import tf

    latent = int(model.config.latent_dim)
    z_spec = tf.TensorSpec([None, latent], tf.float32, name="z")

    if _num_classes(model) > 0:
        def serve(z, label):
            z = tf.ensure_shape(z, [None, latent])
            return {"images": model.decode(z, tf.ensure_shape(label, [None]))}

        specs = [z_spec, tf.TensorSpec([None], tf.int64, name="label")]
    else:
        def serve(z):
            return {"images": model.decode(tf.ensure_shape(z, [None, latent]))}

        specs = [z_spec]
    module = _servable("decoder", serve, specs)
    return add_prior_signatures(module, model) if model.can_sample else module


def encoder_module(model):
    """The encoder as a servable ``tf.Module``.

    Args:
        model: a built ``models.VAE``.

    Returns:
        ``tf.Module`` holding ``model.encoder``'s variables, whose ``serve`` function maps
        ``images`` float32 ``[None, H, W, C]`` in [0, 1] (and ``label`` for a
        conditional model) to ``{"z_mean": ..., "z_log_var": ...}``.
    """
    from tfvae._tf import tf

    shape = [None] + [int(v) for v in model.config.input_shape]
    x_spec = tf.TensorSpec(shape, tf.float32, name="images")

    def stats(z_mean, z_log_var):
        return {"z_mean": z_mean, "z_log_var": z_log_var}

    if _num_classes(model) > 0:
        def serve(images, label):
            return stats(*model.encode(tf.ensure_shape(images, shape), tf.ensure_shape(label, [None])))

        specs = [x_spec, tf.TensorSpec([None], tf.int64, name="label")]
    else:
        def serve(images):
            return stats(*model.encode(tf.ensure_shape(images, shape)))

        specs = [x_spec]
    return _servable("encoder", serve, specs)


# ----------------------------------------------------------------- export
def portable_files(export_dir):
    """The LiteRT and ONNX files present in ``export_dir``: ``{format: {name: path}}``."""
    found = {}
    for fmt, suffix in FORMAT_SUFFIX.items():
        paths = {name: os.path.join(export_dir, name + suffix) for name in MODEL_NAMES}
        paths = {name: p for name, p in paths.items() if os.path.isfile(p)}
        if paths:
            found[fmt] = paths
    return found


def _write_serving_files(export_dir, model, litert_quantize):
    """SERVING.md always; models.config and batching_parameters.txt when a SavedModel version exists."""
    versions = existing_versions(export_dir)
    files = {}
    if versions:
        files = {"models.config": models_config(export_dir), "batching_parameters.txt": batching_parameters()}
    files["SERVING.md"] = serving_readme(export_dir, model, versions[-1] if versions else None,
                                         portable_files(export_dir), litert_quantize)
    written = []
    for fname, text in files.items():
        path = os.path.join(export_dir, fname)
        with io.atomic_path(path) as tmp:
            with open(tmp, "w") as f:
                f.write(text)
        written.append(path)
    return written


def export_model(model, export_dir=None, version=None, overwrite=False, formats=("saved_model",),
                 litert_quantize="none", *, plan=None):
    """Writes the decoder and encoder in ``formats`` and the serving files.

    Args:
        model: a built ``models.VAE``.
        export_dir: export root (created if missing).
        version: SavedModel version number (default: one above the highest present).
        overwrite: replace an existing version.
        formats: a tuple of ``formats.EXPORT_FORMATS`` names (``EXPORT_FORMATS`` itself: all of them).
        litert_quantize: ``none``, ``float16`` or ``dynamic_int8`` (the ``.tflite`` files).
        plan: an ``ExportPlan`` already checked (``run_export``'s), instead of the five arguments above.

    Returns:
        dict: ``version`` (None without ``saved_model``), ``decoder`` and ``encoder`` (the
        version directories, or None), ``artefacts`` (``{format: {name: path}}`` written),
        ``files`` (the serving files written).
    """
    from tfvae._tf import tf

    if plan is None:
        plan = ExportPlan.checked(export_dir, formats, litert_quantize, version, overwrite)
    elif export_dir is not None:
        raise TypeError("export_model takes an export_dir and its options, or a plan, not both")
    export_dir, formats, litert_quantize = plan.export_dir, plan.formats, plan.litert_quantize
    saved = plan.saved_model
    version = plan.version_to_write()
    modules = {"decoder": decoder_module(model), "encoder": encoder_module(model)}
    paths = {fmt: {name: (os.path.join(export_dir, name, str(version)) if fmt == "saved_model"
                          else os.path.join(export_dir, name + FORMAT_SUFFIX[fmt])) for name in MODEL_NAMES}
             for fmt in formats}
    try:
        # Everything is written under temporary names; all of it is renamed into place
        # only when every save and conversion succeeded.
        with contextlib.ExitStack() as stack:
            for name in MODEL_NAMES:
                meta = convert.metadata(model, name, version)
                saved_dir = stack.enter_context(io.atomic_dir(paths["saved_model"][name]) if saved
                                                else tempfile.TemporaryDirectory(prefix="tfvae-export-"))
                tf.saved_model.save(modules[name], saved_dir, signatures=modules[name].signature_functions)
                convert.write_saved_model_metadata(saved_dir, meta)
                if "litert" in formats:
                    tmp = stack.enter_context(io.atomic_path(paths["litert"][name], ".tflite"))
                    convert.write_litert(saved_dir, tmp, model, name, litert_quantize,
                                         convert.metadata(model, name, version, litert_quantize))
                if "onnx" in formats:
                    tmp = stack.enter_context(io.atomic_path(paths["onnx"][name], ".onnx"))
                    convert.write_onnx(modules[name], tmp, model, name, meta)
        written = _write_serving_files(export_dir, model, litert_quantize if "litert" in formats else None)
    except (OSError, tf.errors.OpError) as e:
        msg = getattr(e, "strerror", None) or getattr(e, "message", None) or str(e)
        raise TfvaeError(f"--export_dir {export_dir}: cannot write the export ({str(msg).splitlines()[0][:200]}); "
                         "choose a writable directory") from None
    saved_dirs = paths.get("saved_model", {})
    return {"version": version, "decoder": saved_dirs.get("decoder"), "encoder": saved_dirs.get("encoder"),
            "artefacts": paths, "files": written}


def _load(load_weight_dir):
    """``checkpoints.load_model`` with a clear message for things that are not tfvae weights."""
    from tfvae import checkpoints

    if os.path.isfile(os.path.join(load_weight_dir, "saved_model.pb")):
        raise TfvaeError(f"--load_weight_dir {load_weight_dir} is an exported SavedModel, not tfvae weights; "
                         "pass the checkpoint or run directory it was exported from")
    try:
        return checkpoints.load_model(load_weight_dir)
    except (OSError, ValueError) as e:  # unreadable or non-JSON config.json
        raise TfvaeError(f"--load_weight_dir {load_weight_dir}: not readable tfvae weights "
                         f"({str(e).splitlines()[0][:200]})") from None


def run_export(load_weight_dir="better_weight", export_dir="exports", version=None, overwrite=False,
               formats=("saved_model",), litert_quantize="none"):
    """``tfvae export``: the decoder and encoder in ``formats`` and the serving files; prints what was written.

    Args:
        load_weight_dir: a checkpoint or run directory, or a shipped weights name.
        export_dir: the export root.
        version: SavedModel version number (default: one above the highest present).
        overwrite: replace an existing version.
        formats: a tuple of ``saved_model``, ``litert``, ``onnx`` (what the ``--formats`` type returns).
        litert_quantize: ``none``, ``float16`` or ``dynamic_int8``.

    Returns:
        ``export_model``'s result.
    """
    plan = ExportPlan.checked(export_dir, formats, litert_quantize, version, overwrite)  # before loading anything
    model, _, ckpt, _ = _load(load_weight_dir)
    result = export_model(model, plan=plan)
    export_dir, formats = plan.export_dir, plan.formats
    cfg = model.config
    label = " + label" if _num_classes(model) else ""
    shape = "x".join(str(v) for v in cfg.input_shape)
    what = {"decoder": f"(z[{cfg.latent_dim}]{label} -> images[{shape}])",
            "encoder": f"(images[{shape}]{label} -> z_mean, z_log_var[{cfg.latent_dim}])"}
    where = f"as version {result['version']} " if result["version"] else ""
    print(f"tfvae: exported {ckpt} {where}to {export_dir} ({', '.join(formats)})")
    for fmt, paths in result["artefacts"].items():
        for name, path in paths.items():
            size = "" if fmt == "saved_model" else f"  {os.path.getsize(path) / 1e6:.2f} MB"
            quant = f", {litert_quantize}" if fmt == "litert" and litert_quantize != "none" else ""
            print(f"  {name}  {path}  {what[name]}{size}{quant}")
    for path in result["files"]:
        print(f"  {path}")
    return result
