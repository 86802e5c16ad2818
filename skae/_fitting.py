"""Fitting the autoencoders: ``fit``, a warm ``fit`` and ``partial_fit``.

:class:`FitMixin` gives the estimators ``fit`` and ``partial_fit``. A call
runs four steps, and nothing of the estimator changes before the last:

1. **Checks**: the data (``validate_data``, the loss's own check of ``X``,
   ``sample_weight``) and the parameters' combinations (``_check_options``).
2. **The start**, a :class:`FitState`: a fresh network for data like ``X``,
   or, for ``warm_start`` and ``partial_fit``, a copy of the fitted one,
   whose layout must match the current parameters. ``FitState.fresh`` records
   whether the weights are the network's initialisation.
3. **The plan**, a :class:`TrainingPlan` from :meth:`FitMixin._training_plan`,
   the one override point: the objective built from the current parameters,
   the training and validation rows, the stopping rule, the batch size and
   the step size.
4. **Training** (:mod:`skae._training`), and only once it returned, the
   **commit** of the result as the fitted state: the layout, ``mean_`` and
   ``scale_``, the parameters, and the attributes that prediction reads
   (``n_components_``, ``out_activation_``, and what a subclass adds).

A subclass defines ``_layout(sizes)`` (the parameters that fix the layout of
the flat parameter vector, by name), ``_make_network(n_features, sizes)``
(that layout) and ``_make_objective(network, loader)`` (the objective of the
current parameters); it may extend ``_check_options``, ``_training_plan`` and
``_commit``.
"""

import copy
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from ._compat import _check_sample_weight, _fit_context
from ._data import RowLoader, weighted_moments
from ._optimizers import SGD, Adam
from ._training import (
    INTERRUPTED,
    MAX_ITER,
    StoppingRule,
    TrainingDiverged,
    train_lbfgs,
    train_stochastic,
)
from ._validation import available_unless, check_layer_sizes, check_numeric, user_stacklevel

__all__ = ["FitMixin", "FitState", "TrainingPlan"]

# early_stopping="auto" holds rows out from this many rows on: below it an
# epoch is cheap and a tenth of the rows is a real loss of training data; above
# it the validation loss is a steady signal and the epochs are what cost (the
# user guide's page on the defaults shows the measurements behind the number).
EARLY_STOPPING_AUTO_ROWS = 2000

INT32_MAX = np.iinfo(np.int32).max

# Set by validate_data during a fit; restored if the fit fails.
_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


def _why_no_partial_fit(estimator):
    """Why the estimator has no ``partial_fit``, or None: it needs a stochastic solver, no graph."""
    if estimator.solver not in ("sgd", "adam"):
        return f'it needs a stochastic solver ("adam" or "sgd"), not {estimator.solver!r}.'
    if getattr(estimator, "n_neighbors", None) is not None:
        return (
            "it does not support n_neighbors: the neighbour graph is built "
            "from all the training rows at once. Use fit, or set n_neighbors=None "
            "to train on chunks."
        )
    return None


@dataclass
class FitState:
    """Where a fit starts, and the history it adds to.

    Attributes
    ----------
    layout : dict
        The parameters that fix the layout, by name (the estimator's
        ``_layout``).
    network : object
        That layout (a :class:`~skae._network.Network` or a
        :class:`~skae._variational_network.VariationalNetwork`); it holds the
        loss object.
    theta : ndarray
        The parameters to train: new, or a copy of the fitted ones.
    mean, scale : ndarray, float
        How the network sees the data (``mean_`` and ``scale_``).
    rng : numpy.random.RandomState
        Draws the shuffling, the validation split and the noise's seeds.
    fresh : bool
        Whether ``theta`` is the network's initialisation, untouched by
        training (a new fit), rather than weights a fit has moved.
    optimizer : Optimizer or None
        The fitted optimizer, for ``partial_fit`` to go on with.
    loss_curve, validation_loss_curve, best_loss, n_iter, t
        The history so far (empty for a new fit).
    """

    layout: dict
    network: object
    theta: np.ndarray
    mean: np.ndarray
    scale: float
    rng: np.random.RandomState
    fresh: bool
    optimizer: object = None
    loss_curve: list = field(default_factory=list)
    validation_loss_curve: list = None
    best_loss: float = np.inf
    n_iter: int = 0
    t: int = 0

    def loader(self):
        """The network's view of the rows: centred and scaled if the loss asks for it."""
        if self.network.loss.standardizes:
            return RowLoader(self.mean, self.scale)
        return RowLoader(None, 1.0)


