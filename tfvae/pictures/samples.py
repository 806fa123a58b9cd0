"""Samples from a model's prior as a PNG grid, by one path whatever decodes them.

``tfvae generate`` (a checkpoint, or an exported decoder file) and ``tfvae sample-remote`` (a decoder served by
TF Serving) differ only in their decoder adapter:

* ``KerasDecoder``: a checkpoint's Keras model (``model.decode(z, labels)``);
* ``FileDecoder``: an exported SavedModel, ``.tflite`` or ``.onnx`` file (``tfvae.deploy.runtime.load_decoder``);
* ``RemoteDecoder``: a TF Serving REST or gRPC endpoint (``tfvae.deploy.client``).

``sample`` does the rest, once for all three: the seed (``resolve_seed``: random, and printed, when not given),
a cvae's labels (``_sample_labels``: ``--label`` for every sample, or one row per class), the draw of z
(``draw_z``), the grid and the one line ``tfvae: wrote N samples (T=..., seed S) from SOURCE to OUT``.

The draw is NumPy's: ``z = T * default_rng(seed mod 2**64).standard_normal((num, latent_dim))``, in float64 then
cast to float32. So one ``--seed`` gives the same z, and the same picture up to float rounding, whichever backend
decodes it. (``model.sample()``, the Keras library method, keeps its own TensorFlow draw.)
"""

import random

import numpy as np

from tfvae.errors import TfvaeError
from tfvae.pictures import grids


# ------------------------------------------------------------ the one path
def resolve_seed(seed=None):
    """``seed``, or a random one in ``[0, 2**31)`` when it is None (the printed line says which)."""
    return int(seed) if seed is not None else random.randrange(2**31)


def draw_z(seed, num, latent_dim, temperature=1.0):
    """``num`` draws of z ~ N(0, T^2 I): ``[num, latent_dim]`` float32, the same for a seed on every backend.

    A learned prior's draws start from these too: they are its ``eps`` (``draw_u`` picks the components)."""
    z = np.random.default_rng(int(seed) % 2**64).standard_normal((int(num), int(latent_dim)))
    return (float(temperature) * z).astype(np.float32)


def draw_u(seed, num):
    """``num`` uniform numbers in [0, 1) that pick a mixture prior's components: ``[num]`` float32, from a stream
    of their own (``draw_z``'s numbers are the same with and without them)."""
    return np.random.default_rng((int(seed) % 2**64, 1)).random(int(num)).astype(np.float32)


