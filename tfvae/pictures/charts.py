"""Charts of a run's history (matplotlib, Agg backend: no display needed)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tfvae import io  # noqa: E402


def _save(fig, path):
    with io.atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return path


def elbo_curve(history, path, title=""):
    """Train and validation -ELBO (the loss, nats per image) against epoch."""
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, [h["train"]["loss"] for h in history], "--", label="train -ELBO")
    ax.plot(epochs, [h["val"].get("loss") for h in history], "-", label="validation -ELBO")
    ax.set_xlabel("epoch")
    ax.set_ylabel("-ELBO (nats per image)")
    ax.set_title(title or "negative ELBO")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def loss_curves(history, path, title=""):
    """Reconstruction, KL and total loss, train (dashed) and validation (solid)."""
    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, key, name in zip(axes, ("reconstruction_loss", "kl_loss", "loss"), ("reconstruction", "KL", "total")):
        ax.plot(epochs, [h["train"][key] for h in history], "--", label="train")
        ax.plot(epochs, [h["val"].get(key) for h in history], "-", label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("nats per image")
    axes[0].legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def lower_bound(curves, path, title="", ylabel="lower bound (nats per image)"):
    """Kingma & Welling's Figure 2 layout: bound against training examples seen.

    Args:
        curves: list of ``(label, examples_seen, train_bound, test_bound)``.
        path: output PNG.
    """
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (label, seen, train, test) in enumerate(curves):
        color = f"C{i % 10}"
        ax.plot(seen, train, "--", color=color, alpha=0.8)
        ax.plot(seen, test, "-", color=color, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("training examples seen")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "lower bound (train dashed, test solid)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return _save(fig, path)


def scatter(points, labels, path, title, class_names=None):
    """2-D points coloured by integer label, with a legend."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(6.5, 6))
    labels = np.asarray(labels)
    for c in np.unique(labels):
        sel = labels == c
        name = class_names[c] if class_names and c < len(class_names) else str(c)
        ax.scatter(points[sel, 0], points[sel, 1], s=4, alpha=0.6, label=name, color=f"C{int(c) % 10}")
    ax.set_title(title)
    ax.legend(markerscale=4, fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def titled_image(grid, path, title, scale=3):
    """A grid image (``[H, W, C]`` in [0, 1]) with a title."""
    h, w = grid.shape[:2]
    fig, ax = plt.subplots(figsize=(max(3, w * scale / 110), max(3, h * scale / 110) + 0.4))
    ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    return _save(fig, path)
