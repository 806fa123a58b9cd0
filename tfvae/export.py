"""Export for TensorFlow Serving: ``tfvae export``.

A trained model becomes two versioned SavedModels that need no tfvae to run::

    DIR/decoder/<version>/     z [None, latent_dim] (+ label [None] int64 for a cvae)
                               -> images [None, H, W, C], decoder means in [0, 1]
    DIR/encoder/<version>/     images [None, H, W, C] in [0, 1] (+ label)
                               -> z_mean, z_log_var [None, latent_dim]
    DIR/models.config          TF Serving model config (both models)
    DIR/batching_parameters.txt
    DIR/SERVING.md             how to serve and call them

Each SavedModel is a ``tf.Module`` holding one ``tf.function`` with an
``input_signature`` (calling ``model.decode`` or ``model.encode``, so it
serves exactly what the Keras model computes) and the variables of the Keras
sub-model it reads, saved as the ``serving_default`` signature (tag
``serve``). A version is written into a temporary directory beside its final
place and renamed there once both models are complete, so a server watching
``DIR`` never loads a half-written version.

TensorFlow is imported only when an export runs: ``import tfvae.cli`` stays cheap.
"""

import contextlib
import os

from tfvae import io
from tfvae.serving_files import batching_parameters, models_config, serving_readme
from tfvae.configs import EXPORTED_MODELS as MODEL_NAMES, SIGNATURE  # noqa: F401  (defined once)
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
    module.model_variables = list(module.serve.get_concrete_function().variables)
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
    return _servable("decoder", serve, specs)


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


# --------------------------------------------------------------- versions
def existing_versions(export_dir):
    """Version numbers present under ``DIR/decoder`` or ``DIR/encoder``, ascending."""
    found = set()
    for name in MODEL_NAMES:
        base = os.path.join(export_dir, name)
        if os.path.isdir(base):
            found.update(int(e) for e in os.listdir(base) if e.isdigit() and os.path.isdir(os.path.join(base, e)))
    return sorted(found)


def _check_writable(export_dir):
    """Raises ``TfvaeError`` unless ``export_dir`` is, or can be made, a writable directory."""
    probe = export_dir
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise TfvaeError(f"--export_dir {export_dir}: {probe} is not a directory; choose another export directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise TfvaeError(f"--export_dir {export_dir}: {probe} is not writable; choose a writable directory")


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


# ----------------------------------------------------------------- export
def export_model(model, export_dir, version=None, overwrite=False):
    """Writes the decoder and encoder SavedModels and the serving files.

    Args:
        model: a built ``models.VAE``.
        export_dir: export root (created if missing).
        version: version number (default: one above the highest present).
        overwrite: replace an existing version.

    Returns:
        dict: ``version``, ``decoder`` and ``encoder`` (version directories),
        ``files`` (the other files written).
    """
    from tfvae._tf import tf

    export_dir = os.path.abspath(export_dir)
    _check_writable(export_dir)
    version = choose_version(export_dir, version, overwrite)
    modules = {"decoder": decoder_module(model), "encoder": encoder_module(model)}
    targets = {name: os.path.join(export_dir, name, str(version)) for name in MODEL_NAMES}
    try:
        # Both versions are written to temporary directories; both are renamed
        # into place only when both saves succeeded.
        with contextlib.ExitStack() as stack:
            for name in MODEL_NAMES:
                tmp = stack.enter_context(io.atomic_dir(targets[name]))
                tf.saved_model.save(modules[name], tmp, signatures={SIGNATURE: modules[name].serve})
        files = {"models.config": models_config(export_dir),
                 "batching_parameters.txt": batching_parameters(),
                 "SERVING.md": serving_readme(export_dir, model, existing_versions(export_dir)[-1])}
        written = []
        for fname, text in files.items():
            path = os.path.join(export_dir, fname)
            with io.atomic_path(path) as tmp:
                with open(tmp, "w") as f:
                    f.write(text)
            written.append(path)
    except (OSError, tf.errors.OpError) as e:
        msg = getattr(e, "strerror", None) or getattr(e, "message", None) or str(e)
        raise TfvaeError(f"--export_dir {export_dir}: cannot write the export ({str(msg).splitlines()[0][:200]}); "
                         "choose a writable directory") from None
    return {"version": version, **targets, "files": written}


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


def run_export(load_weight_dir="better_weight", export_dir="exports", version=None, overwrite=False):
    """``tfvae export``: the SavedModels and serving files of a model; prints what was written.

    Args:
        load_weight_dir: a checkpoint or run directory, or a shipped weights name.
        export_dir: the export root.
        version: version number (default: one above the highest present).
        overwrite: replace an existing version.

    Returns:
        ``export_model``'s result.
    """
    export_dir = os.path.abspath(export_dir)
    _check_writable(export_dir)
    choose_version(export_dir, version, overwrite)  # fail before loading TensorFlow
    model, _, ckpt, _ = _load(load_weight_dir)
    result = export_model(model, export_dir, version=version, overwrite=overwrite)
    cfg = model.config
    label = " + label" if _num_classes(model) else ""
    shape = "x".join(str(v) for v in cfg.input_shape)
    print(f"tfvae: exported {ckpt} as version {result['version']} to {export_dir}")
    print(f"  decoder  {result['decoder']}  (z[{cfg.latent_dim}]{label} -> images[{shape}])")
    print(f"  encoder  {result['encoder']}  (images[{shape}]{label} -> z_mean, z_log_var[{cfg.latent_dim}])")
    for path in result["files"]:
        print(f"  {path}")
    return result
