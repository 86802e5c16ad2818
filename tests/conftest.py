"""Test-session settings.

The networks in the tests are tiny: their matrix products gain nothing from a
second BLAS thread and, on a busy 2-core machine, lose a great deal to threads
spinning against each other. The whole session runs BLAS on one thread.
The gradient tests share one central-difference gradient, and the tests of the
objectives one way to build the objective a fitted estimator trains (fixtures,
since the test modules are imported as independent modules and cannot import
each other).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skae import AutoencoderTransformer


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


class _InterruptAfter(AutoencoderTransformer):
    """Raises KeyboardInterrupt on its ``interrupt_at``-th batch, as Ctrl-C would.

    The interruption comes from the objective the estimator hands its trainer,
    so it lands where a real one would: inside the training loop.
    """

    interrupt_at = None

    def _make_objective(self, *args):
        objective = super()._make_objective(*args)
        loss_and_grad = objective.loss_and_grad

        def interrupted(*args, **kwargs):
            self.batches_seen_ = getattr(self, "batches_seen_", 0) + 1
            if self.batches_seen_ == self.interrupt_at:
                raise KeyboardInterrupt
            return loss_and_grad(*args, **kwargs)

        objective.loss_and_grad = interrupted
        return objective


@pytest.fixture(scope="session")
def interrupt_after():
    """An ``AutoencoderTransformer`` whose fit is interrupted on a chosen batch."""
    return _InterruptAfter


def _run_quick_benchmark(script, *args):
    """Run ``benchmarks/<script> --quick *args`` on one thread; it must succeed."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / script
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(path), "--quick", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="session")
def run_quick_benchmark():
    return _run_quick_benchmark
