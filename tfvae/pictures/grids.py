"""Image grids and PNG writing (Pillow; no display needed)."""

import numpy as np
from PIL import Image

from tfvae import io


def to_uint8(images):
    """Floats in [0, 1] -> uint8, clipping."""
    return (np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def make_grid(images, nrow=10, pad=2, pad_value=1.0):
    """Tiles ``[N, H, W, C]`` images into one ``[H', W', C]`` float image.

    Args:
        images: array of floats in [0, 1].
        nrow: images per row.
        pad: pixels of padding between tiles.
        pad_value: padding intensity.

    Returns:
        float32 array ``[rows * (H + pad) + pad, nrow * (W + pad) + pad, C]``.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    n, h, w, c = images.shape
    ncol = max(1, min(nrow, n))
    rows = (n + ncol - 1) // ncol
    grid = np.full((rows * (h + pad) + pad, ncol * (w + pad) + pad, c), pad_value, np.float32)
    for i in range(n):
        r, k = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + k * (w + pad)
        grid[top : top + h, left : left + w] = images[i]
    return grid


def pairs_grid(originals, reconstructions, ncol=10):
    """Rows of originals, each followed by a row of their reconstructions."""
    originals = np.asarray(originals, np.float32)
    reconstructions = np.asarray(reconstructions, np.float32)
    rows = []
    for start in range(0, len(originals), ncol):
        rows.append(originals[start : start + ncol])
        rows.append(reconstructions[start : start + ncol])
    return make_grid(np.concatenate(rows), nrow=ncol)


def save_png(path, grid, scale=1):
    """Writes a float grid (``[H, W, C]`` in [0, 1]) as PNG, atomically."""
    img = to_uint8(grid)
    if img.shape[-1] == 1:
        img = img[..., 0]
    pil = Image.fromarray(img)
    if scale and scale != 1:
        pil = pil.resize((pil.width * int(scale), pil.height * int(scale)), Image.NEAREST)
    with io.atomic_path(path, ".png") as tmp:
        pil.save(tmp, format="PNG")
    return path


def save_gif(frames, path, duration_ms=300):
    """An animated GIF of float grids (``[H, W, C]`` in [0, 1]), atomically."""
    imgs = []
    for f in frames:
        a = to_uint8(f)
        imgs.append(Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a))
    with io.atomic_path(path, ".gif") as tmp:
        imgs[0].save(tmp, format="GIF", save_all=True, append_images=imgs[1:], duration=duration_ms, loop=0)
    return path


def load_png(path):
    """A PNG as floats in [0, 1], ``[H, W, C]``."""
    a = np.asarray(Image.open(path), np.float32) / 255.0
    return a[..., None] if a.ndim == 2 else a

