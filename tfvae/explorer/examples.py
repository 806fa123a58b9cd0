"""Writes the explorer's bundled test images: ``tfvae/explorer/static/examples/<dataset>.png``.

For MNIST and Fashion-MNIST: a 10 x 10 grid of 28 x 28 grayscale test images, row k holding the
first ten test images of class k (in test-set order). The explorer's page shows the first column
as the ten pickable examples and encodes all 100 to rank the latent dimensions by activity.

    python -m tfvae.explorer.examples [--shared ../shared]

Reads the IDX files in SHARED/data/{mnist,fashion_mnist}/ (t10k-images-idx3-ubyte.gz,
t10k-labels-idx1-ubyte.gz). Run once; the PNGs are committed.
"""

import argparse
import os

import numpy as np
from PIL import Image

from tfvae.data.idx import read_idx
from tfvae.explorer.page import STATIC

OUT = os.path.join(STATIC, "examples")
PER_CLASS = 10


def grid(images, labels, per_class=PER_CLASS):
    """Rows = classes 0..9, columns = the first ``per_class`` test images of that class."""
    h, w = images.shape[1:3]
    out = np.zeros((10 * h, per_class * w), np.uint8)
    for k in range(10):
        for j, i in enumerate(np.flatnonzero(labels == k)[:per_class]):
            out[k * h:(k + 1) * h, j * w:(j + 1) * w] = images[i]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=os.environ.get("TFVAE_SHARED", os.path.join("..", "shared")))
    args = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    for name in ("mnist", "fashion_mnist"):
        d = os.path.join(args.shared, "data", name)
        pixels = grid(read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")),
                      read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")))
        path = os.path.join(OUT, f"{name}.png")
        Image.fromarray(pixels, "L").save(path, optimize=True)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
