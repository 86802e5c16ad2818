"""Activation functions as a registry of in-place operations.

Each activation has a forward function that overwrites its argument with the
activation and a derivative that multiplies a backpropagated ``delta`` in place
by the derivative, written from the activation's *output* so the backward pass
needs nothing but what the forward pass returned.

Both take an optional ``scratch``: a buffer of their argument's shape and dtype
that they may overwrite. Given one, they allocate nothing (no boolean masks,
no temporaries); without, they allocate one array of that shape.
"""

import numpy as np
from scipy.special import expit, log_expit

LEAKY_SLOPE = 0.01


def _buffer(A, scratch):
    return np.empty_like(A) if scratch is None else scratch


def identity(Z, scratch=None):
    """Leave ``Z`` unchanged (a linear layer)."""


def relu(Z, scratch=None):
    """Rectified linear unit, in place.

    A float32 batch is compared with a row of zeros broadcast over its rows
    (the first row of ``scratch``): NumPy 2.4's float32 ``maximum`` against a
    scalar measured 2-2.5x slower than that on 512-row batches of 64 to 784
    columns (``benchmarks/bench_kernels.py``). Float64 (no such gap) and
    narrower arrays take the scalar.
    """
    if Z.dtype == np.float32 and Z.ndim == 2 and Z.shape[0] > 1 and Z.shape[1] >= 64:
        zeros = np.zeros(Z.shape[1], Z.dtype) if scratch is None else scratch[0]
        zeros.fill(0)
        np.maximum(Z, zeros, out=Z)
    else:
        np.maximum(Z, 0, out=Z)


def leaky_relu(Z, scratch=None):
    """Leaky rectified linear unit with slope 0.01 below zero, in place."""
    np.maximum(Z, np.multiply(Z, LEAKY_SLOPE, out=_buffer(Z, scratch)), out=Z)


def tanh(Z, scratch=None):
    """Hyperbolic tangent, in place."""
    np.tanh(Z, out=Z)


def logistic(Z, scratch=None):
    """Logistic sigmoid, in place (``scipy.special.expit`` is stable)."""
    expit(Z, out=Z)


# exp(-80) is a normal number in float32 and float64, and exp(x) - 1 rounds
# to -1 beyond it: clipping there keeps exp from underflowing.
EXP_FLOOR = -80.0


def elu(Z, scratch=None):
    """Exponential linear unit ``x if x > 0 else exp(x) - 1``, in place.

    Computed as ``max(x, 0) + expm1(max(min(x, 0), EXP_FLOOR))``, no mask.
    """
    negative = np.minimum(Z, 0, out=_buffer(Z, scratch))
    np.maximum(negative, EXP_FLOOR, out=negative)
    np.expm1(negative, out=negative)
    np.maximum(Z, 0, out=Z)
    Z += negative


def softplus(Z, scratch=None):
    """``log(1 + exp(x)) = -log(sigmoid(-x))``, without overflow or underflow."""
    np.negative(Z, out=Z)
    log_expit(Z, out=Z)
    np.negative(Z, out=Z)


def identity_derivative(A, delta, scratch=None):
    """The derivative of the identity is one: nothing to do."""


def relu_derivative(A, delta, scratch=None):
    """Zero ``delta`` where the unit was inactive: times ``A > 0`` as 0 or 1."""
    delta *= np.greater(A, 0, out=_buffer(A, scratch))


def leaky_relu_derivative(A, delta, scratch=None):
    """Scale ``delta`` by the slope where the unit was at or below zero."""
    factor = np.sign(A, out=_buffer(A, scratch))  # 1 above zero, 0 or -1 elsewhere
    np.maximum(factor, LEAKY_SLOPE, out=factor)
    delta *= factor


def tanh_derivative(A, delta, scratch=None):
    """``1 - tanh(x)**2``, written from the output ``A``."""
    factor = np.multiply(A, A, out=_buffer(A, scratch))
    np.subtract(1, factor, out=factor)
    delta *= factor


def logistic_derivative(A, delta, scratch=None):
    """``s(x) * (1 - s(x))``, written from the output ``A``."""
    factor = np.subtract(1, A, out=_buffer(A, scratch))
    factor *= A
    delta *= factor


def elu_derivative(A, delta, scratch=None):
    """1 above zero, ``exp(x) = A + 1`` below: ``min(A + 1, 1)``, from the output."""
    factor = np.add(A, 1, out=_buffer(A, scratch))
    np.minimum(factor, 1, out=factor)
    delta *= factor


def softplus_derivative(A, delta, scratch=None):
    """``sigmoid(x) = 1 - exp(-softplus(x))``, written from the output."""
    factor = np.minimum(A, -EXP_FLOOR, out=_buffer(A, scratch))
    np.negative(factor, out=factor)
    np.expm1(factor, out=factor)
    np.negative(factor, out=factor)
    delta *= factor


ACTIVATIONS = {
    "identity": identity,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "tanh": tanh,
    "logistic": logistic,
    "elu": elu,
    "softplus": softplus,
}

DERIVATIVES = {
    "identity": identity_derivative,
    "relu": relu_derivative,
    "leaky_relu": leaky_relu_derivative,
    "tanh": tanh_derivative,
    "logistic": logistic_derivative,
    "elu": elu_derivative,
    "softplus": softplus_derivative,
}

# Initialisation gain family: He (fan-in) for the rectifiers, Glorot otherwise.
HE_INIT = frozenset({"relu", "leaky_relu", "elu"})
