"""The PyTorch reference recipe on this CPU, for comparison with bench/train_speed.py's ``ref`` row.

    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    /tmp/torchenv/bin/python bench/torch_reference.py [--epochs 3] [--mnist ../shared/data/mnist]

The model and loss are those of pytorch/examples ``vae/main.py``: MLP 784-400-20-400-784 (ReLU), Bernoulli
cross-entropy (``F.binary_cross_entropy`` on sigmoid outputs, summed) + analytic KL, Adam 1e-3, batch 128,
the 60 000 MNIST training images. Two input paths are timed:

* ``dataloader``: ``DataLoader(TensorDataset(images), batch_size=128, shuffle=True)``, the example's loop
  with the images already decoded to float tensors (the example decodes PNGs with torchvision per item,
  which is slower still);
* ``tensors``: one ``randperm`` per epoch and slices of an in-memory tensor (the fastest plain PyTorch).

Standalone on purpose (no TensorFlow in the same process). Prints a line per epoch and, last, one JSON
object with the median seconds per epoch of each path.
"""

import argparse
import gzip
import json
import os
import statistics
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def read_idx_images(path):
    """uint8 ``[n, 784]`` from an IDX3 (optionally gzipped) file."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051:
            raise SystemExit(f"torch_reference: error: {path} is not an IDX image file (magic {magic})")
        return np.frombuffer(f.read(n * rows * cols), np.uint8).reshape(n, rows * cols)


class VAE(nn.Module):  # pytorch/examples vae/main.py, unchanged
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def epoch(model, opt, batches):
    model.train()
    t0 = time.perf_counter()
    total, n = 0.0, 0
    for x in batches:
        opt.zero_grad()
        recon, mu, logvar = model(x)
        loss = loss_function(recon, x, mu, logvar)
        loss.backward()
        opt.step()
        total += loss.item()
        n += x.shape[0]
    return time.perf_counter() - t0, total / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--mnist", default=os.path.join(HERE, "..", "..", "shared", "data", "mnist"))
    args = ap.parse_args()
    path = os.path.join(args.mnist, "train-images-idx3-ubyte.gz")
    if not os.path.exists(path):
        raise SystemExit(f"torch_reference: error: {path} not found; pass --mnist DIR with the MNIST IDX files")
    images = torch.from_numpy(read_idx_images(path).astype(np.float32) / 255.0)
    torch.manual_seed(1)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "epochs": args.epochs}
    for mode in ("dataloader", "tensors"):
        model = VAE()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        times = []
        for e in range(args.epochs):
            if mode == "dataloader":
                loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images), batch_size=128,
                                                     shuffle=True)
                batches = (b[0] for b in loader)
            else:
                perm = torch.randperm(images.shape[0])
                batches = (images[perm[i:i + 128]] for i in range(0, images.shape[0], 128))
            seconds, loss = epoch(model, opt, batches)
            times.append(seconds)
            print(f"{mode} epoch {e + 1}: {seconds:.2f} s, train loss {loss:.2f} nats/image", flush=True)
        result[f"{mode}_s_per_epoch"] = round(statistics.median(times), 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
