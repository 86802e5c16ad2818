"""Training-time regularisers: input corruption and an L1 penalty on the code.

Pure NumPy, like the core. Both work on the network's view of the data (centred
and scaled for ``loss="squared_error"``) and write into buffers the caller
allocated once per fit; the random draws come from a ``numpy.random.Generator``
the caller seeds from the estimator's random state.
"""

import numpy as np


def _per_row(values, row_weight):
    """``values * row_weight`` broadcast over the rows of a 2-D array, in place."""
    if np.ndim(row_weight) == 0:
        values *= row_weight
    else:
        values *= np.asarray(row_weight, dtype=values.dtype)[:, np.newaxis]
    return values


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


def l1_code_penalty(strength, row_weight, out):
    """An L1 penalty on the code, as ``Network.loss_and_grad``'s ``code_penalty``.

    The penalty is ``strength`` times the weighted mean over rows of the mean
    absolute code value, ``strength * sum_i w_i * mean_j |z_ij|``; ``out`` (of
    the code's shape) receives its (sub)gradient, ``sign(z)``, scaled alike.
    """

    def penalty(code):
        factor = strength / code.shape[1]
        np.abs(code, out=out)
        per_row = out.sum(axis=1)
        if np.ndim(row_weight) == 0:
            value = float(per_row.sum()) * float(row_weight)
        else:
            value = float(per_row @ row_weight)
        np.sign(code, out=out)
        _per_row(out, row_weight)
        np.multiply(out, factor, out=out)
        return factor * value, out

    return penalty
