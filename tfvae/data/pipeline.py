"""The ``tf.data`` pipeline that feeds in-memory splits to a model.

``make_dataset`` builds it: a seed per pass -> permuted indices -> chunks of
batches gathered and binarized in bulk (prefetched) -> batch slices scaled to
[0, 1].
"""

from tfvae._tf import tf  # first: TensorFlow without its start-up notices

from tfvae.data.splits import Split

CHUNK_BATCHES = 10  # batches prepared together (one gather and one random draw each)


def bernoulli_pixels(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
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


def pass_plan(n: int, batch_size: int, chunk_batches: int) -> list[tuple[int, int, int, int]]:
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


def elements_per_pass(n: int, batch_size: int, group: int = 1) -> int:
    """How many elements ``make_dataset(group=group)`` yields per pass over ``n`` examples."""
    return len(pass_plan(n, batch_size, group)) if group > 1 else -(-n // batch_size)


def make_dataset(split: Split, batch_size: int, *, shuffle: bool = False, seed: int = 0, binarize: str = "none",
                 fixed_draw: bool = False, with_labels: bool = True, group: int = 1,
                 repeat: bool = False, augment: str = "none") -> tf.data.Dataset:
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
        augment: ``flip``: mirror each image left-right with probability
            1/2, drawn per pass like the binarization (training only).

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
        if augment == "flip":
            mirror = tf.random.stateless_uniform(tf.shape(x)[:1], seed=tf.stack([pass_seed, -(e[0] + 1)])) < 0.5
            x = tf.where(mirror[:, None, None, None], tf.reverse(x, axis=[2]), x)
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


def without_autotune(ds: tf.data.Dataset) -> tf.data.Dataset:
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
