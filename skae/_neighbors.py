"""The neighbour graph: UMAP's fuzzy graph of the rows, in NumPy.

- :func:`nearest_neighbors`: the nearest other rows of every row, exact
  (:class:`sklearn.neighbors.NearestNeighbors`, a chunk of rows at a time) or
  approximate (pynndescent, the optional ``pynndescent`` extra);
- :func:`fuzzy_graph`: UMAP's fuzzy simplicial set built from them (smooth
  per-row distances found by a vectorised bisection, symmetrised by the fuzzy
  union), a symmetric weighted graph;
- :func:`shared_neighbors`: of more candidate neighbours, those that share
  most candidates with the row (the graph of sparse rows keeps these);
- :func:`neighbor_graph`: all of it for the training rows of an autoencoder;
- :func:`rows_graph`: the rows' principal components, then that graph (on
  those components for dense rows, on the rows themselves for sparse ones).

The graph is laid out by :mod:`skae._graph_layout`, and the codes learn that
layout through the term of :mod:`skae._graph_term`.
"""

import numpy as np
import scipy.sparse as sp

from ._data import chunks, pca_projection, principal_axes

__all__ = [
    "candidate_multiple",
    "fuzzy_graph",
    "nearest_neighbors",
    "neighbor_graph",
    "rows_graph",
    "shared_neighbors",
]

SMOOTH_K_TOLERANCE = 1e-5  # as umap-learn
MIN_K_DIST_SCALE = 1e-3  # as umap-learn
EXACT_SEARCH_ROWS = 100_000  # neighbors_algorithm="auto": exact search up to this many rows
GRAPH_COMPONENTS = 30  # the graph of dense rows is built on their top principal components
SHARED_CANDIDATES = 3  # sparse rows: candidates searched per neighbour kept (shared_neighbors)
SHARED_CHUNK_VALUES = 1 << 22  # shared_neighbors: bounds a chunk's counts of shared candidates


def _check_rows(X):
    if sp.issparse(X):
        X = sp.csr_matrix(X)
    else:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D; got an array of shape {X.shape}.")
    if X.dtype.kind not in "fiu":
        raise ValueError(f"X must be numeric; got dtype {X.dtype}.")
    values = X.data if sp.issparse(X) else X
    if not np.all(np.isfinite(values)):
        raise ValueError("X contains NaN or infinity.")
    return X


def nearest_neighbors(X, n_neighbors, *, algorithm="auto", random_state=None, chunk_rows=2048):
    """The ``n_neighbors`` nearest other rows of every row of ``X``.

    Parameters
    ----------
    X : {ndarray, scipy.sparse matrix} of shape (n_samples, n_features)
        The data; sparse input is converted to CSR.
    n_neighbors : int
        Neighbours per row, *not* counting the row itself; at most
        ``n_samples - 1``.
    algorithm : {"auto", "brute", "kd_tree", "ball_tree", "nndescent"}, default="auto"
        ``"nndescent"``: approximate, :class:`pynndescent.NNDescent`. The others
        are exact, through :class:`sklearn.neighbors.NearestNeighbors` with that
        ``algorithm``; ``"auto"`` is exact up to ``EXACT_SEARCH_ROWS`` rows and
        NN-descent beyond when pynndescent is installed.
    random_state : int, numpy.random.RandomState or None, default=None
        Seeds NN-descent; the exact search is deterministic.
    chunk_rows : int, default=2048
        Rows queried at a time by the exact search, which bounds its memory.

    Returns
    -------
    indices : ndarray of shape (n_samples, n_neighbors), int64
        Indices of the neighbours, nearest first. A row is never its own
        neighbour, even when it has duplicates (they are neighbours).
    distances : ndarray of shape (n_samples, n_neighbors), float64
        Euclidean distances to them, non-decreasing along each row.
    """
    X = _check_rows(X)
    n = X.shape[0]
    if not 1 <= n_neighbors <= n - 1:
        raise ValueError(
            f"n_neighbors must be in [1, n_samples - 1] = [1, {n - 1}]; got {n_neighbors}."
        )
    k1 = n_neighbors + 1  # the row itself comes back too
    if algorithm == "auto":
        algorithm = "brute"
        if n > EXACT_SEARCH_ROWS:
            try:
                import pynndescent  # noqa: F401

                algorithm = "nndescent"
            except ImportError:
                pass
    if algorithm == "nndescent":
        try:
            from pynndescent import NNDescent
        except ImportError as error:
            raise ImportError(
                'neighbors_algorithm="nndescent" needs pynndescent: pip install '
                "pynndescent (the package's 'pynndescent' extra)."
            ) from error
        index = NNDescent(X, n_neighbors=k1, random_state=random_state, metric="euclidean")
        raw_indices, raw_distances = index.neighbor_graph
        return _drop_self(np.asarray(raw_indices), np.asarray(raw_distances), n_neighbors)

    from sklearn.neighbors import NearestNeighbors

    search = NearestNeighbors(n_neighbors=k1, algorithm=algorithm).fit(X)
    indices = np.empty((n, n_neighbors), dtype=np.int64)
    distances = np.empty((n, n_neighbors), dtype=np.float64)
    for rows in chunks(n, chunk_rows):
        d, i = search.kneighbors(X[rows], return_distance=True)
        indices[rows], distances[rows] = _drop_self(i, d, n_neighbors, first_row=rows.start)
    return indices, distances


