"""Test-session settings.

The networks in the tests are tiny: their matrix products gain nothing from a
second BLAS thread and, on a busy 2-core machine, lose a great deal to threads
spinning against each other. The whole session runs BLAS on one thread.
The gradient tests share one central-difference gradient, and the tests of the
objectives one way to build the objective a fitted estimator trains (fixtures,
since the test modules are imported as independent modules and cannot import
each other).
"""

import contextlib
import io
import os
import runpy
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skae import AutoencoderTransformer

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


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
    """Run ``benchmarks/<script> --quick *args`` here, on one thread; it must succeed.

    In this process (``runpy``), so that umap-learn's JIT compilation, about
    12 s, is paid once per session rather than once per script. The script's
    changes to ``sys.argv``, ``sys.path``, ``os.environ`` and the warning
    filters are undone afterwards. Returns its standard output and error.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = BENCHMARKS / script
    stdout, stderr = io.StringIO(), io.StringIO()
    saved_argv, saved_path, saved_environ = sys.argv, list(sys.path), dict(os.environ)
    sys.argv = [str(path), "--quick", *args]
    sys.path.insert(0, str(BENCHMARKS))
    try:
        with (
            threadpool_limits(limits=1),
            warnings.catch_warnings(),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        os.environ.clear()
        os.environ.update(saved_environ)
        plt.close("all")
    return SimpleNamespace(stdout=stdout.getvalue(), stderr=stderr.getvalue())


@pytest.fixture(scope="session")
def run_quick_benchmark():
    return _run_quick_benchmark
