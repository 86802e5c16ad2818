"""Moving rows of the data into batch buffers; the data's moments and principal axes.

Pure NumPy/SciPy. Rows are gathered into a buffer the caller allocated once,
so no full-size copy of the data is ever made after validation; dense and
SciPy sparse (CSR) data are both read a batch at a time.
"""

from dataclasses import dataclass, fields, replace
from numbers import Integral

import numpy as np
import scipy.sparse as sp

CHUNK_ROWS = 4096
# principal_axes: up to this many features the covariance is formed; beyond,
# a randomized subspace iteration with SUBSPACE_OVERSAMPLING extra columns
# and SUBSPACE_ITERATIONS passes over the data each way.
COVARIANCE_MAX_FEATURES = 2048
SUBSPACE_OVERSAMPLING = 20
SUBSPACE_ITERATIONS = 7


@dataclass(frozen=True)
class RowBuffers:
    """Arrays for one batch, rows first: ``head(n)`` cuts every one to ``n`` rows.

    A field holds an array, a list of arrays, another :class:`RowBuffers` or
    None. Fields named in ``unsliced`` (scratch space that is not per row) are
    passed on whole.
    """

    unsliced = ("workspace",)

    def head(self, n_rows):
        """The same buffers for a batch of ``n_rows`` rows (views, no copy)."""
        changes = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in self.unsliced or value is None:
                continue
            if isinstance(value, RowBuffers):
                changes[field.name] = value.head(n_rows)
            elif isinstance(value, list):
                changes[field.name] = [
                    a.head(n_rows) if isinstance(a, RowBuffers) else a[:n_rows] for a in value
                ]
            else:
                changes[field.name] = value[:n_rows]
        return replace(self, **changes)


def check_positive_int(value, name):
    """``value`` as an int if it is an integer >= 1 (not a bool); else a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    return int(value)


def load_rows(X, rows, out):
    """Copy ``X[rows]`` (a slice or a sorted index array) into ``out``."""
    if sp.issparse(X):
        X[rows].toarray(out=out)
    elif isinstance(rows, slice) or X.dtype != out.dtype:
        out[...] = X[rows]
    else:
        np.take(X, rows, axis=0, out=out, mode="clip")
    return out


class RowLoader:
    """Writes rows of the data as a network sees them: ``(X[rows] - mean) / scale``.

    Parameters
    ----------
    mean : ndarray of shape (n_features,) or None
        Subtracted from each row; None leaves the rows as they are (no
        centring, no scaling: binary cross-entropy reads ``X`` in [0, 1]).
    scale : float
        Each centred row is divided by it.
    """

    def __init__(self, mean=None, scale=1.0):
        self.mean = mean
        self.scale = float(scale)

    def load(self, X, rows, out):
        """Fill ``out`` (rows x features, allocated by the caller) from ``X[rows]``."""
        load_rows(X, rows, out)
        if self.mean is not None:
            out -= self.mean
            out *= 1.0 / self.scale
        return out

    def masked_value(self):
        """What a raw 0 becomes in the network's view (a masked entry)."""
        if self.mean is None:
            return 0.0
        return -self.mean / self.scale


def chunks(n_rows, size):
    """Slices covering ``range(n_rows)`` in pieces of at most ``size`` rows."""
    for start in range(0, n_rows, size):
        yield slice(start, min(start + size, n_rows))


def weighted_moments(X, sample_weight=None):
    """Per-feature mean, and the root mean per-feature variance, in float64.

    Returns ``(mean, scale)``. Rows are read a chunk at a time and divided by
    the largest absolute value first, so data as large as 1e300 neither
    overflow when squared nor need a centred copy of ``X``.
    """
    n_rows, n_features = X.shape
    if sample_weight is None:
        sample_weight = np.ones(n_rows)
    total = float(np.sum(sample_weight, dtype=np.float64))
    if total <= 0:
        raise ValueError("sample_weight must have a positive sum.")
    peak = 0.0
    for rows in chunks(n_rows, CHUNK_ROWS):
        block = X[rows]
        values = block.data if sp.issparse(block) else block
        peak = max(peak, float(np.max(np.abs(values), initial=0.0)))
    peak = peak if peak > 0 else 1.0
    mean = np.zeros(n_features)
    for rows in chunks(n_rows, CHUNK_ROWS):
        w = np.asarray(sample_weight[rows], dtype=np.float64)
        mean += (_rows_as_float64(X, rows) / peak).T @ w
    mean /= total
    var = np.zeros(n_features)
    for rows in chunks(n_rows, CHUNK_ROWS):
        w = np.asarray(sample_weight[rows], dtype=np.float64)
        centred = _rows_as_float64(X, rows) / peak - mean
        var += (centred * centred).T @ w
    var /= total
    return mean * peak, float(np.sqrt(var.mean())) * peak