def _drop_self(indices, distances, n_neighbors, first_row=0):
    """Remove each row's own index from ``n_neighbors + 1`` neighbours.

    A row that is not among its own neighbours (it has more duplicates than
    that, or NN-descent missed it) loses its farthest neighbour instead.
    """
    rows = np.arange(first_row, first_row + indices.shape[0])
    is_self = indices == rows[:, np.newaxis]
    # keep the first n_neighbors entries that are not the row itself
    missing = ~is_self.any(axis=1)
    is_self[missing, -1] = True
    keep = ~is_self
    # a duplicate self hit (never from sklearn) would leave too few: keep the first ones
    kept = np.cumsum(keep, axis=1)
    keep &= kept <= n_neighbors
    out_i = indices[keep].reshape(-1, n_neighbors).astype(np.int64)
    out_d = distances[keep].reshape(-1, n_neighbors).astype(np.float64)
    np.maximum(out_d, 0.0, out=out_d)  # rounding can give -0.0 or tiny negatives
    return out_i, out_d


def _smooth_knn_dist(distances, n_neighbors, local_connectivity, n_iter=64):
    """Per-row ``sigma`` and ``rho`` as umap-learn's ``smooth_knn_dist``, vectorised.

    ``distances`` has the neighbours of each row *without* the row itself;
    the bisection runs over all rows at once and freezes each row once its
    sum is within tolerance of ``log2(n_neighbors)``.
    """
    n, k = distances.shape
    target = np.log2(n_neighbors)
    # rho: the local_connectivity-th non-zero distance (interpolated)
    positive = distances > 0.0
    n_positive = positive.sum(axis=1)
    # non-zero distances of each row, packed left (rows are sorted)
    packed = np.where(positive, distances, np.inf)
    packed.sort(axis=1)
    index = int(np.floor(local_connectivity))
    interpolation = local_connectivity - index
    rho = np.zeros(n)
    enough = n_positive >= local_connectivity
    if index > 0:
        rho[enough] = packed[enough, index - 1]
        if interpolation > SMOOTH_K_TOLERANCE:
            has_next = enough & (n_positive > index)
            rho[has_next] += interpolation * (packed[has_next, index] - packed[has_next, index - 1])
    else:
        rho[enough] = interpolation * packed[enough, 0]
    some = ~enough & (n_positive > 0)
    rho[some] = np.where(positive[some], distances[some], 0.0).max(axis=1)

    shifted = distances - rho[:, np.newaxis]
    np.maximum(shifted, 0.0, out=shifted)  # d <= rho counts as exp(0) = 1
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    mid = np.ones(n)
    active = np.ones(n, dtype=bool)
    work = np.empty_like(shifted)
    for _ in range(n_iter):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        w = work[: rows.size]
        np.divide(shifted[rows], -mid[rows, np.newaxis], out=w)
        np.exp(w, out=w)
        psum = w.sum(axis=1)
        done = np.abs(psum - target) < SMOOTH_K_TOLERANCE
        active[rows[done]] = False
        go = ~done
        rows, psum = rows[go], psum[go]
        high = psum > target
        down, up = rows[high], rows[~high]
        hi[down] = mid[down]
        mid[down] = 0.5 * (lo[down] + hi[down])
        lo[up] = mid[up]
        unbounded = np.isinf(hi[up])
        mid[up] = np.where(unbounded, 2.0 * mid[up], 0.5 * (lo[up] + hi[up]))
    # the row itself counts as a neighbour at distance 0 in umap-learn's means
    mean_row = distances.sum(axis=1) / (k + 1)
    mean_all = distances.sum() / (n * (k + 1))
    floor = np.where(rho > 0.0, MIN_K_DIST_SCALE * mean_row, MIN_K_DIST_SCALE * mean_all)
    sigma = np.maximum(mid, floor)
    return sigma, rho


