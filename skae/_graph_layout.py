"""A UMAP layout of a neighbour graph, in NumPy and SciPy.

The first stage of training with ``n_neighbors``: positions of the rows that
keep the fuzzy graph of :mod:`skae._neighbors` (McInnes, Healy & Melville
2018, "UMAP: Uniform Manifold Approximation and Projection"). The network
then learns them (:class:`~skae._graph_term.LayoutTargetTerm`).

- :func:`spectral_start`: umap-learn's ``init="spectral"``, the eigenvectors
  of the graph's normalised Laplacian, its connected components placed apart;
- :func:`optimize_layout`: UMAP's epochs as full-batch steps. umap-learn runs
  a sequential stochastic step per sampled edge; each epoch here applies the
  expected update of one such epoch to every row at once:

  ``y_i += alpha_e * (2 sum_j w_ij c_att(d_ij) (y_j - y_i)
  + (m_neg deg_i / m) sum_r clip(c_rep(d_ir) (y_i - y_r), -4, 4))``

  with ``w = weight / max weight``, ``deg_i = sum_j w_ij``, ``m`` uniform
  negatives per row and epoch, ``c_att(d) = 2ab d^(2b-2) / (1 + a d^(2b))``,
  ``c_rep(d) = 2b / ((0.001 + d^2)(1 + a d^(2b)))`` and ``alpha_e =
  min(1 - e / n_epochs, 0.5)``. The attraction is a sparse product over the
  graph, ``C @ Y - rowsum(C) * Y``; nothing is scattered, so a seed gives
  the same layout bit for bit.

All in float32, like umap-learn's layout. The epochs run on threads, each
on its share of the rows (:func:`layout_parts`); the layout does not depend
on how many.
"""

import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from functools import partial

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components, dijkstra

__all__ = [
    "available_memory",
    "default_layout_epochs",
    "graph_layout",
    "graph_memory",
    "layout_parts",
    "layout_start",
    "optimize_layout",
    "spectral_start",
]

NCV_CAP = 48  # Lanczos vectors at most (umap-learn: sqrt(n_rows))
SPECTRAL_MAX_ROWS = 300_000  # beyond, the spectral start is that of a coarser graph
COARSE_ROWS = 100_000  # groups of rows in that coarser graph
NEGATIVES_PER_ROW = 5  # uniform negatives drawn per row and epoch
CLIP = 4.0  # umap-learn's clip of each coordinate of a repulsive step
MAX_ALPHA = 0.5  # the step 1 - epoch / n_epochs is capped at this
D2_FLOOR = 1e-12  # squared distances below this count as this (duplicates)
MIN_ROWS_PER_THREAD = 4_000  # fewer rows per thread: the epochs run on fewer threads


def default_layout_epochs(n_rows):
    """umap-learn's default: 500 epochs up to 10,000 rows, 200 beyond."""
    return 500 if n_rows <= 10_000 else 200


def graph_memory(n_rows, n_neighbors, n_axes, dim):
    """Bytes the graph, its layout and the targets need at most, roughly, for ``n_rows``.

    Per row: its principal components (float64), its neighbours and their
    distances, the graph's entries in the fuzzy union and in CSR, and per
    edge the layout's coefficients and gathered rows (float32).
    """
    per_edge = 2 * dim * 4 + 3 * 4 + 3 * 8  # gathered rows, distances, indices
    per_row = 8 * n_axes + n_neighbors * (16 + 2 * 24 + per_edge) + 6 * 4 * dim + 8 * dim
    return n_rows * per_row


def available_memory():
    """Bytes of memory available now (Linux's ``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


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


def _pruned(graph, n_epochs):
    """umap-learn's pruning: weights below ``max / n_epochs`` dropped; float32 CSR."""
    pruned = sp.csr_matrix(graph, dtype=np.float32, copy=True)
    pruned.sum_duplicates()
    if pruned.nnz:
        pruned.data[pruned.data < pruned.data.max() / float(n_epochs)] = 0.0
        pruned.eliminate_zeros()
    pruned.sort_indices()
    return pruned


