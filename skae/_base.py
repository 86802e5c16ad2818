"""What the autoencoders share: validation, fitting, transforms, scores, glue.

:class:`BaseAutoencoder` validates the data and the parameters, builds the
model's objective (:mod:`skae._objective`) through the subclass, hands it to
the trainer (:mod:`skae._training`) and commits the trainer's result as the
fitted state only once training has returned: a call that raises leaves a
fitted estimator as it was. It also runs ``transform``,
``inverse_transform`` and the scores a chunk of rows at a time, with the
parameters folded once per call.

A subclass defines:

- ``_layout(sizes)``: the parameters that fix the layout of ``theta``, by name;
- ``_make_objective(n_features, sizes, loader)``: its objective;
- ``_encoder_params(dtype)`` / ``_decoder_params(dtype)``: the parameters,
  folded to read raw ``X`` or write raw reconstructions;
- ``_encode_rows(params, X)``, ``_decode_rows(params, Z)`` and
  ``_score_rows(encoder_params, decoder_params, X)``: one chunk of rows.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._activations import ACTIVATIONS
from ._compat import Interval, StrOptions, _check_sample_weight, _fit_context
from ._data import CHUNK_ROWS, RowLoader, chunks, weighted_moments
from ._losses import LOSSES
from ._optimizers import SGD, Adam
from ._training import (
    INTERRUPTED,
    MAX_ITER,
    StoppingRule,
    TrainingDiverged,
    train_lbfgs,
    train_stochastic,
)
from ._version import __version__

# early_stopping="auto" holds rows out from this many rows on: below it an
# epoch is cheap and a tenth of the rows is a real loss of training data; above
# it the validation loss is a steady signal and the epochs are what cost (the
# user guide's page on the defaults shows the measurements behind the number).
EARLY_STOPPING_AUTO_ROWS = 2000

INT32_MAX = np.iinfo(np.int32).max

__all__ = ["BaseAutoencoder"]


def _has_partial_fit(estimator):
    """``partial_fit`` exists for the stochastic solvers, without a neighbour graph."""
    if estimator.solver not in ("sgd", "adam"):
        raise AttributeError(
            f'partial_fit needs a stochastic solver ("adam" or "sgd"), not {estimator.solver!r}.'
        )
    if getattr(estimator, "n_neighbors", None) is not None:
        raise AttributeError(
            "partial_fit does not support n_neighbors: the neighbour graph is built "
            "from all the training rows at once. Use fit, or set n_neighbors=None "
            "to train on chunks."
        )
    return True


def _numeric(check, *args, **kwargs):
    """Run a scikit-learn check, naming non-numeric input plainly."""
    try:
        return check(*args, **kwargs)
    except (ValueError, TypeError) as error:
        if "could not convert" in str(error) or "Unable to convert" in str(error):
            raise ValueError(
                f"X must hold numbers only; {error}. Encode text or categorical "
                "columns first (e.g. OneHotEncoder in a ColumnTransformer)."
            ) from None
        raise


def _finite(values, what):
    """Refuse to return non-finite results computed from finite input."""
    if not np.isfinite(values).all():
        raise ValueError(
            f"{what} overflowed: X holds values far beyond the scale of the data "
            "the autoencoder was fitted on, or too large to square in its dtype. "
            "Scale X (e.g. StandardScaler) before the autoencoder."
        )
    return values


def _check_layer_sizes(hidden_layer_sizes):
    if isinstance(hidden_layer_sizes, Integral):
        hidden_layer_sizes = (hidden_layer_sizes,)
    sizes = list(hidden_layer_sizes)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) for s in sizes):
        raise TypeError(f"hidden_layer_sizes must hold integers, got {hidden_layer_sizes!r}.")
    if any(s <= 0 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be > 0 (or empty), got {hidden_layer_sizes!r}.")
    return [int(s) for s in sizes]


class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Validation, fitting, transforms, scores and persistence; see the module docstring."""

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions(set(LOSSES))],
        "solver": [StrOptions({"adam", "sgd", "lbfgs"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Train the autoencoder on ``X``.

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

    @available_if(_has_partial_fit)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Run one epoch over ``X``, starting from the current weights.

        The first call sets ``mean_`` and ``scale_`` from its data; later calls
        keep them. Only for the stochastic solvers; ``early_stopping`` is
        ignored.

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

    # ------------------------------------------------------------- fitting

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

    def _check_options(self, incremental):
        """Checks of parameter combinations, before any work (subclasses extend)."""

    def _fit_or_raise(self, X, sample_weight, incremental):
        sizes = _check_layer_sizes(self.hidden_layer_sizes)
        self._check_options(incremental)
        warm = hasattr(self, "_theta") and (incremental or self.warm_start)
        if warm and self._layout(sizes) != self._fitted_layout:
            *names, last = self._layout(sizes)
            raise ValueError(
                f"{', '.join(names)} and {last} cannot change on a warm "
                "start or partial_fit; refit with warm_start=False."
            )
        early_stopping = self._early_stopping_on(None, incremental)
        X = _numeric(
            validate_data,
            self,
            X,
            reset=not warm,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_min_samples=2 if early_stopping is True else 1,
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if sample_weight.sum() <= 0:
                raise ValueError("sample_weight must have a positive sum.")
        if self.loss == "binary_crossentropy":
            values = X.data if sp.issparse(X) else X
            low, high = values.min(initial=0), values.max(initial=0)
            if low < 0 or high > 1:
                raise ValueError(
                    'loss="binary_crossentropy" needs X in [0, 1]; got values in '
                    f"[{low:g}, {high:g}]. Scale X (e.g. MinMaxScaler) or use "
                    'loss="squared_error".'
                )
        if warm:
            state = self._warm_state(incremental)
        else:
            state = self._new_state(X, sample_weight, sizes)
        try:
            if self.solver == "lbfgs":
                result = self._train_lbfgs(state, X, sample_weight)
            else:
                result = self._train_stochastic(state, X, sample_weight, incremental)
        except TrainingDiverged:
            raise ValueError(
                "Training diverged: the loss became non-finite. The estimator was left "
                "as it was before this call. Use a smaller learning_rate_init (now "
                f"{self._learning_rate_init():g}) or scale the data (e.g. StandardScaler); "
                "note that partial_fit keeps the mean_ and scale_ of its first call's data."
            ) from None
        self._commit(state, result, incremental)

    def _new_state(self, X, sample_weight, sizes):
        """A fresh model for data like ``X``: nothing is stored on ``self`` yet."""
        rng = self._new_rng()
        if self.loss == "squared_error":
            mean, scale = weighted_moments(X, sample_weight)
            mean = mean.astype(X.dtype)
            scale = scale if np.isfinite(scale) and scale > 0 else 1.0
            loader = RowLoader(mean, scale)
        else:
            mean, scale = np.zeros(X.shape[1], dtype=X.dtype), 1.0
            loader = RowLoader(None, 1.0)
        objective = self._make_objective(X.shape[1], sizes, loader)
        return {
            "objective": objective,
            "theta": objective.init(X, sample_weight, rng),
            "rng": rng,
            "optimizer": None,
            "mean_": mean,
            "scale_": scale,
            "_fitted_layout": self._layout(sizes),
            "loss_curve_": [],
            "validation_loss_curve_": None,
            "best_loss_": np.inf,
            "n_iter_": 0,
            "t_": 0,
        }

    def _warm_state(self, incremental):
        """The fitted model, to continue from: copies of what training changes.

        Only ``partial_fit`` goes on with the optimizer's state; a warm-started
        ``fit`` makes a new optimizer.
        """
        names = ("mean_", "scale_", "_fitted_layout", "loss_curve_", "validation_loss_curve_")
        state = {name: getattr(self, name) for name in names}
        state.update(
            objective=self._objective,
            theta=self._theta.copy(),
            # A RandomState the estimator made is copied, so that a failed call
            # leaves it as it was; one the user passed is used (and advanced) as
            # it is, never replaced by a copy.
            rng=self._rng if self._rng_is_users() else copy.deepcopy(self._rng),
            optimizer=self._optimizer.copy() if incremental and self._optimizer else None,
            best_loss_=self.best_loss_,
            n_iter_=self.n_iter_,
            t_=self.t_,
        )
        return state

    def _new_rng(self):
        if self._rng_is_users():
            return self.random_state
        if self.random_state is None:
            # A generator of the estimator's own, seeded from NumPy's global one.
            return np.random.RandomState(check_random_state(None).randint(INT32_MAX))
        return check_random_state(self.random_state)

    def _rng_is_users(self):
        return isinstance(self.random_state, np.random.RandomState)

    def _early_stopping_on(self, n_samples, incremental=False):
        """Whether a fit on ``n_samples`` rows holds some out (None: not yet known)."""
        if incremental or self.solver == "lbfgs":
            return False
        if self.early_stopping == "auto":
            return None if n_samples is None else n_samples >= EARLY_STOPPING_AUTO_ROWS
        return bool(self.early_stopping)

    def _learning_rate_init(self):
        """``learning_rate_init``, with "auto" resolved (see the subclasses' docstrings)."""
        if self.learning_rate_init == "auto":
            return 0.003 if getattr(self, "n_neighbors", None) is not None else 0.001
        return self.learning_rate_init

    def _make_optimizer(self, theta):
        n, dtype, rate = theta.size, theta.dtype, self._learning_rate_init()
        if self.solver == "adam":
            return Adam(n, dtype, rate, self.beta_1, self.beta_2, self.epsilon)
        return SGD(
            n,
            dtype,
            rate,
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

    def _neighbor_training(self, state, X, rows, sample_weight, rng):
        """``(objective, n_epochs)`` for training with a term that samples its own
        batches from the data (the neighbour graph), or None; see subclasses."""
        return None

    def _train_stochastic(self, state, X, sample_weight, incremental):
        n_samples = X.shape[0]
        rng = state["rng"]
        rows, validation_rows = np.arange(n_samples), None
        objective, batch_size = state["objective"], self.batch_size
        rule = StoppingRule(1 if incremental else self.max_iter, self.tol, self.n_iter_no_change)
        graph = self._neighbor_training(state, X, rows, sample_weight, rng)
        if graph is not None:
            objective, n_epochs = graph
            rule = StoppingRule(n_epochs, anneal=True)
            batch_size = 1024 if batch_size == "auto" else batch_size
        elif self._early_stopping_on(n_samples, incremental):
            n_val = int(np.ceil(self.validation_fraction * n_samples))
            if n_val >= n_samples:
                raise ValueError(
                    f"early_stopping with validation_fraction={self.validation_fraction} "
                    f"leaves no training rows out of {n_samples}."
                )
            permutation = rng.permutation(n_samples)
            validation_rows, rows = np.sort(permutation[:n_val]), np.sort(permutation[n_val:])
        if batch_size == "auto":
            batch_size = min(200, rows.size)
        elif graph is None:
            if batch_size > rows.size and not incremental:
                warnings.warn(
                    f"batch_size={batch_size} is larger than the {rows.size} "
                    "training rows; it is clipped to that.",
                    UserWarning,
                    stacklevel=2,
                )
            batch_size = min(batch_size, rows.size)
        optimizer = state["optimizer"] if incremental else None
        if optimizer is None:
            optimizer = self._make_optimizer(state["theta"])
        return train_stochastic(
            objective,
            state["theta"],
            optimizer,
            X,
            rows,
            rule,
            validation_rows=validation_rows,
            sample_weight=sample_weight,
            batch_size=batch_size,
            alpha=self.alpha,
            shuffle=self.shuffle,
            rng=rng,
            noise_rng=self._noise_rng(objective, rng),
            best_loss=state["best_loss_"] if incremental else np.inf,
            samples_seen=state["t_"],
            verbose=self.verbose,
        )

    def _train_lbfgs(self, state, X, sample_weight):
        return train_lbfgs(
            state["objective"],
            state["theta"],
            X,
            StoppingRule(self.max_iter, self.tol, self.n_iter_no_change),
            sample_weight=sample_weight,
            alpha=self.alpha,
            max_fun=self.max_fun,
            noise_rng=self._noise_rng(state["objective"], state["rng"]),
            verbose=self.verbose,
        )

    def _commit(self, state, result, incremental):
        """Store the trained model; warn about how training ended."""
        self._objective = state["objective"]
        self._theta = result.theta
        self._optimizer = result.optimizer
        self._rng = state["rng"]
        self._fitted_layout = state["_fitted_layout"]
        self.mean_, self.scale_ = state["mean_"], state["scale_"]
        self.loss_curve_ = state["loss_curve_"] + result.loss_curve
        validation = state["validation_loss_curve_"]
        if result.validation_loss_curve is not None:
            validation = (validation or []) + result.validation_loss_curve
        self.validation_loss_curve_ = validation
        self.best_loss_ = result.best_loss
        if self.solver == "lbfgs":
            self.n_iter_, self.t_ = result.n_iter, state["t_"]
        else:
            self.n_iter_, self.t_ = state["n_iter_"] + result.n_iter, result.samples_seen
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
                    message += f" (epoch {state['n_iter_'] + result.best_epoch})."
            warnings.warn(message, UserWarning, stacklevel=2)
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
            warnings.warn(message, ConvergenceWarning, stacklevel=2)

    # ------------------------------------------------- transforms and scores

    def _check_X(self, X):
        check_is_fitted(self, "_theta")
        return _numeric(
            validate_data,
            self,
            X,
            reset=False,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
        )

    def _encode(self, X):
        """Codes of validated ``X``, a chunk of rows at a time."""
        params = self._encoder_params(X.dtype)
        out = np.empty((X.shape[0], self.n_components), dtype=X.dtype)
        for rows in chunks(X.shape[0], CHUNK_ROWS):
            out[rows] = self._encode_rows(params, X[rows])
        return out

    def _decode(self, Z):
        """Reconstructions of codes ``Z``, a chunk of rows at a time."""
        params = self._decoder_params(Z.dtype)
        out = np.empty((Z.shape[0], self.n_features_in_), dtype=Z.dtype)
        for rows in chunks(Z.shape[0], CHUNK_ROWS):
            out[rows] = self._decode_rows(params, Z[rows])
        return out

    @property
    def coefs_(self):
        check_is_fitted(self, "_theta")
        return [W for W, _ in self._objective.parameters(self._theta)]

    @property
    def intercepts_(self):
        check_is_fitted(self, "_theta")
        return [b for _, b in self._objective.parameters(self._theta)]

    def transform(self, X):
        """Encode ``X``: the code of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The codes, in the dtype of ``X`` (float32 stays float32).
        """
        return _finite(self._encode(self._check_X(X)), "transform")

    def inverse_transform(self, X):
        """Decode codes back to feature space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features)
            The decoder's output (in [0, 1] for binary cross-entropy).
        """
        check_is_fitted(self, "_theta")
        Z = _numeric(check_array, X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} features, but inverse_transform expects codes "
                f"with n_components={self.n_components} features."
            )
        return _finite(self._decode(Z), "inverse_transform")

    def score_samples(self, X):
        """Negative mean squared reconstruction error of each row.

        Higher is better; low values flag rows the model reconstructs badly
        (an anomaly score).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-mean((x - inverse_transform(transform(x))) ** 2)`` per row, in
            float64 (the squares of float32 data may not fit in float32).
        """
        X = self._check_X(X)
        encoder, decoder = self._encoder_params(X.dtype), self._decoder_params(X.dtype)
        scores = np.empty(X.shape[0])
        for rows in chunks(X.shape[0], CHUNK_ROWS):
            block = X[rows]
            block = block.toarray() if sp.issparse(block) else block
            scores[rows] = self._score_rows(encoder, decoder, block)
        return _finite(scores, "score_samples")

    def _score_rows(self, encoder, decoder, X):
        """``score_samples`` of a dense chunk ``X``."""
        reconstruction = self._decode_rows(decoder, self._encode_rows(encoder, X))
        error = (reconstruction - X).astype(np.float64, copy=False)
        return -np.einsum("ij,ij->i", error, error) / X.shape[1]

    def score(self, X, y=None, sample_weight=None):
        """Mean of :meth:`score_samples`: higher is better.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the mean.

        Returns
        -------
        score : float
            The negative (weighted) mean squared reconstruction error.
        """
        scores = self.score_samples(X)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, scores[:, None])
        return float(np.average(scores, weights=sample_weight))

    # --------------------------------------------------------- persistence

    def __getstate__(self):
        state = super().__getstate__()
        state["_skae_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_skae_version", "pre-0.1")
        if version != __version__:
            warnings.warn(
                f"This {type(self).__name__} was pickled with skae {version} and is "
                f"loaded with skae {__version__}; it may not work or give other "
                "results. Refit it, or load it with the version that saved it.",
                UserWarning,
                stacklevel=2,
            )
        super().__setstate__(state)

    @property
    def _n_features_out(self):
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_")