def fuzzy_graph(indices, distances, n_neighbors, *, local_connectivity=1.0, set_op_mix_ratio=1.0):
    """UMAP's fuzzy simplicial set of the data: a symmetric weighted graph.

    Each row ``i`` gets ``rho_i``, the distance to its nearest neighbour at a
    non-zero distance (``local_connectivity``-th, interpolated), and a
    bandwidth ``sigma_i`` such that ``sum_j exp(-max(d_ij - rho_i, 0) / sigma_i)
    = log2(n_neighbors)``, found for all rows at once by bisection. The
    directed membership strengths ``p_ij = exp(-max(d_ij - rho_i, 0) /
    sigma_i)`` are then combined by the fuzzy union ``P + P^T - P * P^T``
    (``set_op_mix_ratio=1``) or intersection ``P * P^T`` (``0``) or a mix.

    Parameters
    ----------
    indices : array-like of int, shape (n_samples, n_columns)
        Neighbours of each row, not including the row itself (as returned by
        :func:`nearest_neighbors`). Entries equal to ``-1`` are missing.
    distances : array-like of shape (n_samples, n_columns)
        Their distances, sorted along each row.
    n_neighbors : int
        umap-learn's ``n_neighbors``, which counts the row itself: the
        bandwidths target ``log2(n_neighbors)`` and the first
        ``n_neighbors - 1`` columns are used (so ``n_columns >= n_neighbors -
        1``). ``fuzzy_graph(*nearest_neighbors(X, 14), 15)`` is
        ``umap.UMAP(n_neighbors=15)``'s graph.
    local_connectivity : float, default=1.0
        Number of nearest neighbours assumed connected at full strength.
    set_op_mix_ratio : float, default=1.0
        1 for the fuzzy union, 0 for the fuzzy intersection, in [0, 1].

    Returns
    -------
    graph : scipy.sparse.csr_matrix of shape (n_samples, n_samples), float64
        Symmetric, weights in (0, 1], no stored zeros, nothing on the
        diagonal. Duplicated rows (zero distances) get weight 1 between them;
        constant data give a graph of ones.

    Raises
    ------
    ValueError
        For mismatched shapes, too few columns, indices out of range,
        negative or non-finite distances, or parameters out of range.
    """
    indices = np.asarray(indices)
    distances = np.asarray(distances, dtype=np.float64)
    if indices.ndim != 2 or indices.shape != distances.shape:
        raise ValueError(
            "indices and distances must be 2-D arrays of the same shape; got "
            f"{indices.shape} and {distances.shape}."
        )
    if indices.dtype.kind not in "iu":
        raise ValueError(f"indices must be integers; got dtype {indices.dtype}.")
    n = indices.shape[0]
    if isinstance(n_neighbors, bool) or int(n_neighbors) != n_neighbors or n_neighbors < 2:
        raise ValueError(f"n_neighbors must be an integer >= 2; got {n_neighbors!r}.")
    n_neighbors = int(n_neighbors)
    if indices.shape[1] < n_neighbors - 1:
        raise ValueError(
            f"n_neighbors={n_neighbors} needs n_neighbors - 1 = {n_neighbors - 1} "
            f"neighbour columns (the row itself is not one); got {indices.shape[1]}."
        )
    if not local_connectivity >= 0:
        raise ValueError(f"local_connectivity must be >= 0; got {local_connectivity!r}.")
    if not 0.0 <= set_op_mix_ratio <= 1.0:
        raise ValueError(f"set_op_mix_ratio must be in [0, 1]; got {set_op_mix_ratio!r}.")
    indices = indices[:, : n_neighbors - 1]
    distances = distances[:, : n_neighbors - 1]
    if n == 0:
        return sp.csr_matrix((0, 0))
    if not np.all(np.isfinite(distances)) or (distances < 0).any():
        raise ValueError("distances must be finite and non-negative.")
    if ((indices < -1) | (indices >= n)).any():
        raise ValueError(f"indices must be in [-1, {n - 1}] (-1 for a missing neighbour).")

    sigma, rho = _smooth_knn_dist(distances, n_neighbors, float(local_connectivity))
    strength = distances - rho[:, np.newaxis]
    np.maximum(strength, 0.0, out=strength)
    strength /= sigma[:, np.newaxis]  # sigma > 0 unless all distances are 0; then strength is 0
    np.nan_to_num(strength, copy=False, nan=0.0)
    np.exp(-strength, out=strength)
    rows = np.repeat(np.arange(n), indices.shape[1])
    cols = indices.ravel()
    vals = strength.ravel()
    keep = (cols >= 0) & (cols != rows)
    P = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n))
    P.sum_duplicates()
    P.eliminate_zeros()
    Pt = P.T.tocsr()
    both = P.multiply(Pt).tocsr()
    graph = set_op_mix_ratio * (P + Pt - both) + (1.0 - set_op_mix_ratio) * both
    graph = sp.csr_matrix(graph)
    graph.eliminate_zeros()
    graph.sort_indices()
    return graph


