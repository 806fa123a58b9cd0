"""TFDS datasets (``mnist``, ``fashion_mnist``), read from prepared data without downloading.

Offline: set ``TFDS_DATA_DIR`` or ``--data_dir`` to a directory holding the
prepared data. TensorFlow (which ``tensorflow_datasets`` needs) is imported
when a dataset is loaded, not when this module is.
"""

import os

import numpy as np

from tfvae.data.splits import Split
from tfvae.errors import TfvaeError

TFDS_NAMES = ("mnist", "fashion_mnist")


def default_tfds_dir(data_dir: str | None = None) -> str:
    """``data_dir``, else ``$TFDS_DATA_DIR``, else ``~/tensorflow_datasets``."""
    return data_dir or os.environ.get("TFDS_DATA_DIR") or os.path.join(os.path.expanduser("~"), "tensorflow_datasets")


def load_tfds(name: str, data_dir: str | None = None) -> dict[str, Split]:
    """Loads a prepared TFDS dataset fully into memory, without downloading."""
    from tfvae._tf import tf  # noqa: F401  (first: TensorFlow without its start-up notices; tfds imports it)
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    import tensorflow_datasets as tfds

    data_dir = default_tfds_dir(data_dir)
    if os.path.exists(data_dir) and not os.path.isdir(data_dir):
        raise TfvaeError(f"--data_dir {data_dir} is a file; TFDS data need the directory holding {name}/ "
                         "(or set TFDS_DATA_DIR to it)")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        prepared = builder.is_prepared()
    except Exception as e:  # tfds raises many types for a broken tree
        prepared, builder = False, None
        reason = str(e).splitlines()[0]
    else:
        reason = ""
    if not prepared:
        raise TfvaeError(
            f"TFDS dataset '{name}' is not prepared under {data_dir}{' (' + reason + ')' if reason else ''}; "
            f"set TFDS_DATA_DIR (or --data_dir) to a directory holding {name}/, "
            f"or use --dataset idx:DIR with the original IDX files"
        )
    splits = {}
    for split in ("train", "test"):
        ds = builder.as_dataset(split=split, batch_size=-1, as_supervised=True)
        images, labels = tfds.as_numpy(ds)
        splits[split] = Split(images.astype(np.uint8), labels.astype(np.int64))
    return splits
