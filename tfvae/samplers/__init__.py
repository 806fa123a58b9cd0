"""Post-hoc samplers for a trained continuous model, fitted to its training codes and saved beside its weights.

* ``base``: ``Sampler``, ``register``, the ``sampler.json`` record;
* ``gmm`` (a full-covariance Gaussian mixture, scikit-learn), ``two_stage`` (a second VAE, Dai & Wipf 2019):
  one file each; other packages register theirs through the entry-point group ``tfvae.samplers``.

``tfvae fit-sampler`` (``fit``) writes ``<weights>/sampler/``; ``generate``, ``viz``, ``export`` and ``explore``
use it when it is there (``load``), ``--sampler prior`` forces the model's own prior.
"""

import hashlib
import os
import shutil
import time

import numpy as np

from tfvae import io
from tfvae.errors import TfvaeError
from tfvae.samplers import gmm, two_stage  # noqa: F401  (each sampler registers itself)
from tfvae.samplers.base import META, REGISTRY, Fitted, Sampler, register  # noqa: F401

DIRECTORY = "sampler"  # inside the checkpoint directory, beside model.weights.h5
PRIOR = "prior"
names = REGISTRY.names
get = REGISTRY.get
fields = REGISTRY.fields


def weights_sha256(ckpt):
    from tfvae import checkpoints

    h = hashlib.sha256()
    with open(os.path.join(ckpt, checkpoints.WEIGHTS_FILE), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load(ckpt, choice=None):
    """The fitted sampler beside a checkpoint's weights, or None for the model's prior.

    Args:
        ckpt: the checkpoint directory.
        choice: ``--sampler``: None (the fitted one if there is one), ``prior``, or a sampler's name (which
            must be the fitted one).
    """
    if choice == PRIOR:
        return None
    home = os.path.join(ckpt, DIRECTORY)
    if not os.path.isfile(os.path.join(home, META)):
        if choice is not None:
            raise TfvaeError(f"--sampler {choice}: {ckpt} has no fitted sampler; fit one with tfvae fit-sampler "
                             f"--load_weight_dir {ckpt} --sampler {choice}")
        return None
    meta = io.read_json(os.path.join(home, META), expect=dict, required=("sampler", "weights_sha256"),
                        fix="fit it again with tfvae fit-sampler")
    if choice is not None and meta["sampler"] != choice:
        raise TfvaeError(f"--sampler {choice}: the sampler fitted in {home} is {meta['sampler']}; pass --sampler "
                         f"{meta['sampler']} or prior, or fit a {choice} one with tfvae fit-sampler")
    if meta["weights_sha256"] != weights_sha256(ckpt):
        raise TfvaeError(f"the sampler in {home} was fitted to other weights than {ckpt}'s; fit it again with "
                         f"tfvae fit-sampler --load_weight_dir {ckpt}, or pass --sampler prior")
    fitted = get(meta["sampler"]).load(home, meta)
    fitted.name, fitted.meta = meta["sampler"], meta
    return fitted


def training_codes(model, config, batch=1000):
    """``z_mean`` ``[N, d]`` (float64) of the training images the model saw (its holdout and
    ``--train_examples`` as in training), one fixed Bernoulli draw of them for dynamic binarization; and the
    data config."""
    from tfvae import data
    from tfvae.data import registry, splits

    dc = data.DataConfig.from_dict(config["data"])
    train, _, _ = registry.load_splits(dc)
    if dc.binarize == "dynamic":
        train = splits.static_binarize(train, splits.EVAL_BINARIZE_SEED)
    images = train.images.astype(np.float32) / 255.0
    return np.concatenate([model.encode(images[i:i + batch])[0].numpy() for i in range(0, len(images), batch)]
                          ).astype(np.float64), dc


def fit(load_weight_dir, sampler, options=None, seed=0, out=None):
    """``tfvae fit-sampler``: fits ``sampler`` to a model's training codes and saves it beside the weights.

    The weights installed with the package are read-only: a shipped set's sampler goes into a copy of the set,
    ``./NAME-SAMPLER/`` (or ``out``), which ``--load_weight_dir`` then names. Returns the directory written.
    """
    from tfvae import checkpoints

    options = dict(options or {})
    chosen = get(sampler)
    model, config, ckpt, home = checkpoints.load_model(load_weight_dir)
    if not (model.kind.stochastic and model.can_sample) or model.config.conditional:
        raise TfvaeError(f"a post-hoc sampler is fitted to an unconditional model with a posterior; {ckpt} holds a "
                         f"--model {model.config.model}")
    shipped = checkpoints.writable_home(ckpt, "x") is not None  # the installed weights: read-only
    name = os.path.basename(os.path.normpath(ckpt))
    dest = out or (os.path.join(os.getcwd(), f"{name}-{sampler}") if shipped else ckpt)
    if os.path.abspath(dest) != os.path.abspath(ckpt):
        if os.path.exists(dest) and not checkpoints.is_checkpoint(dest):
            raise TfvaeError(f"{dest} exists and is not a copy of {ckpt}; remove it or pass --out")
        os.makedirs(dest, exist_ok=True)
        for f in (checkpoints.WEIGHTS_FILE, "config.json", "state.json"):
            if os.path.exists(os.path.join(ckpt, f)):
                shutil.copy2(os.path.join(ckpt, f), dest)
    t0 = time.perf_counter()
    print(f"tfvae: fitting a {sampler} sampler to the training codes of {ckpt}; writing {dest}/{DIRECTORY}",
          flush=True)
    z, dc = training_codes(model, config)
    tmp = os.path.join(dest, DIRECTORY + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    record = chosen.fit(z, tmp, options, seed=seed)
    io.write_json(os.path.join(tmp, META), {"sampler": sampler, **record, "seed": int(seed),
                                           "weights_sha256": weights_sha256(ckpt), "fitted_on": {
                                               "dataset": dc.dataset, "split": "train", "codes": int(len(z)),
                                               "binarize": dc.binarize}, "seconds": round(time.perf_counter() - t0, 1)})
    final = os.path.join(dest, DIRECTORY)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    print(f"tfvae: wrote {final} ({sampler}, fitted to {len(z)} codes in {time.perf_counter() - t0:.0f} s)")
    return dest
