"""Training-time regularisers: input corruption and the L1 penalty on the codes.

- :func:`corrupt`: Gaussian or masking noise on a batch (a denoising
  autoencoder), with fresh draws;
- :class:`GaussianPool`: Gaussian noise recycled across batches, for the
  many small batches of the neighbour-graph term's training;
- :class:`L1CodePenalty`: a term on the codes (a sparse autoencoder).

The neighbour-graph term, the other term on the codes, has its own module,
:mod:`skae._graph_term`. Pure NumPy, like the core: everything works on the
network's view of the data (centred and scaled for ``loss="squared_error"``)
and writes into buffers the caller allocated once per fit; the random draws
come from a ``numpy.random.Generator`` the caller seeds from the estimator's
random state.
"""

from dataclasses import dataclass

import numpy as np

from ._data import RowBuffers
from ._losses import scale_rows, weighted_total


@dataclass(frozen=True)
class CodeGradient(RowBuffers):
    """A term's gradient with respect to a batch's codes."""

    grad: np.ndarray


def corrupt(batch, kind, level, rng, noise, fill, mask=None):
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
    mask : ndarray of bool, optional
        Scratch of ``batch``'s shape for ``"masking"``; allocated when None.
    """
    if kind == "gaussian":
        rng.standard_normal(out=noise, dtype=noise.dtype)
        noise *= level
        batch += noise
    elif kind == "masking":
        rng.random(out=noise, dtype=noise.dtype)
        mask = np.less(noise, level, out=mask)
        np.copyto(batch, fill, where=mask)
    else:
        raise ValueError(f"unknown noise {kind!r}")
    return batch


class GaussianPool:
    """Scaled normal draws recycled across batches.

    Fresh normal draws cost about as much as a layer's product on a batch of
    wide rows, so the neighbour-graph term's batches take their noise from a
    pool instead: ``4 * n_rows`` rows drawn at the first batch;
    each batch adds ``n`` consecutive pool rows from a random start (wrapping
    round), then redraws ``n_rows // 16`` consecutive rows from another random
    start. A draw thus lasts about 64 batches and meets other data rows each
    time (rows are shuffled); every entry is ``N(0, level**2)``.

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

    def value_and_grad(self, codes, rows, row_weight, buffers, rng=None):
        """The penalty of a batch's ``codes``; gradient into ``buffers.grad``."""
        out = buffers.grad
        factor = self.strength / codes.shape[1]
        np.abs(codes, out=out)
        value = weighted_total(out.sum(axis=1), row_weight)
        np.sign(codes, out=out)
        scale_rows(out, row_weight, factor)
        return factor * value
