import os

import numpy as np
import pytest
import tensorflow as tf

from tfvae import data
from tfvae.errors import TfvaeError

from tests.helpers import write_idx


def test_idx_reader_good_gz_and_raw(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(data.read_idx(write_idx(tmp_path / "a.gz", arr, compress=True)), arr)
    np.testing.assert_array_equal(data.read_idx(write_idx(tmp_path / "a", arr)), arr)


def test_idx_reader_rejects_truncated(tmp_path):
    p = write_idx(tmp_path / "t", np.zeros((4, 5, 5), np.uint8))
    with open(p, "r+b") as f:
        f.truncate(os.path.getsize(p) - 7)
    with pytest.raises(TfvaeError, match="truncated"):
        data.read_idx(p)


def test_idx_reader_rejects_wrong_magic(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x12\x34\x08\x03" + b"\x00" * 40)
    with pytest.raises(TfvaeError, match="magic"):
        data.read_idx(p)
    p.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(TfvaeError, match="magic"):
        data.read_idx(p)


def test_idx_dir_missing_file_and_length_mismatch(tiny_idx_dir):
    os.remove(tiny_idx_dir / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(TfvaeError, match="missing t10k-labels"):
        data.load_idx_dir(str(tiny_idx_dir))
    write_idx(tiny_idx_dir / "t10k-labels-idx1-ubyte.gz", np.zeros(31), compress=True)
    with pytest.raises(TfvaeError, match="differ in length"):
        data.load_idx_dir(str(tiny_idx_dir))


def test_real_mnist_idx_and_tfds_agree(mnist_idx_dir, tfds_dir):
    idx = data.load_idx_dir(mnist_idx_dir)
    assert idx["train"].images.shape == (60000, 28, 28, 1) and len(idx["test"]) == 10000
    tf_splits = data.load_tfds("mnist", tfds_dir)
    # TFDS stores the examples in another order: compare the multisets via sums.
    assert idx["test"].images.astype(np.int64).sum() == tf_splits["test"].images.astype(np.int64).sum()
    assert np.bincount(idx["train"].labels).tolist() == np.bincount(tf_splits["train"].labels).tolist()


def test_tfds_absent_offline_is_a_clear_error(tmp_path):
    with pytest.raises(TfvaeError, match="TFDS_DATA_DIR"):
        data.load_tfds("mnist", str(tmp_path))


def test_unknown_dataset():
    with pytest.raises(TfvaeError, match="unknown dataset"):
        data.load_splits(data.DataConfig(dataset="cifar11"))


def test_holdout_and_subsets(tiny_idx_dir):
    cfg = data.DataConfig(dataset=f"idx:{tiny_idx_dir}", validation_holdout=16, train_examples=20)
    train, val, info = data.load_splits(cfg)
    assert len(train) == 20 and len(val) == 16 and info.val_source.startswith("last 16")
    full = data.load_idx_dir(str(tiny_idx_dir))["train"]
    np.testing.assert_array_equal(val.images, full.images[-16:])


def test_pipeline_scales_and_reshuffles(tiny_idx_dir):
    train = data.load_idx_dir(str(tiny_idx_dir))["train"]
    ds = data.make_dataset(train, 16, shuffle=True, seed=3)
    e1 = np.concatenate([y.numpy() for _, y in ds])
    e2 = np.concatenate([y.numpy() for _, y in ds])
    assert sorted(e1) == sorted(e2) == sorted(train.labels) and not np.array_equal(e1, e2)
    x, _ = next(iter(ds))
    assert x.dtype.name == "float32" and 0.0 <= x.numpy().min() and x.numpy().max() <= 1.0
    # same seed -> same order: runs repeat
    again = np.concatenate([y.numpy() for _, y in data.make_dataset(train, 16, shuffle=True, seed=3)])
    np.testing.assert_array_equal(e1, again)


def test_dynamic_binarization_redraws_each_pass_unless_fixed(tiny_idx_dir):
    train = data.load_idx_dir(str(tiny_idx_dir))["train"]
    ds = data.make_dataset(train, 64, binarize="dynamic", seed=1)
    a, b = (next(iter(ds))[0].numpy() for _ in range(2))
    assert set(np.unique(a)) <= {0.0, 1.0} and (a != b).mean() > 0.1
    # the draw is Bernoulli(p): its mean matches the grey levels
    p = train.images.astype(np.float32) / 255
    assert abs(a.mean() - p.mean()) < 0.01
    fixed = data.make_dataset(train, 64, binarize="dynamic", seed=1, fixed_draw=True)
    np.testing.assert_array_equal(next(iter(fixed))[0].numpy(), next(iter(fixed))[0].numpy())


def test_static_binarization_is_one_fixed_draw(tiny_idx_dir):
    cfg = data.DataConfig(dataset=f"idx:{tiny_idx_dir}", binarize="static")
    t1, _, _ = data.load_splits(cfg)
    t2, _, _ = data.load_splits(cfg)
    np.testing.assert_array_equal(t1.images, t2.images)
    assert set(np.unique(t1.images)) <= {0, 255}


def test_pipeline_chunks_cover_every_example_once_per_pass():
    # 64 black-and-white images labelled with their index: checks pairing, coverage and the 0/255 draws
    rng = np.random.default_rng(0)
    images = (rng.random((64, 28, 28, 1)) < 0.5).astype(np.uint8) * 255
    train = data.Split(images, np.arange(64))
    # batch 5: chunks of CHUNK_BATCHES * 5 = 50 images, then 14, cut into 5 + 5 + 4
    ds = data.make_dataset(train, 5, shuffle=True, seed=2, binarize="dynamic")
    assert len(ds) == 13  # Keras needs the length to end an epoch without a warning
    assert ds.options().autotune.enabled is False  # else every epoch start can wait seconds (data.without_autotune)
    passes = [[(x.numpy(), y.numpy()) for x, y in ds] for _ in range(2)]
    for batches in passes:
        assert [len(y) for _, y in batches] == [5] * 12 + [4]
        x, y = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
        assert sorted(y) == list(range(64))
        # Bernoulli(pixel / 255) keeps black at 0 and white at 1, and each image stays with its label
        np.testing.assert_array_equal(x, images[y] / 255.0)
    assert not np.array_equal(np.concatenate([b[1] for b in passes[0]]), np.concatenate([b[1] for b in passes[1]]))


@pytest.mark.parametrize("n, batch, group, stacks", [
    (64, 5, 4, [4, 4, 4, 1]),      # chunks of 20: 20 + 20 + 20 + 4 -> three stacks of 4 x 5, then one of [4]
    (64, 5, 10, [10, 2, 1]),       # chunks of 50: 50 (10 batches) + 14 (2 batches of 5 + 1 of 4)
    (60, 6, 5, [5, 5]),            # no partial batch
    (7, 8, 3, [1]),                # fewer images than one batch
])
def test_grouped_pipeline_stacks_the_same_batches(n, batch, group, stacks):
    """make_dataset(group=g): the same batches in the same order, as stacks [<=g, batch, H, W, C]."""
    rng = np.random.default_rng(0)
    train = data.Split(rng.integers(0, 256, (n, 28, 28, 1)).astype(np.uint8), np.arange(n))
    flat = data.make_dataset(train, batch, shuffle=True, seed=4, binarize="dynamic")
    grouped = data.make_dataset(train, batch, shuffle=True, seed=4, binarize="dynamic", group=group)
    for _ in range(2):  # two passes, each reshuffled, both the same as ungrouped
        elems = [(x.numpy(), y.numpy()) for x, y in grouped]
        assert len(grouped) == len(elems) and [len(y) for _, y in elems] == stacks
        assert all(x.ndim == 5 and x.shape[:2] == y.shape for x, y in elems)
        y = np.concatenate([y.ravel() for _, y in elems])
        assert sorted(y) == list(range(n))
        x = np.concatenate([x.reshape(-1, 28, 28, 1) for x, _ in elems])
        assert set(np.unique(x)) <= {0.0, 1.0}
        fx, fy = (np.concatenate(part) for part in zip(*[(a.numpy(), b.numpy()) for a, b in flat]))
        np.testing.assert_array_equal(y, fy)  # the same order
        if group == data.CHUNK_BATCHES:  # the same chunks, so the same dynamic draws too
            np.testing.assert_array_equal(x, fx)
    with pytest.raises(ValueError, match="group"):
        data.make_dataset(train, batch, group=0)


def test_bernoulli_pixels_is_bernoulli_of_the_grey_level():
    # every grey level 0..255, 20 000 draws each
    p = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 20000, axis=1)
    x = data.bernoulli_pixels(tf.constant(p), tf.constant([1, 2], tf.int64)).numpy()
    assert x.dtype == np.float32 and x.shape == p.shape and set(np.unique(x)) == {0.0, 1.0}
    assert (x[0] == 0).all() and (x[255] == 1).all()  # black and white never flip
    q = np.arange(256) / 255
    sd = np.sqrt(q * (1 - q) / 20000) + 1e-9
    assert (np.abs(x.mean(1) - q) < 5 * sd + 1e-4).all()
    # neighbours (two pixels share one 32-bit random number) are uncorrelated
    mid = x[128].reshape(-1, 2)
    assert abs(np.corrcoef(mid[:, 0], mid[:, 1])[0, 1]) < 0.03
    # a seed repeats its draw, another seed does not
    again = data.bernoulli_pixels(tf.constant(p), tf.constant([1, 2], tf.int64)).numpy()
    other = data.bernoulli_pixels(tf.constant(p), tf.constant([1, 3], tf.int64)).numpy()
    assert np.array_equal(x, again) and (x[1:255] != other[1:255]).mean() > 0.1


def test_flip_augmentation_mirrors_about_half_the_training_images_afresh_each_pass():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (400, 6, 5, 1), dtype=np.uint8)
    split = data.Split(images, np.arange(400, dtype=np.int64))
    ds = data.make_dataset(split, 100, shuffle=True, seed=3, augment="flip")
    passes = []
    for _ in range(2):
        x, y = (np.concatenate(a) for a in zip(*[(b[0].numpy(), b[1].numpy()) for b in ds]))
        original = images[y].astype(np.float32) / 255
        same = np.all(np.abs(x - original) < 1e-6, axis=(1, 2, 3))
        mirrored = np.all(np.abs(x - original[:, :, ::-1]) < 1e-6, axis=(1, 2, 3))
        assert np.all(same | mirrored) and 150 < mirrored.sum() < 250
        passes.append(set(y[mirrored].tolist()))
    assert passes[0] != passes[1]  # a fresh draw every pass
    plain = np.concatenate([b[0].numpy() for b in data.make_dataset(split, 100, seed=3)])
    np.testing.assert_allclose(plain, images.astype(np.float32) / 255, atol=1e-6)  # augment defaults to none
    with pytest.raises(TfvaeError, match="augment"):
        data.DataConfig("mnist", augment="rotate")
