"""Reconstruction losses as a registry.

Each loss takes the output layer's pre-activation ``raw``, the ``target``, a
per-row weight (a scalar or an array of shape ``(n_samples,)`` that sums to
one over the whole data) and a buffer ``delta`` of ``raw``'s shape. It writes
the gradient of the loss with respect to ``raw`` into ``delta`` and returns the
weighted mean over rows of the per-row loss, itself a mean over features.

The output activation that turns ``raw`` into a reconstruction is given beside
each loss: the gradient with respect to the pre-activation folds it in, which
is what keeps binary cross-entropy finite for any logit.
"""

import numpy as np
from scipy.special import expit, log_expit


def _weighted_sum(per_row, row_weight):
    if np.ndim(row_weight) == 0:
        return float(per_row.sum()) * float(row_weight)
    return float(per_row @ row_weight)


def _scale_rows(delta, factor):
    if np.ndim(factor) == 0:
        delta *= factor
    else:
        delta *= factor[:, np.newaxis]


def squared_error(raw, target, row_weight, delta):
    """Mean squared error; the output activation is the identity."""
    n_features = raw.shape[1]
    np.subtract(raw, target, out=delta)
    per_row = np.einsum("ij,ij->i", delta, delta)
    _scale_rows(delta, (2.0 / n_features) * np.asarray(row_weight, delta.dtype))
    return _weighted_sum(per_row, row_weight) / n_features


def binary_crossentropy(raw, target, row_weight, delta):
    """Binary cross-entropy from logits; the output activation is logistic.

    The per-element loss is ``log(1 + exp(z)) - x * z``, with the softplus
    evaluated as ``-log_expit(-z)``, which never takes the log of 0 and neither
    overflows nor underflows; its gradient is ``sigmoid(z) - x``.
    """
    n_features = raw.shape[1]
    np.negative(raw, out=delta)
    log_expit(delta, out=delta)
    per_row = -delta.sum(axis=1) - np.einsum("ij,ij->i", target, raw)
    expit(raw, out=delta)
    delta -= target
    _scale_rows(delta, (1.0 / n_features) * np.asarray(row_weight, delta.dtype))
    return _weighted_sum(per_row, row_weight) / n_features


LOSSES = {"squared_error": squared_error, "binary_crossentropy": binary_crossentropy}

OUTPUT_ACTIVATIONS = {"squared_error": "identity", "binary_crossentropy": "logistic"}
