"""The trainer: mini-batch solvers and L-BFGS over an objective.

It knows nothing of scikit-learn or of an estimator: it takes an objective
(:mod:`skae._objective`), a parameter vector, an optimizer, the rows and a
stopping rule, and returns a :class:`TrainingResult`: the weights, the loss
curves, the epochs run, the best loss and why it stopped. It updates the
``theta`` and the optimizer it is given in place and hands them back in the
result; a caller that must keep its own state on failure passes copies, and
commits the result only when training returned.

A non-finite loss raises :class:`TrainingDiverged`. A ``KeyboardInterrupt``
ends training early with ``stop_reason="interrupted"`` and the weights of the
best epoch so far.
"""

import math
from dataclasses import dataclass

import numpy as np

from ._data import CHUNK_ROWS, chunks
from ._optimizers import l2_penalty, lbfgs

__all__ = ["StoppingRule", "TrainingDiverged", "TrainingResult", "train_lbfgs", "train_stochastic"]

CONVERGED, MAX_ITER, INTERRUPTED = "converged", "max_iter", "interrupted"
COMPLETED = "completed"  # an annealed run's schedule ran to its end


class TrainingDiverged(ArithmeticError):
    """The training loss became non-finite."""


@dataclass(frozen=True)
class StoppingRule:
    """When training stops.

    Parameters
    ----------
    max_iter : int
        Epochs (stochastic solvers) or iterations (L-BFGS) at most.
    tol : float
        Stochastic solvers: the smallest improvement of the watched loss that
        counts. L-BFGS: the gradient tolerance.
    n_iter_no_change : int
        Stochastic solvers: training stops after more than this many
        consecutive epochs without such an improvement.
    anneal : bool
        Stochastic solvers: run exactly ``max_iter`` epochs, with the step
        size decaying linearly to zero over them (as umap-learn does); no
        stopping before.
    """

    max_iter: int
    tol: float = 0.0
    n_iter_no_change: int = 10
    anneal: bool = False


@dataclass
class TrainingResult:
    """What training returns.

    Attributes
    ----------
    theta : ndarray
        The trained parameters (with early stopping or an interruption, those
        of the best epoch).
    optimizer : object or None
        The optimizer, with its state after the last step (None for L-BFGS).
    loss_curve : list of float
        The training loss of each epoch (L-BFGS: of each iteration).
    validation_loss_curve : list of float or None
        The held-out loss of each epoch, when rows were held out.
    n_iter : int
        Epochs (iterations) run.
    best_loss : float
        The lowest watched loss: on the held-out rows if any, else training.
    samples_seen : int
        Rows the stochastic solvers have trained on, this call included.
    stop_reason : {"converged", "max_iter", "completed", "interrupted"}
        Why training stopped ("completed": an annealed run's ``max_iter``
        epochs).
    best_epoch : int or None
        The epoch of ``best_loss`` (counted within this call), None if none ended.
    message : str
        The solver's own word on how it ended (L-BFGS), or "".
    """

    theta: np.ndarray
    optimizer: object
    loss_curve: list
    validation_loss_curve: list
    n_iter: int
    best_loss: float
    samples_seen: int
    stop_reason: str
    best_epoch: int = None
    message: str = ""


def _row_weight(sample_weight, rows, total):
    return 1.0 / total if sample_weight is None else sample_weight[rows] / total


def dataset_loss(objective, theta, X, rows, sample_weight, buffers, capacity):
    """Weighted mean objective over ``X[rows]`` without noise, ``capacity`` rows at a time."""
    total = len(rows) if sample_weight is None else sample_weight[rows].sum()
    loss = 0.0
    for part in chunks(len(rows), capacity):
        batch = rows[part]
        loss += objective.loss_and_grad(
            theta,
            X,
            batch,
            _row_weight(sample_weight, batch, total),
            buffers.head(batch.size),
        )
    return loss


