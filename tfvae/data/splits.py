"""In-memory splits, what the model needs to know about them, and static binarization (numpy only).

Every source (TFDS, raw IDX files, MATLAB files, image folders) is loaded
once into a ``Split``: uint8 images of shape ``[N, H, W, C]`` plus integer
labels.
"""

import dataclasses

import numpy as np

STATIC_BINARIZE_SEED = 1234
EVAL_BINARIZE_SEED = 4321


@dataclasses.dataclass
class Split:
    """One split held in memory: uint8 images ``[N, H, W, C]`` and int labels."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.images)

    def take(self, n):
        return Split(self.images[:n], self.labels[:n])


@dataclasses.dataclass
class DataInfo:
    """What the model needs to know about the data."""

    name: str
    input_shape: tuple[int, int, int]
    num_classes: int
    n_train: int
    n_val: int
    val_source: str


def split_by_index(images: np.ndarray, labels: np.ndarray, test_idx) -> dict[str, Split]:
    """``{"train": Split, "test": Split}``: the examples at ``test_idx`` are the test split, the rest train."""
    mask = np.zeros(len(images), bool)
    mask[test_idx] = True
    return {"train": Split(images[~mask], labels[~mask]), "test": Split(images[mask], labels[mask])}


def static_binarize(split: Split, seed: int) -> Split:
    """One fixed Bernoulli draw per pixel; stored as uint8 {0, 255}."""
    rng = np.random.default_rng(seed)
    p = split.images.astype(np.float32) / 255.0
    b = (rng.random(p.shape, dtype=np.float32) < p).astype(np.uint8) * 255
    return Split(b, split.labels)