def _sample_labels(num_classes, num, nrow, label):
    """A cvae's labels: ``label`` for every sample, or one row per class; returns ``(labels, num, nrow)``.

    ``num_classes`` 0 means unknown (an export without metadata, a served model): then ``label`` is needed.
    """
    if label is not None:
        if num_classes and not 0 <= label < num_classes:
            raise TfvaeError(f"--label {label} is out of range: this cvae has classes 0..{num_classes - 1}")
        return [label] * num, num, nrow
    if not num_classes:
        raise TfvaeError("this conditional decoder does not say how many classes it has; pass --label")
    nrow = max(1, num // num_classes)  # one row per class
    return [c for c in range(num_classes) for _ in range(nrow)], nrow * num_classes, nrow


def labels_for(decoder, num, nrow, label):
    """The labels ``decoder`` is given (None for an unconditional one); returns ``(labels, num, nrow)``."""
    if decoder.conditional is None:  # not known here: --label goes as given, and the decoder answers for it
        return (None if label is None else [label] * num), num, nrow
    if decoder.conditional:
        return _sample_labels(decoder.num_classes, num, nrow, label)
    if label is not None:
        raise TfvaeError(f"--label needs a conditional {decoder.noun} (--model cvae); this one is unconditional")
    return None, num, nrow


def sample(decoder, *, num=100, nrow=10, temperature=1.0, seed=None, output="samples.png", scale=2, label=None):
    """Decodes ``num`` prior draws (N(0, T^2 I), or the decoder's prior) with ``decoder``, writes them as a PNG grid
    and prints one line.

    Args:
        decoder: a ``KerasDecoder``, ``FileDecoder`` or ``RemoteDecoder`` (anything with their attributes).
        num, nrow, scale: samples, images per row, pixel upscaling (a cvae without ``label``: one row per class).
        temperature: the prior's scale T.
        seed: the seed of the draw (``draw_z``); random when None.
        output: the PNG path.
        label: a cvae's class for every sample.

    Returns:
        ``(images [num, H, W, C] float32, seed)``.
    """
    labels, num, nrow = labels_for(decoder, num, nrow, label)
    seed = resolve_seed(seed)
    z = decoder.prior_z(draw_z(seed, num, decoder.latent_dim, temperature), draw_u(seed, num))
    images = np.asarray(decoder.decode(z, labels), np.float32)
    grids.save_png(output, grids.make_grid(images, nrow=nrow), scale=scale)
    print(f"tfvae: wrote {num} samples (T={temperature}, seed {seed}{decoder.detail}) from {decoder.source} "
          f"to {output}")
    return images, seed


# ---------------------------------------------------------------- adapters
class Decoder:
    """What ``sample`` needs of a decoder.

    Attributes:
        source: what the printed line says the samples came from.
        detail: more of it, inside the line's parentheses (``", z[8]"``), or "".
        latent_dim: the width of z.
        conditional: True (takes labels), False (takes none) or None (not known: ``--label`` is passed as given).
        num_classes: a cvae's classes (0: not known).
        noun: ``model`` or ``decoder``, for messages.
    """

    source, detail, latent_dim, conditional, num_classes, noun = "", "", 0, False, 0, "decoder"

    def decode(self, z, labels):
        """Images ``[N, H, W, C]`` in [0, 1] for z ``[N, latent_dim]`` float32 and labels (a list of ints, or None)."""
        raise NotImplementedError

    def prior_z(self, eps, u):
        """The prior's draws for noise ``eps`` ``[N, latent_dim]`` and component picks ``u`` ``[N]``: ``eps`` for N(0, I)."""
        return eps

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _no_prior(what):
    return TfvaeError(f"{what}: it has no prior to sample from; use 'tfvae eval --save_images' for reconstructions")


class KerasDecoder(Decoder):
    """A checkpoint's Keras model: ``model.decode(z, labels)``."""

    noun = "model"

    def __init__(self, model, source):
        if not model.can_sample:
            raise _no_prior(f"{source} holds a plain auto-encoder (--model ae)")
        self.model, self.source = model, str(source)
        self.latent_dim = int(model.latent_dim)
        self.conditional = bool(model.config.conditional)
        self.num_classes = int(getattr(model, "num_classes", 0) or 0)

    @classmethod
    def from_checkpoint(cls, load_weight_dir, sampler=None):
        """The model of a checkpoint, drawing z from its fitted sampler (``tfvae.samplers.load``) or its prior."""
        from tfvae import checkpoints, samplers

        model, _, ckpt, _ = checkpoints.load_model(load_weight_dir)
        out = cls(model, ckpt)
        out.sampler = samplers.load(ckpt, sampler)
        if out.sampler is not None:
            out.detail = f", {out.sampler.name} sampler"
        return out

    def decode(self, z, labels):
        return self.model.decode(z, None if labels is None else np.asarray(labels, np.int32)).numpy()

    sampler = None  # a fitted post-hoc sampler (tfvae.samplers), drawn from instead of the prior

    def prior_z(self, eps, u):
        if self.sampler is not None:
            return self.sampler.sample(eps, u)
        return eps if self.model.prior.name == "standard" else self.model.prior_sample(eps, u).numpy()


class FileDecoder(Decoder):
    """An exported decoder file, run by its own runtime (no Keras model built, no TensorFlow for LiteRT / ONNX)."""

    def __init__(self, path):
        from tfvae.deploy import runtime

        loaded, self.signature = runtime.load_decoder(path)
        meta = loaded.metadata
        if meta.get("can_sample") is False:
            raise _no_prior(f"{path} is the decoder of a plain auto-encoder (--model ae)")
        self.prior = loaded.get("prior_sample")  # a SavedModel decoder's: the model's own prior
        if meta.get("prior", "standard") != "standard" and self.prior is None:
            raise TfvaeError(f"{path} is the decoder of a model with --prior {meta['prior']}, whose draws this file "
                             "cannot make (a LiteRT or ONNX file holds the decoder only); pass the SavedModel "
                             "decoder (DIR/decoder/N), or sample the checkpoint: tfvae generate --load_weight_dir")
        self.source = f"{path} ({loaded.runtime})"
        self.latent_dim = int(self.signature.inputs["z"].shape[-1])
        self.conditional = "label" in self.signature.inputs
        self.num_classes = int(meta.get("num_classes") or 0)

    def decode(self, z, labels):
        feeds = {"z": z} if labels is None else {"z": z, "label": np.asarray(labels, np.int64)}
        return self.signature(**feeds)["images"]

    def prior_z(self, eps, u):
        return eps if self.prior is None else self.prior(eps=eps, u=u)["z"]


class RemoteDecoder(Decoder):
    """A decoder served by TF Serving: REST (``url``) or gRPC (``grpc``); z's width from its metadata by default.

    A served model with a ``label`` input is conditional; one without is left to answer ``--label`` itself (the
    server's error names the input), and so is every model when ``latent_dim`` is given (no metadata is read).
    """

    def __init__(self, url=None, grpc=None, *, model="decoder", version=None, signature_name=None, latent_dim=None,
                 rest_format="row", timeout=30.0):
        from tfvae.deploy import client

        kw = dict(model=model, version=version, timeout=timeout)
        if signature_name is not None:
            kw["signature_name"] = signature_name
        self.client = client.RestClient(url, **kw) if url else client.GrpcClient(grpc, **kw)
        self.columnar = rest_format == "columnar"
        self.model, self.where = model, (self.client.url if url else grpc)
        try:
            inputs = None if latent_dim else self.client.inputs()
            self.latent_dim = int(latent_dim or client.latent_dim_of(inputs, model))
        except BaseException:
            self.close()
            raise
        self.conditional = True if inputs and "label" in inputs else None
        self.source, self.detail = f"{model!r} at {self.where}", f", z[{self.latent_dim}]"

    def decode(self, z, labels):
        from tfvae.deploy.client import RestClient, ServingError

        inputs = {"z": z} if labels is None else {"z": z, "label": np.asarray(labels, np.int64)}
        rest = isinstance(self.client, RestClient)
        out = self.client.predict(inputs, columnar=self.columnar) if rest else self.client.predict(inputs)
        images = out.get("images") if isinstance(out, dict) else out
        if images is None or np.ndim(images) not in (3, 4) or len(images) != len(z):
            got = sorted(out) if isinstance(out, dict) else f"shape {np.shape(out)}"
            raise ServingError(f"model {self.model!r} at {self.where} did not return {len(z)} images ({got}); "
                               "is it a tfvae decoder?")
        return images

    def close(self):
        if hasattr(self.client, "close"):
            self.client.close()


# ----------------------------------------------------------------- commands
def run_generate(load_weight_dir="better_weight", *, num=100, nrow=10, temperature=1.0, seed=None,
                 output="samples.png", scale=2, label=None, sampler=None):
    """``tfvae generate``: ``num`` samples of a checkpoint's Keras model as a PNG grid (``sample``).

    A cvae samples class ``label``, or one row per class when ``label`` is None. ``sampler``: ``--sampler``
    (None: the sampler fitted beside the weights if there is one, else the prior; ``prior``: the prior).

    Returns:
        ``(images, seed)``.
    """
    return sample(KerasDecoder.from_checkpoint(load_weight_dir, sampler), num=num, nrow=nrow,
                  temperature=temperature, seed=seed, output=output, scale=scale, label=label)


def run_generate_exported(path, *, num=100, nrow=10, temperature=1.0, seed=None, output="samples.png", scale=2,
                          label=None):
    """``tfvae generate --exported PATH``: the same samples from an exported decoder, no Keras model built.

    ``PATH`` is a SavedModel directory, a ``.tflite`` or an ``.onnx`` file; a seed gives the picture
    ``run_generate`` gives for the checkpoint it was exported from.

    Returns:
        ``(images, seed)``.
    """
    return sample(FileDecoder(path), num=num, nrow=nrow, temperature=temperature, seed=seed, output=output,
                  scale=scale, label=label)


def sample_remote(url=None, grpc=None, *, model="decoder", version=None, signature_name=None, num=16,
                  latent_dim=None, label=None, temperature=1.0, seed=None, rest_format="row", timeout=30.0, nrow=8,
                  scale=2, output="samples.png"):
    """``tfvae sample-remote``: the same samples decoded on TF Serving (REST ``url`` or ``grpc`` HOST:PORT).

    Returns:
        the decoded images ``[num, H, W, C]``.
    """
    with RemoteDecoder(url, grpc, model=model, version=version, signature_name=signature_name,
                       latent_dim=latent_dim, rest_format=rest_format, timeout=timeout) as decoder:
        images, _ = sample(decoder, num=num, nrow=nrow, temperature=temperature, seed=seed, output=output,
                           scale=scale, label=label)
    return images
