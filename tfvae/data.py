"""Datasets as in-memory arrays, and the ``tf.data`` pipeline that feeds them.

Every source (TFDS, raw IDX files, ...) is loaded once into uint8 arrays of
shape ``[N, H, W, C]`` plus integer labels. ``make_dataset`` then builds the
pipeline: a seed per pass -> permuted indices -> chunks of batches gathered
and binarized in bulk (prefetched) -> batch slices scaled to [0, 1].

Dataset specs (``--dataset``):

* ``mnist``, ``fashion_mnist``: through ``tfds`` (offline: set
  ``TFDS_DATA_DIR`` or ``--data_dir`` to a directory holding the prepared data);
* ``idx:DIR``: the four standard IDX files (``.gz`` or raw) in ``DIR``;
* ``freyface``, ``olivetti``, ``folder:DIR``: see ``tfvae.sources``.
"""

import dataclasses
import gzip
import os
import struct
from typing import Tuple

import numpy as np

from tfvae._tf import tf  # first: TensorFlow without its start-up notices

from tfvae import sources
from tfvae.configs import BINARIZE_MODES, DataConfig  # noqa: F401  (re-exported: data.DataConfig)
from tfvae.errors import TfvaeError

TFDS_NAMES = ("mnist", "fashion_mnist")
DATASET_NAMES = TFDS_NAMES + ("freyface", "olivetti")
STATIC_BINARIZE_SEED = 1234
EVAL_BINARIZE_SEED = 4321

