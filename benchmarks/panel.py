"""The clustering panel: real and synthetic data sets with class labels.

Every loader returns ``(X, y)``: ``X`` a float32 array of shape ``(n_rows,
n_features)`` (a sparse CSR matrix for :func:`topics`), ``y`` an int64 array
of class labels. Everything is read from
``data/mnist10k`` or generated; no network access. A generator's ``seed``
fixes its array: the same seed gives the same data on every run.

- :func:`mnist10k`: the 10,000 MNIST test images in [0, 1].
- :func:`digits`: scikit-learn's 8x8 digits divided by 16.
- :func:`mnist_56x56` and :func:`digits_64x64`: both enlarged, every pixel a
  block of pixels plus a little noise: wide rows of 3,136 and 4,096 features.
- :func:`mnist_grown`: MNIST grown by augmentation (shifts of 1-2 pixels plus
  a little Gaussian noise) to any number of rows, written a chunk at a time
  into one preallocated array, so that 1,000,000 rows (3.1 GB) fit.
- Synthetic structures of 3 to 10 dimensions curled into 100-D by a fixed
  random smooth map (:func:`curl`): :func:`loops` (8 linked noisy rings),
  :func:`shells` (concentric spherical shells), :func:`roll_bands` (a swiss
  roll cut into bands along its length), :func:`blobs` (Gaussian clusters of
  unequal size and spread) and :func:`tree` (a branching tree of noisy
  segments); and scikit-learn's two-dimensional :func:`moons` and
  :func:`circles`, curled alike.
- :func:`topics`: short documents drawn from word topics, as the sparse
  tf-idf matrix a text pipeline would give.
- scikit-learn's small bundled tables of irises, wines and breast tumours,
  each feature standardised as a user would in a pipeline
  (:func:`bundled_table`).

:func:`load` returns a set by its name in :data:`PANEL` (``"mnist_grown_N"``
for ``N`` rows of :func:`mnist_grown`, ``"loops_N"`` for the loops grown to
about ``N`` rows by :func:`sized`, and so for the tree and the rolled sheet).
"""

from functools import partial

import numpy as np
from datasets import read_mnist

MNIST_ROWS = 10_000
GROWN_CHUNK = 50_000


def mnist10k(seed=0):
    """The 10,000 MNIST test images of ``data/mnist10k``, in [0, 1].

    Parameters
    ----------
    seed : int, default=0
        Unused: the images are fixed. Here so that every loader of the panel
        is called alike.

    Returns
    -------
    X : ndarray of shape (10000, 784), float32
    y : ndarray of shape (10000,), int64
        The digit of each image.
    """
    X, y = read_mnist()
    return X.astype(np.float32), y.astype(np.int64)


