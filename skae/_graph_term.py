"""The neighbour-graph term on the codes: edge batches, UMAP's loss, its defaults.

The graph itself (neighbour search and UMAP's fuzzy union) is built by
:mod:`skae._neighbors`, as openTSNE's ``affinity.py`` builds its affinities;
this module trains codes to keep it (Sainburg, McInnes & Gentner 2021,
"Parametric UMAP embeddings for representation and semisupervised
learning"), in pure NumPy:

- :class:`EdgeSampler`: the epochs' batches, edges sampled by weight, each
  batch laid out as its heads, then its tails;
- :func:`graph_loss` and :class:`GraphBuffers`: UMAP's cross-entropy of a
  batch of edges and its gradient with respect to the codes, negatives drawn
  from the batch's own codes;
- :class:`NeighborGraphTerm`: that loss as a term on the codes of an
  objective (:mod:`skae._objective`);
- the training defaults below.
"""

from dataclasses import dataclass

import numpy as np

from ._data import RowBuffers, chunks
from ._neighbors import undirected_edges

__all__ = [
    "CODE_RMS",
    "EDGE_BATCH_ROWS",
    "EdgeSampler",
    "GraphBuffers",
    "LEARNING_RATE",
    "NeighborGraphTerm",
    "default_epochs",
    "graph_loss",
]

# Training with the term, by default: batches of 1,024 rows (512 edges) for
# about EDGE_SAMPLES edge samples in at most MAX_EPOCHS epochs, Adam's step
# starting at LEARNING_RATE and decaying linearly to zero; a fresh PCA start
# has its codes rescaled to a root mean square of CODE_RMS, a scale at which
# the similarity curve separates neighbours from the rest.
EDGE_SAMPLES = 768_000
MAX_EPOCHS = 500
EDGE_BATCH_ROWS = 1024
LEARNING_RATE = 0.003
CODE_RMS = 3.0


