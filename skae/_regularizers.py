"""Training-time regularisers: input corruption and the terms on the codes.

The terms on the codes are the L1 penalty (a sparse autoencoder) and the
neighbour-graph term (UMAP's cross-entropy between the edges of the data's
neighbour graph, built by :mod:`skae._neighbors`, and the codes' similarities).

Pure NumPy, like the core. Both work on the network's view of the data (centred
and scaled for ``loss="squared_error"``) and write into buffers the caller
allocated once per fit; the random draws come from a ``numpy.random.Generator``
the caller seeds from the estimator's random state.
"""

from dataclasses import dataclass

import numpy as np

from ._data import RowBuffers, chunks
from ._losses import scale_rows, weighted_total
from ._neighbors import undirected_edges


@dataclass(frozen=True)
class CodeGradient(RowBuffers):
    """A term's gradient with respect to a batch's codes."""

    grad: np.ndarray


def corrupt(batch, kind, level, rng, noise, fill):
    """Corrupt ``batch`` in place for a denoising autoencoder.

    Parameters
    ----------
    batch : ndarray of shape (n_rows, n_features)
        Rows as the network sees them.
    kind : {"gaussian", "masking"}
        ``"gaussian"`` adds independent normal noise of standard deviation
        ``level``; ``"masking"`` replaces each entry, with probability
        ``level``, by ``fill`` of its column.
    level : float
        The noise's standard deviation, or the masking probability.
    rng : numpy.random.Generator
        Source of the draws.
    noise : ndarray
        Scratch buffer of ``batch``'s shape and dtype.
    fill : ndarray of shape (n_features,)
        What a masked entry becomes (the raw value 0, in the network's view).
    """
    if kind == "gaussian":
        rng.standard_normal(out=noise, dtype=noise.dtype)
        noise *= level
        batch += noise
    elif kind == "masking":
        rng.random(out=noise, dtype=noise.dtype)
        np.copyto(batch, fill, where=noise < level)
    else:
        raise ValueError(f"unknown noise {kind!r}")
    return batch


class L1CodePenalty:
    """An L1 penalty on the code (a sparse autoencoder), a term on the codes.

    The penalty is ``strength`` times the weighted mean over rows of the mean
    absolute code value, ``strength * sum_i w_i * mean_j |z_ij|``; its
    (sub)gradient is ``strength * w_i * sign(z_ij) / n_components``.

    Parameters
    ----------
    strength : float
        The penalty's weight, > 0.
    """

    needs_rng = False

    def __init__(self, strength):
        self.strength = float(strength)

    def allocate(self, n_rows, n_components, dtype):
        """The buffers of a batch: the gradient with respect to the codes."""
        return CodeGradient(np.empty((n_rows, n_components), dtype))

    def value_and_grad(self, codes, row_weight, buffers, rng=None):
        """The penalty of a batch's ``codes``; its gradient is written into ``buffers.grad``."""
        out = buffers.grad
        factor = self.strength / codes.shape[1]
        np.abs(codes, out=out)
        value = weighted_total(out.sum(axis=1), row_weight)
        np.sign(codes, out=out)
        scale_rows(out, row_weight, factor)
        return factor * value


REPULSION_EPS = 1e-3  # as umap-learn's guard of the repulsive gradient


def _shift(n, n_heads, rng):
    """A random shift ``s`` pairing head ``i`` with row ``(i + s) % n``, never its tail."""
    s = int(rng.integers(1, n - 1))  # n >= 4 here
    return s + 1 if s >= n_heads else s  # skip s == n_heads: that is the edge's tail


