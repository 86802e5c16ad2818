"""What the autoencoders share: the scikit-learn glue, transforms, scores, persistence.

:class:`BaseAutoencoder` declares the parameters' constraints, takes ``fit``
and ``partial_fit`` from :class:`~skae._fitting.FitMixin`, and runs
``transform``, ``inverse_transform`` and the scores a chunk of rows at a time,
with the parameters folded once per call. What these compute comes from the
fitted state alone (the layout ``_network``, the parameters ``_theta``,
``mean_``, ``scale_``, ``n_components_``, ``out_activation_`` and what a
subclass adds): ``set_params`` after ``fit`` changes nothing until the next
fit.

Besides the hooks of :mod:`skae._fitting`, a subclass defines:

- ``_encoder_params(dtype)`` / ``_decoder_params(dtype)``: the parameters,
  folded to read raw ``X`` or write raw reconstructions;
- ``_encode_rows(params, X)``, ``_decode_rows(params, Z)`` and optionally
  ``_score_rows(encoder_params, decoder_params, X)``: one chunk of rows.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._activations import ACTIVATIONS
from ._compat import Interval, StrOptions, _check_sample_weight
from ._data import CHUNK_ROWS, chunks
from ._fitting import FitMixin
from ._losses import LOSSES
from ._validation import check_numeric
from ._version import __version__

__all__ = ["BaseAutoencoder"]


def _finite(values, what):
    """Refuse to return non-finite results computed from finite input."""
    if not np.isfinite(values).all():
        raise ValueError(
            f"{what} overflowed: X holds values far beyond the scale of the data "
            "the autoencoder was fitted on, or too large to square in its dtype. "
            "Scale X (e.g. StandardScaler) before the autoencoder."
        )
    return values


class BaseAutoencoder(FitMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Parameters, transforms, scores and persistence; fitting from :class:`FitMixin`."""

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

    # ------------------------------------------------- transforms and scores

    def _check_X(self, X):
        check_is_fitted(self, "_theta")
        return check_numeric(
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
        out = np.empty((X.shape[0], self.n_components_), dtype=X.dtype)
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
        return [W for W, _ in self._network.parameters(self._theta)]

    @property
    def intercepts_(self):
        check_is_fitted(self, "_theta")
        return [b for _, b in self._network.parameters(self._theta)]

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
        Z = check_numeric(check_array, X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {Z.shape[1]} features, but inverse_transform expects codes of "
                f"{self.n_components_} features (n_components_={self.n_components_})."
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

    def _reconstruct(self, raw):
        """The reconstruction from the decoder's pre-activation, in place."""
        ACTIVATIONS[self.out_activation_](raw)
        return raw

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
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
