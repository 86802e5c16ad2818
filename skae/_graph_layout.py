"""A UMAP layout of a neighbour graph, in NumPy and SciPy.

The first stage of training with ``n_neighbors``: positions of the rows that
keep the fuzzy graph of :mod:`skae._neighbors` (McInnes, Healy & Melville
2018, "UMAP: Uniform Manifold Approximation and Projection"). The network
then learns them (:class:`~skae._graph_term.LayoutTargetTerm`).

- :func:`spectral_start`: umap-learn's ``init="spectral"``, the eigenvectors
  of the graph's normalised Laplacian, its connected components placed apart;
- :func:`optimize_layout`: UMAP's epochs as mini-batches of sampled edges
  (:class:`_EdgeSteps`). umap-learn steps through the graph's directed
  entries one at a time, each sampled with probability ``w`` (its weight over
  the largest) and moving both ends, with ``negative_sample_rate`` uniform
  negatives pushing its head. Here each epoch cuts the undirected edges into
  ``BATCHES_PER_EPOCH`` mini-batches and, batch after batch, keeps each edge
  with probability ``min(1, 2w)``, scales its pull by ``max(1, 2w)``, and
  pushes each end from one uniform negative weighted ``negative_sample_rate
  / 2 * max(1, 2w)``; the steps of a batch's kept edges are summed onto the
  rows at once. In expectation each row moves as in umap-learn's epoch:

  ``y_i += alpha_e * sum_j 2 w_ij (c_att(d_ij) (y_j - y_i)
  + (negative_sample_rate / 2) E_r[clip(c_rep(d_ir) (y_i - y_r), -4, 4)])``

  with ``c_att(d) = 2ab d^(2b-2) / (1 + a d^(2b))`` (each coordinate of its
  step clipped at 4 too), ``c_rep(d) = 2b / ((0.001 + d^2)(1 + a d^(2b)))``
  and ``alpha_e = 1 - e / n_epochs``.

All in float32, like umap-learn's layout. The steps of a batch are computed
on threads, each on its share of the kept edges (:func:`layout_parts`); the
layout does not depend on how many, and a seed gives it bit for bit.
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
CLIP = 4.0  # umap-learn's clip of each coordinate of a repulsive step
BATCHES_PER_EPOCH = 4  # mini-batches of edges an epoch steps through in turn
BLOCK_EDGES = 8192  # kept edges whose steps are computed at once (a thread's unit)
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


def _attraction(diff, scale, a, b):
    """``clip(c_att(d) (y_j - y_i), -4, 4) * scale`` in place on ``diff`` (rows ``y_j - y_i``).

    ``c_att(d) = 2ab d^(2b-2) / (1 + a d^(2b)) = 2ab / (d2^(1-b) + a d2)``.
    """
    d2 = np.einsum("ij,ij->i", diff, diff)
    np.maximum(d2, D2_FLOOR, out=d2)
    c = np.log(d2)
    c *= np.float32(1.0) - b
    np.exp(c, out=c)
    d2 *= a
    c += d2
    np.divide(np.float32(2.0) * a * b, c, out=c)
    diff *= c[:, None]
    np.clip(diff, -CLIP, CLIP, out=diff)
    diff *= scale[:, None]


def _repulsion(diff, weight, a, b):
    """``clip(c_rep(d) (y_i - y_r), -4, 4) * weight`` in place on ``diff`` (rows ``y_i - y_r``).

    ``c_rep(d) = 2b / ((0.001 + d2)(1 + a d2^b))``; a negative at the row's
    own position (itself, or a duplicate) pushes nothing.
    """
    d2 = np.einsum("ij,ij->i", diff, diff)
    c = np.maximum(d2, D2_FLOOR)
    np.log(c, out=c)
    c *= b
    np.exp(c, out=c)
    c *= a
    c += 1.0
    c *= d2 + np.float32(0.001)
    np.divide(np.float32(2.0) * b, c, out=c)
    c[d2 <= 0.0] = 0.0
    diff *= c[:, None]
    np.clip(diff, -CLIP, CLIP, out=diff)
    diff *= weight[:, None]


class _EdgeSteps:
    """UMAP's epochs as mini-batches of sampled edges (float32 throughout).

    Each undirected edge of weight ``w`` (of the largest weight) is kept in
    an epoch with probability ``min(1, 2w)`` and its pull scaled by
    ``max(1, 2w)``: in expectation umap-learn's, which samples each of the
    edge's two directed entries with probability ``w`` and moves both ends.
    Each end of a kept edge is pushed from one uniform negative, weighted
    ``negative_sample_rate / 2`` times the edge's scale: again umap-learn's
    expectation, ``negative_sample_rate * w`` negatives per end and epoch.

    The edges are shuffled once and cut into ``n_batches`` mini-batches; an
    epoch steps through them in turn, so that later batches see the earlier
    ones' moves. Within a batch, the steps of the kept edges are computed in
    blocks of ``BLOCK_EDGES``, dealt out to ``n_parts`` parts, then summed onto
    the rows one column at a time: each block is the same arithmetic whether
    the parts run one after the other or at once, on threads, so the number
    of parts never changes a result.
    """

    def __init__(self, graph, dim, a, b, negative_sample_rate, rng, n_batches, n_parts=1):
        self.n, self.dim = graph.shape[0], dim
        upper = sp.triu(graph, k=1).tocoo()
        order = rng.permutation(upper.nnz)
        self.heads = upper.row[order].astype(np.intp)
        self.tails = upper.col[order].astype(np.intp)
        twice = 2.0 * upper.data[order] / (upper.data.max() if upper.nnz else 1.0)
        self.keep_probability = np.minimum(twice, 1.0).astype(np.float32)
        self.scale = np.maximum(twice, 1.0).astype(np.float32)
        self.negative_weight = (negative_sample_rate / 2.0 * self.scale).astype(np.float32)
        bounds = np.linspace(0, upper.nnz, n_batches + 1).astype(np.intp)
        self.batches = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
        self.n_parts = max(1, n_parts)
        largest = max((s.stop - s.start for s in self.batches), default=0)
        self.ends = np.empty(2 * largest, np.intp)
        self.gradient = np.empty((2 * largest, dim), np.float32)
        self.a, self.b = np.float32(a), np.float32(b)

    def draw(self, batch, rng):
        """The kept edges of one batch and a negative for each of their ends."""
        kept = np.flatnonzero(
            rng.random(batch.stop - batch.start, dtype=np.float32) < self.keep_probability[batch]
        )
        kept += batch.start
        return kept, rng.integers(0, self.n, size=2 * kept.size)

    def edge_gradients(self, Y, kept, negatives, part):
        """Both ends' steps of one part's blocks of the kept edges, into ``self.gradient``.

        The kept edges are cut into blocks of ``BLOCK_EDGES``; part ``p`` of
        ``P`` takes blocks ``p, p + P, ...``. Block rows ``[2 lo, 2 hi)`` of the
        gradient (and of ``self.ends``) hold the heads of edges ``kept[lo:hi]``,
        then their tails; the negatives are drawn in the same order.
        """
        for lo in range(part * BLOCK_EDGES, kept.size, self.n_parts * BLOCK_EDGES):
            hi = min(lo + BLOCK_EDGES, kept.size)
            edges, size = kept[lo:hi], hi - lo
            ends, block = self.ends[2 * lo : 2 * hi], self.gradient[2 * lo : 2 * hi]
            np.take(self.heads, edges, out=ends[:size])
            np.take(self.tails, edges, out=ends[size:])
            np.take(Y, ends, axis=0, out=block)
            pull = block[size:] - block[:size]
            _attraction(pull, self.scale[edges], self.a, self.b)
            push = np.take(Y, negatives[2 * lo : 2 * hi], axis=0)
            np.subtract(block, push, out=push)
            weight = self.negative_weight[edges]
            _repulsion(push, np.concatenate([weight, weight]), self.a, self.b)
            np.add(push[:size], pull, out=block[:size])
            np.subtract(push[size:], pull, out=block[size:])

    def scatter(self, Y, E, alpha):
        """Add ``alpha`` times the steps of the kept edges' ends to their rows of ``Y``.

        One column at a time: ``np.bincount`` holds the GIL, so threads would
        not share this.
        """
        ends, gradient = self.ends[: 2 * E], self.gradient[: 2 * E]
        for d in range(self.dim):
            step = np.bincount(ends, weights=gradient[:, d], minlength=self.n)
            step *= alpha
            Y[:, d] += step.astype(np.float32)

    def epoch(self, Y, alpha, rng, run_parts):
        """One epoch: each mini-batch's kept edges, then their steps, in turn."""
        for batch in self.batches:
            kept, negatives = self.draw(batch, rng)
            run_parts(partial(self.edge_gradients, Y, kept, negatives))
            self.scatter(Y, kept.size, alpha)


