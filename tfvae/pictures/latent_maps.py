"""Pictures of what a trained model learned about its latent space: ``tfvae viz``.

* ``manifold.png``: a 2-D latent decoded on an n x n grid through the inverse
  normal CDF (for latent > 2: the two most active dimensions, the rest at 0);
* ``latent_scatter.png``: ``z_mean`` of test examples coloured by label
  (PCA to 2-D for latent > 2);
* ``interpolation.png``: decoded straight-line paths between test pairs;
* ``class_grid.png`` (cvae): one row per class, one column per fixed z.
"""

import os
from statistics import NormalDist

import numpy as np

from tfvae.pictures import charts, grids
from tfvae.errors import TfvaeError


def encode_means(model, images, labels=None, batch=500):
    out = []
    for i in range(0, len(images), batch):
        y = labels[i : i + batch] if model.config.conditional else None
        out.append(model.encode(images[i : i + batch], y)[0].numpy())
    return np.concatenate(out)


def most_active_dims(z_means, k=2):
    """Indices of the ``k`` latent dimensions whose means vary most across data."""
    return [int(i) for i in np.argsort(-z_means.var(axis=0))[:k]]


def manifold(model, z_means, path, n=20, label=None):
    """Decodes an n x n grid of inverse-normal-CDF quantiles in two latent dims."""
    d = model.latent_dim
    dims = [0, 1] if d == 2 else most_active_dims(z_means)
    if d == 1:
        raise TfvaeError("a manifold needs at least 2 latent dimensions")
    q = [NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, n)]
    z = np.zeros((n * n, d), np.float32)
    for r in range(n):
        for c in range(n):
            z[r * n + c, dims[0]] = q[c]
            z[r * n + c, dims[1]] = q[n - 1 - r]
    labels = None if label is None else np.full(n * n, label)
    images = model.decode(z, labels).numpy()
    title = ("2-D latent manifold" if d == 2 else
             f"manifold over the two most active dims {dims[0]}, {dims[1]} of {d} (others at 0)")
    if label is not None:
        title += f", class {label}"
    return charts.titled_image(grids.make_grid(images, nrow=n, pad=0), path, title)


def pca2(z):
    zc = z - z.mean(axis=0)
    _, _, vt = np.linalg.svd(zc, full_matrices=False)
    return zc @ vt[:2].T


def latent_scatter(z_means, labels, path, class_names=None):
    d = z_means.shape[1]
    pts = z_means[:, :2] if d == 2 else (pca2(z_means) if d > 2 else np.c_[z_means[:, 0], np.zeros(len(z_means))])
    title = "z_mean of test examples" + ("" if d == 2 else f" (PCA of {d}-D to 2-D)")
    return charts.scatter(pts, labels, path, title, class_names)


def interpolation(model, images, z_means, labels, path, pairs=8, steps=10):
    """Rows: decoded points on the straight line between two test images' z_means."""
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(images))[: 2 * pairs].reshape(-1, 2)
    rows = []
    for a, b in idx:
        t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
        z = (1 - t) * z_means[a] + t * z_means[b]
        lab = None if not model.config.conditional else np.where(t[:, 0] < 0.5, labels[a], labels[b])
        decoded = model.decode(z.astype(np.float32), lab).numpy()
        rows.append(np.concatenate([images[a : a + 1], decoded, images[b : b + 1]]))
    grid = grids.make_grid(np.concatenate(rows), nrow=steps + 2)
    return charts.titled_image(grid, path, "interpolations: test image, decoded path, test image")


def class_grid(model, path, per_class=10, seed=0):
    """A cvae's samples: one row per class, the same z in each column."""
    k = model.num_classes
    z = np.random.default_rng(seed).normal(size=(per_class, model.latent_dim)).astype(np.float32)
    z = np.tile(z, (k, 1))
    labels = np.repeat(np.arange(k), per_class)
    images = model.decode(z, labels).numpy()
    return charts.titled_image(grids.make_grid(images, nrow=per_class), path,
                              "cvae samples: row = class, column = shared z")


def pseudo_inputs(model, path, ncol=20, scale=2):
    """A VampPrior's K learned pseudo-inputs (the images its components are the posteriors of), as a grid."""
    u, _ = model.prior.pseudo_inputs(model)
    u = u.numpy()
    grids.save_png(path, grids.make_grid(u, nrow=min(ncol, len(u))), scale=scale)
    return path


def run_viz(load_weight_dir="better_weight", *, output_dir=None, num_examples=5000, grid=20,
            data_dir: str | None = None):
    """``tfvae viz``: writes the pictures above for a trained model (and a VampPrior's ``pseudo_inputs.png``).

    Args:
        load_weight_dir: a checkpoint or run directory, or a shipped weights name.
        output_dir: where to write (default ``<run or weights dir>/viz``;
            ``./viz-NAME`` for installed weights).
        num_examples: test images to encode.
        grid: the manifold's n x n grid size.
        data_dir: where the test images are, if not the config's (shipped
            freyface/olivetti weights record none).

    Returns:
        the paths written.
    """
    import dataclasses

    from tfvae import checkpoints, data

    model, config, ckpt, home = checkpoints.load_model(load_weight_dir)
    out = output_dir or checkpoints.writable_home(home, "viz") or os.path.join(home, "viz")
    dc = data.DataConfig.from_dict(config["data"])
    dc = dataclasses.replace(dc, train_examples=0, val_examples=0, validation_holdout=0,
                             data_dir=data_dir or dc.data_dir)
    images, labels = data.load_eval_images(dc, "test", num_examples)
    z = encode_means(model, images, labels)
    written = []
    if model.can_sample and model.latent_dim >= 2:
        written.append(manifold(model, z, os.path.join(out, "manifold.png"), n=grid,
                                label=0 if model.config.conditional else None))
    written.append(latent_scatter(z, labels, os.path.join(out, "latent_scatter.png")))
    written.append(interpolation(model, images, z, labels, os.path.join(out, "interpolation.png")))
    if model.config.conditional:
        written.append(class_grid(model, os.path.join(out, "class_grid.png")))
    if hasattr(model.prior, "pseudo_inputs"):
        written.append(pseudo_inputs(model, os.path.join(out, "pseudo_inputs.png")))
    for w in written:
        print(f"tfvae: wrote {w}")
    return written
