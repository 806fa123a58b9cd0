"""Readers for the non-TFDS datasets: MATLAB files and image folders.

Each returns ``{"train": Split, "test": Split}`` of uint8 ``[N, H, W, C]``
images and int64 labels, like ``tfvae.data.idx.load_idx_dir``.

* ``freyface``: ``frey_rawface.mat`` (variable ``ff``, uint8 560 x 1965; one
  column per 28 x 20 frame, row-major), seeded 1565 / 400 split;
* ``olivetti``: ``olivettifaces.mat`` (variable ``faces``, uint8 4096 x 400;
  one column per 64 x 64 face, column-major), 40 people x 10 images, seeded
  8 / 2 split per person, label = person;
* ``folder:DIR``: PNG/JPEG files found recursively, resized to
  ``image_size`` and converted to ``channels``; ``train/`` and ``test/``
  subfolders if present else a seeded 90 / 10 split; label = name of the
  first subfolder (sorted), 0 when images sit directly in the folder.
"""

import os

import numpy as np

from tfvae.data.splits import Split, split_by_index
from tfvae.errors import TfvaeError

SPLIT_SEED = 0
FREYFACE_TEST = 400
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")

MAT_SOURCES = {
    # name: (file name, variable, where to get it)
    "freyface": ("frey_rawface.mat", "ff", "Sam Roweis' data page (frey_rawface.mat); e.g. shared/data/freyface/"),
    "olivetti": ("olivettifaces.mat", "faces", "Sam Roweis' data page (olivettifaces.mat, the file scikit-learn "
                 "downloads); e.g. shared/data/olivetti/"),
}


def _mat_variable(name, data_dir):
    fname, var, origin = MAT_SOURCES[name]
    if not data_dir:
        raise TfvaeError(f"dataset {name} needs --data_dir pointing at {fname} or its directory (from {origin})")
    path = os.path.join(data_dir, fname) if os.path.isdir(data_dir) else data_dir
    if not os.path.isfile(path):
        raise TfvaeError(f"{path} not found; --data_dir must be {fname} or the directory holding it (from {origin})")
    import scipy.io

    try:
        mat = scipy.io.loadmat(path)
    except Exception as e:  # scipy raises ValueError, TypeError, OSError ...
        raise TfvaeError(f"cannot read {path} as a MATLAB file ({str(e).splitlines()[0][:120]}); "
                         f"re-download {fname}") from None
    if var not in mat:
        found = ", ".join(k for k in mat if not k.startswith("__")) or "none"
        raise TfvaeError(f"{path} has no variable '{var}' (found: {found}); is it {fname}?")
    return path, np.asarray(mat[var])


def _split_in_order(images, labels, train_idx, test_idx) -> dict[str, Split]:
    """Train in the order given; test in file order (as ``split_by_index`` gives it)."""
    test_idx = np.sort(np.asarray(test_idx))
    train_idx = np.asarray(train_idx)
    return {"train": Split(images[train_idx], labels[train_idx]), "test": Split(images[test_idx], labels[test_idx])}


def load_freyface(data_dir: str | None) -> dict[str, Split]:
    """Frey Face: 1965 frames of 28 x 20, seeded 1565 / 400 split."""
    path, ff = _mat_variable("freyface", data_dir)
    if ff.ndim != 2 or ff.shape[0] != 28 * 20:
        raise TfvaeError(f"{path}: variable 'ff' has shape {ff.shape}; expected (560, N) of 28x20 frames")
    images = ff.T.reshape(-1, 28, 20, 1).astype(np.uint8)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(images))
    # The frames are a video: the training split keeps the seeded random order, so that the last N training
    # images (--validation_holdout N) are a random sample like the test split, not the video's last seconds.
    return _split_in_order(images, np.zeros(len(images), np.int64), order[FREYFACE_TEST:], order[:FREYFACE_TEST])