def default_epochs(n_edges):
    """Epochs over a graph of ``n_edges`` edges for about ``EDGE_SAMPLES`` samples."""
    return min(MAX_EPOCHS, -(-EDGE_SAMPLES // max(n_edges, 1)))


REPULSION_EPS = 1e-3  # as umap-learn's guard of the repulsive gradient


def _shift(n, n_heads, rng):
    """A random shift ``s`` pairing head ``i`` with row ``(i + s) % n``, never its tail."""
    s = int(rng.integers(1, n - 1))  # n >= 4 here
    return s + 1 if s >= n_heads else s  # skip s == n_heads: that is the edge's tail


@dataclass(frozen=True)
class GraphBuffers(RowBuffers):
    """Scratch of :func:`graph_loss` for up to ``n`` edges, and the codes' gradient."""

    grad: np.ndarray
    diff: np.ndarray
    d2: np.ndarray
    p: np.ndarray
    c: np.ndarray

    @classmethod
    def allocate(cls, n_rows, n_components, dtype):
        n_edges = max(n_rows // 2, 1)
        return cls(
            grad=np.empty((n_rows, n_components), dtype),
            diff=np.empty((n_edges, n_components), dtype),
            d2=np.empty(n_edges, dtype),
            p=np.empty(n_edges, dtype),
            c=np.empty(n_edges, dtype),
        )

    def head(self, n_rows):
        edges = max(n_rows // 2, 1)
        return GraphBuffers(
            self.grad[:n_rows], self.diff[:edges], self.d2[:edges], self.p[:edges], self.c[:edges]
        )


def graph_loss(codes, a, b, negative_sample_rate, rng, buffers):
    """UMAP's cross-entropy of a batch of edges; its gradient into ``buffers.grad``.

    ``codes`` holds the codes of the edges' heads in its first ``B`` rows and
    of their tails in the last ``B``. With ``d2 = |z_h - z_t|^2 + 1e-3`` and
    ``q = 1 / (1 + a * d2 ** b)``, the value is, per edge,

    ``mean_i [ -log q(h_i, t_i) + sum_{r < m} -log(1 - q(h_i, n_ir)) ]``

    where the ``m = negative_sample_rate`` negatives ``n_ir`` of each head are
    other codes of the same batch (heads or tails, never its own tail): round
    ``r`` pairs head ``i`` with row ``(i + s_r) mod 2B`` for a random shift
    ``s_r`` drawn by ``rng`` (a ``numpy.random.Generator``), so no extra
    forward pass is needed and the gradient is gathered with slices. The
    ``1e-3`` (umap-learn's guard of the repulsion) keeps the value and the
    gradient finite at ``d = 0``; the gradient is exact for that value.

    Parameters
    ----------
    codes : ndarray of shape (2 * B, n_components)
    a, b : float
        The similarity curve's parameters (:func:`~skae._neighbors.find_ab_params`).
    negative_sample_rate : int
        Negatives per edge, >= 0.
    rng : numpy.random.Generator
        Draws the shifts.
    buffers : GraphBuffers
        Cut to the batch (``buffers.head(2 * B)``); ``grad`` receives
        d value / d codes.

    Returns
    -------
    value : float
        The loss per edge.
    """
    n, _ = codes.shape
    B = n // 2
    grad = buffers.grad
    if B == 0:
        grad[...] = 0
        return 0.0
    diff, d2, p, c = buffers.diff, buffers.d2, buffers.p, buffers.c
    a, b, eps = float(a), float(b), float(REPULSION_EPS)
    heads = codes[:B]

    def pair_terms(diff, attract):
        # d2 = |diff|^2 + eps, p = a * d2^b; the pairs' loss, and diff *= d loss / d diff
        np.einsum("ij,ij->i", diff, diff, out=d2)
        np.add(d2, eps, out=d2)
        np.power(d2, b, out=p)
        np.multiply(p, a, out=p)
        if attract:  # -log q = log(1 + p); d/dd2 = b p / (d2 (1 + p))
            loss = float(np.log1p(p, out=c).sum())
            np.divide(p, d2, out=c)
            np.multiply(c, b, out=c)
            np.add(p, 1.0, out=p)
            np.divide(c, p, out=c)
        else:  # -log(1 - q) = log1p(1 / p); d/dd2 = -b / (d2 (1 + p))
            np.reciprocal(p, out=c)
            loss = float(np.log1p(c, out=c).sum())
            np.add(p, 1.0, out=p)
            np.multiply(p, d2, out=p)
            np.divide(-b, p, out=c)
        np.multiply(c, 2.0 / B, out=c)  # d/d diff = 2 * diff * dloss/dd2, per edge
        diff *= c[:, np.newaxis]
        return loss

    np.subtract(heads, codes[B:], out=diff)
    total = pair_terms(diff, True)
    grad[:B] = diff
    np.negative(diff, out=grad[B:])
    for _ in range(int(negative_sample_rate) if B > 1 else 0):  # one edge: no other code
        s = _shift(n, B, rng)
        # the partner of head i is row (i + s) mod n: rows s .. s+B-1, wrapping
        first = min(B, n - s)  # heads 0..first-1 meet rows s..s+first-1
        np.subtract(heads[:first], codes[s : s + first], out=diff[:first])
        if first < B:
            np.subtract(heads[first:], codes[: B - first], out=diff[first:])
        total += pair_terms(diff, False)
        grad[:B] += diff
        grad[s : s + first] -= diff[:first]
        if first < B:
            grad[: B - first] -= diff[first:]
    return total / B


class EdgeSampler:
    """The epochs of training on a graph's edges: batches of heads, then tails.

    Each epoch samples edge ``e`` ``floor(r * w_e + u)`` times (``u`` uniform
    in [0, 1), ``r`` such that an epoch holds as many edges as the graph:
    umap-learn's epochs-per-sample rule with stochastic rounding), orients
    each at random, shuffles them and cuts them into batches whose first half
    of rows are the heads and second half their tails.

    Parameters
    ----------
    graph : scipy.sparse matrix of shape (n_rows, n_rows)
        A symmetric weighted graph of the training rows
        (:func:`~skae._neighbors.fuzzy_graph`).
    rows : ndarray of int of shape (n_rows,)
        The rows of the data the graph's vertices are.
    """

    def __init__(self, graph, rows):
        heads, tails, self.weights = undirected_edges(graph)
        self.heads, self.tails = np.asarray(rows)[heads], np.asarray(rows)[tails]

    @property
    def n_edges(self):
        return self.weights.size

    def batch_rows(self, batch_size):
        """Rows of a batch of ``batch_size // 2`` edges (at least one)."""
        return 2 * max(batch_size // 2, 1)

    def batches(self, rows, batch_size, rng, shuffle=True):
        """An epoch of edges: arrays of row indices, heads then tails.

        ``rows`` is ignored: the graph's vertices are the rows it was built on.
        ``rng`` is a ``numpy.random.RandomState``.
        """
        n_edges = max(batch_size // 2, 1)
        rate = self.n_edges / self.weights.sum()
        counts = np.floor(self.weights * rate + rng.random_sample(self.n_edges)).astype(np.int64)
        chosen = np.repeat(np.arange(self.n_edges), counts)
        if shuffle:
            rng.shuffle(chosen)
        flip = rng.random_sample(chosen.size) < 0.5
        heads = np.where(flip, self.tails[chosen], self.heads[chosen])
        tails = np.where(flip, self.heads[chosen], self.tails[chosen])
        for part in chunks(chosen.size, n_edges):
            yield np.concatenate([heads[part], tails[part]])


class NeighborGraphTerm:
    """UMAP's cross-entropy of batches of edges, a term on the codes.

    Parameters
    ----------
    a, b : float
        The code-space similarity curve (:func:`~skae._neighbors.find_ab_params`).
    negative_sample_rate : int
        Negatives per edge.
    weight : float
        Factor of the term in the objective.

    The term's value on a batch laid out by :class:`EdgeSampler` is ``weight *
    graph_loss``; on rows that are not a batch of edges (the objective
    evaluated without noise, ``rng=None``) it is zero.
    """

    needs_rng = True

    def __init__(self, a, b, negative_sample_rate, weight):
        self.a, self.b = float(a), float(b)
        self.negative_sample_rate = int(negative_sample_rate)
        self.weight = float(weight)

    def allocate(self, n_rows, n_components, dtype):
        return GraphBuffers.allocate(n_rows, n_components, dtype)

    def value_and_grad(self, codes, row_weight, buffers, rng=None):
        """The term of a batch of edges' ``codes``; its gradient into ``buffers.grad``."""
        if rng is None or codes.shape[0] < 2:
            buffers.grad[...] = 0
            return 0.0
        value = graph_loss(codes, self.a, self.b, self.negative_sample_rate, rng, buffers)
        if self.weight != 1.0:
            np.multiply(buffers.grad, self.weight, out=buffers.grad)
        return self.weight * value
