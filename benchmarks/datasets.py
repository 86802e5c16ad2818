"""The benchmark's data sets, each split into a fixed training and held-out part.

Everything here is read from disk or generated: no network access. Each loader
returns a :class:`Dataset` whose ``X_test`` is a fixed 20% of the rows (the
same permutation, seeded with 0, on every run).

- ``digits``: scikit-learn's 8x8 handwritten digits (1,797 rows, 64 features,
  values 0-16).
- ``mnist``: the MNIST test set shipped in ``data/mnist10k`` (10,000 rows, 784
  features, scaled to [0, 1]); see that folder's README for the licence.
- ``patches``: 8x8 grey patches cut at random from the two images of
  :func:`sklearn.datasets.load_sample_images` (values in [0, 1]); the label is
  the image a patch comes from.
- ``manifold``: an S-curve (intrinsic dimension 2) mapped into 50 dimensions by
  a fixed random smooth map, plus a little noise; the label is the position
  along the curve.
"""

import gzip
from pathlib import Path
from typing import NamedTuple

import numpy as np

MNIST_DIR = Path(__file__).resolve().parents[1] / "data" / "mnist10k"
NAMES = ("digits", "mnist", "patches", "manifold")
TEST_FRACTION = 0.2


class Dataset(NamedTuple):
    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    image_shape: tuple  # shape of one row as an image, or None
    classes: bool  # whether y are class labels (KMeans is scored against them)
    description: str


def split(X, y, test_fraction=TEST_FRACTION, seed=0):
    """A fixed random split: the same rows are held out on every call."""
    order = np.random.RandomState(seed).permutation(X.shape[0])
    n_test = int(round(test_fraction * X.shape[0]))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def read_mnist(directory=MNIST_DIR):
    """The 10,000 MNIST test images as float64 in [0, 1], and their labels."""
    directory = Path(directory)
    with gzip.open(directory / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(directory / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images.astype(np.float64) / 255.0, labels.astype(np.int64)


def load_digits_data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return Dataset(
        "digits", *split(X.astype(np.float64), y), (8, 8), True, "sklearn digits, 1797 x 64"
    )


def load_mnist_data():
    X, y = read_mnist()
    return Dataset("mnist", *split(X, y), (28, 28), True, "MNIST test set, 10000 x 784")


def sample_patches(n_patches=10_000, size=8, seed=0):
    """Grey ``size`` x ``size`` patches from the sample images, and each one's image index."""
    from sklearn.datasets import load_sample_images
    from sklearn.feature_extraction.image import extract_patches_2d

    images = load_sample_images().images
    per_image = n_patches // len(images)
    rows, labels = [], []
    for i, image in enumerate(images):
        grey = image.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255.0
        patches = extract_patches_2d(
            grey, (size, size), max_patches=per_image, random_state=seed + i
        )
        rows.append(patches.reshape(per_image, -1))
        labels.append(np.full(per_image, i))
    return np.vstack(rows), np.concatenate(labels)


def load_patches_data():
    X, y = sample_patches()
    return Dataset(
        "patches", *split(X, y), (8, 8), False, "8x8 grey patches of load_sample_images, 10000 x 64"
    )


def s_curve_50d(n_samples=5000, n_features=50, noise=0.01, seed=0):
    """An S-curve (a 2-D sheet) through a fixed random smooth map into ``n_features``-D.

    Each feature is ``tanh`` of a random affine function of the 3-D point, so
    the data lie on a curved 2-D manifold that no linear subspace of low
    dimension holds. Returns the data and the position along the curve.
    """
    from sklearn.datasets import make_s_curve

    points, position = make_s_curve(n_samples, random_state=seed)
    points = (points - points.mean(axis=0)) / points.std(axis=0)
    rng = np.random.RandomState(seed)
    weights = rng.normal(size=(3, n_features))
    offsets = rng.uniform(-1.0, 1.0, size=n_features)
    X = np.tanh(points @ weights + offsets)
    X += noise * rng.normal(size=X.shape)
    return X, position


def load_manifold_data():
    X, t = s_curve_50d()
    return Dataset(
        "manifold", *split(X, t), None, False, "S-curve (intrinsic dim 2) lifted to 50-D, 5000 x 50"
    )


LOADERS = {
    "digits": load_digits_data,
    "mnist": load_mnist_data,
    "patches": load_patches_data,
    "manifold": load_manifold_data,
}


def load(name):
    """The :class:`Dataset` called ``name`` (one of ``NAMES``)."""
    return LOADERS[name]()
