"""Raw IDX files (the original MNIST format), for ``--dataset idx:DIR``.

``DIR`` holds the four standard files (``.gz`` or raw): train and test
images and labels, under the names in ``IDX_FILES``.
"""

import gzip
import os
import struct

import numpy as np

from tfvae.data.splits import Split
from tfvae.errors import TfvaeError

IDX_FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _open_maybe_gz(path):
    with open(path, "rb") as f:
        head = f.read(2)
    return gzip.open(path, "rb") if head == b"\x1f\x8b" else open(path, "rb")


def read_idx(path: str) -> np.ndarray:
    """Reads an IDX file (``.gz`` or raw), validating its header and length.

    Args:
        path: file path.

    Returns:
        numpy array with the dimensions the header declares.

    Raises:
        TfvaeError: missing file, wrong magic number, or truncated data.
    """
    if not os.path.isfile(path):
        raise TfvaeError(f"IDX file not found: {path} (expected the standard MNIST file names in that directory)")
    try:
        with _open_maybe_gz(path) as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise TfvaeError(f"cannot read IDX file {path}: {e} (re-download the file)") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        magic = raw[:4].hex() if len(raw) >= 4 else raw.hex()
        raise TfvaeError(
            f"{path} is not an IDX file: bad magic number 0x{magic} "
            "(expected 0x00000803 for images, 0x00000801 for labels; is it the right file?)"
        )
    ndim = raw[3]
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise TfvaeError(f"IDX file {path} is truncated inside its header (re-download the file)")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header_len])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    body = raw[header_len:]
    if len(body) != expected:
        what = "truncated" if len(body) < expected else "longer than its header says"
        raise TfvaeError(
            f"IDX file {path} is {what}: header declares {dims} ({expected} bytes), "
            f"found {len(body)} bytes (re-download the file)"
        )
    return np.frombuffer(body, dtype=dtype).reshape(dims)


def _find_idx(directory, split, kind):
    base = IDX_FILES[(split, kind)]
    candidates = [base, base + ".gz", base.replace("-idx", ".idx"), base.replace("-idx", ".idx") + ".gz"]
    for c in candidates:
        p = os.path.join(directory, c)
        if os.path.isfile(p):
            return p
    raise TfvaeError(f"idx dataset {directory} is missing {base}[.gz] (put the four standard IDX files there)")


def load_idx_dir(directory: str) -> dict[str, Split]:
    """Loads train and test splits from a directory of the four IDX files."""
    if not os.path.isdir(directory):
        raise TfvaeError(f"idx dataset directory not found: {directory} (use --dataset idx:DIR with an existing DIR)")
    splits = {}
    for split in ("train", "test"):
        images = read_idx(_find_idx(directory, split, "images"))
        labels = read_idx(_find_idx(directory, split, "labels"))
        if images.ndim != 3:
            raise TfvaeError(f"{split} images in {directory} have shape {images.shape}; expected [N, H, W]")
        if len(images) != len(labels):
            raise TfvaeError(
                f"{split} images and labels in {directory} differ in length ({len(images)} vs {len(labels)}); "
                "the files do not belong together"
            )
        splits[split] = Split(images.astype(np.uint8)[..., None], labels.astype(np.int64))
    return splits
