"""Dataset specs (``--dataset``) -> loaders, and the splits a run trains and validates on.

* ``mnist``, ``fashion_mnist``: through ``tfds`` (``tfvae.data.tfds_source``;
  offline: set ``TFDS_DATA_DIR`` or ``--data_dir`` to a directory holding the
  prepared data);
* ``idx:DIR``: the four standard IDX files (``.gz`` or raw) in ``DIR``
  (``tfvae.data.idx``);
* ``freyface``, ``olivetti``, ``folder:DIR``: see ``tfvae.data.sources``.

``LOADERS`` maps a dataset name, or a prefix ending in ``:`` whose argument
follows it in the spec, to a loader ``(config, argument) -> {"train": Split,
"test": Split}`` (the argument is ``""`` for a name).
"""

import os
from collections.abc import Callable

import numpy as np

from tfvae.config import DataConfig
from tfvae.data.idx import load_idx_dir
from tfvae.data.sources import load_folder, load_freyface, load_olivetti
from tfvae.data.splits import EVAL_BINARIZE_SEED, STATIC_BINARIZE_SEED, DataInfo, Split, static_binarize
from tfvae.data.tfds_source import TFDS_NAMES, load_tfds
from tfvae.errors import TfvaeError

Loader = Callable[[DataConfig, str], dict[str, Split]]


def _tfds(name: str) -> Loader:
    return lambda config, _: load_tfds(name, config.data_dir)


LOADERS: dict[str, Loader] = {
    **{name: _tfds(name) for name in TFDS_NAMES},
    "freyface": lambda config, _: load_freyface(config.data_dir),
    "olivetti": lambda config, _: load_olivetti(config.data_dir),
    "idx:": lambda config, directory: load_idx_dir(os.path.expanduser(directory)),
    "folder:": lambda config, directory: load_folder(os.path.expanduser(directory), config.image_size,
                                                     config.channels),
}

DATASET_NAMES = tuple(key for key in LOADERS if not key.endswith(":"))
DATASET_PREFIXES = tuple(key for key in LOADERS if key.endswith(":"))


def find_loader(spec: str) -> tuple[Loader, str]:
    """The loader of dataset spec ``spec`` and its argument (what follows a prefix; ``""`` for a name).

    Raises:
        TfvaeError: no dataset of that name or prefix.
    """
    name, colon, argument = spec.partition(":")
    loader = LOADERS.get(name + colon)
    if loader is None:
        raise TfvaeError(
            f"unknown dataset {spec!r}; use one of {', '.join(DATASET_NAMES)}, "
            f"{' or '.join(prefix + 'DIR' for prefix in DATASET_PREFIXES)}"
        )
    return loader, argument


def load_source(config: DataConfig) -> dict[str, Split]:
    """Loads the raw ``{"train": Split, "test": Split}`` a dataset spec names."""
    loader, argument = find_loader(config.dataset)
    return loader(config, argument)


def load_splits(config: DataConfig) -> tuple[Split, Split, DataInfo]:
    """Loads ``(train, val, info)`` as in-memory ``Split``s.

    Validation is the test split unless ``config.validation_holdout`` > 0, in
    which case the last N training examples are held out.
    """
    spec = config.dataset
    splits = load_source(config)
    train, test = splits["train"], splits["test"]
    if config.validation_holdout:
        n = config.validation_holdout
        if n >= len(train):
            raise TfvaeError(f"--validation_holdout {n} leaves no training data ({len(train)} examples)")
        val = Split(train.images[-n:], train.labels[-n:])
        train = Split(train.images[:-n], train.labels[:-n])
        val_source = f"last {n} training examples"
    else:
        val = test
        val_source = "test split"
    if config.train_examples:
        train = train.take(config.train_examples)
    if config.val_examples:
        val = val.take(config.val_examples)
    if config.binarize == "static":
        train = static_binarize(train, STATIC_BINARIZE_SEED)
        val = static_binarize(val, STATIC_BINARIZE_SEED + 1)
    info = DataInfo(
        name=spec,
        input_shape=tuple(int(d) for d in train.images.shape[1:]),
        num_classes=int(max(train.labels.max(), test.labels.max()) + 1),
        n_train=len(train),
        n_val=len(val),
        val_source=val_source,
    )
    return train, val, info


def load_test_split(config: DataConfig, split: str = "test") -> Split:
    """Loads one split for evaluation (``train`` or ``test``), binarized as in training."""
    splits = load_source(config)
    if split not in splits:
        raise TfvaeError(f"unknown split {split!r}; use one of {', '.join(splits)}")
    out = splits[split]
    if config.binarize == "static":
        out = static_binarize(out, STATIC_BINARIZE_SEED + (0 if split == "train" else 1))
    return out


def load_eval_images(data_config, split="test", num_examples=None):
    """The split's images (float32 in [0, 1]) and labels, binarized the way the model was trained.

    A model trained with dynamic binarization is evaluated on one Bernoulli draw
    of the whole split, made with numpy's ``default_rng(EVAL_BINARIZE_SEED)``
    (``static_binarize``), independent of the training pipeline, so the
    numbers repeat; ``num_examples`` takes the first images of that draw.
    """
    s = load_test_split(data_config, split)
    if data_config.binarize == "dynamic":
        s = static_binarize(s, EVAL_BINARIZE_SEED)
    if num_examples:
        s = s.take(num_examples)
    return s.images.astype(np.float32) / 255.0, s.labels