IDX_FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclasses.dataclass
class Split:
    """One split held in memory: uint8 images ``[N, H, W, C]`` and int labels."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.images)

    def take(self, n):
        return Split(self.images[:n], self.labels[:n])


# --------------------------------------------------------------------- IDX
def _open_maybe_gz(path):
    with open(path, "rb") as f:
        head = f.read(2)
    return gzip.open(path, "rb") if head == b"\x1f\x8b" else open(path, "rb")


def read_idx(path):
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


def load_idx_dir(directory):
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


# -------------------------------------------------------------------- TFDS
def default_tfds_dir(data_dir=None):
    return data_dir or os.environ.get("TFDS_DATA_DIR") or os.path.join(os.path.expanduser("~"), "tensorflow_datasets")


def load_tfds(name, data_dir=None):
    """Loads a prepared TFDS dataset fully into memory, without downloading."""
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


# ------------------------------------------------------------------ facade
@dataclasses.dataclass
class DataInfo:
    """What the model needs to know about the data."""

    name: str
    input_shape: Tuple[int, int, int]
    num_classes: int
    n_train: int
    n_val: int
    val_source: str


def load_source(config: DataConfig):
    """Loads the raw ``{"train": Split, "test": Split}`` a dataset spec names."""
    spec = config.dataset
    if spec in TFDS_NAMES:
        return load_tfds(spec, config.data_dir)
    if spec.startswith("idx:"):
        return load_idx_dir(os.path.expanduser(spec[4:]))
    if spec == "freyface":
        return sources.load_freyface(config.data_dir)
    if spec == "olivetti":
        return sources.load_olivetti(config.data_dir)
    if spec.startswith("folder:"):
        return sources.load_folder(os.path.expanduser(spec[7:]), config.image_size, config.channels)
    raise TfvaeError(
        f"unknown dataset {spec!r}; use one of {', '.join(DATASET_NAMES)}, idx:DIR or folder:DIR"
    )


def load_splits(config: DataConfig):
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


def load_test_split(config: DataConfig, split="test"):
    """Loads one split for evaluation (``train`` or ``test``), binarized as in training."""
    splits = load_source(config)
    if split not in splits:
        raise TfvaeError(f"unknown split {split!r}; use one of {', '.join(splits)}")
    out = splits[split]
    if config.binarize == "static":
        out = static_binarize(out, STATIC_BINARIZE_SEED + (0 if split == "train" else 1))
    return out


def static_binarize(split, seed):
    """One fixed Bernoulli draw per pixel; stored as uint8 {0, 255}."""
    rng = np.random.default_rng(seed)
    p = split.images.astype(np.float32) / 255.0
    b = (rng.random(p.shape, dtype=np.float32) < p).astype(np.uint8) * 255
    return Split(b, split.labels)


# ---------------------------------------------------------------- pipeline
CHUNK_BATCHES = 10  # batches prepared together (one gather and one random draw each)


def bernoulli_pixels(images, seed):
    """One Bernoulli(pixel / 255) draw of uint8 ``images``, as float32 0/1 (dynamic binarization).

    Each pixel gets 16 random bits, ``r``, and is 1 where ``r < 257 * pixel``:
    probability ``pixel / 255.004`` (exactly 0 for black and, with one more
    count for 255, exactly 1 for white). Two pixels per 32-bit Philox number:
    about 1.7x less CPU than a float uniform per pixel, and this draw is most of
    the input pipeline's work (bench/RESULTS.md).

    Args:
        images: uint8 tensor, any shape.
        seed: shape-[2] int tensor, as for ``tf.random.stateless_uniform``.

    Returns:
        float32 tensor of ``images``' shape.
    """
    size = tf.size(images)
    bits = tf.random.stateless_uniform([(size + 1) // 2], seed=seed, minval=None, maxval=None, dtype=tf.uint32)
    r = tf.cast(tf.reshape(tf.bitcast(bits, tf.uint16), [-1])[:size], tf.int32)
    p = tf.cast(tf.reshape(images, [-1]), tf.int32)
    return tf.reshape(tf.cast(r < p * 257 + p // 255, tf.float32), tf.shape(images))


def pass_plan(n, batch_size, chunk_batches):
    """The elements of one pass over ``n`` examples, in order: ``(chunk, first row, batches, batch size)``.

    One stack of ``chunk_batches`` batches per full chunk of
    ``chunk_batches * batch_size`` examples; the last chunk gives its full
    batches, then its partial batch, as stacks of their own.
    """
    chunk = chunk_batches * batch_size
    plan = []
    for c in range(-(-n // chunk)):
        size = min(chunk, n - c * chunk)
        if size >= batch_size:
            plan.append((c, 0, size // batch_size, batch_size))
        if size % batch_size:
            plan.append((c, size - size % batch_size, 1, size % batch_size))
    return plan


def elements_per_pass(n, batch_size, group=1):
    """How many elements ``make_dataset(group=group)`` yields per pass over ``n`` examples."""
    return len(pass_plan(n, batch_size, group)) if group > 1 else -(-n // batch_size)


def make_dataset(split, batch_size, *, shuffle=False, seed=0, binarize="none", fixed_draw=False, with_labels=True,
                 group=1, repeat=False):
    """Builds the ``tf.data`` pipeline over an in-memory split.

    One pass over the data (an epoch) is: a seed for the pass -> a seeded
    permutation of the indices -> chunks of ``CHUNK_BATCHES`` batches, each
    gathered and binarized with a few large ops -> the chunk's batches, cut out
    as slices. The next chunk is prepared in the background while the current
    one trains (``prefetch``), so a step pays one slice and one cast, and the
    per-pixel work runs in vectorised bulk rather than per batch
    (bench/train_speed.py measures the overhead against in-memory tensors).

    Args:
        split: a ``Split`` (uint8 images).
        batch_size: examples per batch (the last batch may be smaller).
        shuffle: a new order every pass, seeded by ``seed``.
        seed: seed for shuffling and dynamic binarization; every pass draws
            its own seeds from it (``Dataset.random``, re-randomized each time
            the dataset is iterated), so runs repeat.
        binarize: ``dynamic`` draws Bernoulli pixels every pass;
            ``none``/``static`` only scale to [0, 1].
        fixed_draw: for ``dynamic``, make the draw the same on every pass
            (evaluation / validation, so numbers repeat).
        with_labels: yield ``(images, labels)`` instead of images.
        group: yield stacks of up to ``group`` consecutive batches,
            ``[g, batch_size, H, W, C]`` (and ``[g, batch_size]`` labels),
            instead of single batches: ``VAE.train_step`` runs a stack as
            ``g`` optimizer steps in one call (``training.steps_per_call``).
            The same batches in the same order; a pass ends with a shorter
            stack of the remaining full batches and, if the last batch is
            partial, a stack of one.
        repeat: pass after pass without end (each pass as a new iteration
            would be: reshuffled, redrawn), through one iterator, so that the
            pipeline is set up once per run instead of once per epoch; give
            Keras ``steps_per_epoch=elements_per_pass(...)``.

    Returns:
        ``tf.data.Dataset`` of float32 images in [0, 1] (and int64 labels).
    """
    if int(group) < 1:
        raise ValueError(f"group must be a positive integer, got {group}")
    n = len(split)
    images = tf.constant(split.images)
    labels = tf.constant(split.labels)
    chunk_batches = int(group) if group > 1 else CHUNK_BATCHES  # a stack is one chunk
    chunk = chunk_batches * batch_size
    # The elements of a pass are planned here rather than cut with a nested dataset per chunk (each of those
    # cost ~1 ms to set up).
    plan = pass_plan(n, batch_size, chunk_batches)
    n_elements, plan = len(plan), tf.constant(plan, tf.int64, shape=[len(plan), 4])
    # One int64 seed per pass: a different one each time the dataset is iterated (unless fixed).
    rerandomize = shuffle or (binarize == "dynamic" and not fixed_draw)
    # repeat: the next pass's seed as the next iteration would draw it, so the same passes in the same order
    passes = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=rerandomize).take(1)
    if repeat:
        passes = passes.repeat()

    def elements_of_pass(pass_seed):
        index = tf.range(n, dtype=tf.int64)
        if shuffle:
            index = tf.random.experimental.stateless_shuffle(index, seed=tf.stack([pass_seed, 0]))
        return tf.data.Dataset.from_tensor_slices(plan).map(
            lambda e: (pass_seed, e, index[e[0] * chunk : (e[0] + 1) * chunk]))

    def prepare(pass_seed, e, index):
        # the whole chunk is gathered and drawn, so a chunk's draws do not depend on how it is cut
        x = tf.gather(images, index)
        if binarize == "dynamic":
            x = bernoulli_pixels(x, tf.stack([pass_seed, e[0] + 1]))
        else:
            x = tf.cast(x, tf.float32) * (1.0 / 255.0)
        rows = slice(e[1], e[1] + e[2] * e[3])
        x = tf.reshape(x[rows], [e[2], e[3], *split.images.shape[1:]])
        y = tf.reshape(tf.gather(labels, index[rows]), [e[2], e[3]])
        return (x, y) if with_labels else x

    ds = passes.flat_map(elements_of_pass).map(prepare)
    if group > 1:
        length = n_elements
    else:  # one batch at a time
        ds, length = ds.prefetch(1).unbatch(), -(-n // batch_size)
    # flat_map hides the length: state it, so that Keras knows where an epoch ends.
    ds = ds.apply(tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY if repeat else length))
    return without_autotune(ds.prefetch(2))


def without_autotune(ds):
    """``ds`` with tf.data's autotuning off (buffer sizes and parallelism as written).

    The autotuner runs a model thread per iterator that sleeps between
    optimisation rounds, and destroying the iterator waits for that sleep to
    end: Keras destroys the training iterator at every epoch start, which cost
    0 to 2.5 s of idle CPU per epoch here (epochs took either 5.4 or 10 s; see
    bench/RESULTS.md). This pipeline's buffers are set by hand, so it loses
    nothing.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)