def load_olivetti(data_dir: str | None) -> dict[str, Split]:
    """Olivetti faces: 400 of 64 x 64 (stored column-major), 8 / 2 per person."""
    path, faces = _mat_variable("olivetti", data_dir)
    if faces.ndim != 2 or faces.shape[0] != 64 * 64:
        raise TfvaeError(f"{path}: variable 'faces' has shape {faces.shape}; expected (4096, N) of 64x64 faces")
    # Column-major storage: reshape each column to (64, 64) and transpose to get upright faces.
    images = faces.T.reshape(-1, 64, 64).transpose(0, 2, 1)[..., None].astype(np.uint8)
    labels = np.arange(len(images), dtype=np.int64) // 10
    rng = np.random.default_rng(SPLIT_SEED)
    ranks = [rng.permutation(10) for _ in range(len(images) // 10)]  # per person: 2 test, then 8 train
    test = [p * 10 + j for p, r in enumerate(ranks) for j in r[:2]]
    # Training images ordered by their rank within each person, so the last 40 (--validation_holdout 40)
    # are one unseen image of every person, like the test split; the last 80, two of each.
    train = [p * 10 + r[i] for i in range(2, 10) for p, r in enumerate(ranks)]
    return _split_in_order(images, labels, train, test)


def _list_images(root):
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            if not f.startswith("."):
                files.append(os.path.join(dirpath, f))
    return files


def _read_folder_images(root, files, image_size, channels):
    from PIL import Image, UnidentifiedImageError

    mode = {1: "L", 3: "RGB"}[channels]
    out, size = [], None
    for f in files:
        if not f.lower().endswith(IMAGE_EXTENSIONS):
            raise TfvaeError(f"{f} is not a PNG or JPEG image; remove it from {root}")
        try:
            with Image.open(f) as im:
                im = im.convert(mode)
                if image_size:
                    im = im.resize((image_size[1], image_size[0]), Image.BILINEAR)
                arr = np.asarray(im, np.uint8)
        except (UnidentifiedImageError, OSError) as e:
            raise TfvaeError(f"cannot read image {f} ({str(e).splitlines()[0][:100]}); remove or fix it") from None
        if size is None:
            size = arr.shape[:2]
        elif arr.shape[:2] != size:
            raise TfvaeError(
                f"{f} is {arr.shape[1]}x{arr.shape[0]} but earlier images are {size[1]}x{size[0]}; "
                "pass --image_size H,W to resize them all"
            )
        out.append(arr.reshape(arr.shape[0], arr.shape[1], channels))
    return np.stack(out)


def _labels_for(root, files):
    names = sorted({os.path.relpath(f, root).split(os.sep)[0] for f in files if os.sep in os.path.relpath(f, root)})
    index = {n: i for i, n in enumerate(names)}
    labels = [index.get(os.path.relpath(f, root).split(os.sep)[0], 0) if os.sep in os.path.relpath(f, root) else 0
              for f in files]
    return np.asarray(labels, np.int64), names


def load_folder(root: str, image_size: tuple[int, int] | None = None, channels: int = 1) -> dict[str, Split]:
    """Images under ``root`` (recursive), with ``train/``/``test/`` if present."""
    if not os.path.isdir(root):
        raise TfvaeError(f"image folder not found: {root} (use --dataset folder:DIR with an existing DIR)")
    if channels not in (1, 3):
        raise TfvaeError(f"--channels must be 1 or 3, got {channels}")
    has_split = os.path.isdir(os.path.join(root, "train")) and os.path.isdir(os.path.join(root, "test"))
    parts = {"train": os.path.join(root, "train"), "test": os.path.join(root, "test")} if has_split else {"all": root}
    loaded = {}
    for part, d in parts.items():
        files = _list_images(d)
        if not files:
            raise TfvaeError(f"no images found in {d}; put PNG or JPEG files there")
        loaded[part] = (files, d)
    if has_split:
        # class names from both parts, so labels agree
        all_names = sorted(set(_labels_for(loaded["train"][1], loaded["train"][0])[1])
                           | set(_labels_for(loaded["test"][1], loaded["test"][0])[1]))
        out = {}
        size = None
        for part in ("train", "test"):
            files, d = loaded[part]
            imgs = _read_folder_images(d, files, image_size, channels)
            if size is not None and imgs.shape[1:] != size:
                raise TfvaeError(f"images in {d} differ in size from train/; pass --image_size H,W")
            size = imgs.shape[1:]
            idx = {n: i for i, n in enumerate(all_names)}
            labels = np.asarray([idx.get(os.path.relpath(f, d).split(os.sep)[0], 0) for f in files], np.int64)
            out[part] = Split(imgs, labels)
        return out
    files, d = loaded["all"]
    imgs = _read_folder_images(d, files, image_size, channels)
    labels, _ = _labels_for(d, files)
    n_test = max(1, len(imgs) // 10) if len(imgs) > 1 else 0
    if n_test == 0:
        raise TfvaeError(f"only one image in {d}; a dataset needs at least two")
    test = np.random.default_rng(SPLIT_SEED).permutation(len(imgs))[:n_test]
    return split_by_index(imgs, labels, test)
