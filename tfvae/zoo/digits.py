"""A plain digit classifier for judging a CVAE's samples (shared by tests/test_zoo.py and tfvae.zoo.rebuild).

``conditional_accuracy`` asks: of ``per_class`` samples drawn from the prior at temperature 1 for each class,
what fraction does a classifier trained on real MNIST label as the class they were conditioned on?
"""

import numpy as np


def train_digit_classifier(seed=0, epochs=5):
    """An MLP (784-512-256-10) trained on the 60 000 MNIST training images (grey levels in [0, 1]).

    Returns:
        ``(model, test_accuracy)``, the accuracy on the 10 000 test images.
    """
    import keras

    from tfvae import data

    config = data.DataConfig("mnist")
    train, test = data.load_test_split(config, "train"), data.load_test_split(config, "test")
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.layers.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(512, activation="relu"), keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(train.images.astype(np.float32) / 255, train.labels, batch_size=128, epochs=epochs, verbose=0)
    _, accuracy = model.evaluate(test.images.astype(np.float32) / 255, test.labels, batch_size=1000, verbose=0)
    return model, float(accuracy)


def conditional_accuracy(cvae, classifier, per_class=100, seed=0, temperature=1.0):
    """Fraction of prior samples (``per_class`` per class) the classifier labels as their condition.

    ``cvae``: a loaded Keras CVAE (``checkpoints.load_model``); its samples are decoder means in [0, 1].
    """
    labels = np.repeat(np.arange(cvae.num_classes), per_class)
    images = cvae.sample(len(labels), temperature=temperature, seed=seed, labels=labels.tolist()).numpy()
    predicted = np.argmax(classifier.predict(images, batch_size=500, verbose=0), axis=-1)
    return float(np.mean(predicted == labels))
