"""Errors say what is wrong, and warnings point at the user's line."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

from skae import AutoencoderTransformer, VariationalAutoencoder


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).normal(size=(40, 5))


@pytest.mark.parametrize(
    "estimator, reason",
    [
        (AutoencoderTransformer(n_neighbors=5), "it does not support n_neighbors: .* Use fit"),
        (AutoencoderTransformer(solver="lbfgs"), "it needs a stochastic solver .*not 'lbfgs'"),
        (VariationalAutoencoder(solver="lbfgs"), "it needs a stochastic solver"),
    ],
    ids=["n_neighbors", "lbfgs", "vae-lbfgs"],
)
def test_a_missing_partial_fit_says_why(estimator, reason, X):
    # hasattr stays False (dask-ml's Incremental and scikit-learn's checks ask it) ...
    assert not hasattr(estimator, "partial_fit")
    # ... and whoever calls it reads the reason.
    message = f"This '{type(estimator).__name__}' has no attribute 'partial_fit': {reason}"
    with pytest.raises(AttributeError, match=message):
        estimator.partial_fit(X)
    with pytest.raises(AttributeError, match=reason):
        type(estimator).partial_fit(estimator, X)


def test_partial_fit_is_there_for_the_stochastic_solvers(X):
    for estimator in (AutoencoderTransformer(solver="sgd"), VariationalAutoencoder()):
        assert hasattr(estimator, "partial_fit")
        assert type(estimator).partial_fit.__doc__.startswith("Run one epoch")


@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, VariationalAutoencoder])
def test_fit_on_one_row_is_refused(Estimator, X):
    estimator = Estimator(hidden_layer_sizes=(3,), max_iter=2)
    with pytest.raises(ValueError, match=r"1 sample\(s\) \(shape=\(1, 5\)\) while a minimum of 2"):
        estimator.fit(X[:1])
    assert not hasattr(estimator, "n_features_in_")


def test_partial_fit_takes_a_chunk_of_one_row(X):
    ae = AutoencoderTransformer(hidden_layer_sizes=(3,), random_state=0).partial_fit(X[:10])
    ae.partial_fit(X[10:11])  # the last chunk of a stream may hold one row
    assert ae.t_ == 11


def _convergence_warning(call):
    with pytest.warns(ConvergenceWarning) as record:
        call()
    return [w for w in record if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize("how", ["fit", "fit_transform", "pipeline"])
def test_convergence_warning_points_at_the_callers_line(how, X):
    ae = AutoencoderTransformer(hidden_layer_sizes=(3,), max_iter=1, tol=0, random_state=0)
    calls = {
        "fit": lambda: ae.fit(X),
        "fit_transform": lambda: ae.fit_transform(X),
        "pipeline": lambda: make_pipeline(ae).fit(X),
    }
    (warning,) = _convergence_warning(calls[how])
    assert warning.filename == __file__


def test_one_row_is_encoded_decoded_and_scored(X):
    ae = AutoencoderTransformer(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X)
    codes = ae.transform(X[:1])
    assert codes.shape == (1, 2) and ae.inverse_transform(codes).shape == (1, 5)
    assert np.isfinite(ae.score_samples(X[:1])).all() and np.isfinite(ae.score(X[:1]))
