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