@dataclass(frozen=True)
class TrainingPlan:
    """What training runs: the objective of the current parameters and how.

    Attributes
    ----------
    objective : Objective
        Built from the current parameters (:mod:`skae._objective`).
    rows : ndarray of int
        The training rows.
    validation_rows : ndarray of int or None
        Rows held out for early stopping.
    rule : StoppingRule
        When training stops.
    batch_size : int or None
        Rows per batch of the stochastic solvers (None for L-BFGS).
    learning_rate : float
        The stochastic solvers' initial step size.
    """

    objective: object
    rows: np.ndarray
    validation_rows: np.ndarray
    rule: StoppingRule
    batch_size: int
    learning_rate: float


class FitMixin:
    """``fit`` and ``partial_fit`` of the autoencoders; see the module docstring."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Train the autoencoder on ``X``.

        Each call trains with the current parameters. With
        ``warm_start=True`` it goes on from the fitted weights; the
        parameters that fix their layout (``hidden_layer_sizes``,
        ``n_components``, ``activation``, ``loss`` and, for
        :class:`AutoencoderTransformer`, ``linear_path`` and ``tied_weights``)
        must then be those of the fitted model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input is read a batch at a time.
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in the loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, sample_weight, incremental=False)

    @available_unless(_why_no_partial_fit)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Run one epoch over ``X``, starting from the current weights.

        The first call sets ``mean_`` and ``scale_`` from its data; later calls
        keep them. Each call trains with the current parameters (those that
        fix the layout must stay as they were) and goes on with the
        optimizer's state while the optimizer's settings are unchanged. Only
        for the stochastic solvers; ``early_stopping`` is ignored.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in the loss.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, sample_weight, incremental=True)

    # ------------------------------------------------------------ one call

    def _fit(self, X, sample_weight, incremental):
        # Validation records the input's width and names; everything else is
        # committed only after training returned.
        recorded = {k: v for k, v in vars(self).items() if k in _INPUT_ATTRIBUTES}
        try:
            # Values that underflow to zero (squared tiny gradients, saturated
            # units) are harmless here, even under np.errstate(all="raise");
            # overflows happen only as training diverges, which the trainer
            # detects (a non-finite loss or weight) and reports as one error.
            with np.errstate(under="ignore", over="ignore", invalid="ignore"):
                self._fit_or_raise(X, sample_weight, incremental)
        except BaseException:
            for name in _INPUT_ATTRIBUTES:  # in place: the attributes keep their order
                if name in recorded:
                    setattr(self, name, recorded[name])
                else:
                    vars(self).pop(name, None)
            raise
        return self

    def _fit_or_raise(self, X, sample_weight, incremental):
        sizes = check_layer_sizes(self.hidden_layer_sizes)
        layout = self._layout(sizes)
        self._check_options(incremental)
        warm = hasattr(self, "_theta") and (incremental or self.warm_start)
        if warm:
            self._check_layout_unchanged(layout)
        X = check_numeric(
            validate_data,
            self,
            X,
            reset=not warm,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            # fit needs two rows, as scikit-learn's estimators do; a chunk may have one
            ensure_min_samples=1 if incremental else 2,
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if sample_weight.sum() <= 0:
                raise ValueError("sample_weight must have a positive sum.")
        if warm:
            self._network.loss.check_input(X)
            state = self._warm_state(incremental)
        else:
            network = self._make_network(X.shape[1], sizes)
            network.loss.check_input(X)
            state = self._new_state(layout, network, X, sample_weight)
        plan = self._training_plan(state, X, sample_weight, incremental)
        try:
            result = self._train(state, plan, X, sample_weight, incremental)
        except TrainingDiverged:
            raise ValueError(
                "Training diverged: the loss became non-finite. The estimator was left "
                "as it was before this call. Use a smaller learning_rate_init (now "
                f"{plan.learning_rate:g}) or scale the data (e.g. StandardScaler); "
                "note that partial_fit keeps the mean_ and scale_ of its first call's data."
            ) from None
        self._commit(state, result, incremental)

    def _check_options(self, incremental):
        """Checks of parameter combinations, before any work (subclasses extend)."""

    def _check_layout_unchanged(self, current):
        """Refuse a warm start whose parameters would need other weights."""
        changed = [name for name, value in current.items() if self._fitted_layout[name] != value]
        if changed:
            *names, last = current
            details = ", ".join(
                f"{name}={self._fitted_layout[name]!r} to {current[name]!r}" for name in changed
            )
            raise ValueError(
                f"The fitted weights cannot serve the changed parameters ({details}): "
                f"{', '.join(names)} and {last} cannot change on a warm start or "
                "partial_fit. Fit anew with warm_start=False (or a clone) to change them."
            )

    # ----------------------------------------------------------- the start

    def _new_state(self, layout, network, X, sample_weight):
        """A fresh model for data like ``X``: nothing is stored on ``self`` yet."""
        rng = self._new_rng()
        if network.loss.standardizes:
            mean, scale = weighted_moments(X, sample_weight)
            mean = mean.astype(X.dtype)
            scale = scale if np.isfinite(scale) and scale > 0 else 1.0
        else:
            mean, scale = np.zeros(X.shape[1], dtype=X.dtype), 1.0
        state = FitState(layout, network, None, mean, scale, rng, fresh=True)
        state.theta = self._make_objective(network, state.loader()).init(X, sample_weight, rng)
        return state

    def _warm_state(self, incremental):
        """The fitted model, to go on from: copies of what training changes.

        Only ``partial_fit`` goes on with the optimizer's state; a warm-started
        ``fit`` makes a new optimizer.
        """
        return FitState(
            layout=self._fitted_layout,
            network=self._network,
            theta=self._theta.copy(),
            mean=self.mean_,
            scale=self.scale_,
            rng=self._continued_rng(),
            fresh=False,
            optimizer=self._optimizer.copy() if incremental and self._optimizer else None,
            loss_curve=self.loss_curve_,
            validation_loss_curve=self.validation_loss_curve_,
            best_loss=self.best_loss_,
            n_iter=self.n_iter_,
            t=self.t_,
        )

    def _new_rng(self):
        if self._rng_is_users():
            return self.random_state
        if self.random_state is None:
            # A generator of the estimator's own, seeded from NumPy's global one.
            return np.random.RandomState(check_random_state(None).randint(INT32_MAX))
        return check_random_state(self.random_state)

    def _continued_rng(self):
        """The random stream of a warm fit.

        A RandomState the user passed is used (and advanced) as it is. The
        estimator's own goes on where the last fit left it, as a copy (so that
        a failed call leaves it as it was), unless ``random_state`` changed
        since: then it starts anew from the new value.
        """
        if self._rng_is_users():
            return self.random_state
        if self.random_state != self._rng_seed:
            return self._new_rng()
        return copy.deepcopy(self._rng)

    def _rng_is_users(self):
        return isinstance(self.random_state, np.random.RandomState)

    # ------------------------------------------------------------ the plan

    def _training_plan(self, state, X, sample_weight, incremental):
        """The training of this call: objective, rows, stopping rule, batch and step size.

        The override point of the fit: a subclass that trains otherwise (on
        the edges of a neighbour graph) returns its own plan. This one trains
        the reconstruction objective on shuffled rows, holding some out when
        early stopping is on.
        """
        objective = self._make_objective(state.network, state.loader())
        n_samples = X.shape[0]
        rows, validation_rows = np.arange(n_samples), None
        rule = StoppingRule(1 if incremental else self.max_iter, self.tol, self.n_iter_no_change)
        if self.solver == "lbfgs":
            return TrainingPlan(objective, rows, None, rule, None, self._learning_rate_init())
        if self._early_stopping_on(n_samples, incremental):
            n_val = int(np.ceil(self.validation_fraction * n_samples))
            if n_val >= n_samples:
                raise ValueError(
                    f"early_stopping with validation_fraction={self.validation_fraction} "
                    f"leaves no training rows out of {n_samples}."
                )
            permutation = state.rng.permutation(n_samples)
            validation_rows, rows = np.sort(permutation[:n_val]), np.sort(permutation[n_val:])
        batch_size = self.batch_size
        if batch_size == "auto":
            batch_size = min(200, rows.size)
        else:
            if batch_size > rows.size and not incremental:
                warnings.warn(
                    f"batch_size={batch_size} is larger than the {rows.size} "
                    "training rows; it is clipped to that.",
                    UserWarning,
                    stacklevel=user_stacklevel(),
                )
            batch_size = min(batch_size, rows.size)
        return TrainingPlan(
            objective, rows, validation_rows, rule, batch_size, self._learning_rate_init()
        )

    def _early_stopping_on(self, n_samples, incremental=False):
        """Whether a fit on ``n_samples`` rows holds some out (None: not yet known)."""
        if incremental or self.solver == "lbfgs":
            return False
        if self.early_stopping == "auto":
            return None if n_samples is None else n_samples >= EARLY_STOPPING_AUTO_ROWS
        return bool(self.early_stopping)

    def _learning_rate_init(self):
        """``learning_rate_init``, with "auto" resolved by the subclass's docstring."""
        return self.learning_rate_init

    # ------------------------------------------------------------ training

    def _make_optimizer(self, theta, learning_rate):
        n, dtype = theta.size, theta.dtype
        if self.solver == "adam":
            return Adam(n, dtype, learning_rate, self.beta_1, self.beta_2, self.epsilon)
        return SGD(
            n,
            dtype,
            learning_rate,
            self.learning_rate,
            self.power_t,
            self.momentum,
            self.nesterovs_momentum,
        )

    def _noise_rng(self, objective, rng):
        """A ``numpy.random.Generator`` for the objective's noise, seeded from ``rng``."""
        if not objective.needs_rng:
            return None
        return np.random.default_rng(rng.randint(INT32_MAX))

    def _train(self, state, plan, X, sample_weight, incremental):
        """Run the trainer on the plan; ``state.theta`` and the optimizer are trained in place."""
        if self.solver == "lbfgs":
            return train_lbfgs(
                plan.objective,
                state.theta,
                X,
                plan.rule,
                sample_weight=sample_weight,
                alpha=self.alpha,
                max_fun=self.max_fun,
                noise_rng=self._noise_rng(plan.objective, state.rng),
                verbose=self.verbose,
            )
        optimizer = self._make_optimizer(state.theta, plan.learning_rate)
        previous = state.optimizer if incremental else None
        if previous is not None and previous.settings == optimizer.settings:
            optimizer = previous  # partial_fit goes on with the optimizer's state
        return train_stochastic(
            plan.objective,
            state.theta,
            optimizer,
            X,
            plan.rows,
            plan.rule,
            validation_rows=plan.validation_rows,
            sample_weight=sample_weight,
            batch_size=plan.batch_size,
            alpha=self.alpha,
            shuffle=self.shuffle,
            rng=state.rng,
            noise_rng=self._noise_rng(plan.objective, state.rng),
            best_loss=state.best_loss if incremental else np.inf,
            samples_seen=state.t,
            verbose=self.verbose,
        )

    # ---------------------------------------------------------- the commit

    def _commit(self, state, result, incremental):
        """Store the trained model as the fitted state; warn about how training ended."""
        self._network = state.network
        self._theta = result.theta
        self._optimizer = result.optimizer
        self._rng = state.rng
        self._rng_seed = None if self._rng_is_users() else self.random_state
        self._fitted_layout = state.layout
        self.mean_, self.scale_ = state.mean, state.scale
        self.n_components_ = state.layout["n_components"]
        self.out_activation_ = state.network.loss.out_activation
        self.loss_curve_ = state.loss_curve + result.loss_curve
        validation = state.validation_loss_curve
        if result.validation_loss_curve is not None:
            validation = (validation or []) + result.validation_loss_curve
        self.validation_loss_curve_ = validation
        self.best_loss_ = result.best_loss
        if self.solver == "lbfgs":
            self.n_iter_, self.t_ = result.n_iter, state.t
        else:
            self.n_iter_, self.t_ = state.n_iter + result.n_iter, result.samples_seen
        stacklevel = user_stacklevel()
        if result.stop_reason == INTERRUPTED:
            if self.solver == "lbfgs":
                message = "Training was interrupted; the estimator keeps the best weights "
                message += "lbfgs had reached."
            else:
                message = (
                    f"Training was interrupted during epoch {self.n_iter_ + 1}; the "
                    "estimator keeps the weights of its best epoch so far"
                )
                if result.best_epoch is None:
                    message += " (none had ended: the current ones)."
                else:
                    message += f" (epoch {state.n_iter + result.best_epoch})."
            warnings.warn(message, UserWarning, stacklevel=stacklevel)
        elif result.stop_reason == MAX_ITER and not incremental:
            if self.solver == "lbfgs":
                message = (
                    f"lbfgs failed to converge after {result.n_iter} iterations "
                    f"({result.message}). Increase max_iter or max_fun, or scale the data."
                )
            else:
                message = (
                    f"Stochastic optimizer: maximum iterations ({self.max_iter}) "
                    "reached and the optimization hasn't converged yet."
                )
            warnings.warn(message, ConvergenceWarning, stacklevel=stacklevel)
