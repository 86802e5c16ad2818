"""A UMAP layout of a neighbour graph, in NumPy and SciPy.

The first stage of training with ``n_neighbors``: positions of the rows that
keep the fuzzy graph of :mod:`skae._neighbors` (McInnes, Healy & Melville
2018, "UMAP: Uniform Manifold Approximation and Projection"). The network
then learns them (:class:`~skae._graph_term.LayoutTargetTerm`).

- :func:`~skae._spectral_start.spectral_start` (its own module): umap-learn's
  ``init="spectral"``, the eigenvectors of the graph's normalised Laplacian,
  its connected components placed apart;
- :func:`find_ab_params`: the ``a``, ``b`` of the similarity of two
  positions, ``q = 1 / (1 + a * d ** (2 * b))``, for UMAP's ``min_dist``
  and ``spread``;
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

from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from functools import partial

import numpy as np
import scipy.sparse as sp

from ._spectral_start import spectral_start

__all__ = [
    "add_steps",
    "available_memory",
    "default_layout_epochs",
    "find_ab_params",
    "graph_layout",
    "graph_memory",
    "layout_parts",
    "layout_start",
    "optimize_layout",
    "step_buffers",
]

CLIP = 4.0  # umap-learn's clip of each coordinate of a repulsive step
BATCHES_PER_EPOCH = 4  # mini-batches of edges an epoch steps through in turn
BLOCK_EDGES = 8192  # kept edges whose steps are computed at once (a thread's unit)
D2_FLOOR = 1e-12  # squared distances below this count as this (duplicates)
MIN_ROWS_PER_THREAD = 4_000  # fewer rows per thread: the epochs run on fewer threads
MAX_LAYOUT_EPOCHS = 500  # umap-learn's epochs up to FULL_EPOCHS_ROWS rows, and the most here
FULL_EPOCHS_ROWS = 10_000
MIN_LAYOUT_EPOCHS = 200  # umap-learn's beyond, and the fewest here


def default_layout_epochs(n_rows):
    """Epochs of the layout: 500 up to 10,000 rows, then fewer, down to 200.

    umap-learn runs 500 epochs up to 10,000 rows and 200 beyond. Its epochs
    step through the edges one at a time, each step seeing the ones before;
    these take each mini-batch's steps at once and, epoch for epoch, leave
    the classes looser (``benchmarks/bench_clustering.py --layouts``). Beyond
    10,000 rows the epochs therefore fall as ``500 * sqrt(10_000 / n_rows)``,
    not at once: 353 at 20,000 rows, 288 at 30,000, and umap-learn's 200
    from 62,500 rows up, where an epoch costs the most.
    """
    if n_rows <= FULL_EPOCHS_ROWS:
        return MAX_LAYOUT_EPOCHS
    fewer = int(MAX_LAYOUT_EPOCHS * np.sqrt(FULL_EPOCHS_ROWS / n_rows))
    return max(MIN_LAYOUT_EPOCHS, fewer)


def find_ab_params(spread=1.0, min_dist=0.1):
    """``a``, ``b`` of ``1 / (1 + a * d ** (2 * b))`` fitted to UMAP's target curve.

    The target is 1 for ``d < min_dist`` and ``exp(-(d - min_dist) / spread)``
    beyond, on 300 points of ``[0, 3 * spread]``; the fit is
    :func:`scipy.optimize.curve_fit`, exactly as umap-learn does.

    Parameters
    ----------
    spread : float, default=1.0
        Scale of the embedded points, > 0.
    min_dist : float, default=0.1
        How close codes may be packed, in ``[0, 3 * spread)``.

    Returns
    -------
    a, b : float
    """
    from scipy.optimize import curve_fit

    if not spread > 0:
        raise ValueError(f"spread must be positive; got {spread!r}.")
    if not 0 <= min_dist < 3 * spread:
        raise ValueError(f"min_dist must be in [0, 3 * spread); got {min_dist!r}.")

    def curve(x, a, b):
        return 1.0 / (1.0 + a * x ** (2 * b))

    xv = np.linspace(0, spread * 3, 300)
    yv = np.where(xv < min_dist, 1.0, np.exp(-(xv - min_dist) / spread))
    with np.errstate(all="ignore"):  # 0 ** negative exponents on the way
        params, _ = curve_fit(curve, xv, yv)
    return float(params[0]), float(params[1])


def graph_memory(n_rows, n_neighbors, n_axes, dim, candidates=1):
    """Bytes the graph, its layout and the targets need at most, roughly, for ``n_rows``.

    Per row: its principal components (float64); ``candidates`` times
    ``n_neighbors`` candidate neighbours with their distances (and, when
    there are more than the neighbours, their counts of shared candidates,
    :func:`~skae._neighbors.shared_neighbors`); the graph's entries in the
    fuzzy union and in CSR; per edge, the layout's edge state and the ends'
    gathered rows and steps (float32; a mini-batch holds only some of the
    edges, so this errs high), and those of a mini-batch again in float64
    with their incidence matrix (:func:`add_steps`); and the layout, its
    start and the targets.
    """
    per_edge = 2 * dim * 4 + 3 * 4 + 3 * 8  # steps, edge state, indices
    per_edge += 2 * (8 * dim + 8 + 8) // BATCHES_PER_EPOCH  # add_steps' buffers
    searched = candidates * n_neighbors * (16 if candidates == 1 else 20)
    per_row = 8 * n_axes + searched + n_neighbors * (2 * 24 + per_edge) + 6 * 4 * dim + 8 * dim
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


def step_buffers(n_ends, dim):
    """What :func:`add_steps` reuses for up to ``n_ends`` ends of ``dim`` columns.

    ``(ones, positions, wide)``: float64 ones (the incidence matrix's
    entries), its index pointer ``0, 1, ..., n_ends``, and float64 room for
    the steps.
    """
    return np.ones(n_ends), np.arange(n_ends + 1, dtype=np.intp), np.empty((n_ends, dim))


def add_steps(Y, ends, steps, alpha, buffers):
    """``Y[ends[j]] += alpha * steps[j]`` for every ``j``, repeated ends summed first.

    Each row's steps are summed in float64, in the order of ``ends``, then
    scaled by ``alpha`` and added to ``Y`` (float32): what
    ``np.bincount(ends, weights=steps[:, d])`` sums column by column, to the
    last bit, in one pass over the ends instead of one per column. The pass
    is the product of the ends' incidence matrix with the steps: in
    compressed sparse columns, column ``j`` holds a 1 in row ``ends[j]``, so
    its index pointer is ``0, 1, ..., len(ends)`` and nothing is sorted.

    ``buffers`` comes from :func:`step_buffers` for at least ``len(ends)``
    ends and ``steps``' width, reused from call to call.
    """
    n_ends = ends.size
    ones, positions, wide = buffers
    incidence = sp.csc_matrix(
        (ones[:n_ends], ends, positions[: n_ends + 1]), shape=(Y.shape[0], n_ends)
    )
    np.copyto(wide[:n_ends], steps)
    step = incidence @ wide[:n_ends]
    step *= alpha
    Y += step.astype(np.float32)


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
    the rows (:func:`add_steps`): each block is the same arithmetic whether
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
        self.sums = step_buffers(2 * largest, dim)
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

        Once per mini-batch, on the calling thread (:func:`add_steps`).
        """
        add_steps(Y, self.ends[: 2 * E], self.gradient[: 2 * E], alpha, self.sums)

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

    Returns the graph pruned (:func:`_pruned`) for the default epochs
    (:func:`default_layout_epochs`), its spectral start
    (:func:`spectral_start`), those epochs and the seed of the epochs'
    negatives.
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
        The similarity curve (:func:`find_ab_params`).
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
