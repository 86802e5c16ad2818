"""Optimizers over the flat parameter vector.

A step is a handful of vectorised in-place operations over the whole vector;
no optimizer loops over layers. The vector is walked in blocks of ``BLOCK``
elements, so that the few arrays a step reads and writes (parameters,
gradient, moments, a scratch block) stay in the CPU cache from the first
operation on a block to the last, and the step allocates nothing. An L2
penalty's gradient (``decay * theta`` over the weights) is added to the
gradient, and its value summed, block by block in the same pass, while the
block is in cache.
L-BFGS goes through ``scipy.optimize`` on the same ``loss_and_grad(theta)``
the stochastic solvers use.

Everything is NumPy: SciPy's BLAS ``axpy`` would save a pass here and there,
but SciPy ships its own OpenBLAS, whose threads then fight NumPy's for the
cores (with two BLAS threads a training step ran 2.4x slower, measured once).
"""

import numpy as np
from scipy.optimize import minimize

BLOCK = 1 << 16

# Hyperparameters are kept as Python floats: a NumPy float64 scalar would make
# every operation on a float32 vector run in float64 and cast back, several
# times slower and through temporary buffers.


def _blocks(n):
    for start in range(0, n, BLOCK):
        yield slice(start, min(start + BLOCK, n))


def _add_decay(theta, grad, part, decay, decayed, scratch):
    """``grad += decay * theta`` where the block ``part`` meets the slices ``decayed``.

    Returns the sum of the squares of those entries of ``theta``.
    """
    squares = 0.0
    if not decay:
        return squares
    for where in decayed:
        start, stop = max(part.start, where.start), min(part.stop, where.stop)
        if start < stop:
            weights = theta[start:stop]
            squares += float(weights @ weights)
            grad[start:stop] += np.multiply(weights, decay, out=scratch[: stop - start])
    return squares


class SGD:
    """Stochastic gradient descent with momentum and a learning-rate schedule.

    ``learning_rate`` is ``"constant"``, ``"invscaling"`` (``learning_rate_init
    / (t + 1) ** power_t`` after ``t`` samples) or ``"adaptive"`` (divided by 5
    each time training stops improving, until it falls below 1e-6), as in
    scikit-learn's ``MLPRegressor``.
    """

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init=0.001,
        learning_rate="constant",
        power_t=0.5,
        momentum=0.9,
        nesterov=True,
    ):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.schedule = learning_rate
        self.power_t = float(power_t)
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.velocity = np.zeros(n_params, dtype=dtype)
        self._scratch = np.empty(min(n_params, BLOCK), dtype=dtype)

    def step(self, theta, grad, decay=0.0, decayed=()):
        """Update ``theta`` in place from ``grad``.

        With ``decay``, ``decay * theta`` over the slices ``decayed``, the
        gradient of the L2 penalty ``decay / 2 * ||theta[decayed]||^2``, is
        first added into ``grad``. Returns that penalty's value (at ``theta``
        before the update; 0.0 without ``decay``).
        """
        mu, lr, decay = self.momentum, self.learning_rate, float(decay)
        squares = 0.0
        for part in _blocks(theta.size):
            squares += _add_decay(theta, grad, part, decay, decayed, self._scratch)
            p, g, v = theta[part], grad[part], self.velocity[part]
            s = self._scratch[: p.size]
            np.multiply(g, -lr, out=s)  # s = -lr * g
            v *= mu
            v += s  # v = mu * v - lr * g
            if self.nesterov:
                p += s
                np.multiply(v, mu, out=s)
                p += s
            else:
                p += v
        return 0.5 * decay * squares

    def epoch_ends(self, samples_seen):
        """Apply the ``invscaling`` schedule after ``samples_seen`` samples."""
        if self.schedule == "invscaling":
            self.learning_rate = self.learning_rate_init / (samples_seen + 1) ** self.power_t

    def should_stop(self, verbose=False):
        """Training stopped improving: lower the rate (``adaptive``) or stop."""
        if self.schedule != "adaptive" or self.learning_rate <= 1e-6:
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(f"Setting learning rate to {self.learning_rate:f}")
        return False


class Adam:
    """Adam (Kingma & Ba, 2014) with bias correction, over one flat vector.

    The step is ``theta -= rate_t * m / (sqrt(v) + epsilon)`` with
    ``rate_t = learning_rate_init * sqrt(1 - beta_2**t) / (1 - beta_1**t)``, as
    in scikit-learn. The moments are stored divided by ``1 - beta``
    (``first_moment = m / (1 - beta_1)``, ``second_moment = v / (1 - beta_2)``),
    which turns their updates into ``M = beta_1 * M + g`` and
    ``V = beta_2 * V + g**2``: two operations fewer per step, with the
    constants folded into the rate and epsilon.
    """

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
    ):
        self.learning_rate_init = float(learning_rate_init)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.first_moment = np.zeros(n_params, dtype=dtype)
        self.second_moment = np.zeros(n_params, dtype=dtype)
        self._scratch = np.empty(min(n_params, BLOCK), dtype=dtype)

    def step(self, theta, grad, decay=0.0, decayed=()):
        """Update ``theta`` in place from ``grad``.

        With ``decay``, ``decay * theta`` over the slices ``decayed``, the
        gradient of the L2 penalty ``decay / 2 * ||theta[decayed]||^2``, is
        first added into ``grad``. Returns that penalty's value (at ``theta``
        before the update; 0.0 without ``decay``).
        """
        self.t += 1
        decay = float(decay)
        b1, b2 = self.beta_1, self.beta_2
        rate = self.learning_rate_init * (1 - b2**self.t) ** 0.5 / (1 - b1**self.t)
        # m / (sqrt(v) + eps) = (1 - b1) / sqrt(1 - b2) * M / (sqrt(V) + eps / sqrt(1 - b2))
        rate *= (1 - b1) / (1 - b2) ** 0.5
        epsilon = self.epsilon / (1 - b2) ** 0.5
        squares = 0.0
        for part in _blocks(theta.size):
            squares += _add_decay(theta, grad, part, decay, decayed, self._scratch)
            p, g = theta[part], grad[part]
            m, v, s = self.first_moment[part], self.second_moment[part], self._scratch[: p.size]
            m *= b1
            m += g
            np.multiply(g, g, out=s)
            v *= b2
            v += s
            np.sqrt(v, out=s)
            s += epsilon
            np.divide(m, s, out=s)
            s *= rate
            p -= s
        return 0.5 * decay * squares

    def epoch_ends(self, samples_seen):
        """Adam has no schedule."""

    def should_stop(self, verbose=False):
        """Adam stops as soon as training stops improving."""
        return True


def lbfgs(loss_and_grad, theta0, max_iter, max_fun, tol, callback=None):
    """Minimise with L-BFGS-B; return ``scipy.optimize.OptimizeResult``.

    ``loss_and_grad`` maps a float64 vector to ``(loss, gradient)``;
    ``callback(intermediate_result)`` is called after each iteration.
    """
    return minimize(
        loss_and_grad,
        np.asarray(theta0, dtype=np.float64),
        method="L-BFGS-B",
        jac=True,
        options={
            "maxfun": max_fun,
            "maxiter": max_iter,
            "gtol": tol,
        },
        callback=callback,
    )
