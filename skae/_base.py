"""The training loop and scikit-learn glue shared by the autoencoders.

This is the only module that imports scikit-learn's private helpers
(``_fit_context``, ``_param_validation``, ``_check_sample_weight``), so a
release that moves them breaks one place.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._activations import ACTIVATIONS
from ._data import CHUNK_ROWS, chunks, load_rows, weighted_moments
from ._losses import LOSSES
from ._optimizers import SGD, Adam
from ._training import fit_lbfgs, fit_stochastic, head
from ._version import __version__

# early_stopping="auto" holds rows out from this many rows on: below it an
# epoch is cheap and a tenth of the rows is a real loss of training data; above
# it the validation loss is a steady signal and the epochs are what cost (see
# the README's benchmark section for the measurements behind the number).
EARLY_STOPPING_AUTO_ROWS = 2000

__all__ = ["BaseAutoencoder"]


def _is_stochastic(estimator):
    return estimator.solver in ("sgd", "adam")


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
    """Validation, solvers, training loop, scoring and persistence.

    Subclasses define the network through these hooks:

    - ``_layout(sizes)``: the parameters that fix the layout of ``_theta``;
    - ``_init_network(X, sample_weight, sizes)``: set ``_network`` and ``_theta``;
    - ``_allocate(n_rows, dtype)``: batch buffers, allocated once per fit;
    - ``_noise_source()``: a ``numpy.random.Generator`` for training noise, or None;
    - ``_batch_loss(theta, X, rows, sample_weight, total_weight, buffers, grad,
      rng=None, workspace=None)``: the objective of a batch and its gradient;
    - ``_encode(X)`` and ``_decode(Z)``: codes of validated ``X``, and raw
      reconstructions of codes.
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions(set(LOSSES))],
        "solver": [StrOptions({"adam", "sgd", "lbfgs"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
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

    @available_if(_is_stochastic)
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

    def _fit(self, X, sample_weight, incremental):
        before = copy.deepcopy(self.__dict__)
        try:
            # Values that underflow to zero (squared tiny gradients, saturated
            # units) are harmless here, even under np.errstate(all="raise").
            with np.errstate(under="ignore"):
                self._fit_or_raise(X, sample_weight, incremental)
        except BaseException:
            # A failed call leaves the estimator exactly as it was.
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def _fit_or_raise(self, X, sample_weight, incremental):
        sizes = _check_layer_sizes(self.hidden_layer_sizes)
        warm = hasattr(self, "_theta") and (incremental or self.warm_start)
        X = _numeric(
            validate_data,
            self,
            X,
            reset=not warm,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_min_samples=(
                2 if self.early_stopping not in ("auto", False) and not incremental else 1
            ),
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if sample_weight.sum() <= 0:
                raise ValueError("sample_weight must have a positive sum.")
        if self.loss == "binary_crossentropy":
            low, high = (
                (X.data.min(initial=0), X.data.max(initial=0))
                if sp.issparse(X)
                else (X.min(), X.max())
            )
            if low < 0 or high > 1:
                raise ValueError(
                    'loss="binary_crossentropy" needs X in [0, 1]; got values in '
                    f"[{low:g}, {high:g}]. Scale X (e.g. MinMaxScaler) or use "
                    'loss="squared_error".'
                )
        if warm and self._layout(sizes) != self._fitted_layout:
            *names, last = self._layout(sizes)
            raise ValueError(
                f"{', '.join(names)} and {last} cannot change on a warm "
                "start or partial_fit; refit with warm_start=False."
            )
        if not warm:
            self._initialize(X, sample_weight, sizes, incremental)
        if self.solver == "lbfgs":
            fit_lbfgs(self, X, sample_weight)
        else:
            fit_stochastic(self, X, sample_weight, incremental)

    def _initialize(self, X, sample_weight, sizes, incremental=False):
        self._rng = check_random_state(self.random_state)
        dtype = X.dtype
        n_features = X.shape[1]
        if self.loss == "squared_error":
            mean, scale = weighted_moments(X, sample_weight)
            self.mean_ = mean.astype(dtype)
            self.scale_ = scale if np.isfinite(scale) and scale > 0 else 1.0
        else:
            self.mean_ = np.zeros(n_features, dtype=dtype)
            self.scale_ = 1.0
        self._init_network(X, sample_weight, sizes)
        self._fitted_layout = self._layout(sizes)
        self._optimizer = None
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.validation_loss_curve_ = (
            [] if self._early_stopping_on(X.shape[0], incremental) else None
        )
        self.best_loss_ = np.inf

    def _early_stopping_on(self, n_samples, incremental=False):
        """Whether a fit on ``n_samples`` rows holds some out to stop early."""
        if incremental or self.solver == "lbfgs":
            return False
        if self.early_stopping == "auto":
            return n_samples >= EARLY_STOPPING_AUTO_ROWS
        return bool(self.early_stopping)

    def _make_optimizer(self):
        n, dtype = self._theta.size, self._theta.dtype
        if self.solver == "adam":
            return Adam(n, dtype, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon)
        return SGD(
            n,
            dtype,
            self.learning_rate_init,
            self.learning_rate,
            self.power_t,
            self.momentum,
            self.nesterovs_momentum,
        )

    def _load_batch(self, X, rows, sample_weight, total_weight, out):
        """Write the network's view of ``X[rows]`` into ``out``; return the rows' weights."""
        load_rows(X, rows, out)
        if self.loss == "squared_error":
            out -= self.mean_
            out *= 1.0 / self.scale_
        if sample_weight is None:
            return 1.0 / total_weight
        return sample_weight[rows] / total_weight

    def _dataset_loss(self, X, sample_weight, rows, buffers, capacity):
        """Weighted mean loss over clean ``X[rows]``, ``capacity`` rows at a time."""
        total = len(rows) if sample_weight is None else sample_weight[rows].sum()
        loss = 0.0
        for part in chunks(len(rows), capacity):
            loss += self._batch_loss(
                self._theta,
                X,
                rows[part],
                sample_weight,
                total,
                head(buffers, part.stop - part.start),
                None,
            )
        return loss

    def _diverged(self):
        return ValueError(
            "Training diverged: the loss became non-finite. The estimator was left "
            "as it was before this call. Use a smaller learning_rate_init (now "
            f"{self.learning_rate_init:g}) or scale the data (e.g. StandardScaler); "
            "note that partial_fit keeps the mean_ and scale_ of its first call's data."
        )

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
        out = np.empty((Z.shape[0], self.n_features_in_), dtype=Z.dtype)
        for rows in chunks(Z.shape[0], CHUNK_ROWS):
            out[rows] = self._decode(Z[rows])
        return _finite(out, "inverse_transform")

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
        scores = np.empty(X.shape[0])
        for rows in chunks(X.shape[0], CHUNK_ROWS):
            block = X[rows]
            block = block.toarray() if sp.issparse(block) else block
            error = (self._decode(self._encode(block)) - block).astype(np.float64, copy=False)
            scores[rows] = -np.einsum("ij,ij->i", error, error) / X.shape[1]
        return _finite(scores, "score_samples")

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
