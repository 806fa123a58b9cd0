"""The feature extractor of the sample-quality metric: a small convolutional classifier per dataset, shipped.

``build()``: 28x28x1 -> conv 3x3 32, max-pool 2 -> conv 3x3 64, max-pool 2 -> dense 128 (ReLU; its output is the
*features*, the penultimate layer) -> 10 logits. Trained on the dataset's training split (grey levels in [0, 1],
not binarized; 5 epochs of Adam, batch 128, seed 0) and scored on its test split. The files are
``weights/classifiers/<dataset>/`` (``classifier.weights.h5``, ``classifier.json`` with the test accuracy,
``MODEL_CARD.md``), rebuilt by::

    python -m tfvae.evaluation.classifier mnist fashion_mnist [--root weights/classifiers]
"""

import argparse
import os

import numpy as np

from tfvae import io
from tfvae.errors import TfvaeError

DATASETS = ("mnist", "fashion_mnist")
FEATURES = 128
EPOCHS, BATCH, SEED = 5, 128, 0
WEIGHTS, META, CARD = "classifier.weights.h5", "classifier.json", "MODEL_CARD.md"


def root():
    from tfvae.checkpoints import installed_root

    return os.path.join(installed_root() or "weights", "classifiers")


def build():
    """The classifier (``keras.Sequential``); its ``features`` layer is the penultimate one."""
    from tfvae._tf import tf  # noqa: F401  (first: TensorFlow without its start-up notices)
    import keras

    return keras.Sequential([
        keras.layers.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(), keras.layers.Dense(FEATURES, activation="relu", name="features"),
        keras.layers.Dense(10, name="logits")], name="classifier")


def dataset_of(spec):
    """The shipped classifier's name for a dataset spec (``mnist``, ``idx:`` MNIST files too), or None."""
    if spec in DATASETS:
        return spec
    if spec.startswith("idx:"):
        base = os.path.basename(os.path.normpath(spec[4:]))
        return base if base in DATASETS else None
    return None


class Features:
    """A loaded classifier: ``features(images)`` ``[n, 128]`` and ``predict(images)`` (labels); ``meta``."""

    def __init__(self, dataset):
        from tfvae._tf import tf  # noqa: F401  (first: TensorFlow without its start-up notices)
        import keras

        home = os.path.join(root(), dataset)
        self.meta = io.read_json(os.path.join(home, META), expect=dict, required=("test_accuracy",),
                                 fix=f"rebuild it: python -m tfvae.evaluation.classifier {dataset}")
        self.model = build()
        try:
            self.model.load_weights(os.path.join(home, WEIGHTS))
        except (OSError, ValueError) as e:
            raise TfvaeError(f"{os.path.join(home, WEIGHTS)} is unreadable ({type(e).__name__}); rebuild it: python "
                             f"-m tfvae.evaluation.classifier {dataset}") from None
        self.extract = keras.Model(self.model.inputs[0], self.model.get_layer("features").output)
        self.dataset = dataset

    def features(self, images, batch=1000):
        return np.concatenate([self.extract(np.asarray(images[i:i + batch], np.float32), training=False).numpy()
                               for i in range(0, len(images), batch)]).astype(np.float64)

    def predict(self, images, batch=1000):
        return np.concatenate([np.argmax(self.model(np.asarray(images[i:i + batch], np.float32), training=False),
                                         -1) for i in range(0, len(images), batch)])


def load(dataset):
    """The shipped classifier of ``dataset`` (a spec), or None where none is shipped."""
    name = dataset_of(dataset)
    if name is None or not os.path.isfile(os.path.join(root(), name, META)):
        return None
    return Features(name)


def train(dataset, home):
    """Trains the classifier of ``dataset`` and writes its files into ``home``; returns its metadata."""
    from tfvae._tf import tf  # noqa: F401  (first: TensorFlow without its start-up notices)
    import keras

    from tfvae import data

    config = data.DataConfig(dataset)
    tr, te = data.load_test_split(config, "train"), data.load_test_split(config, "test")
    keras.utils.set_random_seed(SEED)
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(tr.images.astype(np.float32) / 255, tr.labels, batch_size=BATCH, epochs=EPOCHS, verbose=2)
    _, accuracy = model.evaluate(te.images.astype(np.float32) / 255, te.labels, batch_size=1000, verbose=0)
    os.makedirs(home, exist_ok=True)
    bare = build()  # without the optimizer's state, which a compiled model's save_weights would hold too
    bare.set_weights(model.get_weights())
    bare.save_weights(os.path.join(home, WEIGHTS))
    meta = {"dataset": dataset, "test_accuracy": round(float(accuracy), 4), "n_test": int(len(te.labels)),
            "features": f"the {FEATURES} ReLU outputs of the penultimate dense layer", "epochs": EPOCHS,
            "batch": BATCH, "seed": SEED, "inputs": "grey levels in [0, 1] (not binarized), 28x28x1",
            "rebuild": f"python -m tfvae.evaluation.classifier {dataset}"}
    io.write_json(os.path.join(home, META), meta)
    with open(os.path.join(home, CARD), "w", encoding="utf-8") as f:
        f.write(f"# classifiers/{dataset}: the feature extractor of tfvae's sample-quality metric\n\n"
                f"A small convolutional classifier (conv 3x3 32, max-pool, conv 3x3 64, max-pool, dense "
                f"{FEATURES}, 10 logits; {model.count_params():,} parameters) trained on the {dataset} training "
                f"split (60 000 images, grey levels in [0, 1], {EPOCHS} epochs of Adam 1e-3, batch {BATCH}, seed "
                f"{SEED}).\n\n**Test accuracy: {accuracy:.2%}** on the {len(te.labels):,} test images.\n\n"
                f"`tfvae eval --sample_quality N` compares N decoder-mean samples with N test images in its "
                f"penultimate layer's {FEATURES} features (a Fréchet distance, as FID does with Inception).\n\n"
                f"Rebuild: `{meta['rebuild']}`.\n")
    return meta


def main():
    ap = argparse.ArgumentParser(description="Train the sample-quality classifiers and write weights/classifiers/.")
    ap.add_argument("datasets", nargs="+", choices=DATASETS)
    ap.add_argument("--root", default=root(), help="where the classifiers go (default the shipped weights')")
    args = ap.parse_args()
    for name in args.datasets:
        print(name, train(name, os.path.join(args.root, name)), flush=True)


if __name__ == "__main__":
    main()
