"""umap-learn's spectral start of a graph layout, in NumPy and SciPy.

The positions the epochs of :mod:`skae._graph_layout` start from: the
eigenvectors of the graph's normalised Laplacian (umap-learn's
``init="spectral"``), its connected components placed apart, and above
``SPECTRAL_MAX_ROWS`` rows those of a coarser graph of groups of rows.
"""

import warnings
from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components, dijkstra

__all__ = ["coarse_groups", "spectral_start"]

NCV_CAP = 48  # Lanczos vectors at most (umap-learn: sqrt(n_rows))
SPECTRAL_MAX_ROWS = 300_000  # beyond, the spectral start is that of a coarser graph
COARSE_ROWS = 100_000  # groups of rows in that coarser graph


def _one_blas_thread():
    """One BLAS thread while ARPACK runs, when threadpoolctl is there.

    ARPACK's products with tall, thin blocks gain nothing from threads and
    stall when the cores are busy.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn
        return nullcontext()
    return threadpool_limits(1)


def _laplacian_eigenvectors(graph, dim, rng):
    """Eigenvectors 1..dim of the normalised Laplacian of a connected graph."""
    n = graph.shape[0]
    root = np.sqrt(np.asarray(graph.sum(axis=0), dtype=np.float64).ravel())
    scaling = sp.diags(1.0 / root)
    laplacian = sp.identity(n, format="csr") - scaling @ graph @ scaling
    k = dim + 1
    ncv = max(2 * k + 1, min(int(np.sqrt(n)), NCV_CAP))
    try:
        values, vectors = spla.eigsh(
            laplacian, k, which="SM", ncv=ncv, tol=1e-4, v0=np.ones(n), maxiter=5 * n
        )
    except (spla.ArpackError, spla.ArpackNoConvergence):
        warnings.warn(
            "The spectral start of the graph layout did not converge; starting from "
            "random positions instead.",
            RuntimeWarning,
            stacklevel=3,
        )
        return rng.uniform(-10.0, 10.0, size=(n, dim))
    return vectors[:, np.argsort(values)[1:k]]


def _centroid_layout(data, labels, n_parts, dim):
    """A spectral layout of the components' centroids in ``data``.

    The affinity is Gaussian, its squared width the median squared distance
    between centroids, so that it does not vanish with the data's scale.
    """
    centroids = np.stack([data[labels == c].mean(axis=0) for c in range(n_parts)])
    squares = (centroids**2).sum(axis=1)
    d2 = np.maximum(squares[:, None] + squares[None, :] - 2 * centroids @ centroids.T, 0.0)
    positive = d2[d2 > 0]
    affinity = np.exp(-d2 / (np.median(positive) if positive.size else 1.0))
    np.fill_diagonal(affinity, 0.0)
    root = np.sqrt(np.maximum(affinity.sum(axis=1), 1e-300))
    _, vectors = np.linalg.eigh(np.eye(n_parts) - affinity / root[:, None] / root[None, :])
    layout = vectors[:, 1 : dim + 1] / root[:, None]
    if layout.shape[1] < dim:
        layout = np.hstack([layout, np.zeros((n_parts, dim - layout.shape[1]))])
    return layout / np.abs(layout).max()


def _components_apart(graph, n_parts, labels, dim, rng, data):
    """Each connected component laid out spectrally around its own centre.

    Up to ``2 * dim`` components sit at plus and minus the unit vectors; more
    sit at a spectral layout of their centroids in ``data``, within the unit
    cube. A component spans half the gap to the nearest other centre, or,
    among many components, at least the square root of its share of the rows,
    so that one large component among many small ones is not shrunk to a
    point. Components too small for a spectral layout are spread uniformly
    around their centre.
    """
    if n_parts > 2 * dim:
        centres = _centroid_layout(data, labels, n_parts, dim)
    else:
        half = -(-n_parts // 2)
        base = np.hstack([np.eye(half), np.zeros((half, dim - half))])
        centres = np.vstack([base, -base])[:n_parts]
    layout = np.empty((graph.shape[0], dim))
    for part in range(n_parts):
        members = np.flatnonzero(labels == part)
        gaps = np.sqrt(((centres - centres[part]) ** 2).sum(axis=1))
        radius = gaps[gaps > 0].min() / 2.0 if (gaps > 0).any() else 1.0
        if n_parts > 2 * dim:
            radius = max(radius, np.sqrt(members.size / graph.shape[0]))
        if members.size <= 2 * dim:
            layout[members] = rng.uniform(-radius, radius, size=(members.size, dim))
        else:
            sub = graph[members][:, members]
            part_layout = _laplacian_eigenvectors(sub, dim, rng)
            layout[members] = part_layout * (radius / np.abs(part_layout).max())
        layout[members] += centres[part]
    return layout


def _spectral_layout(graph, dim, rng, data):
    """The Laplacian eigenvectors of ``graph``, each connected component apart."""
    n_parts, labels = connected_components(graph, directed=False)
    with _one_blas_thread():
        if n_parts > 1:
            return _components_apart(graph.tocsr(), n_parts, labels, dim, rng, data)
        return _laplacian_eigenvectors(graph, dim, rng)


def coarse_groups(graph, n_groups, rng):
    """Each row's group: its nearest of ``n_groups`` random rows, in hops over ``graph``.

    One more seed row is drawn in each connected component that got none,
    so every row has a group. Returns the group of each row, numbered from 0.
    """
    n = graph.shape[0]
    seeds = rng.choice(n, size=min(n_groups, n), replace=False)
    _, labels = connected_components(graph, directed=False)
    first_rows = np.unique(labels, return_index=True)[1]
    seeded = np.zeros(first_rows.size, dtype=bool)
    seeded[labels[seeds]] = True
    seeds = np.sort(np.concatenate([seeds, first_rows[~seeded]]))
    _, _, sources = dijkstra(
        graph,
        directed=False,
        indices=seeds,
        unweighted=True,
        min_only=True,
        return_predecessors=True,
    )
    return np.searchsorted(seeds, sources)


def spectral_start(graph, dim, rng, data):
    """umap-learn's spectral start: float32 positions, each column in [0, 10].

    Above ``SPECTRAL_MAX_ROWS`` rows, where the eigenvectors of the whole
    graph converge too slowly, each row takes the position of its group in
    the spectral layout of a coarser graph: ``COARSE_ROWS`` groups of rows
    (:func:`coarse_groups`), linked by the sum of the weights between them.

    Parameters
    ----------
    graph : scipy.sparse matrix of shape (n_rows, n_rows)
        Symmetric, non-negative weights.
    dim : int
        Columns of the layout.
    rng : numpy.random.RandomState
        Draws the small noise added to the start, the groups, and random
        positions where the eigenvectors fail.
    data : ndarray of shape (n_rows, n_features)
        The rows the graph was built on (float64): places more than
        ``2 * dim`` components, at their centroids in it.
    """
    n = graph.shape[0]
    if n > SPECTRAL_MAX_ROWS:
        groups = coarse_groups(graph, COARSE_ROWS, rng)
        members = sp.csr_matrix((np.ones(n), (np.arange(n), groups)), shape=(n, groups.max() + 1))
        coarse = (members.T @ graph @ members).tocsr()
        coarse.setdiag(0.0)
        coarse.eliminate_zeros()
        centroids = (members.T @ data) / np.bincount(groups)[:, None]
        layout = _spectral_layout(coarse, dim, rng, centroids)[groups]
    else:
        layout = _spectral_layout(graph, dim, rng, data)
    largest = np.abs(layout).max()
    layout = (layout * (10.0 / largest if largest > 0 else 1.0)).astype(np.float32)
    layout += rng.normal(scale=1e-4, size=layout.shape).astype(np.float32)
    low, high = layout.min(axis=0), layout.max(axis=0)
    return np.ascontiguousarray(10.0 * (layout - low) / np.maximum(high - low, 1e-12), np.float32)
