"""Reconstruction losses as a registry of loss objects, and the row weights they average with.

A loss object is all the package knows of a loss, in one place:

``value_and_delta(raw, target, row_weight, delta)``
    Takes the output layer's pre-activation ``raw``, the ``target``, a per-row
    weight and a buffer ``delta`` of ``raw``'s shape; writes the gradient of
    the loss with respect to ``raw`` into ``delta`` and returns the weighted
    mean over rows of the per-row loss, itself a mean over features.
``out_activation``
    The name of the activation (in :mod:`skae._activations`) that turns
    ``raw`` into a reconstruction: the inverse link, in
    :class:`~sklearn.neural_network.MLPRegressor`'s words.
``standardizes``
    Whether the network sees the data centred and divided by one scale.
``check_input(X)``
    Raises a ``ValueError`` for data the loss cannot read.
``initial_bias(X, sample_weight)``
    The output bias a fresh network starts with, or None for zero.
``per_row(raw, X, scale)``
    Each row's loss against raw data, in float64 (a score).

A row weight is a scalar (every row alike: no per-row array is made) or an
array of shape ``(n_rows,)``; either way the weights sum to one over the whole
data a loss averages, so batch losses add up to the data's mean. The helpers
below are the one place that tells the two apart; the code-space terms and the
variational objective use them too.

The output activation that turns ``raw`` into a reconstruction is given beside
each loss: the gradient with respect to the pre-activation folds it in, which
is what keeps binary cross-entropy finite for any logit.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit

from ._data import weighted_moments


def weighted_total(per_row, row_weight):
    """``sum_i row_weight_i * per_row_i`` as a Python float."""
    if np.ndim(row_weight) == 0:
        return float(np.sum(per_row)) * float(row_weight)
    return float(per_row @ row_weight)


def weighted_dot(a, b, row_weight):
    """``sum_i row_weight_i * sum_j a_ij * b_ij``.

    A scalar weight needs no per-row sums: one dot product over the batch
    (BLAS; 3-4x faster than ``einsum`` on a 512 x 784 batch, measured by
    ``benchmarks/bench_kernels.py``).
    """
    if np.ndim(row_weight) == 0:
        return float(np.vdot(a, b)) * float(row_weight)
    return weighted_total(np.einsum("ij,ij->i", a, b), row_weight)


def scale_rows(values, row_weight, factor=1.0):
    """``values *= factor * row_weight`` row by row, in place, in ``values``' dtype."""
    if np.ndim(row_weight) == 0:
        values *= factor * float(row_weight)
    else:
        values *= (factor * np.asarray(row_weight, values.dtype))[:, np.newaxis]
    return values


def first_rows_weight(row_weight, n_rows):
    """The weights of the first ``n_rows`` rows, renormalised to sum to one."""
    if np.ndim(row_weight) == 0:
        return 1.0 / n_rows
    head = np.asarray(row_weight[:n_rows])
    return head / head.sum()


class SquaredError:
    """Mean squared error, for real-valued data; the output activation is the identity.

    The data are centred and divided by one scale before the network sees
    them (``standardizes``), so the loss is a share of the data's variance.
    """

    name = "squared_error"
    out_activation = "identity"
    standardizes = True

    def value_and_delta(self, raw, target, row_weight, delta):
        """The weighted mean loss of the batch; its gradient by ``raw`` into ``delta``."""
        n_features = raw.shape[1]
        np.subtract(raw, target, out=delta)
        loss = weighted_dot(delta, delta, row_weight) / n_features
        scale_rows(delta, row_weight, 2.0 / n_features)
        return loss

    def check_input(self, X):
        """Any finite values will do."""

    def initial_bias(self, X, sample_weight):
        """The output bias a fresh network starts with: zero (None), the data's centre."""
        return None

    def per_row(self, raw, X, scale):
        """The loss of each row of raw ``X`` against the folded output ``raw``, in float64.

        The mean over features of ``((raw - X) / scale) ** 2``, in the units
        training sees.
        """
        error = (np.asarray(raw, np.float64) - X) / scale
        return (error**2).mean(axis=1)


class BinaryCrossEntropy:
    """Binary cross-entropy from logits, for data in [0, 1]; the output activation is logistic.

    The per-element loss is ``log(1 + exp(z)) - x * z``, with the softplus
    evaluated as ``-log_expit(-z)``, which never takes the log of 0 and neither
    overflows nor underflows; its gradient is ``sigmoid(z) - x``. The data
    are read as they are (no centring or scaling).
    """

    name = "binary_crossentropy"
    out_activation = "logistic"
    standardizes = False

    def value_and_delta(self, raw, target, row_weight, delta):
        """The weighted mean loss of the batch; its gradient by ``raw`` into ``delta``."""
        n_features = raw.shape[1]
        np.negative(raw, out=delta)
        log_expit(delta, out=delta)
        softplus = -weighted_total(delta.sum(axis=1), row_weight)
        loss = (softplus - weighted_dot(target, raw, row_weight)) / n_features
        expit(raw, out=delta)
        delta -= target
        scale_rows(delta, row_weight, 1.0 / n_features)
        return loss

    def check_input(self, X):
        """Refuse ``X`` (dense or sparse) with values outside [0, 1]."""
        values = X.data if sp.issparse(X) else X
        low, high = values.min(initial=0), values.max(initial=0)
        if low < 0 or high > 1:
            raise ValueError(
                'loss="binary_crossentropy" needs X in [0, 1]; got values in '
                f"[{low:g}, {high:g}]. Scale X (e.g. MinMaxScaler) or use "
                'loss="squared_error".'
            )

    def initial_bias(self, X, sample_weight):
        """The output bias a fresh network starts with: the logits of the feature means."""
        means = np.clip(weighted_moments(X, sample_weight)[0], 1e-3, 1 - 1e-3)
        return np.log(means / (1 - means))

    def per_row(self, raw, X, scale=1.0):
        """The loss of each row of ``X`` against the logits ``raw``, in float64."""
        raw = np.asarray(raw, np.float64)
        return (np.logaddexp(0, raw) - X * raw).mean(axis=1)


LOSSES = {loss.name: loss for loss in (SquaredError(), BinaryCrossEntropy())}
