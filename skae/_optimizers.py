"""Optimizers over the flat parameter vector.

A step is a handful of vectorised in-place operations over the whole vector;
no optimizer loops over layers. :class:`Optimizer` owns what every update
rule shares: the vector is walked in blocks of ``BLOCK`` elements, so that the
few arrays a step reads and writes (parameters, gradient, moments, a scratch
block) stay in the CPU cache from the first operation on a block to the last,
the step allocates nothing, and the L2 penalty's gradient (``decay * theta``
over the decayed slices) is added and its value summed in the same pass, while
the block is in cache. :class:`SGD` and :class:`Adam` only write their update
of one block. :func:`l2_penalty` is the same penalty for L-BFGS, which goes
through ``scipy.optimize`` on the same objective the stochastic solvers use.

Everything is NumPy: SciPy's BLAS ``axpy`` would save a pass here and there,
but SciPy ships its own OpenBLAS, whose threads then fight NumPy's for the
cores (a training step ran several times slower with two BLAS threads).
"""

import copy

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
    for where in decayed:
        start, stop = max(part.start, where.start), min(part.stop, where.stop)
        if start < stop:
            weights = theta[start:stop]
            squares += float(weights @ weights)
            grad[start:stop] += np.multiply(weights, decay, out=scratch[: stop - start])
    return squares


def l2_penalty(theta, grad, decay, decayed, scratch=None):
    """Add the gradient of ``decay / 2 * ||theta[decayed]||^2`` to ``grad``; return its value.

    ``decayed`` is a sequence of slices of ``theta``; ``scratch`` a flat buffer
    of ``theta``'s dtype and at least ``min(theta.size, BLOCK)`` elements
    (allocated when None).
    """
    decay = float(decay)  # a NumPy float64 would turn float32 arithmetic into float64
    if not decay:
        return 0.0
    if scratch is None:
        scratch = np.empty(min(theta.size, BLOCK), dtype=theta.dtype)
    squares = sum(
        _add_decay(theta, grad, part, decay, decayed, scratch) for part in _blocks(theta.size)
    )
    return 0.5 * decay * squares


class Optimizer:
    """A first-order update rule over one flat parameter vector.

    Subclasses implement :meth:`_update` for one block of the vector (and may
    prepare per-step constants in :meth:`_begin_step`); the block loop and the
    weight decay live here, once.

    Parameters
    ----------
    n_params : int
        Size of the parameter vector.
    dtype : dtype
        Its dtype; the optimizer's state has the same.
    **settings
        The update rule's hyperparameters, kept as :attr:`settings`.

    Attributes
    ----------
    settings : tuple
        The rule's name and its hyperparameters as given: two optimizers with
        equal settings differ only in their state.
    """

    def __init__(self, n_params, dtype, **settings):
        self._scratch = np.empty(min(n_params, BLOCK), dtype=dtype)
        self.settings = (type(self).__name__, *sorted(settings.items()))
        # A factor on the step size that the trainer may lower (a decay to zero).
        self.rate_scale = 1.0

    def step(self, theta, grad, decay=0.0, decayed=()):
        """Update ``theta`` in place from ``grad``.

        With ``decay``, ``decay * theta`` over the slices ``decayed``, the
        gradient of the L2 penalty ``decay / 2 * ||theta[decayed]||^2``, is
        first added into ``grad``. Returns that penalty's value (at ``theta``
        before the update; 0.0 without ``decay``).
        """
        decay = float(decay)
        self._begin_step()
        squares = 0.0
        for part in _blocks(theta.size):
            scratch = self._scratch[: part.stop - part.start]
            if decay:
                squares += _add_decay(theta, grad, part, decay, decayed, scratch)
            self._update(part, theta[part], grad[part], scratch)
        return 0.5 * decay * squares

    def _begin_step(self):
        """Per-step constants, before the first block."""

    def _update(self, part, p, g, scratch):
        """Update the block ``p = theta[part]`` from ``g = grad[part]``, in place."""
        raise NotImplementedError

    def epoch_ends(self, samples_seen):
        """Called after each epoch with the number of samples seen so far."""

    def should_stop(self, verbose=False):
        """Training stopped improving: stop (True), or adapt and go on (False)."""
        return True

    def copy(self):
        """An independent copy: its state can be updated while this one is kept."""
        return copy.deepcopy(self)


class SGD(Optimizer):
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
        super().__init__(
            n_params,
            dtype,
            learning_rate_init=float(learning_rate_init),
            learning_rate=learning_rate,
            power_t=float(power_t),
            momentum=float(momentum),
            nesterov=bool(nesterov),
        )
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.schedule = learning_rate
        self.power_t = float(power_t)
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.velocity = np.zeros(n_params, dtype=dtype)

    def _update(self, part, p, g, s):
        mu, v = self.momentum, self.velocity[part]
        np.multiply(g, -self.learning_rate * self.rate_scale, out=s)  # s = -lr * g
        v *= mu
        v += s  # v = mu * v - lr * g
        if self.nesterov:
            p += s
            np.multiply(v, mu, out=s)
            p += s
        else:
            p += v

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


class Adam(Optimizer):
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
        super().__init__(
            n_params,
            dtype,
            learning_rate_init=float(learning_rate_init),
            beta_1=float(beta_1),
            beta_2=float(beta_2),
            epsilon=float(epsilon),
        )
        self.learning_rate_init = float(learning_rate_init)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.first_moment = np.zeros(n_params, dtype=dtype)
        self.second_moment = np.zeros(n_params, dtype=dtype)

    def _begin_step(self):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        rate = self.learning_rate_init * self.rate_scale
        rate *= (1 - b2**self.t) ** 0.5 / (1 - b1**self.t)
        # m / (sqrt(v) + eps) = (1 - b1) / sqrt(1 - b2) * M / (sqrt(V) + eps / sqrt(1 - b2))
        self._rate = rate * (1 - b1) / (1 - b2) ** 0.5
        self._epsilon = self.epsilon / (1 - b2) ** 0.5

    def _update(self, part, p, g, s):
        m, v = self.first_moment[part], self.second_moment[part]
        m *= self.beta_1
        m += g
        np.multiply(g, g, out=s)
        v *= self.beta_2
        v += s
        np.sqrt(v, out=s)
        s += self._epsilon
        np.divide(m, s, out=s)
        s *= self._rate
        p -= s


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
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
        callback=callback,
    )