def _rows_as_float64(X, rows):
    block = X[rows]
    if sp.issparse(block):
        return block.toarray().astype(np.float64, copy=False)
    return np.asarray(block, dtype=np.float64)


def principal_axes(X, mean, scale, n_components, random_state, sample_weight=None):
    """The top principal axes of ``(X - mean) / scale``, shape ``(k, n_features)``.

    Dense rows of up to ``COVARIANCE_MAX_FEATURES`` features: the
    eigenvectors of the (weighted) covariance, accumulated a chunk at a time.
    Wider or sparse rows: a randomized subspace iteration
    (:func:`_subspace_axes`) on the rows centred implicitly, so a sparse ``X``
    stays sparse and a float32 ``X`` is multiplied in float32. Rows past
    ``min(n_components, n_features)`` (and, in the subspace iteration, past
    ``n_samples``) are zero.
    ``random_state`` (a ``numpy.random.RandomState``) draws the iteration's
    start.
    """
    n_rows, n_features = X.shape
    k = min(n_components, n_features)
    weights = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, float)
    axes = np.zeros((n_components, n_features))
    if n_features <= COVARIANCE_MAX_FEATURES and not sp.issparse(X):
        cov = np.zeros((n_features, n_features))
        for rows in chunks(n_rows, CHUNK_ROWS):
            centred = (_rows_as_float64(X, rows) - mean) / scale
            cov += centred.T @ (centred * weights[rows, np.newaxis])
        _, vectors = np.linalg.eigh(cov)
        axes[:k] = vectors[:, ::-1][:, :k].T
    else:
        root = np.sqrt(weights)
        dtype = X.dtype if X.dtype == np.float32 else np.float64

        def rows_times(V):  # (W^1/2 (X - mean) / scale) @ V
            return root[:, np.newaxis] * (X @ V.astype(dtype) - mean @ V) / scale

        def features_times(U):  # ((X - mean) / scale).T @ W^1/2 @ U
            U = root[:, np.newaxis] * U
            return (X.T @ U.astype(dtype) - np.outer(mean, U.sum(axis=0))) / scale

        k = min(k, n_rows)
        axes[:k] = _subspace_axes(rows_times, features_times, n_features, k, random_state)
    # A deterministic sign: the largest loading of each axis is positive.
    signs = np.sign(axes[np.arange(n_components), np.abs(axes).argmax(axis=1)])
    signs[signs == 0] = 1
    return axes * signs[:, np.newaxis]


def pca_projection(X, rows, mean, scale, axes):
    """``(X[rows] - mean) / scale @ axes.T`` in float64, a chunk of rows at a time."""
    out = np.empty((len(rows), axes.shape[0]))
    shift = mean @ axes.T
    for part in chunks(len(rows), CHUNK_ROWS):
        block = X[rows[part]]
        out[part] = np.asarray(block @ axes.T, dtype=np.float64)
        out[part] -= shift
    out /= scale
    return out


def _subspace_axes(rows_times, features_times, n_features, k, random_state):
    """The top ``k`` right singular vectors of an operator, by subspace iteration.

    ``rows_times(V)`` is ``A @ V`` and ``features_times(U)`` is ``A.T @ U``
    for an ``(n_rows, n_features)`` matrix ``A``. A block of ``k`` plus
    ``SUBSPACE_OVERSAMPLING`` Gaussian columns is multiplied by ``A.T A``
    ``SUBSPACE_ITERATIONS`` times, orthonormalised after each product; the
    axes are then those of the SVD of ``A`` restricted to that block (Halko,
    Martinsson & Tropp 2011, "Finding structure with randomness",
    algorithm 4.4). Every product is a block of columns, so the work runs in
    matrix-matrix BLAS.
    """
    width = min(k + SUBSPACE_OVERSAMPLING, n_features)
    block = random_state.normal(size=(n_features, width))
    for _ in range(SUBSPACE_ITERATIONS):
        rows_block, _ = np.linalg.qr(rows_times(block))
        block, _ = np.linalg.qr(features_times(rows_block))
    rows_block, _ = np.linalg.qr(rows_times(block))
    _, _, vt = np.linalg.svd(features_times(rows_block).T, full_matrices=False)
    return vt[:k]