class _LayoutSteps:
    """The epochs' constants and buffers for one graph (float32 throughout).

    The rows are cut into ``n_parts`` ranges of consecutive rows, and the
    edges by the range of their first row. Each part's work is the same
    arithmetic whether the parts run one after the other or at once, on
    threads (NumPy and SciPy release the GIL in these loops), so the number
    of parts never changes a result.
    """

    def __init__(self, graph, dim, a, b, negative_sample_rate, negatives_per_row, n_parts=1):
        n = graph.shape[0]
        self.n, self.m = n, negatives_per_row
        largest = graph.data.max() if graph.nnz else 1.0
        # Each undirected edge once (upper triangle), and the edge of each CSR entry.
        upper = sp.triu(graph, k=1).tocsr()
        self.heads = np.repeat(np.arange(n), np.diff(upper.indptr))
        self.tails = upper.indices.astype(np.intp)
        n_edges = self.tails.size
        numbered = sp.csr_matrix(
            (np.arange(1, n_edges + 1, dtype=np.float64), upper.indices, upper.indptr),
            shape=(n, n),
        )
        numbered = (numbered + numbered.T).tocsr()
        numbered.sort_indices()
        self.edge_of_entry = (numbered.data - 1).astype(np.intp)
        # Both ends of a sampled edge move (2), by 2ab w / max weight.
        self.edge_weight = (upper.data * (2.0 * 2 * a * b / largest)).astype(np.float32)
        degree = np.asarray(graph.sum(axis=1), dtype=np.float64).ravel() / largest
        self.negative_weight = (negative_sample_rate * degree / max(self.m, 1)).astype(np.float32)
        coefficients = sp.csr_matrix(
            (np.empty(numbered.nnz, np.float32), numbered.indices, numbered.indptr), shape=(n, n)
        )
        bounds = np.linspace(0, n, max(1, min(n_parts, n)) + 1).astype(np.intp)
        self.parts = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
        edge_bounds = np.searchsorted(self.heads, bounds)  # heads ascend
        self.edge_parts = [slice(lo, hi) for lo, hi in zip(edge_bounds[:-1], edge_bounds[1:])]
        indptr = numbered.indptr
        self.entry_parts = [slice(indptr[p.start], indptr[p.stop]) for p in self.parts]
        # each part's rows of the coefficients, refilled every epoch
        self.coefficients = [coefficients[rows] for rows in self.parts]
        self.diff = np.empty((n_edges, dim), np.float32)
        self.head_rows = np.empty((n_edges, dim), np.float32)
        self.d2 = np.empty(n_edges, np.float32)
        self.c = np.empty(n_edges, np.float32)
        self.a, self.b = np.float32(a), np.float32(b)
        self.row = np.dtype((np.void, 4 * dim))  # a row as one item: a faster take

    def edge_coefficients(self, Y, part):
        """``2 w_ij c_att(d_ij)`` of the edges of one part, into ``self.c``."""
        edges = self.edge_parts[part]
        diff, d2, c = self.diff[edges], self.d2[edges], self.c[edges]
        rows = Y.view(self.row).ravel()
        np.take(rows, self.tails[edges], out=diff.view(self.row).ravel())
        head_rows = self.head_rows[edges]
        np.take(rows, self.heads[edges], out=head_rows.view(self.row).ravel())
        diff -= head_rows
        np.einsum("ij,ij->i", diff, diff, out=d2)
        # 2 * 2ab w d2^(b-1) / (1 + a d2^b) = 2 * 2ab w / (d2^(1-b) + a d2)
        np.maximum(d2, D2_FLOOR, out=d2)
        np.log(d2, out=c)
        c *= np.float32(1.0) - self.b
        np.exp(c, out=c)
        d2 *= self.a
        c += d2
        np.divide(self.edge_weight[edges], c, out=c)

    def attraction_rows(self, Y, part):
        """``sum_j 2 w_ij c_att(d_ij) (y_j - y_i)`` for the rows of one part.

        As ``C @ Y - rowsum(C) * Y``, once every part's edge coefficients are in.
        """
        C = self.coefficients[part]
        np.take(self.c, self.edge_of_entry[self.entry_parts[part]], out=C.data)
        step = C @ Y
        step -= np.asarray(C.sum(axis=1), dtype=np.float32) * Y[self.parts[part]]
        return step

    def repulsion_rows(self, Y, others, part):
        """``(m_neg deg_i / m) sum_r clip(c_rep(d_ir) (y_i - y_r), -4, 4)`` for one part.

        ``others`` holds ``m`` negatives for every row, all rows' in a row.
        The clip binds only for close pairs (``c_rep * d > 4``); those few are
        summed apart.
        """
        rows, m, dim = self.parts[part], self.m, Y.shape[1]
        n = rows.stop - rows.start
        if m == 0:
            return np.zeros((n, dim), np.float32)
        mine = others[rows.start * m : rows.stop * m]
        diff = np.take(Y.view(self.row).ravel(), mine).view(np.float32).reshape(n, m, dim)
        np.subtract(Y[rows, None, :], diff, out=diff)
        d2 = np.einsum("ijk,ijk->ij", diff, diff)
        p = np.maximum(d2, D2_FLOOR)
        np.log(p, out=p)
        p *= self.b
        np.exp(p, out=p)
        p *= self.a
        p += 1.0
        p *= d2 + np.float32(0.001)
        r = np.divide(np.float32(2.0) * self.b, p)
        r[d2 <= 0.0] = 0.0  # the row itself, or a duplicate
        clipped = r * r * d2 > np.float32(CLIP * CLIP)
        c = np.where(clipped, np.float32(0.0), r)
        weight = self.negative_weight[rows]
        c *= weight[:, None]
        step = np.einsum("ijk,ij->ik", diff, c)
        if clipped.any():
            near, cols = np.nonzero(clipped)
            close = r[near, cols, None] * diff[near, cols]
            np.clip(close, -CLIP, CLIP, out=close)
            close *= weight[near, None]
            for d in range(dim):
                step[:, d] += np.bincount(near, weights=close[:, d], minlength=n).astype(np.float32)
        return step

    def draw_negatives(self, rng):
        """``m`` uniform negatives for every row, drawn at once."""
        return rng.integers(0, self.n, size=self.n * self.m)

    def attraction(self, Y):
        """The attraction of every row (all parts, one after the other)."""
        for part in range(len(self.parts)):
            self.edge_coefficients(Y, part)
        return np.vstack([self.attraction_rows(Y, part) for part in range(len(self.parts))])

    def repulsion(self, Y, rng):
        """The repulsion of every row from negatives drawn with ``rng``."""
        others = self.draw_negatives(rng)
        return np.vstack([self.repulsion_rows(Y, others, part) for part in range(len(self.parts))])

    def step(self, Y, rng, out, run_parts):
        """One epoch's step of every row into ``out``: attraction plus repulsion.

        ``run_parts(work)`` calls ``work(part)`` for every part and returns
        when all have returned.
        """

        def rows_step(part):
            step = self.attraction_rows(Y, part)
            step += self.repulsion_rows(Y, others, part)
            out[self.parts[part]] = step

        run_parts(partial(self.edge_coefficients, Y))
        others = self.draw_negatives(rng)
        run_parts(rows_step)
        return out


