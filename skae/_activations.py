"""Activation functions as a registry of in-place operations.

Each activation has a forward function that overwrites its argument with the
activation and a derivative that multiplies a backpropagated ``delta`` in place
by the derivative, written from the activation's *output* so the backward pass
needs nothing but what the forward pass returned.
"""

import numpy as np
from scipy.special import expit, log_expit

LEAKY_SLOPE = 0.01


def identity(Z):
    """Leave ``Z`` unchanged (a linear layer)."""


def relu(Z):
    """Rectified linear unit, in place."""
    np.maximum(Z, 0, out=Z)


def leaky_relu(Z):
    """Leaky rectified linear unit with slope 0.01 below zero, in place."""
    np.maximum(Z, LEAKY_SLOPE * Z, out=Z)


def tanh(Z):
    """Hyperbolic tangent, in place."""
    np.tanh(Z, out=Z)


def logistic(Z):
    """Logistic sigmoid, in place (``scipy.special.expit`` is stable)."""
    expit(Z, out=Z)


def elu(Z):
    """Exponential linear unit ``x if x > 0 else exp(x) - 1``, in place."""
    negative = Z < 0
    np.expm1(Z, out=Z, where=negative)


def softplus(Z):
    """``log(1 + exp(x)) = -log(sigmoid(-x))``, without overflow or underflow."""
    np.negative(Z, out=Z)
    log_expit(Z, out=Z)
    np.negative(Z, out=Z)


def identity_derivative(A, delta):
    """The derivative of the identity is one: nothing to do."""


def relu_derivative(A, delta):
    """Zero ``delta`` where the unit was inactive."""
    delta[A <= 0] = 0


def leaky_relu_derivative(A, delta):
    """Scale ``delta`` by the slope where the unit was below zero."""
    delta[A <= 0] *= LEAKY_SLOPE


def tanh_derivative(A, delta):
    """``1 - tanh(x)**2``, written from the output ``A``."""
    delta *= 1 - A**2


def logistic_derivative(A, delta):
    """``s(x) * (1 - s(x))``, written from the output ``A``."""
    delta *= A * (1 - A)


def elu_derivative(A, delta):
    """1 above zero, ``exp(x) = A + 1`` below, written from the output."""
    negative = A < 0
    np.multiply(delta, A + 1, out=delta, where=negative)


def softplus_derivative(A, delta):
    """``sigmoid(x) = 1 - exp(-softplus(x))``, written from the output."""
    delta *= -np.expm1(-A)


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
