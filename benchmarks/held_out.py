"""Held-out clustering sets: data the defaults were never chosen on.

The panel of :mod:`panel` chose the defaults of ``n_neighbors``. The first
six sets came after the defaults were fixed: they check that what the panel
found holds on data shaped otherwise. One default changed after they were
run: the graph's far-apart components are moved closer in the layout's
targets, a rule found on :func:`nested_blobs`, which therefore no longer
tests it blind. The last two sets, groups of clusters drawn afresh, were
added with that rule to test it. Each loader returns ``(X, y)``, ``X`` a
float32 array and ``y`` int64 class labels; ``seed`` fixes the array. Nothing
is read from disk.

- :func:`s_curve_bands`: scikit-learn's S-curve in its own 3 dimensions (no
  curl), cut into 4 bands along its length: input narrower than the codes'
  usual budget of principal components.
- :func:`anisotropic_blobs`: 12 Gaussian clusters of random shape and of 100 to
  2,000 rows, in 50-D.
- :func:`nested_blobs`: 20 clusters in 4 far-apart groups of 5, in 80-D; the
  label is the cluster, so the groups alone are not enough.
- :func:`helices`: 3 intertwined noisy helices, curled into 60-D by a map of
  :func:`panel.curl` other than the panel's.
- :func:`binary_profiles`: 0/1 rows of 1,500 features drawn from 8 profiles of
  feature frequencies, as one-hot or presence data come.
- :func:`two_clusters_per_class`: scikit-learn's ``make_classification``, 6
  classes of 2 clusters each among 60 features, most of them noise or
  redundant.
- :func:`grouped_clusters`: 18 clusters of 200 to 299 rows and of random
  widths, in 3 far-apart groups of 6, in 40-D; the label is the cluster.
- :func:`uneven_groups`: the same in 60-D, 20 clusters of 150 to 349 rows in
  5 groups of 2 to 6.
"""

import numpy as np
from panel import curl
from sklearn.datasets import make_classification, make_s_curve


def _labelled(X, y):
    return np.ascontiguousarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)


def s_curve_bands(seed=0, n_rows=8000, n_bands=4, noise=0.05):
    """The S-curve of ``make_s_curve`` in 3-D, labelled by band along its length."""
    X, t = make_s_curve(n_rows, noise=noise, random_state=seed)
    edges = np.linspace(t.min(), t.max(), n_bands + 1)[1:-1]
    return _labelled(X, np.digitize(t, edges))


def anisotropic_blobs(seed=0, n_clusters=12, dim=50, sizes=(100, 2000), spread=(0.1, 0.6)):
    """Gaussian clusters, each with its own random covariance and size."""
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for label, n in enumerate(rng.integers(*sizes, size=n_clusters)):
        shape = rng.normal(size=(dim, dim)) * rng.uniform(*spread)
        centre = rng.normal(scale=2.0, size=dim)
        parts.append(rng.normal(size=(n, dim)) @ shape + centre)
        labels.append(np.full(n, label))
    order = rng.permutation(sum(len(p) for p in parts))
    return _labelled(np.vstack(parts)[order], np.concatenate(labels)[order])


def nested_blobs(seed=0, n_groups=4, per_group=5, rows=300, dim=80, apart=(10.0, 0.3)):
    """Clusters of ``rows`` rows in far-apart groups; the label is the cluster."""
    rng = np.random.default_rng(seed)
    groups = rng.normal(scale=apart[0], size=(n_groups, dim))
    parts, labels = [], []
    for g in range(n_groups):
        for c in range(per_group):
            centre = groups[g] + rng.normal(scale=apart[1], size=dim)
            parts.append(centre + rng.normal(size=(rows, dim)))
            labels.append(np.full(rows, g * per_group + c))
    order = rng.permutation(n_groups * per_group * rows)
    return _labelled(np.vstack(parts)[order], np.concatenate(labels)[order])


def helices(seed=0, n_helices=3, per_helix=2000, turns=3.0, noise=0.12, n_features=60):
    """Helices around one axis, a third of a turn apart, curled into ``n_features``-D."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi * turns, size=(n_helices, per_helix))
    phase = 2 * np.pi * np.arange(n_helices)[:, None] / n_helices
    P = np.stack([np.cos(t + phase), np.sin(t + phase), t / (2 * np.pi)], axis=-1)
    P = P.reshape(-1, 3) + rng.normal(scale=noise, size=(n_helices * per_helix, 3))
    y = np.repeat(np.arange(n_helices), per_helix)
    order = rng.permutation(len(y))
    return _labelled(curl(P, 1_000 + seed, n_features=n_features)[order], y[order])


def binary_profiles(seed=0, n_rows=6000, n_profiles=8, n_features=1500, power=3, peak=0.15):
    """0/1 rows: each feature present with its profile's frequency (most of them rare)."""
    rng = np.random.default_rng(seed)
    frequency = peak * rng.uniform(size=(n_profiles, n_features)) ** power
    y = rng.integers(n_profiles, size=n_rows)
    return _labelled(rng.uniform(size=(n_rows, n_features)) < frequency[y], y)


def two_clusters_per_class(seed=0, n_rows=8000):
    """``make_classification``: 6 classes of 2 clusters, 10 informative of 60 features."""
    X, y = make_classification(
        n_rows,
        60,
        n_informative=10,
        n_redundant=10,
        n_classes=6,
        n_clusters_per_class=2,
        class_sep=2.0,
        random_state=seed,
    )
    return _labelled(X, y)


def _groups_of_clusters(seed, group_sizes, dim, apart, rows):
    """Clusters of ``rows[0]`` to ``rows[1] - 1`` rows in groups of ``group_sizes``.

    Group centres are ``N(0, apart[0]**2)`` in each feature, cluster centres
    the group's plus ``N(0, apart[1]**2)``, and each cluster's rows its centre
    plus ``N(0, 1)`` noise times one width drawn from ``U(0.7, 1.3)``.
    """
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for size in group_sizes:
        group = rng.normal(scale=apart[0], size=dim)
        for _ in range(size):
            centre = group + rng.normal(scale=apart[1], size=dim)
            n_rows = int(rng.integers(rows[0], rows[1]))
            parts.append(centre + rng.normal(size=(n_rows, dim)) * rng.uniform(0.7, 1.3))
            labels.append(np.full(n_rows, len(labels)))
    order = rng.permutation(sum(len(part) for part in parts))
    return _labelled(np.vstack(parts)[order], np.concatenate(labels)[order])


def grouped_clusters(seed=0):
    """18 clusters in 3 far-apart groups of 6, in 40-D; the label is the cluster."""
    return _groups_of_clusters(seed, (6, 6, 6), 40, (8.0, 0.45), (200, 300))


def uneven_groups(seed=0):
    """20 clusters in 5 far-apart groups of 2 to 6, in 60-D; the label is the cluster."""
    return _groups_of_clusters(seed, (2, 3, 4, 5, 6), 60, (9.0, 0.4), (150, 350))


HELD_OUT = {
    "s_curve_bands": s_curve_bands,
    "anisotropic_blobs": anisotropic_blobs,
    "nested_blobs": nested_blobs,
    "helices": helices,
    "binary_profiles": binary_profiles,
    "two_clusters_per_class": two_clusters_per_class,
    "grouped_clusters": grouped_clusters,
    "uneven_groups": uneven_groups,
}
