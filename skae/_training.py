"""The two training loops: mini-batch (adam, sgd) and full-batch (lbfgs).

Functions of the estimator: they read its hyperparameters and hooks
(``_allocate``, ``_batch_loss``, ``_dataset_loss``, ``_noise_source``) and
update its fitted state (``_theta``, ``loss_curve_``, ``n_iter_``, ...) in
place. :meth:`BaseAutoencoder._fit` restores that state if they raise.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._data import CHUNK_ROWS, chunks
from ._optimizers import lbfgs


def head(buffers, n_rows):
    """The first ``n_rows`` rows of each batch buffer (a list of them, or one)."""
    return {
        name: [a[:n_rows] for a in b] if isinstance(b, list) else b[:n_rows]
        for name, b in buffers.items()
    }


def fit_stochastic(estimator, X, sample_weight, incremental):
    """Mini-batch training (adam, sgd): ``max_iter`` epochs, or one for ``partial_fit``."""
    n_samples = X.shape[0]
    early_stopping = estimator._early_stopping_on(n_samples, incremental)
    if early_stopping and estimator.validation_loss_curve_ is None:
        estimator.validation_loss_curve_ = []  # a warm start on more rows
    rng, network, theta = estimator._rng, estimator._network, estimator._theta
    if incremental and estimator._optimizer is not None:
        optimizer = estimator._optimizer
    else:
        optimizer = estimator._optimizer = estimator._make_optimizer()
    train = np.arange(n_samples)
    if early_stopping:
        n_val = int(np.ceil(estimator.validation_fraction * n_samples))
        if n_val >= n_samples:
            raise ValueError(
                f"early_stopping with validation_fraction={estimator.validation_fraction} "
                f"leaves no training rows out of {n_samples}."
            )
        permutation = rng.permutation(n_samples)
        val, train = np.sort(permutation[:n_val]), np.sort(permutation[n_val:])
    # The weights at the best epoch so far: restored by early stopping and
    # when training is interrupted.
    best_theta, best_epoch = theta.copy(), None
    if not incremental:
        estimator.best_loss_ = np.inf
    n_train = train.size
    if estimator.batch_size == "auto":
        batch_size = min(200, n_train)
    else:
        if estimator.batch_size > n_train and not incremental:
            warnings.warn(
                f"batch_size={estimator.batch_size} is larger than the {n_train} "
                "training rows; it is clipped to that.",
                UserWarning,
            )
        batch_size = min(estimator.batch_size, n_train)
    buffers = estimator._allocate(batch_size, theta.dtype)
    noise_rng = estimator._noise_source()
    grad = np.empty_like(theta)
    workspace = network.workspace(batch_size, theta.dtype)
    no_improvement = 0
    converged = interrupted = False
    for _ in range(1 if incremental else estimator.max_iter):
        order = rng.permutation(train) if estimator.shuffle else train
        accumulated = 0.0
        try:
            for part in chunks(n_train, batch_size):
                rows = order[part]
                if estimator.shuffle:
                    rows.sort()  # in place, within this epoch's permutation
                n = rows.size
                total = n if sample_weight is None else sample_weight[rows].sum()
                if total == 0:
                    continue
                loss = estimator._batch_loss(
                    theta,
                    X,
                    rows,
                    sample_weight,
                    total,
                    head(buffers, n),
                    grad,
                    noise_rng,
                    workspace,
                )
                # the L2 penalty: its gradient added, its value returned by the step
                loss += optimizer.step(theta, grad, estimator.alpha / total, network.decayed)
                if not np.isfinite(loss):
                    raise estimator._diverged()
                accumulated += loss * n
        except KeyboardInterrupt:
            if best_epoch is not None:
                theta[...] = best_theta
            warnings.warn(
                f"Training was interrupted during epoch {estimator.n_iter_ + 1}; the "
                "estimator keeps the weights of its best epoch so far"
                + (
                    f" (epoch {best_epoch})."
                    if best_epoch
                    else " (none had ended: the current ones)."
                ),
                UserWarning,
            )
            interrupted = True
            break
        if not np.isfinite(theta).all():
            raise estimator._diverged()
        estimator.n_iter_ += 1
        estimator.t_ += n_train
        epoch_loss = accumulated / n_train
        estimator.loss_curve_.append(epoch_loss)
        optimizer.epoch_ends(estimator.t_)
        message = f"Iteration {estimator.n_iter_}, loss = {epoch_loss:.8f}"
        if incremental:
            estimator.best_loss_ = min(estimator.best_loss_, epoch_loss)
            if estimator.verbose:
                print(message)
            continue
        if early_stopping:
            watched = estimator._dataset_loss(X, sample_weight, val, buffers, batch_size)
            estimator.validation_loss_curve_.append(watched)
            message += f", validation loss = {watched:.8f}"
        else:
            watched = epoch_loss
        if estimator.verbose:
            print(message)
        if watched > estimator.best_loss_ - estimator.tol:
            no_improvement += 1
        else:
            no_improvement = 0
        if watched < estimator.best_loss_:
            estimator.best_loss_ = watched
            best_theta[...] = theta
            best_epoch = estimator.n_iter_
        if no_improvement > estimator.n_iter_no_change:
            if optimizer.should_stop(estimator.verbose):
                if estimator.verbose:
                    print(
                        f"Loss did not improve by tol={estimator.tol} for "
                        f"{estimator.n_iter_no_change} consecutive epochs. Stopping."
                    )
                converged = True
                break
            no_improvement = 0
    else:
        if not incremental and not converged:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({estimator.max_iter}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
    if early_stopping and best_epoch is not None and not interrupted:
        theta[...] = best_theta


def fit_lbfgs(estimator, X, sample_weight):
    """Full-batch L-BFGS on the same objective, summed a chunk of rows at a time."""
    n_samples = X.shape[0]
    network, theta = estimator._network, estimator._theta
    total = n_samples if sample_weight is None else float(sample_weight.sum())
    chunk = min(n_samples, CHUNK_ROWS)
    buffers = estimator._allocate(chunk, theta.dtype)
    # L-BFGS needs a deterministic objective: one noise draw per chunk,
    # the same at every evaluation.
    noise_rng = estimator._noise_source()
    n_chunks = -(-n_samples // chunk)
    seeds = None if noise_rng is None else noise_rng.integers(2**62, size=n_chunks)
    grad_chunk = np.empty_like(theta)
    best = {"loss": np.inf, "theta": theta.astype(np.float64)}

    def loss_and_grad(x):
        theta[...] = x
        grad = np.zeros(theta.size)
        loss = 0.0
        for part in chunks(n_samples, chunk):
            rng = None if seeds is None else np.random.default_rng(seeds[part.start // chunk])
            loss += estimator._batch_loss(
                theta,
                X,
                part,
                sample_weight,
                total,
                head(buffers, part.stop - part.start),
                grad_chunk,
                rng,
            )
            grad += grad_chunk
        loss += network.penalty(theta, grad, estimator.alpha / total)
        if loss < best["loss"]:
            best["loss"], best["theta"] = loss, x.copy()
        return loss, grad

    def callback(intermediate_result):
        estimator.loss_curve_.append(float(intermediate_result.fun))
        if estimator.verbose:
            print(f"Iteration {len(estimator.loss_curve_)}, loss = {intermediate_result.fun:.8f}")

    curve_start = len(estimator.loss_curve_)
    try:
        result = lbfgs(
            loss_and_grad, theta, estimator.max_iter, estimator.max_fun, estimator.tol, callback
        )
    except KeyboardInterrupt:
        warnings.warn(
            "Training was interrupted; the estimator keeps the best weights lbfgs had reached.",
            UserWarning,
        )
        result = None
    if result is None or not np.isfinite(result.fun):
        if not np.isfinite(best["loss"]):
            raise estimator._diverged()
        theta[...] = best["theta"]
    else:
        theta[...] = result.x
        if result.status != 0:
            warnings.warn(
                f"lbfgs failed to converge after {result.nit} iterations "
                f"(status={result.status}): {result.message}. Increase max_iter "
                "or max_fun, or scale the data.",
                ConvergenceWarning,
            )
    estimator.n_iter_ = len(estimator.loss_curve_) - curve_start
    estimator.best_loss_ = min(estimator.loss_curve_[curve_start:], default=best["loss"])
