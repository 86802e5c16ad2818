"""Reliability: bad input, divergence, interruption, properties, persistence."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skae
from skae import AutoencoderTransformer

METHODS = ["fit", "partial_fit", "transform", "inverse_transform", "score", "score_samples"]
RNG = np.random.RandomState(0)
GOOD = RNG.normal(size=(20, 4))


def model(**params):
    base = dict(n_components=2, hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    base.update(params)
    return AutoencoderTransformer(**base)


@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model().fit(GOOD)


def call(estimator, method, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "fit":
            return estimator.fit(X).transform(X)
        if method == "partial_fit":
            return estimator.partial_fit(X).transform(X)
        return getattr(estimator, method)(X)


def nonfinite(value):
    return np.where(GOOD > 1.5, value, GOOD)


# Input that must be refused by every method: (data, error, word of the message).
REFUSED = {
    "nan": (nonfinite(np.nan), ValueError, "NaN"),
    "+inf": (nonfinite(np.inf), ValueError, "infinity"),
    "-inf": (nonfinite(-np.inf), ValueError, "infinity"),
    "empty": (np.empty((0, 4)), ValueError, "0 sample"),
    "1-D": (GOOD[:, 0], ValueError, "2D"),
    "3-D": (GOOD.reshape(20, 2, 2), ValueError, "dim 3"),
    "strings": (np.array([["a", "b", "c", "d"]] * 3), ValueError, "numbers only"),
    "object with text": (
        np.array([[1, "a", 2.0, 3]] * 3, dtype=object),
        ValueError,
        "numbers only",
    ),
    "complex": (GOOD + 1j, ValueError, "Complex"),
    "sparse with NaN": (sp.csr_matrix(nonfinite(np.nan)), (ValueError, TypeError), "NaN|dense"),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_plainly(fitted, method, case):
    X, error, match = REFUSED[case]
    estimator = model() if method == "fit" else pickle.loads(pickle.dumps(fitted))
    before = pickle.dumps(estimator)
    with pytest.raises(error, match=match):
        call(estimator, method, X)
    assert pickle.dumps(estimator) == before  # a failed call changes nothing


def test_mixed_dtype_frame(fitted):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [1.5, 2.0, 3.0], "c": ["x", "y", "z"]})
    with pytest.raises(ValueError, match="numbers only"):
        model().fit(frame)
    numeric = pd.DataFrame({"a": [1, 2, 3], "b": [1.5, 2, 3], "c": [True, False, True]})
    assert np.isfinite(call(model(), "fit", numeric)).all()


# Input that every method must take, returning finite values.
ACCEPTED = {
    "booleans": GOOD > 0,
    "integers": (GOOD * 10).astype(np.int64),
    "object numbers": GOOD.astype(object),
    "1e30": GOOD * 1e30,
    "1e30 float32": (GOOD * 1e30).astype(np.float32),
    "constant columns": np.c_[GOOD[:, :2], np.ones((20, 2))],
    "all constant": np.ones((20, 4)),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_awkward_but_valid_input_works(fitted, case):
    X = ACCEPTED[case]
    for method in ["fit", "score_samples", "score"]:
        estimator = model() if method == "fit" else model().fit(X)
        out = call(estimator, method, X)
        assert np.isfinite(out).all()
    fresh = model().fit(X)
    codes = fresh.transform(X)
    assert np.isfinite(fresh.inverse_transform(codes)).all()
    assert np.isfinite(call(fresh, "partial_fit", X)).all()


def test_huge_data_trains_through_internal_scaling():
    X = GOOD * 1e30
    ae = model(max_iter=30).fit(X)
    small = model(max_iter=30).fit(GOOD)
    # Relative reconstruction error does not depend on the data's unit.
    assert -ae.score(X) / 1e60 == pytest.approx(-small.score(GOOD), rel=1e-3)


def test_one_feature_and_overcomplete_code():
    X = GOOD[:, :1]
    ae = model(n_components=3).fit(X)  # more components than features: allowed
    assert ae.transform(X).shape == (20, 3)
    assert np.isfinite(ae.inverse_transform(ae.transform(X))).all()


def test_wrong_widths_are_named(fitted):
    with pytest.raises(ValueError, match="4 features"):
        fitted.transform(GOOD[:, :3])
    with pytest.raises(ValueError, match=r"n_components_=2"):
        fitted.inverse_transform(np.zeros((2, 3)))
    for sizes in [(0,), (4, -1)]:
        with pytest.raises(ValueError, match="hidden_layer_sizes"):
            model(hidden_layer_sizes=sizes).fit(GOOD)


def test_scores_that_cannot_be_represented_are_refused():
    ae = model().fit(GOOD * 1e300)
    assert np.isfinite(ae.transform(GOOD * 1e300)).all()
    with pytest.raises(ValueError, match="overflowed"):
        ae.score_samples(GOOD * 1e300)  # the squared error exceeds float64


def test_output_overflow_is_refused(fitted):
    ae = pickle.loads(pickle.dumps(fitted))
    for W in ae.coefs_:
        W *= 1e200  # weights no data would give, to force an overflow
    # NumPy warns of the overflow it meets on the way; the error is what counts.
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(ValueError, match="overflowed"):
            ae.inverse_transform(np.full((2, 2), 1e200))
        with pytest.raises(ValueError, match="overflowed"):
            ae.transform(GOOD * 1e200)


# ---------------------------------------------------------------- divergence


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_divergence_raises_and_keeps_nothing_nan(solver):
    ae = model(solver=solver, learning_rate_init=1e60, max_iter=50, linear_path=False)
    with pytest.raises(ValueError, match="smaller learning_rate_init"):
        ae.fit(GOOD * 1e3)
    assert not hasattr(ae, "coefs_") or np.isfinite(ae._theta).all()


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_failed_update_leaves_the_model_exactly_as_it_was(how):
    ae = model(solver="sgd", warm_start=how == "warm_start").fit(GOOD)
    before = pickle.dumps(ae)
    transform_before = ae.transform(GOOD)
    ae.set_params(learning_rate_init=1e9, momentum=0.0)
    with pytest.raises(ValueError, match="diverged"):
        if how == "partial_fit":
            ae.partial_fit(GOOD * 1e200)
        else:
            ae.fit(GOOD * 1e200)
    ae.set_params(learning_rate_init="auto", momentum=0.9)  # the parameters as they were
    assert pickle.dumps(ae) == before
    np.testing.assert_array_equal(ae.transform(GOOD), transform_before)


# -------------------------------------------------------------- interruption


@pytest.mark.parametrize("early_stopping", [False, True])
def test_interrupt_keeps_the_best_epoch(early_stopping, interrupt_after):
    X = np.random.RandomState(1).normal(size=(100, 6))
    ae = interrupt_after(
        2,
        hidden_layer_sizes=(8,),
        batch_size=10,
        max_iter=50,
        random_state=0,
        early_stopping=early_stopping,
    )
    ae.interrupt_at = 10 * 6 + 3  # inside an epoch after several ended
    with pytest.warns(UserWarning, match="interrupted"):
        ae.fit(X)
    assert np.isfinite(ae.transform(X)).all()
    assert 4 <= ae.n_iter_ <= 6 and len(ae.loss_curve_) == ae.n_iter_
    watched = ae.validation_loss_curve_ if early_stopping else ae.loss_curve_
    assert ae.best_loss_ == min(watched)


def test_interrupt_in_lbfgs_keeps_a_usable_model(interrupt_after):
    ae = interrupt_after(2, hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    ae.interrupt_at = 15
    with pytest.warns(UserWarning, match="interrupted"):
        ae.fit(GOOD)
    assert np.isfinite(ae.transform(GOOD)).all()


# ---------------------------------------------------------------- persistence


def test_pickle_records_the_version_and_warns_on_another(fitted):
    state = fitted.__getstate__()
    assert state["_skae_version"] == skae.__version__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(fitted))  # same version: silent
    state["_skae_version"] = "0.0.1"
    clone = AutoencoderTransformer.__new__(AutoencoderTransformer)
    with pytest.warns(UserWarning, match="0.0.1"):
        clone.__setstate__(state)
    np.testing.assert_array_equal(clone.transform(GOOD), fitted.transform(GOOD))


# ------------------------------------------------------------ property-based


@st.composite
def problems(draw):
    n_samples = draw(st.integers(2, 12))
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    loss = draw(st.sampled_from(["squared_error", "binary_crossentropy"]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    X = rng.uniform(0, 1, size=(n_samples, n_features))
    if loss == "squared_error":
        X = X * draw(st.sampled_from([1e-3, 1.0, 1e3])) + draw(st.sampled_from([0.0, -5.0]))
    params = dict(
        n_components=draw(st.integers(1, 4)),
        hidden_layer_sizes=draw(st.sampled_from([(), (3,), (4, 2)])),
        activation=draw(st.sampled_from(sorted(skae._activations.ACTIVATIONS))),
        solver=draw(st.sampled_from(["adam", "sgd", "lbfgs"])),
        linear_path=draw(st.booleans()),
        loss=loss,
        max_iter=3,
        random_state=seed,
    )
    return X.astype(dtype), params


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_fit_on_valid_input_never_fails(problem):
    X, params = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae = AutoencoderTransformer(**params).fit(X)
    Z = ae.transform(X)
    assert Z.dtype == X.dtype and np.isfinite(Z).all()
    np.testing.assert_array_equal(ae.transform(X), Z)  # deterministic
    reconstruction = ae.inverse_transform(Z)
    assert reconstruction.shape == X.shape and np.isfinite(reconstruction).all()
    assert np.isfinite(ae.score_samples(X)).all()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(ae)).transform(X), Z)


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(["squared_error", "binary_crossentropy"]),
    st.sampled_from(sorted(skae._activations.ACTIVATIONS)),
    st.sampled_from([np.float32, np.float64]),
    st.floats(1e2, 1e4),
    st.integers(0, 1000),
)
def test_no_floating_point_error_for_large_logits(loss, activation, dtype, magnitude, seed):
    rng = np.random.RandomState(seed)
    X = (rng.uniform(size=(16, 5)) > 0.5).astype(dtype)
    ae = AutoencoderTransformer(
        2,
        hidden_layer_sizes=(4,),
        activation=activation,
        loss=loss,
        max_iter=2,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae.fit(X)
    # Every pre-activation, the output logits among them, at about +-magnitude.
    for b in ae.intercepts_:
        b[...] = magnitude * rng.choice([-1.0, 1.0], size=b.shape)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isfinite(ae.transform(X)).all()
        assert np.isfinite(ae.inverse_transform(ae.transform(X))).all()
        ae.set_params(warm_start=True, max_iter=1, learning_rate_init=1e-12)
        ae.fit(X)
