"""Moving rows of the data into batch buffers, and the data's moments.

Pure NumPy/SciPy. Rows are gathered into a buffer the caller allocated once,
so no full-size copy of the data is ever made after validation; dense and
SciPy sparse (CSR) data are both read a batch at a time.
"""

import numpy as np
import scipy.sparse as sp

CHUNK_ROWS = 4096


def load_rows(X, rows, out):
    """Copy ``X[rows]`` (a slice or a sorted index array) into ``out``."""
    if sp.issparse(X):
        X[rows].toarray(out=out)
    elif isinstance(rows, slice) or X.dtype != out.dtype:
        out[...] = X[rows]
    else:
        np.take(X, rows, axis=0, out=out, mode="clip")
    return out


def chunks(n_rows, size):
    """Slices covering ``range(n_rows)`` in pieces of at most ``size`` rows."""
    for start in range(0, n_rows, size):
        yield slice(start, min(start + size, n_rows))


def weighted_moments(X, sample_weight=None):
    """Per-feature mean and variance of ``X`` in float64, a chunk at a time.

    Accumulating in float64 over chunks keeps float32 data of large magnitude
    from overflowing and needs no centred copy of ``X``.
    """
    n_rows, n_features = X.shape
    if sample_weight is None:
        sample_weight = np.ones(n_rows)
    total = float(np.sum(sample_weight, dtype=np.float64))
    if total <= 0:
        raise ValueError("sample_weight must have a positive sum.")
    mean = np.zeros(n_features)
    for rows in chunks(n_rows, CHUNK_ROWS):
        w = np.asarray(sample_weight[rows], dtype=np.float64)
        mean += _rows_as_float64(X, rows).T @ w
    mean /= total
    var = np.zeros(n_features)
    for rows in chunks(n_rows, CHUNK_ROWS):
        w = np.asarray(sample_weight[rows], dtype=np.float64)
        centred = _rows_as_float64(X, rows) - mean
        var += (centred * centred).T @ w
    var /= total
    return mean, var


def _rows_as_float64(X, rows):
    block = X[rows]
    if sp.issparse(block):
        return block.toarray().astype(np.float64, copy=False)
    return np.asarray(block, dtype=np.float64)
