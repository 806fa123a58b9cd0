"""The sample-quality metric: the Fréchet distance against its closed form, and the shipped classifiers."""

import json
import os

import numpy as np
import pytest

from tfvae.evaluation import classifier
from tfvae.evaluation.sample_quality import frechet_distance


def test_frechet_distance_of_gaussians_is_its_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, size=(20000, 3))
    b = rng.normal([1.0, 0.0, -2.0], [2.0, 1.0, 0.5], size=(20000, 3))
    # diagonal covariances: |mu_a - mu_b|^2 + sum (s_a - s_b)^2 in standard deviations
    want = (1 + 0 + 4) + ((1 - 2) ** 2 + 0 + (1 - 0.5) ** 2)
    assert frechet_distance(a, b) == pytest.approx(want, rel=0.03)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a[:5000], a[5000:10000]) < 0.01  # two draws of one distribution


@pytest.mark.parametrize("dataset", classifier.DATASETS)
def test_the_shipped_classifiers_classify_their_test_split(dataset):
    from tfvae import data

    meta = json.loads(open(os.path.join(classifier.root(), dataset, classifier.META)).read())
    assert meta["test_accuracy"] >= (0.98 if dataset == "mnist" else 0.88), meta
    assert classifier.dataset_of(f"idx:/somewhere/{dataset}") == dataset and classifier.dataset_of("olivetti") is None
    features = classifier.load(dataset)
    test = data.load_test_split(data.DataConfig(dataset), "test").take(1000)
    accuracy = np.mean(features.predict(test.images.astype(np.float32) / 255) == test.labels)
    assert accuracy >= meta["test_accuracy"] - 0.03, accuracy  # the first 1 000 of the test split
    assert features.features(test.images[:5].astype(np.float32) / 255).shape == (5, classifier.FEATURES)