def _parts_runner(pool, n_parts):
    """``run_parts`` for :meth:`_EdgeSteps.epoch`: part 0 here, the others on ``pool``."""

    def run_parts(work):
        pending = [pool.submit(work, part) for part in range(1, n_parts)] if pool else []
        work(0)
        for future in pending:
            future.result()

    return run_parts


def layout_parts(n_rows, n_threads):
    """How many parts, one per thread, share the epochs' work on ``n_rows`` rows.

    Each thread gets at least ``MIN_ROWS_PER_THREAD`` rows: below that, the
    threads cost more than they save.
    """
    return max(1, min(n_threads, n_rows // MIN_ROWS_PER_THREAD))


def optimize_layout(graph, Y, n_epochs, a, b, negative_sample_rate, seed, log=None, n_threads=1):
    """UMAP's epochs on ``Y`` (float32, changed in place and returned).

    ``graph`` is pruned float32 CSR (:func:`_pruned`); ``seed`` seeds the
    order of the edges and every epoch's draws (:class:`_EdgeSteps`);
    ``log(epoch)`` is called after each epoch if given. The step size falls
    from 1 to 0 over the epochs, as umap-learn's. The epochs run on up to
    ``n_threads`` threads (:func:`layout_parts`); the result is the same bit
    for bit on any number of them.
    """
    rng = np.random.default_rng(seed)
    steps = _EdgeSteps(
        graph,
        Y.shape[1],
        a,
        b,
        negative_sample_rate,
        rng,
        BATCHES_PER_EPOCH,
        n_parts=layout_parts(Y.shape[0], n_threads),
    )
    n_parts = steps.n_parts
    with ThreadPoolExecutor(n_parts - 1) if n_parts > 1 else nullcontext() as pool:
        run_parts = _parts_runner(pool, n_parts)
        for epoch in range(n_epochs):
            steps.epoch(Y, np.float32(1.0 - epoch / n_epochs), rng, run_parts)
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
