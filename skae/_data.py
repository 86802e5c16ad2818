"""Moving rows of the data into batch buffers, and the data's moments.

Pure NumPy/SciPy. Rows are gathered into a buffer the caller allocated once,
so no full-size copy of the data is ever made after validation; dense and
SciPy sparse (CSR) data are both read a batch at a time.
"""

from dataclasses import dataclass, fields, replace
from numbers import Integral

import numpy as np
import scipy.sparse as sp

CHUNK_ROWS = 4096


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

    With up to 2048 features: the eigenvectors of the (weighted) covariance,
    accumulated a chunk at a time. Beyond: ``scipy.sparse.linalg.svds`` on an
    operator that centres implicitly, so a sparse ``X`` stays sparse. Rows
    past ``min(n_components, n_features, n_samples)`` are zero. ``random_state``
    (a ``numpy.random.RandomState``) draws the start vector of ``svds``.
    """
    n_rows, n_features = X.shape
    k = min(n_components, n_features)
    weights = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, float)
    axes = np.zeros((n_components, n_features))
    if n_features <= 2048:
        cov = np.zeros((n_features, n_features))
        for rows in chunks(n_rows, CHUNK_ROWS):
            centred = (_rows_as_float64(X, rows) - mean) / scale
            cov += centred.T @ (centred * weights[rows, np.newaxis])
        _, vectors = np.linalg.eigh(cov)
        axes[:k] = vectors[:, ::-1][:, :k].T
    else:
        from scipy.sparse.linalg import LinearOperator, svds

        root = np.sqrt(weights)

        def matmat(V):
            V = np.asarray(V).reshape(n_features, -1)
            return root[:, np.newaxis] * (X @ V - mean @ V) / scale

        def rmatmat(U):
            U = root[:, np.newaxis] * np.asarray(U).reshape(n_rows, -1)
            return (X.T @ U - np.outer(mean, U.sum(axis=0))) / scale

        operator = LinearOperator(
            (n_rows, n_features),
            matvec=matmat,
            rmatvec=rmatmat,
            matmat=matmat,
            rmatmat=rmatmat,
            dtype=np.float64,
        )
        k = min(k, n_rows - 1)
        v0 = random_state.uniform(-1, 1, size=min(n_rows, n_features))
        _, values, vt = svds(operator, k=k, v0=v0)
        axes[:k] = vt[np.argsort(values)[::-1]]
    # A deterministic sign: the largest loading of each axis is positive.
    signs = np.sign(axes[np.arange(n_components), np.abs(axes).argmax(axis=1)])
    signs[signs == 0] = 1
    return axes * signs[:, np.newaxis]