def digits(seed=0):
    """scikit-learn's 1,797 handwritten 8x8 digits, divided by 16 (values in [0, 1]).

    Parameters
    ----------
    seed : int, default=0
        Unused: the images are fixed.

    Returns
    -------
    X : ndarray of shape (1797, 64), float32
    y : ndarray of shape (1797,), int64
        The digit of each image.
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y.astype(np.int64)


def _enlarged(X, side, factor, seed, noise=0.02):
    """Square images of ``side`` pixels each made ``factor`` times larger, plus noise.

    Every pixel becomes a block of ``factor x factor`` pixels, and every
    pixel of the result gets Gaussian noise of standard deviation ``noise``
    drawn with ``seed``: wide rows whose features are many and redundant,
    as photographs and scans at a higher resolution are.
    """
    images = X.reshape(-1, side, side)
    big = np.repeat(np.repeat(images, factor, axis=1), factor, axis=2).reshape(len(X), -1)
    rng = np.random.default_rng(seed)
    return (big + rng.normal(scale=noise, size=big.shape)).astype(np.float32)


def digits_64x64(seed=0):
    """:func:`digits` enlarged to 64x64 pixels (4,096 features), with pixel noise.

    Parameters
    ----------
    seed : int, default=0
        Seeds the noise.

    Returns
    -------
    X : ndarray of shape (1797, 4096), float32
    y : ndarray of shape (1797,), int64
    """
    X, y = digits()
    return _enlarged(X, 8, 8, seed), y


def mnist_56x56(seed=0):
    """:func:`mnist10k` enlarged to 56x56 pixels (3,136 features), with pixel noise.

    Parameters
    ----------
    seed : int, default=0
        Seeds the noise.

    Returns
    -------
    X : ndarray of shape (10000, 3136), float32
    y : ndarray of shape (10000,), int64
    """
    X, y = mnist10k()
    return _enlarged(X, 28, 2, seed), y


# ------------------------------------------------------------- MNIST grown

# Every shift of -2..2 pixels on each axis but none.
SHIFTS = tuple((dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if (dy, dx) != (0, 0))


def _moved(size, shift):
    """The source and destination slices of one axis moved by ``shift`` pixels."""
    if shift >= 0:
        return slice(0, size - shift), slice(shift, size)
    return slice(-shift, size), slice(0, size + shift)


def _shifted(images, dy, dx):
    """``images`` of shape (m, h, w) moved ``dy`` pixels down and ``dx`` right, zero fill."""
    out = np.zeros_like(images)
    rows_from, rows_to = _moved(images.shape[1], dy)
    cols_from, cols_to = _moved(images.shape[2], dx)
    out[:, rows_to, cols_to] = images[:, rows_from, cols_from]
    return out


def mnist_grown(n_rows=30_000, seed=0, *, base_rows=MNIST_ROWS, noise=0.05, chunk=GROWN_CHUNK):
    """The first ``base_rows`` MNIST test images, then augmented copies up to ``n_rows``.

    Each copy is an original drawn at random, shifted by ``(dy, dx)`` pixels
    with ``dy`` and ``dx`` in -2..2, not both 0 (the pixels shifted in are
    0), plus Gaussian noise of standard deviation ``noise``, clipped to
    [0, 1]; its label is the original's. The copies are generated ``chunk``
    rows at a time into one preallocated array, so 1,000,000 rows need
    3.1 GB plus one chunk. ``mnist_grown(10_000)`` is :func:`mnist10k`.

    Parameters
    ----------
    n_rows : int, default=30_000
        Rows in all, at least ``base_rows``.
    seed : int, default=0
        Seeds the choice of originals, the shifts and the noise.
    base_rows : int, default=10_000
        How many of the MNIST test images (the first ones) are kept as they
        are and copied; fewer make a small set for tests.
    noise : float, default=0.05
        Standard deviation of the noise added to each copy.
    chunk : int, default=50_000
        Copies generated at a time.

    Returns
    -------
    X : ndarray of shape (n_rows, 784), float32
    y : ndarray of shape (n_rows,), int64
    """
    base, labels = mnist10k()
    base, labels = base[:base_rows], labels[:base_rows]
    n_base = base.shape[0]
    if n_rows < n_base:
        raise ValueError(f"n_rows must be at least base_rows = {n_base}; got {n_rows}.")
    rng = np.random.RandomState(seed)
    X = np.empty((n_rows, base.shape[1]), dtype=np.float32)
    y = np.empty(n_rows, dtype=np.int64)
    X[:n_base], y[:n_base] = base, labels
    images = base.reshape(n_base, 28, 28)
    for start in range(n_base, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        m = stop - start
        source = rng.randint(n_base, size=m)
        shift = rng.randint(len(SHIFTS), size=m)
        block = np.empty((m, 28, 28), dtype=np.float32)
        for s, (dy, dx) in enumerate(SHIFTS):
            rows = np.flatnonzero(shift == s)
            block[rows] = _shifted(images[source[rows]], dy, dx)
        block = block.reshape(m, -1)
        block += rng.normal(scale=noise, size=block.shape).astype(np.float32)
        np.clip(block, 0.0, 1.0, out=block)
        X[start:stop] = block
        y[start:stop] = labels[source]
    return X, y


# --------------------------------------------------------------- synthetic


def curl(P, seed, n_features=100, n_waves=24, wave_scale=0.6, noise=0.02):
    """Low-dimensional points through a fixed random smooth map into ``n_features``-D.

    The points are centred and divided by their overall standard deviation;
    then ``Z = [P, 0.5 sin(P R + phase), 0.5 cos(P R + phase)]`` with ``R``
    holding ``n_waves`` random directions of frequency about ``wave_scale``
    (smooth over the structure's extent, and one-to-one because ``P`` itself
    is kept); then ``Z`` times a random Gaussian matrix, plus isotropic
    Gaussian noise. No linear map of low dimension holds the result.

    Parameters
    ----------
    P : ndarray of shape (n_rows, d)
        The points.
    seed : int
        Seeds the map and the noise (``10_000 + seed``, apart from the
        generators' own seeds).
    n_features : int, default=100
    n_waves : int, default=24
    wave_scale : float, default=0.6
    noise : float, default=0.02
        Standard deviation of the noise added in ``n_features``-D.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features), float32
    """
    rng = np.random.RandomState(10_000 + seed)
    P = (P - P.mean(axis=0)) / P.std()
    R = rng.normal(scale=wave_scale, size=(P.shape[1], n_waves))
    phase = rng.uniform(0, 2 * np.pi, size=n_waves)
    angles = P @ R + phase
    Z = np.hstack([P, 0.5 * np.sin(angles), 0.5 * np.cos(angles)])
    G = rng.normal(size=(Z.shape[1], n_features)) / np.sqrt(Z.shape[1])
    X = Z @ G
    X += noise * rng.normal(size=X.shape)
    return X.astype(np.float32)


def _curled(parts, labels, seed, rng):
    """The parts stacked, curled into 100-D, in a random order; int64 labels."""
    X = curl(np.vstack(parts), seed)
    y = np.concatenate(labels)
    order = rng.permutation(len(y))
    return X[order], y[order].astype(np.int64)


def loops(seed=0, n_rings=8, per_ring=750, radius=1.0, noise=0.15):
    """Rings linked like a chain, curled into 100-D; the label is the ring.

    The rings' centres lie 1.5 apart along x, in the xy and xz planes in turn,
    so that each ring passes through its neighbours; each point gets
    Gaussian noise of standard deviation ``noise`` in 3-D.

    Parameters
    ----------
    seed : int, default=0
    n_rings : int, default=8
    per_ring : int, default=750
    radius : float, default=1.0
    noise : float, default=0.15

    Returns
    -------
    X : ndarray of shape (n_rings * per_ring, 100), float32
    y : ndarray of shape (n_rings * per_ring,), int64
    """
    rng = np.random.RandomState(seed)
    parts, labels = [], []
    for r in range(n_rings):
        t = rng.uniform(0, 2 * np.pi, per_ring)
        c, s, zero = radius * np.cos(t), radius * np.sin(t), np.zeros(per_ring)
        ring = np.stack([c, s, zero] if r % 2 == 0 else [c, zero, s], axis=1)
        ring[:, 0] += 1.5 * r
        ring += noise * rng.normal(size=ring.shape)
        parts.append(ring)
        labels.append(np.full(per_ring, r))
    return _curled(parts, labels, seed, rng)


def shells(seed=0, radii=(1.0, 2.0, 3.0, 4.0), sizes=(600, 1200, 1800, 2400), dim=3, noise=0.08):
    """Concentric spherical shells, curled into 100-D; the label is the shell.

    Points uniform on each sphere of ``dim``-D (more on the larger ones),
    plus Gaussian noise of standard deviation ``noise``.

    Parameters
    ----------
    seed : int, default=0
    radii : tuple of float, default=(1.0, 2.0, 3.0, 4.0)
    sizes : tuple of int, default=(600, 1200, 1800, 2400)
        Points on each shell.
    dim : int, default=3
    noise : float, default=0.08

    Returns
    -------
    X : ndarray of shape (sum(sizes), 100), float32
    y : ndarray of shape (sum(sizes),), int64
    """
    rng = np.random.RandomState(seed)
    parts, labels = [], []
    for i, (radius, m) in enumerate(zip(radii, sizes)):
        u = rng.normal(size=(m, dim))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        parts.append(radius * u + noise * rng.normal(size=(m, dim)))
        labels.append(np.full(m, i))
    return _curled(parts, labels, seed, rng)


def roll_bands(seed=0, n_rows=6000, n_bands=5, noise=0.3):
    """A swiss roll cut into bands along its length, curled into 100-D.

    The roll makes 1.5 turns and is 20 high; the label is the band of equal
    length along the spiral a point falls in. Gaussian noise of standard
    deviation ``noise`` in 3-D.

    Parameters
    ----------
    seed : int, default=0
    n_rows : int, default=6000
    n_bands : int, default=5
    noise : float, default=0.3

    Returns
    -------
    X : ndarray of shape (n_rows, 100), float32
    y : ndarray of shape (n_rows,), int64
    """
    rng = np.random.RandomState(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.uniform(size=n_rows))
    height = 20 * rng.uniform(size=n_rows)
    P = np.stack([t * np.cos(t), height, t * np.sin(t)], axis=1)
    P += noise * rng.normal(size=P.shape)
    band = np.minimum((t - t.min()) / (np.ptp(t) + 1e-12) * n_bands, n_bands - 1)
    return _curled([P], [band.astype(np.int64)], seed, rng)


def blobs(seed=0, sizes=(100, 250, 500, 1000, 2000, 3000), dim=10, spread=(0.6, 2.0)):
    """Gaussian clusters of unequal size and spread, curled into 100-D.

    Centres drawn at random in ``dim``-D (scaled so that they lie about 7
    apart), each cluster's standard deviation log-uniform in ``spread``; the
    label is the cluster.

    Parameters
    ----------
    seed : int, default=0
    sizes : tuple of int, default=(100, 250, 500, 1000, 2000, 3000)
        Points in each cluster.
    dim : int, default=10
    spread : tuple of float, default=(0.6, 2.0)
        The smallest and largest standard deviation.

    Returns
    -------
    X : ndarray of shape (sum(sizes), 100), float32
    y : ndarray of shape (sum(sizes),), int64
    """
    rng = np.random.RandomState(seed)
    sds = np.exp(rng.uniform(np.log(spread[0]), np.log(spread[1]), len(sizes)))
    centres = rng.normal(size=(len(sizes), dim)) * 7.0 / np.sqrt(dim)
    parts, labels = [], []
    for i, m in enumerate(sizes):
        parts.append(centres[i] + sds[i] * rng.normal(size=(m, dim)))
        labels.append(np.full(m, i))
    return _curled(parts, labels, seed, rng)


def tree(seed=0, depth=3, per_branch=800, dim=5, length=4.0, noise=0.25):
    """A binary tree of straight noisy segments, curled into 100-D; the label is the branch.

    The root segment starts at the origin; each branch ends where its two
    children start, each turned by a random direction orthogonal to it, for
    ``2 ** depth - 1`` branches in ``dim``-D. Points are uniform along each
    segment, plus Gaussian noise of standard deviation ``noise``.

    Parameters
    ----------
    seed : int, default=0
    depth : int, default=3
    per_branch : int, default=800
    dim : int, default=5
    length : float, default=4.0
    noise : float, default=0.25

    Returns
    -------
    X : ndarray of shape ((2 ** depth - 1) * per_branch, 100), float32
    y : ndarray of shape ((2 ** depth - 1) * per_branch,), int64
    """
    rng = np.random.RandomState(seed)
    parts, labels = [], []
    starts = {0: (np.zeros(dim), rng.normal(size=dim))}  # branch -> (start, direction)
    for branch in range(2**depth - 1):
        start, direction = starts[branch]
        direction = direction / np.linalg.norm(direction)
        s = rng.uniform(0, length, per_branch)
        parts.append(start + s[:, None] * direction + noise * rng.normal(size=(per_branch, dim)))
        labels.append(np.full(per_branch, branch))
        end = start + length * direction
        for child in (2 * branch + 1, 2 * branch + 2):
            turn = rng.normal(size=dim)
            turn -= (turn @ direction) * direction
            turn /= np.linalg.norm(turn)
            starts[child] = (end, direction + 1.2 * turn)
    return _curled(parts, labels, seed, rng)


def moons(seed=0, n_rows=3000, noise=0.06):
    """scikit-learn's two interleaved half circles, curled into 100-D; the label is the moon.

    Parameters
    ----------
    seed : int, default=0
    n_rows : int, default=3000
    noise : float, default=0.06
        Standard deviation of the Gaussian noise in 2-D (``make_moons``).

    Returns
    -------
    X : ndarray of shape (n_rows, 100), float32
    y : ndarray of shape (n_rows,), int64
    """
    from sklearn.datasets import make_moons

    rng = np.random.RandomState(seed)
    P, y = make_moons(n_rows, noise=noise, random_state=rng)
    return _curled([P], [y], seed, rng)


def circles(seed=0, n_rows=3000, noise=0.04, factor=0.5):
    """scikit-learn's two concentric circles, curled into 100-D; the label is the circle.

    Parameters
    ----------
    seed : int, default=0
    n_rows : int, default=3000
    noise : float, default=0.04
        Standard deviation of the Gaussian noise in 2-D (``make_circles``).
    factor : float, default=0.5
        The inner circle's radius over the outer's.

    Returns
    -------
    X : ndarray of shape (n_rows, 100), float32
    y : ndarray of shape (n_rows,), int64
    """
    from sklearn.datasets import make_circles

    rng = np.random.RandomState(seed)
    P, y = make_circles(n_rows, noise=noise, factor=factor, random_state=rng)
    return _curled([P], [y], seed, rng)


def topics(seed=0, n_rows=6000, n_topics=8, n_words=2000, length=15, background=0.85):
    """Short documents from word topics, as sparse tf-idf rows; the label is the topic.

    Each topic is a sparse random distribution over the words (Dirichlet,
    concentration 0.05); a document draws ``length`` words from its topic's
    distribution mixed with one shared background distribution, the
    background's share drawn per document from ``background * Beta(2, 2)``.
    The counts go through scikit-learn's :class:`~sklearn.feature_extraction.
    text.TfidfTransformer` (rows of unit length), as text would. Most of
    the distances between such rows lie outside their top principal
    components.

    Parameters
    ----------
    seed : int, default=0
    n_rows : int, default=6000
    n_topics : int, default=8
    n_words : int, default=2000
    length : int, default=15
        Words per document.
    background : float, default=0.85
        The largest share of a document's words drawn from the background.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_words), float32
    y : ndarray of shape (n_rows,), int64
    """
    from sklearn.feature_extraction.text import TfidfTransformer

    rng = np.random.RandomState(seed)
    words = rng.dirichlet(np.full(n_words, 0.05), size=n_topics)
    common = rng.dirichlet(np.ones(n_words))
    y = rng.randint(n_topics, size=n_rows)
    share = background * rng.beta(2.0, 2.0, size=n_rows)
    mixed = (1.0 - share)[:, None] * words[y] + share[:, None] * common
    counts = np.vstack([rng.multinomial(length, p / p.sum()) for p in mixed])
    X = TfidfTransformer().fit_transform(counts).astype(np.float32)
    return X.tocsr(), y.astype(np.int64)


# ----------------------------------------------------- small bundled tables


# scikit-learn's loader of each table, by the table's name in the panel.
BUNDLED = {"iris": "load_iris", "wine": "load_wine", "breast_cancer": "load_breast_cancer"}


def bundled_table(name, seed=0):
    """One of scikit-learn's small bundled tables, each feature standardised.

    ``"iris"``: 150 irises, 4 measurements, 3 species; ``"wine"``: 178 wines,
    13 chemical measurements, 3 cultivars; ``"breast_cancer"``: 569 tumours,
    30 features, benign or malignant.

    Parameters
    ----------
    name : {"iris", "wine", "breast_cancer"}
    seed : int, default=0
        Unused: the tables are fixed.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features), float32
    y : ndarray of shape (n_rows,), int64
    """
    import sklearn.datasets

    X, y = getattr(sklearn.datasets, BUNDLED[name])(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(np.float32), y.astype(np.int64)


SYNTHETIC = {
    "loops": loops,
    "shells": shells,
    "roll_bands": roll_bands,
    "blobs": blobs,
    "tree": tree,
    "moons": moons,
    "circles": circles,
}
TABLES = {name: partial(bundled_table, name) for name in BUNDLED}
WIDE = {"mnist_56x56": mnist_56x56, "digits_64x64": digits_64x64}
PANEL = {"mnist10k": mnist10k, "digits": digits, **SYNTHETIC, "topics": topics, **WIDE, **TABLES}


def sized(name, n_rows, seed=0):
    """The synthetic set ``name`` grown to about ``n_rows`` rows, the same structure.

    More points on the same rings (:func:`loops`), branches (:func:`tree`) or
    sheet (:func:`roll_bands`), with the same noise: the rows are denser,
    the structure and the curl are those of the panel's set.

    Parameters
    ----------
    name : {"loops", "tree", "roll_bands"}
    n_rows : int
        The rows wanted: the rings and the branches take equal shares of
        them, rounded down.
    seed : int, default=0

    Returns
    -------
    X : ndarray of shape (about n_rows, 100), float32
    y : ndarray of shape (about n_rows,), int64
    """
    if name == "loops":
        return loops(seed, per_ring=n_rows // 8)
    if name == "tree":
        return tree(seed, per_branch=n_rows // 7)
    if name == "roll_bands":
        return roll_bands(seed, n_rows=n_rows)
    raise ValueError(f"no sized variant of {name!r}; use loops, tree or roll_bands.")


def load(name, seed=0):
    """The set called ``name``: a key of :data:`PANEL`, ``"mnist_grown_N"`` or ``"<set>_N"``.

    Parameters
    ----------
    name : str
        ``"mnist_grown_30000"`` is ``mnist_grown(30_000, seed)``;
        ``"loops_20000"`` is ``sized("loops", 20_000, seed)``.
    seed : int, default=0
        The generator's seed.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features), float32
    y : ndarray of shape (n_rows,), int64
    """
    if name.startswith("mnist_grown_"):
        return mnist_grown(int(name.rsplit("_", 1)[1]), seed)
    base, _, rows = name.rpartition("_")
    if rows.isdigit():
        return sized(base, int(rows), seed)
    return PANEL[name](seed)