class GaussianPool:
    """Scaled normal draws recycled across batches of edges.

    Fresh normal draws cost about as much as a layer's product on a batch of
    edges (1,024 wide rows), so the neighbour-graph term's batches take their
    noise from a pool instead: ``4 * n_rows`` rows drawn at the first batch;
    each batch adds ``n`` consecutive pool rows from a random start (wrapping
    round), then redraws ``n_rows // 16`` consecutive rows from another random
    start. A draw thus lasts about 64 batches and meets other data rows each
    time (edges are shuffled); every entry is ``N(0, level**2)``.

    Parameters
    ----------
    n_rows : int
        Rows of the largest batch.
    n_features : int
        Width of a row.
    dtype : dtype
        The batches' dtype.
    level : float
        Standard deviation of the noise.
    """

    def __init__(self, n_rows, n_features, dtype, level):
        self.draws = np.empty((4 * n_rows, n_features), dtype=dtype)
        self.n_refresh = max(n_rows // 16, 1)
        self.level = float(level)
        self.filled = False

    def _draw(self, rows, rng):
        rng.standard_normal(out=rows, dtype=rows.dtype)
        rows *= self.level

    def add_to(self, batch, rng):
        """Add noise to ``batch`` (at most ``n_rows`` rows) in place."""
        draws = self.draws
        if not self.filled:
            self._draw(draws, rng)
            self.filled = True
        n, size = batch.shape[0], draws.shape[0]
        start = int(rng.integers(size))
        first = min(n, size - start)
        batch[:first] += draws[start : start + first]
        batch[first:] += draws[: n - first]
        start = int(rng.integers(size - self.n_refresh + 1))
        self._draw(draws[start : start + self.n_refresh], rng)
        return batch


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
        The similarity curve's parameters (:func:`find_ab_params`).
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


class NeighborGraphTerm:
    """The neighbour-graph term on the codes, with batches of sampled edges.

    Parameters
    ----------
    graph : scipy.sparse matrix of shape (n_rows, n_rows)
        A symmetric weighted graph of the training rows (:func:`fuzzy_graph`).
    rows : ndarray of int of shape (n_rows,)
        The rows of the data the graph's vertices are.
    a, b : float
        The code-space similarity curve (:func:`find_ab_params`).
    negative_sample_rate : int
        Negatives per edge.
    weight : float
        Factor of the term in the objective.

    Each epoch samples edge ``e`` ``floor(r * w_e + u)`` times (``u`` uniform
    in [0, 1), ``r`` such that an epoch holds as many edges as the graph:
    umap-learn's epochs-per-sample rule with stochastic rounding), orients
    each at random, shuffles them and cuts them into batches whose rows are
    the heads, then the tails. The term's value on such a batch is
    ``weight * graph_loss``; on rows that are not a batch of edges (the
    objective evaluated without noise, ``rng=None``) it is zero.
    """

    needs_rng = True

    def __init__(self, graph, rows, a, b, negative_sample_rate, weight):
        heads, tails, self.weights = undirected_edges(graph)
        self.heads, self.tails = np.asarray(rows)[heads], np.asarray(rows)[tails]
        self.a, self.b = float(a), float(b)
        self.negative_sample_rate = int(negative_sample_rate)
        self.weight = float(weight)

    @property
    def n_edges(self):
        return self.weights.size

    def batch_rows(self, batch_size):
        """Rows of a batch of ``batch_size // 2`` edges (at least one)."""
        return 2 * max(batch_size // 2, 1)

    def batches(self, rows, batch_size, rng, shuffle=True):
        """An epoch of edges: arrays of row indices, heads then tails.

        ``rows`` is ignored: the graph's vertices are the rows it was built on.
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

    def allocate(self, n_rows, n_components, dtype):
        return GraphBuffers.allocate(n_rows, n_components, dtype)

    def value_and_grad(self, codes, row_weight, buffers, rng=None):
        if rng is None or codes.shape[0] < 2:
            buffers.grad[...] = 0
            return 0.0
        value = graph_loss(codes, self.a, self.b, self.negative_sample_rate, rng, buffers)
        if self.weight != 1.0:
            np.multiply(buffers.grad, self.weight, out=buffers.grad)
        return self.weight * value