def train_stochastic(
    objective,
    theta,
    optimizer,
    X,
    rows,
    rule,
    *,
    validation_rows=None,
    sample_weight=None,
    batch_size=200,
    alpha=0.0,
    shuffle=True,
    rng,
    noise_rng=None,
    best_loss=math.inf,
    samples_seen=0,
    verbose=False,
):
    """Mini-batch training of ``objective`` from ``theta`` with ``optimizer``.

    Parameters
    ----------
    objective : Objective
        The model's objective.
    theta : ndarray
        The starting parameters; updated in place.
    optimizer : Optimizer
        An :class:`~skae._optimizers.Optimizer`; its state is updated in place.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The data; only ``X[rows]`` is trained on.
    rows : ndarray of int
        The training rows, sorted.
    rule : StoppingRule
        ``max_iter`` epochs at most; training stops when the watched loss has
        not improved by ``tol`` for ``n_iter_no_change`` epochs and the
        optimizer agrees (``Optimizer.should_stop``).
    validation_rows : ndarray of int, optional
        Rows held out: their loss is watched instead of the training loss,
        and training ends at the weights of its best epoch.
    sample_weight : ndarray of shape (n_samples,), optional
        Weights of the rows.
    batch_size : int
        Rows per batch (the objective's batches may differ).
    alpha : float
        Strength of the L2 penalty, divided by each batch's weight.
    shuffle : bool
        Shuffle the rows each epoch.
    rng : numpy.random.RandomState
        Draws the epochs' orders.
    noise_rng : numpy.random.Generator, optional
        Draws the objective's noise (``objective.needs_rng``).
    best_loss : float
        The best loss before this call: an epoch counts as the best only if
        it beats it.
    samples_seen : int
        Rows trained on before this call (for the optimizer's schedule).
    verbose : bool
        Print one line per epoch.

    Returns
    -------
    TrainingResult
    """
    buffers_rows = objective.batch_rows(batch_size)
    buffers = objective.allocate(buffers_rows, theta.dtype)
    grad = np.empty_like(theta)
    # The weights of the best epoch: restored by early stopping and when
    # training is interrupted (a single epoch has no earlier one to restore).
    best_theta = theta.copy() if rule.max_iter > 1 else None
    best_epoch, no_improvement = None, 0
    curve, validation_curve = [], ([] if validation_rows is not None else None)
    stop_reason = MAX_ITER
    epoch = 0
    while epoch < rule.max_iter:
        accumulated, seen = 0.0, 0
        try:
            batches = objective.batches(rows, batch_size, rng, shuffle)
            if rule.anneal:
                batches = list(batches)
            for step, batch in enumerate(batches):
                if rule.anneal:
                    optimizer.rate_scale = 1.0 - (epoch + step / len(batches)) / rule.max_iter
                n = batch.size
                seen += n
                total = n if sample_weight is None else sample_weight[batch].sum()
                if total == 0:
                    continue
                loss = objective.loss_and_grad(
                    theta,
                    X,
                    batch,
                    _row_weight(sample_weight, batch, total),
                    buffers.head(n),
                    grad,
                    noise_rng,
                )
                # the L2 penalty: its gradient added, its value returned by the step
                loss += optimizer.step(theta, grad, alpha / total, objective.decayed)
                if not np.isfinite(loss):
                    raise TrainingDiverged
                accumulated += loss * n
        except KeyboardInterrupt:
            if best_epoch is not None:
                theta[...] = best_theta
            stop_reason = INTERRUPTED
            break
        if not np.isfinite(theta).all():
            raise TrainingDiverged
        epoch += 1
        samples_seen += seen
        epoch_loss = accumulated / max(seen, 1)
        curve.append(epoch_loss)
        optimizer.epoch_ends(samples_seen)
        message = f"Iteration {epoch}, loss = {epoch_loss:.8f}"
        watched = epoch_loss
        if validation_rows is not None:
            watched = dataset_loss(
                objective, theta, X, validation_rows, sample_weight, buffers, buffers_rows
            )
            validation_curve.append(watched)
            message += f", validation loss = {watched:.8f}"
        if verbose:
            print(message)
        no_improvement = no_improvement + 1 if watched > best_loss - rule.tol else 0
        if watched < best_loss:
            best_loss, best_epoch = watched, epoch
            if best_theta is not None:
                best_theta[...] = theta
        if no_improvement > rule.n_iter_no_change and not rule.anneal:
            if optimizer.should_stop(verbose):
                if verbose:
                    print(
                        f"Loss did not improve by tol={rule.tol} for "
                        f"{rule.n_iter_no_change} consecutive epochs. Stopping."
                    )
                stop_reason = CONVERGED
                break
            no_improvement = 0
    if rule.anneal and stop_reason == MAX_ITER:
        stop_reason = COMPLETED
    optimizer.rate_scale = 1.0
    if validation_rows is not None and best_epoch is not None and stop_reason != INTERRUPTED:
        theta[...] = best_theta
    return TrainingResult(
        theta=theta,
        optimizer=optimizer,
        loss_curve=curve,
        validation_loss_curve=validation_curve,
        n_iter=epoch,
        best_loss=best_loss,
        samples_seen=samples_seen,
        stop_reason=stop_reason,
        best_epoch=best_epoch,
    )


