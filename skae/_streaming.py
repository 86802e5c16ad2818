"""Out-of-core training: ``partial_fit`` over the row-chunks of a sliceable array.

The data are only ever sliced, one contiguous block of rows at a
time, so ``X`` may be a ``np.memmap``, an HDF5 or zarr dataset, or a dask
array: the process holds one chunk (and the estimator's own buffers), never
the whole array.
"""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from ._data import check_positive_int

__all__ = ["fit_chunks"]


def _chunk_order_rng(random_state):
    """The generator of the chunks' order: a numpy Generator as it is, else scikit-learn's rule."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    try:
        return check_random_state(random_state)
    except ValueError:
        raise ValueError(
            "random_state must be None, an int, a numpy RandomState or a numpy "
            f"Generator, got {random_state!r}."
        ) from None


def _n_rows(X):
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) != 2:
        raise ValueError(
            "X must be a 2-D sliceable array (np.memmap, HDF5/zarr dataset, dask "
            f"array, ndarray); got {type(X).__name__} with shape {shape!r}."
        )
    n_rows = shape[0]
    if not isinstance(n_rows, Integral):
        raise ValueError(
            f"X must have a known number of rows, got {n_rows!r}; for a dask array "
            "of unknown chunk sizes call X.compute_chunk_sizes() first."
        )
    if n_rows < 1:
        raise ValueError("X has no rows; fit_chunks needs at least one.")
    return int(n_rows)


def chunk_bounds(n_rows, chunk_size):
    """Start and stop of the contiguous chunks that cover ``n_rows`` rows.

    The rows are cut into ``ceil(n_rows / chunk_size)`` chunks whose sizes
    differ by at most one row, so none holds more than ``chunk_size`` rows and
    none is a small remainder.

    Parameters
    ----------
    n_rows : int
        Number of rows to cover.
    chunk_size : int
        Largest number of rows in a chunk.

    Returns
    -------
    bounds : ndarray of shape (n_chunks + 1,)
        Chunk ``i`` is ``rows[bounds[i]:bounds[i + 1]]``.
    """
    n_chunks = -(-n_rows // chunk_size)
    return np.arange(n_chunks + 1, dtype=np.int64) * n_rows // n_chunks


def _rows(X, start, stop):
    # pandas frames slice rows through .iloc; everything else through [a:b].
    if hasattr(X, "iloc"):
        return X.iloc[start:stop]
    return X[start:stop]


def fit_chunks(
    estimator,
    X,
    *,
    chunk_size,
    n_epochs=1,
    shuffle_chunks=True,
    random_state=None,
    sample_weight=None,
):
    """Train ``estimator`` with ``partial_fit`` over the row-chunks of ``X``.

    Each epoch visits every chunk once, in a fresh random order when
    ``shuffle_chunks`` is true; within a chunk, ``partial_fit`` shuffles the
    rows itself (one ``partial_fit`` call is one epoch over its chunk). Only
    one chunk is read at a time, so the memory the process owns is bounded by
    ``chunk_size``, not by the size of ``X``.

    Read more in the :ref:`User Guide <partial-fit>`.

    Parameters
    ----------
    estimator : estimator with a ``partial_fit`` method
        E.g. :class:`~skae.AutoencoderTransformer` with ``solver="adam"`` or
        ``"sgd"``. It is updated in place. If it is not fitted yet, the first
        chunk it is given fixes its ``mean_`` and ``scale_``, so make chunks
        large enough to be representative of the data.
    X : sliceable array of shape (n_samples, n_features)
        Anything whose ``X[start:stop]`` returns rows: ``np.memmap``, an
        ``h5py``/``zarr`` dataset, a dask array (each chunk is computed when
        ``partial_fit`` reads it), a NumPy array or a pandas frame.
    chunk_size : int
        Largest number of rows passed to one ``partial_fit`` call. The rows
        are cut into ``ceil(n_samples / chunk_size)`` contiguous chunks whose
        sizes differ by at most one row.
    n_epochs : int, default=1
        Number of passes over all the chunks.
    shuffle_chunks : bool, default=True
        Visit the chunks in a new random order each epoch; if false, in the
        order of the rows.
    random_state : int, RandomState instance, Generator or None, default=None
        Seeds the order of the chunks. Pass an int for the same order across
        calls. The shuffling inside a chunk is seeded by the estimator's own
        ``random_state``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row, sliced alongside ``X`` and passed to
        ``partial_fit``.

    Returns
    -------
    estimator : estimator
        The estimator passed in, trained.

    Raises
    ------
    ValueError
        If an argument is invalid, e.g. ``chunk_size`` is not a positive
        integer or ``estimator`` has no ``partial_fit``.

    See Also
    --------
    dask_ml.wrappers.Incremental : The same loop over a dask array's blocks,
        driven from a dask cluster.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skae import AutoencoderTransformer, fit_chunks
    >>> rng = np.random.RandomState(0)
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "X.f32")
    >>> X = np.memmap(path, dtype=np.float32, mode="w+", shape=(3000, 10))
    >>> X[:] = rng.normal(size=(3000, 3)) @ rng.normal(size=(3, 10))
    >>> X.flush()
    >>> X = np.memmap(path, dtype=np.float32, mode="r", shape=(3000, 10))
    >>> ae = AutoencoderTransformer(n_components=3, hidden_layer_sizes=(16,),
    ...                             random_state=0)
    >>> ae = fit_chunks(ae, X, chunk_size=1000, n_epochs=5, random_state=0)
    >>> ae.n_iter_  # one partial_fit call per chunk and epoch
    15
    >>> ae.transform(X[:5]).shape
    (5, 3)
    >>> del X
    >>> os.remove(path); os.rmdir(folder)
    """
    if not callable(getattr(estimator, "partial_fit", None)):
        raise ValueError(
            f"estimator must have a partial_fit method; {type(estimator).__name__} "
            "has none (AutoencoderTransformer offers it with solver='adam' or "
            "'sgd' and n_neighbors=None)."
        )
    n_rows = _n_rows(X)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    n_epochs = check_positive_int(n_epochs, "n_epochs")
    if not isinstance(shuffle_chunks, (bool, np.bool_)):
        raise ValueError(f"shuffle_chunks must be a bool, got {shuffle_chunks!r}.")
    rng = _chunk_order_rng(random_state)
    if sample_weight is not None and np.shape(sample_weight) != (n_rows,):
        # np.shape reads .shape, so a memmap or dask array is not loaded here.
        raise ValueError(
            f"sample_weight must have shape ({n_rows},) to match the rows of X, "
            f"got {np.shape(sample_weight)}."
        )

    bounds = chunk_bounds(n_rows, chunk_size)
    n_chunks = bounds.size - 1
    for _ in range(n_epochs):
        order = rng.permutation(n_chunks) if shuffle_chunks else range(n_chunks)
        for i in order:
            start, stop = int(bounds[i]), int(bounds[i + 1])
            if sample_weight is None:
                estimator.partial_fit(_rows(X, start, stop))
            else:
                estimator.partial_fit(
                    _rows(X, start, stop),
                    sample_weight=np.asarray(sample_weight[start:stop]),
                )
    return estimator