def shared_neighbors(indices, distances, n_neighbors):
    """Of each row's candidate neighbours, the ``n_neighbors`` sharing most candidates with it.

    The candidates of row ``i``, ``C(i)``, are its nearest others, nearest
    first (:func:`nearest_neighbors`). A candidate ``j`` ranks by the size of
    ``({i} | C(i)) & ({j} | C(j))``, the shared-nearest-neighbour similarity
    of Jarvis and Patrick (1973); of candidates sharing as many, the nearer
    ranks first. Neighbours that many of a row's neighbours also have lie
    within the same dense part, where a neighbour found by distance alone may
    lie across a gap: on sparse text-like rows, more of the kept neighbours
    share the row's class.

    Parameters
    ----------
    indices : ndarray of shape (n_samples, n_candidates)
    distances : ndarray of shape (n_samples, n_candidates)
        Each row's candidates and their distances, non-decreasing.
    n_neighbors : int
        Neighbours to keep, at most ``n_candidates``.

    Returns
    -------
    indices, distances : ndarray of shape (n_samples, n_neighbors)
        The kept neighbours, nearest first.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._neighbors import nearest_neighbors, shared_neighbors
    >>> X = np.array([[0.0], [1.0], [2.0], [3.2], [4.4]])
    >>> indices, distances = nearest_neighbors(X, 3)
    >>> kept, _ = shared_neighbors(indices, distances, 2)
    >>> indices[2]  # row 2's three nearest
    array([1, 3, 0])
    >>> kept[2]  # row 3 is nearer than row 0, but shares fewer of them
    array([1, 0])
    """
    n, n_candidates = indices.shape
    if n_candidates <= n_neighbors:
        return indices, distances
    pointers = np.arange(0, indices.size + 1, n_candidates)
    ones = np.ones(indices.size, dtype=np.int32)
    lists = sp.csr_matrix((ones, indices.ravel(), pointers), shape=(n, n))
    lists = (lists + sp.identity(n, dtype=np.int32, format="csr")).tocsr()
    members = lists.T.tocsr()
    shared = np.empty(indices.shape, dtype=np.int32)
    chunk_rows = max(1, SHARED_CHUNK_VALUES // (n_candidates + 1) ** 2)
    for rows in chunks(n, chunk_rows):
        counts = (lists[rows] @ members).tocsr()  # |list(i) & list(j)| for every j
        local = np.repeat(np.arange(rows.stop - rows.start), n_candidates)
        shared[rows] = np.asarray(counts[local, indices[rows].ravel()]).reshape(-1, n_candidates)
    # candidates come nearest first: a stable sort keeps the nearer of equal counts
    order = np.argsort(-shared, axis=1, kind="stable")[:, :n_neighbors]
    order.sort(axis=1)  # back to nearest first
    return np.take_along_axis(indices, order, 1), np.take_along_axis(distances, order, 1)


def candidate_multiple(X):
    """Candidates searched per neighbour kept: ``SHARED_CANDIDATES`` for sparse ``X``, else 1.

    The rows of sparse ``X`` keep the candidates they share most
    (:func:`shared_neighbors`); dense rows keep their nearest.
    """
    return SHARED_CANDIDATES if sp.issparse(X) else 1


def neighbor_graph(
    points, n_neighbors, *, algorithm, random_state, verbose=0, space=None, candidates=1
):
    """UMAP's fuzzy graph of rows given as ``points``.

    ``points`` holds the rows where the distances are measured: their top
    principal components (:func:`pca_projection`), or the sparse rows
    themselves; ``space`` names them in the progress report (by default, the
    principal components). Each row is linked to ``n_neighbors - 1`` others
    there: its nearest, or with ``candidates > 1``, those of its
    ``candidates`` times as many nearest that share most of them
    (:func:`shared_neighbors`). Returns a symmetric sparse matrix over the
    rows.
    """
    k = n_neighbors - 1
    searched = min(points.shape[0] - 1, candidates * k)
    if verbose:
        where = space or f"{points.shape[1]} principal components"
        kept = f", kept of {searched} by shared neighbours" if searched > k else ""
        print(
            f"Neighbours: {k} of each of {points.shape[0]} rows, on {where}{kept}",
            flush=True,
        )
    indices, distances = nearest_neighbors(
        points, searched, algorithm=algorithm, random_state=random_state
    )
    indices, distances = shared_neighbors(indices, distances, k)
    if verbose:
        print("Neighbours: the fuzzy graph", flush=True)
    return fuzzy_graph(indices, distances, n_neighbors)


def rows_graph(
    X, rows, mean, scale, n_axes, n_neighbors, *, algorithm, rng, sample_weight=None, verbose=0
):
    """The fuzzy graph of ``X[rows]``, and their top principal components.

    The rows are seen as the network sees them, ``(X - mean) / scale``; the
    principal axes are ``n_axes`` of :func:`~skae._data.principal_axes` (drawn
    with ``rng``, weighted by ``sample_weight``). Dense rows are linked on
    their first ``GRAPH_COMPONENTS`` components (:func:`neighbor_graph`),
    which drop noise spread over many features. Sparse rows (counts, tf-idf)
    are linked on all their features: their top components keep little of
    the distances between them, and crowd rows of every kind together where
    those components are small. (The fuzzy graph does not depend on the
    shift and the scale, so the sparse rows are searched as they are.) Of
    their ``SHARED_CANDIDATES`` times as many nearest, each keeps those that
    share most of them (:func:`shared_neighbors`): distances between short
    sparse rows rank neighbours less reliably than their shared neighbours.

    Returns
    -------
    graph : scipy.sparse matrix of shape (n_rows, n_rows)
    features : ndarray of shape (n_rows, min(n_axes, GRAPH_COMPONENTS))
        The rows' first components, which place the graph's disconnected
        parts (:func:`~skae._spectral_start.spectral_start`).
    projection : ndarray of shape (n_rows, n_axes)
        The rows on all ``n_axes`` axes.
    axes : ndarray of shape (n_axes, n_features)
    """
    if verbose:
        print(f"Principal components: {n_axes} of {X.shape[1]} features", flush=True)
    axes = principal_axes(X, mean, scale, n_axes, rng, sample_weight)
    projection = pca_projection(X, rows, mean, scale, axes)
    features = np.ascontiguousarray(projection[:, :GRAPH_COMPONENTS])
    if sp.issparse(X):  # rows ascend: all of them is X itself, not a copy
        points = X if rows.size == X.shape[0] else X[rows]
        space = f"all {X.shape[1]} features (sparse)"
    else:
        points, space = features, None
    graph = neighbor_graph(
        points,
        n_neighbors,
        algorithm=algorithm,
        random_state=rng,
        verbose=verbose,
        space=space,
        candidates=candidate_multiple(X),
    )
    return graph, features, projection, axes
