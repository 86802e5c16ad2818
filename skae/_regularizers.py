"""Training-time regularisers: input corruption and the L1 penalty on the code.

Pure NumPy, like the core. Both work on the network's view of the data (centred
and scaled for ``loss="squared_error"``) and write into buffers the caller
allocated once per fit; the random draws come from a ``numpy.random.Generator``
the caller seeds from the estimator's random state.
"""

import numpy as np

from ._losses import scale_rows, weighted_total


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

    def value_and_grad(self, codes, row_weight, out, rng=None):
        """The penalty of a batch's ``codes``; its gradient is written into ``out``."""
        factor = self.strength / codes.shape[1]
        np.abs(codes, out=out)
        value = weighted_total(out.sum(axis=1), row_weight)
        np.sign(codes, out=out)
        scale_rows(out, row_weight, factor)
        return factor * value
