"""Test-session settings.

The networks in the tests are tiny: their matrix products gain nothing from a
second BLAS thread and, on a busy 2-core machine, lose a great deal to threads
spinning against each other. The whole session runs BLAS on one thread.
The gradient tests share one central-difference gradient, and the tests of the
objectives one way to build the objective a fitted estimator trains (fixtures,
since the test modules are imported as independent modules and cannot import
each other).
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _central_difference_gradient(f, theta, eps=1e-6):
    """``(f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps)`` for every ``i``."""
    grad = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        grad[i] = (f(theta + step) - f(theta - step)) / (2 * eps)
    return grad


@pytest.fixture(scope="session")
def finite_difference_gradient():
    return _central_difference_gradient


def _objective_of(estimator, *args, **kwargs):
    """The objective a warm fit of fitted ``estimator`` trains: its current parameters."""
    state = estimator._warm_state(incremental=False)
    return estimator._make_objective(state.network, state.loader(), *args, **kwargs)


@pytest.fixture(scope="session")
def objective_of():
    return _objective_of