def _parts_runner(pool, n_parts):
    """``run_parts`` for :meth:`_LayoutSteps.step`: part 0 here, the others on ``pool``."""

    def run_parts(work):
        pending = [pool.submit(work, part) for part in range(1, n_parts)] if pool else []
        work(0)
        for future in pending:
            future.result()

    return run_parts


def layout_parts(n_rows, n_threads):
    """How many parts, one per thread, the epochs of ``n_rows`` rows are cut into.

    Each thread gets at least ``MIN_ROWS_PER_THREAD`` rows: below that, the
    threads cost more than they save.
    """
    return max(1, min(n_threads, n_rows // MIN_ROWS_PER_THREAD))


def optimize_layout(graph, Y, n_epochs, a, b, negative_sample_rate, seed, log=None, n_threads=1):
    """UMAP's epochs on ``Y`` (float32, changed in place and returned).

    ``graph`` is pruned float32 CSR (:func:`_pruned`); ``seed`` seeds the
    negatives; ``log(epoch)`` is called after each epoch if given. The epochs
    run on up to ``n_threads`` threads (:func:`layout_parts`); the result is
    the same bit for bit on any number of them.
    """
    rng = np.random.default_rng(seed)
    steps = _LayoutSteps(
        graph,
        Y.shape[1],
        a,
        b,
        negative_sample_rate,
        NEGATIVES_PER_ROW,
        n_parts=layout_parts(Y.shape[0], n_threads),
    )
    n_parts = len(steps.parts)
    step = np.empty_like(Y)
    with ThreadPoolExecutor(n_parts - 1) if n_parts > 1 else nullcontext() as pool:
        run_parts = _parts_runner(pool, n_parts)
        for epoch in range(n_epochs):
            steps.step(Y, rng, step, run_parts)
            step *= np.float32(min(1.0 - epoch / n_epochs, MAX_ALPHA))
            Y += step
            if log is not None:
                log(epoch)
    return Y


def layout_start(graph, dim, rng, data, verbose=0):
    """What the epochs of :func:`graph_layout` start from, drawn with ``rng``.

    Returns the graph pruned for umap-learn's default epochs (:func:`_pruned`),
    its spectral start (:func:`spectral_start`), those epochs and the seed of
    the epochs' negatives.
    """
    n_epochs = default_layout_epochs(graph.shape[0])
    pruned = _pruned(graph, n_epochs)
    if verbose:
        print(f"Graph layout: spectral start of {graph.shape[0]} rows", flush=True)
    Y = spectral_start(pruned, dim, rng, data)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    return pruned, Y, n_epochs, seed


def graph_layout(graph, dim, a, b, negative_sample_rate, rng, data, verbose=0, n_threads=1):
    """The ``(n_rows, dim)`` float32 layout of a symmetric fuzzy graph.

    Parameters
    ----------
    graph : scipy.sparse matrix of shape (n_rows, n_rows)
    dim : int
    a, b : float
        The similarity curve (:func:`~skae._neighbors.find_ab_params`).
    negative_sample_rate : int
        umap-learn's negatives per sampled edge, which weighs the repulsion.
    rng : numpy.random.RandomState
        Seeds the start and the negatives.
    data : ndarray of shape (n_rows, n_features)
        The rows the graph was built on (see :func:`spectral_start`).
    verbose : int
        Report the phases (and, above 1, every epoch).
    n_threads : int
        Threads the epochs may use (:func:`optimize_layout`); the layout does
        not depend on it.
    """
    pruned, Y, n_epochs, seed = layout_start(graph, dim, rng, data, verbose)
    if verbose:
        print(f"Graph layout: {n_epochs} epochs over {pruned.nnz // 2} edges", flush=True)
    log = None
    if verbose:
        every = 1 if verbose > 1 else max(n_epochs // 10, 1)

        def log(epoch):
            if (epoch + 1) % every == 0:
                print(f"Graph layout: epoch {epoch + 1}/{n_epochs}", flush=True)

    return optimize_layout(pruned, Y, n_epochs, a, b, negative_sample_rate, seed, log, n_threads)