def train_lbfgs(
    objective,
    theta,
    X,
    rule,
    *,
    sample_weight=None,
    alpha=0.0,
    max_fun=15000,
    noise_rng=None,
    verbose=False,
):
    """Full-batch L-BFGS on ``objective``, summed ``CHUNK_ROWS`` rows at a time.

    L-BFGS needs a deterministic objective: with ``noise_rng``, one noise draw
    per chunk is made at the start and kept for every evaluation. ``theta``
    is updated in place. If L-BFGS ends on a non-finite loss or is
    interrupted, the best parameters it evaluated are returned.
    """
    n_samples = X.shape[0]
    total = n_samples if sample_weight is None else float(sample_weight.sum())
    chunk = min(n_samples, CHUNK_ROWS)
    buffers = objective.allocate(chunk, theta.dtype)
    n_chunks = -(-n_samples // chunk)
    seeds = None if noise_rng is None else noise_rng.integers(2**62, size=n_chunks)
    grad_chunk = np.empty_like(theta)
    best = {"loss": np.inf, "theta": theta.astype(np.float64)}
    curve = []

    def loss_and_grad(x):
        theta[...] = x
        grad = np.zeros(theta.size)
        loss = 0.0
        for i, part in enumerate(chunks(n_samples, chunk)):
            noise = None if seeds is None else np.random.default_rng(seeds[i])
            loss += objective.loss_and_grad(
                theta,
                X,
                part,
                _row_weight(sample_weight, part, total),
                buffers.head(part.stop - part.start),
                grad_chunk,
                noise,
            )
            grad += grad_chunk
        loss += l2_penalty(theta, grad, alpha / total, objective.decayed)
        if loss < best["loss"]:
            best["loss"], best["theta"] = loss, x.copy()
        return loss, grad

    def callback(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if verbose:
            print(f"Iteration {len(curve)}, loss = {intermediate_result.fun:.8f}")

    try:
        result = lbfgs(loss_and_grad, theta, rule.max_iter, max_fun, rule.tol, callback)
    except KeyboardInterrupt:
        result = None
    if result is None or not np.isfinite(result.fun):
        if not np.isfinite(best["loss"]):
            raise TrainingDiverged
        theta[...] = best["theta"]
    else:
        theta[...] = result.x
    if result is None:
        stop_reason, message = INTERRUPTED, "interrupted"
    else:
        stop_reason = CONVERGED if result.status == 0 else MAX_ITER
        message = f"status={result.status}: {result.message}"
    return TrainingResult(
        theta=theta,
        optimizer=None,
        loss_curve=curve,
        validation_loss_curve=None,
        n_iter=len(curve),
        best_loss=min(curve, default=best["loss"]),
        samples_seen=0,
        stop_reason=stop_reason,
        message=message,
    )
