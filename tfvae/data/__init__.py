"""Datasets as in-memory arrays, and the ``tf.data`` pipeline that feeds them.

Every source (TFDS, raw IDX files, ...) is loaded once into uint8 arrays of
shape ``[N, H, W, C]`` plus integer labels. ``make_dataset`` then builds the
pipeline: a seed per pass -> permuted indices -> chunks of batches gathered
and binarized in bulk (prefetched) -> batch slices scaled to [0, 1].

Dataset specs (``--dataset``):

* ``mnist``, ``fashion_mnist``: through ``tfds`` (offline: set
  ``TFDS_DATA_DIR`` or ``--data_dir`` to a directory holding the prepared data);
* ``idx:DIR``: the four standard IDX files (``.gz`` or raw) in ``DIR``;
* ``freyface``, ``olivetti``, ``folder:DIR``: see ``tfvae.data.sources``.

The modules, each importing only those before it:

* ``splits``: ``Split``, ``DataInfo``, static binarization (numpy only);
* ``idx``, ``tfds_source``, ``sources``: the loaders of each kind of source;
* ``registry``: dataset spec -> loader (``LOADERS``), ``load_splits``;
* ``pipeline``: ``make_dataset`` (the only module importing TensorFlow at
  import time; ``tfds_source`` imports it when it loads a dataset).

Everything public is re-exported here: ``from tfvae import data;
data.make_dataset(...)``.
"""

from tfvae.data.pipeline import (  # first: TensorFlow without its start-up notices (tfvae._tf)
    CHUNK_BATCHES,
    bernoulli_pixels,
    elements_per_pass,
    make_dataset,
    pass_plan,
    without_autotune,
)

from tfvae.config import BINARIZE_MODES, DataConfig  # noqa: E402  (re-exported: data.DataConfig)
from tfvae.data import sources  # noqa: E402
from tfvae.data.idx import IDX_FILES, load_idx_dir, read_idx  # noqa: E402
from tfvae.data.registry import (  # noqa: E402
    DATASET_NAMES,
    DATASET_PREFIXES,
    LOADERS,
    find_loader,
    load_source,
    load_splits,
    load_eval_images,
    load_test_split,
)
from tfvae.data.splits import (  # noqa: E402
    EVAL_BINARIZE_SEED,
    STATIC_BINARIZE_SEED,
    DataInfo,
    Split,
    static_binarize,
)
from tfvae.data.tfds_source import TFDS_NAMES, default_tfds_dir, load_tfds  # noqa: E402

__all__ = [
    "BINARIZE_MODES", "CHUNK_BATCHES", "DATASET_NAMES", "DATASET_PREFIXES", "DataConfig", "DataInfo",
    "EVAL_BINARIZE_SEED", "IDX_FILES", "LOADERS", "STATIC_BINARIZE_SEED", "Split", "TFDS_NAMES",
    "bernoulli_pixels", "default_tfds_dir", "elements_per_pass", "find_loader", "load_idx_dir", "load_source",
    "load_eval_images", "load_splits", "load_test_split", "load_tfds", "make_dataset", "pass_plan", "read_idx", "sources",
    "static_binarize", "without_autotune",
]
