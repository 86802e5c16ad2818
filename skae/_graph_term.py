"""The neighbour-graph term on the codes: the layout's positions as targets.

Training with ``n_neighbors`` runs in two stages. The neighbour graph of the
rows (:mod:`skae._neighbors`) is first laid out as umap-learn lays it out
(:mod:`skae._graph_layout`); the network then learns those positions jointly
with the reconstruction, through :class:`LayoutTargetTerm`, so that new rows
get codes from the same map. This module holds that term and the second
stage's defaults, and :func:`layout_targets`, which runs the first stage.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import cdist

from ._graph_layout import available_memory, graph_layout, graph_memory
from ._losses import scale_rows, weighted_dot
from ._neighbors import candidate_multiple, rows_graph
from ._regularizers import CodeGradient

__all__ = [
    "BATCH_SIZE",
    "CODE_RMS",
    "LEARNING_RATE",
    "LayoutTargetTerm",
    "default_batch_size",
    "default_epochs",
    "layout_targets",
    "linear_start",
    "packed_components",
    "scaled_targets",
]

# The second stage, by default: batches of BATCH_SIZE rows for ROW_SAMPLES row
# samples, fewer than BATCH_SIZE rows counting as BATCH_SIZE (so that fewer
# rows still get about ROW_SAMPLES / BATCH_SIZE steps), and at least MIN_EPOCHS
# epochs; Adam's step starting at LEARNING_RATE and decaying linearly to
# zero, towards the layout centred and scaled to a root mean square of
# CODE_RMS. A batch holds at most BATCH_VALUES values: rows wider than
# BATCH_VALUES / BATCH_SIZE features come in smaller batches (at least
# MIN_BATCH_SIZE rows), as many steps of them, so that the network's work,
# which grows with the features it reads and reconstructs, does not.
ROW_SAMPLES = 200_000
MIN_EPOCHS = 5
BATCH_SIZE = 256
BATCH_VALUES = BATCH_SIZE * 1024
MIN_BATCH_SIZE = 16
LEARNING_RATE = 0.003
CODE_RMS = 3.0
# The graph's disconnected components, which the layout leaves far apart, are
# moved closer (packed_components): as close as keeps the centres of any two
# COMPONENT_MARGIN times the sum of their radii apart, a component's radius
# being the COMPONENT_RADIUS_QUANTILE quantile of its rows' distances to its
# centre. PAIR_BLOCK components at a time are compared with all the others.
COMPONENT_MARGIN = 1.5
COMPONENT_RADIUS_QUANTILE = 0.95
PAIR_BLOCK = 512


def default_batch_size(n_features):
    """Rows per batch: ``BATCH_SIZE`` up to 1,024 features, fewer for wider rows.

    256 rows up to 1,024 features, 131 for 2,000, 64 for 4,096 and 16 from
    16,384 features up.
    """
    return max(MIN_BATCH_SIZE, min(BATCH_SIZE, BATCH_VALUES // n_features))


def default_epochs(n_rows, n_features=1):
    """Epochs of the network over ``n_rows`` rows: fewer as the rows grow.

    About ``ROW_SAMPLES / BATCH_SIZE`` steps of :func:`default_batch_size`
    rows, a batch of all the rows counting as a full one, and at least
    ``MIN_EPOCHS``. Up to 1,024 features: 782 epochs up to 256 rows, 112 for
    the 1,797 digits, 20 for 10,000 rows and 5 from 40,000 rows up.
    """
    batch = default_batch_size(n_features)
    return max(MIN_EPOCHS, -(-ROW_SAMPLES * batch // (BATCH_SIZE * max(n_rows, batch))))


def scaled_targets(layout, rms=CODE_RMS):
    """The layout centred, scaled to a root mean square of ``rms`` (float64)."""
    centred = np.asarray(layout, dtype=np.float64) - layout.mean(axis=0, dtype=np.float64)
    current = np.sqrt(np.mean(centred**2))
    return centred * (rms / current) if current > 0 else centred


def _quantile_per_label(values, labels, counts, q):
    """The ``q`` quantile of ``values`` within each label (linear, as ``np.quantile``)."""
    ordered = values[np.lexsort((values, labels))]
    starts = np.cumsum(counts) - counts
    position = q * (counts - 1)
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, counts - 1)
    below, above = ordered[starts + low], ordered[starts + high]
    return below + (position - low) * (above - below)


def _packing_factor(centres, radii, margin):
    """The least factor ``f <= 1`` that keeps every two ``centres`` far enough apart.

    Scaled by ``f``, centres ``i`` and ``j`` stay at least ``margin * (r_i +
    r_j)`` apart: ``f`` is the largest ``margin * (r_i + r_j) / d_ij`` over
    the pairs, and 1 if that exceeds 1 or no pair sets it: two coinciding
    centres, or components of a single point each.
    """
    factor = 0.0
    for start in range(0, centres.shape[0], PAIR_BLOCK):
        block = slice(start, start + PAIR_BLOCK)
        distance = cdist(centres[block], centres)
        np.fill_diagonal(distance[:, start:], np.inf)
        if not np.all(distance > 0):
            return 1.0
        needed = margin * (radii[block, None] + radii[None, :])
        factor = max(factor, float(np.max(needed / distance)))
        if factor >= 1.0:
            return 1.0
    return factor if factor > 0 else 1.0


def packed_components(layout, labels, n_parts, margin=COMPONENT_MARGIN):
    """The layout with the graph's components moved closer, keeping them apart.

    The layout leaves the disconnected components of the graph (``labels``
    in ``range(n_parts)``) far apart, often by many times their own size:
    nothing pulls them together. Targets at that scale leave the structure
    within each component a small part of the codes, which the network then
    fits poorly. Each component's centre is moved towards the layout's mean
    by one common factor (its rows moved with it), the least that keeps the
    centres of any two ``margin`` times the sum of their radii apart (the
    ``COMPONENT_RADIUS_QUANTILE`` quantile of the rows' distances to their
    centre). The layout comes back unchanged (the same array) when that
    factor would be 1: a connected graph, or components already that close.
    """
    if n_parts < 2:
        return layout
    points = np.asarray(layout, dtype=np.float64)
    n_rows = points.shape[0]
    counts = np.bincount(labels, minlength=n_parts)
    membership = sp.csr_matrix(
        (np.ones(n_rows), (labels, np.arange(n_rows))), shape=(n_parts, n_rows)
    )
    centres = (membership @ points) / counts[:, None]
    within = points - centres[labels]
    radii = _quantile_per_label(
        np.linalg.norm(within, axis=1), labels, counts, COMPONENT_RADIUS_QUANTILE
    )
    offsets = centres - points.mean(axis=0)
    factor = _packing_factor(offsets, radii, margin)
    if factor >= 1.0:
        return layout
    return within + factor * offsets[labels]


def layout_targets(
    X,
    rows,
    mean,
    scale,
    *,
    n_axes,
    n_components,
    n_neighbors,
    algorithm,
    a,
    b,
    negative_sample_rate,
    rng,
    sample_weight=None,
    dtype=np.float64,
    verbose=0,
    n_threads=1,
):
    """The first stage: the layout of the rows' neighbour graph, as targets for the codes.

    The graph of ``X[rows]`` is built on their top principal components in
    the network's view ``(X - mean) / scale``, or on all the features of
    sparse rows (:func:`~skae._neighbors.rows_graph`, ``n_axes`` axes drawn
    with ``rng``),
    laid out in ``n_components`` dimensions as umap-learn lays it out
    (:func:`~skae._graph_layout.graph_layout`, similarity curve ``a, b``),
    its disconnected components moved closer (:func:`packed_components`), and
    centred and scaled (:func:`scaled_targets`). Before any of that work, a
    graph that would not fit in the memory available is refused. The layout's
    epochs may use ``n_threads`` threads; the targets do not depend on it.

    Returns
    -------
    targets : ndarray of shape (n_samples, n_components)
        The target code of each row of ``X``, in ``dtype``; zero for the rows
        not in ``rows``.
    projection : ndarray of shape (len(rows), n_axes)
        The rows on the principal axes.
    axes : ndarray of shape (n_axes, n_features)
    """
    candidates = candidate_multiple(X)
    needed = graph_memory(rows.size, n_neighbors, n_axes, n_components, candidates)
    available = available_memory()
    if available is not None and needed > available:
        raise MemoryError(
            f"n_neighbors={n_neighbors} on {rows.size} rows needs about "
            f"{needed / 2**30:.1f} GiB for the neighbour graph and its layout; "
            f"{available / 2**30:.1f} GiB are available. Fit on a sample of the "
            "rows, or with fewer n_neighbors."
        )
    graph, features, projection, axes = rows_graph(
        X,
        rows,
        mean,
        scale,
        n_axes,
        n_neighbors,
        algorithm=algorithm,
        rng=rng,
        sample_weight=sample_weight,
        verbose=verbose,
    )
    layout = graph_layout(
        graph,
        n_components,
        a,
        b,
        negative_sample_rate,
        rng,
        features,
        verbose=verbose,
        n_threads=n_threads,
    )
    n_parts, labels = connected_components(graph, directed=False)
    packed = packed_components(layout, labels, n_parts)
    if verbose and n_parts > 1:
        where = "moved closer" if packed is not layout else "left in place, already close"
        print(f"Graph layout: {n_parts} parts that no edge links, {where}", flush=True)
    targets = np.zeros((X.shape[0], n_components), dtype=dtype)
    targets[rows] = scaled_targets(packed)
    return targets, projection, axes


class LayoutTargetTerm:
    """The mean squared distance of the codes to per-row targets, a term on the codes.

    The term is ``weight * sum_i w_i * mean_j (z_ij - t_ij)^2`` over the rows
    ``i`` of a batch (``w`` the rows' weights, summing to one); its gradient
    is ``2 * weight * w_i * (z_ij - t_ij) / n_components``.

    Parameters
    ----------
    targets : ndarray of shape (n_samples, n_components)
        A target code for every row of the training data, indexed by the
        batch's row numbers.
    weight : float
        The term's factor in the objective.
    """

    needs_rng = False

    def __init__(self, targets, weight):
        self.targets = targets
        self.weight = float(weight)

    def allocate(self, n_rows, n_components, dtype):
        """The buffers of a batch: the gradient with respect to the codes."""
        return CodeGradient(np.empty((n_rows, n_components), dtype))

    def value_and_grad(self, codes, rows, row_weight, buffers, rng=None):
        """The term of a batch's ``codes`` (of ``rows``); its gradient into ``buffers.grad``."""
        diff = buffers.grad
        np.take(self.targets, rows, axis=0, out=diff, mode="clip")  # "raise" would buffer
        np.subtract(codes, diff, out=diff)
        factor = self.weight / codes.shape[1]
        value = factor * weighted_dot(diff, diff, row_weight)
        scale_rows(diff, row_weight, 2.0 * factor)
        return value


def linear_start(network, theta, projection, axes, targets, ridge=1e-3):
    """Start the linear path at the least-squares map to the targets, and back.

    The linear path's encoder becomes the ridge regression of ``targets`` on
    the rows' principal components ``projection = Xc @ axes.T``, and its
    decoder the ridge regression of the rows on the codes this encoder gives;
    the layers' own steps into the code and the output stay at zero. Since
    ``Xc.T @ Xc @ axes.T = axes.T @ Λ`` for principal axes, the decoder needs
    only the components' second moments ``Λ = projection.T @ projection``.
    ``ridge`` is relative to the mean diagonal of each system.
    """

    def solve(gram, right):
        shift = ridge * np.trace(gram) / gram.shape[0]
        shift = shift if shift > 0 else 1.0  # constant rows: the map is zero
        return np.linalg.solve(gram + shift * np.eye(gram.shape[0]), right)

    moments = projection.T @ projection
    weights = solve(moments, projection.T @ targets)  # components -> codes
    code_moments = weights.T @ moments @ weights
    encoder, decoder = network.linear_weights(theta)
    encoder[...] = axes.T @ weights
    decoder[...] = solve(code_moments, weights.T @ moments @ axes)
    return theta
