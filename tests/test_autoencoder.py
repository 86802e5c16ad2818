"""AutoencoderTransformer: behaviour of the estimator."""

import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import subspace_angles
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y


@pytest.fixture
def small():
    return np.random.RandomState(0).normal(size=(60, 6))


def quick(**params):
    base = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    base.update(params)
    return AutoencoderTransformer(**base)


# ---------------------------------------------------------------- PCA optimum


@pytest.mark.parametrize("n_components", [2, 8, 16])
def test_linear_autoencoder_reaches_pca(digits, n_components):
    X_train, X_test = train_test_split(digits[0], test_size=0.25, random_state=0)
    pca = PCA(n_components).fit(X_train)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
    ae = AutoencoderTransformer(
        n_components,
        hidden_layer_sizes=(),
        activation="identity",
        linear_path=False,
        solver="lbfgs",
        alpha=0.0,
        max_iter=3000,
        tol=1e-6,
        random_state=0,
    ).fit(X_train)
    ae_mse = -ae.score(X_test)
    assert ae_mse <= 1.01 * pca_mse
    # The decoder's rows span PCA's subspace: largest principal angle near 0.
    decoder = ae.coefs_[-1]
    assert np.max(subspace_angles(decoder.T, pca.components_.T)) < 2e-2


def test_linear_path_starts_at_pca(digits):
    X = digits[0]
    pca = PCA(8).fit(X)
    ae = AutoencoderTransformer(8, random_state=0, alpha=0.0, max_iter=1)
    ae.set_params(learning_rate_init=1e-12).fit(X)  # no step of consequence
    np.testing.assert_allclose(
        ae.inverse_transform(ae.transform(X)),
        pca.inverse_transform(pca.transform(X)),
        atol=1e-6,
    )


def test_default_beats_pca_on_digits(digits):
    X_train, X_test = train_test_split(digits[0], test_size=0.25, random_state=0)
    pca = PCA(8).fit(X_train)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
    ae = AutoencoderTransformer(8, random_state=0, max_iter=30).fit(X_train)
    assert -ae.score(X_test) < pca_mse


# ------------------------------------------------------------- scikit-learn


def test_pipeline_with_kmeans(digits):
    X, y = digits
    pipe = make_pipeline(
        StandardScaler(), quick(n_components=4, max_iter=10), KMeans(10, n_init=2, random_state=0)
    )
    labels = pipe.fit_predict(X[:500])
    assert labels.shape == (500,)
    assert len(np.unique(labels)) == 10


def test_grid_search_uses_own_score(digits):
    X = digits[0][:300]
    grid = GridSearchCV(
        quick(max_iter=10),
        {"hidden_layer_sizes": [(8,), (16,)], "n_components": [2, 4]},
        cv=2,
        n_jobs=2,
    ).fit(X)
    scores = grid.cv_results_["mean_test_score"]
    assert scores.shape == (4,) and np.all(scores < 0)
    assert grid.best_params_["n_components"] == 4  # more components reconstruct better
    assert grid.best_estimator_.transform(X).shape == (300, 4)


def test_set_output_pandas_and_feature_names(small):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(small, columns=[f"f{i}" for i in range(6)])
    ae = quick().set_output(transform="pandas").fit(frame)
    Z = ae.transform(frame)
    assert list(Z.columns) == ["autoencodertransformer0", "autoencodertransformer1"]
    np.testing.assert_array_equal(ae.feature_names_in_, frame.columns)
    with pytest.raises(ValueError, match="feature names"):
        ae.transform(frame.rename(columns={"f0": "other"}))


def test_score_samples_is_negative_mse(small):
    ae = quick().fit(small)
    reconstruction = ae.inverse_transform(ae.transform(small))
    expected = -np.mean((small - reconstruction) ** 2, axis=1)
    np.testing.assert_allclose(ae.score_samples(small), expected, rtol=1e-10)
    weights = np.arange(60.0)
    assert ae.score(small, sample_weight=weights) == pytest.approx(
        np.average(expected, weights=weights)
    )


# ------------------------------------------------------------------ inputs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(small, dtype):
    X = small.astype(dtype)
    ae = quick().fit(X)
    assert ae._theta.dtype == dtype
    assert ae.transform(X).dtype == dtype
    assert ae.inverse_transform(ae.transform(X)).dtype == dtype
    assert ae.score_samples(X).dtype == np.float64  # squares of float32 data may not fit


def test_integer_input_becomes_float64(small):
    X = (small * 10).astype(np.int64)
    assert quick().fit(X).transform(X).dtype == np.float64


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix, sp.csr_array])
def test_sparse_input_matches_dense(container):
    rng = np.random.RandomState(0)
    X = sp.random(80, 12, density=0.3, random_state=rng, format="csr").toarray()
    dense = quick().fit(X)
    sparse = quick().fit(container(X))
    np.testing.assert_allclose(sparse.transform(container(X)), dense.transform(X), atol=1e-10)
    np.testing.assert_allclose(sparse.score_samples(container(X)), dense.score_samples(X))


def test_binary_crossentropy(digits):
    X = digits[0][:200] / 16.0
    ae = quick(loss="binary_crossentropy", max_iter=20).fit(X)
    reconstruction = ae.inverse_transform(ae.transform(X))
    assert reconstruction.min() >= 0 and reconstruction.max() <= 1
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        quick(loss="binary_crossentropy").fit(digits[0][:50])


# ---------------------------------------------------------------- training


def test_same_random_state_same_result(small):
    a = quick(max_iter=3).fit_transform(small)
    b = quick(max_iter=3).fit_transform(small)
    np.testing.assert_array_equal(a, b)
    c = quick(max_iter=3, random_state=1).fit_transform(small)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("dump_load", ["pickle", "joblib"])
def test_round_trip_gives_identical_transform(small, tmp_path, dump_load):
    ae = quick().fit(small)
    if dump_load == "pickle":
        loaded = pickle.loads(pickle.dumps(ae))
    else:
        joblib.dump(ae, tmp_path / "ae.joblib")
        loaded = joblib.load(tmp_path / "ae.joblib")
    np.testing.assert_array_equal(loaded.transform(small), ae.transform(small))
    # The layer views still point into the one flat vector after loading.
    assert all(np.shares_memory(W, loaded._theta) for W in loaded.coefs_)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_solvers_lower_the_loss(digits, solver):
    X = digits[0][:300]
    ae = quick(solver=solver, max_iter=30, linear_path=False, learning_rate_init=0.01)
    with pytest.warns(ConvergenceWarning):
        ae.fit(X)
    assert ae.loss_curve_[-1] < 0.7 * ae.loss_curve_[0]
    assert ae.n_iter_ == len(ae.loss_curve_)


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
def test_sgd_schedules_lower_the_rate(small, schedule):
    ae = quick(solver="sgd", learning_rate=schedule, max_iter=60, tol=10.0, n_iter_no_change=2)
    ae.fit(small)
    assert ae._optimizer.learning_rate < 0.001  # the "auto" initial rate


def test_batch_size_auto_and_clipping(small):
    with pytest.warns(UserWarning, match="clipped"):
        quick(batch_size=1000).fit(small)


def test_convergence_stops_before_max_iter(small):
    ae = quick(max_iter=500, tol=1e-1, n_iter_no_change=3).fit(small)
    assert ae.n_iter_ < 500
    assert ae.best_loss_ == pytest.approx(min(ae.loss_curve_))


def test_early_stopping_restores_best_validation_weights(digits):
    class Recorder(AutoencoderTransformer):
        """Records the parameters at each evaluation of the held-out loss.

        Training evaluates its objective without a gradient only for that.
        """

        def _make_objective(self, *args):
            objective = super()._make_objective(*args)
            loss_and_grad = objective.loss_and_grad

            def recorded(theta, X, rows, row_weight, buffers, grad=None, rng=None):
                loss = loss_and_grad(theta, X, rows, row_weight, buffers, grad, rng)
                if grad is None:
                    self.snapshots_.append((loss, theta.copy()))
                return loss

            objective.loss_and_grad = recorded
            return objective

    X = digits[0][:200]
    ae = Recorder(
        8,
        hidden_layer_sizes=(64,),
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=5,
        max_iter=300,
        learning_rate_init=0.01,
        random_state=0,
    )
    ae.snapshots_ = []
    ae.fit(X)
    losses = [loss for loss, _ in ae.snapshots_]
    assert ae.validation_loss_curve_ == losses
    assert ae.best_loss_ == min(losses)
    assert ae.n_iter_ < 300
    best = ae.snapshots_[int(np.argmin(losses))][1]
    np.testing.assert_array_equal(ae._theta, best)
    assert not np.array_equal(ae._theta, ae.snapshots_[-1][1])


def test_early_stopping_auto_holds_rows_out_from_2000_rows():
    X = np.random.RandomState(0).rand(2000, 6)
    settings = dict(hidden_layer_sizes=(4,), max_iter=3, tol=0, random_state=0)
    with pytest.warns(ConvergenceWarning):
        ae = AutoencoderTransformer(2, **settings).fit(X)
    assert ae.early_stopping == "auto"
    assert len(ae.validation_loss_curve_) == 3
    # The split and the stopping rule are those of early_stopping=True.
    with pytest.warns(ConvergenceWarning):
        on = AutoencoderTransformer(2, early_stopping=True, **settings).fit(X)
    assert ae.validation_loss_curve_ == on.validation_loss_curve_
    np.testing.assert_array_equal(ae.transform(X), on.transform(X))
    with pytest.warns(ConvergenceWarning):
        small = AutoencoderTransformer(2, **settings).fit(X[:1999])
    assert small.validation_loss_curve_ is None
    # A warm start on more rows turns it on; partial_fit never holds rows out.
    small.set_params(warm_start=True)
    with pytest.warns(ConvergenceWarning):
        small.fit(X)
    assert len(small.validation_loss_curve_) == 3
    streamed = AutoencoderTransformer(2, **settings).partial_fit(X)
    assert streamed.validation_loss_curve_ is None
    lbfgs = AutoencoderTransformer(2, solver="lbfgs", max_iter=3, hidden_layer_sizes=(4,))
    with pytest.warns(ConvergenceWarning):
        assert lbfgs.fit(X).validation_loss_curve_ is None


def test_verbose_prints_one_line_per_epoch(small, capsys):
    quick(max_iter=4, verbose=True).fit(small)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("Iteration")]
    assert len(lines) == 4


def test_warm_start_continues(small):
    ae = quick(max_iter=5, warm_start=True).fit(small)
    first_curve = list(ae.loss_curve_)
    ae.fit(small)
    assert ae.n_iter_ == 10
    assert ae.loss_curve_[:5] == first_curve
    assert ae.loss_curve_[5] < first_curve[0]


def test_partial_fit_is_one_epoch(small):
    ae = quick()
    for _ in range(3):
        ae.partial_fit(small[:30])
        ae.partial_fit(small[30:])
    assert ae.n_iter_ == 6 and ae.t_ == 180
    assert len(ae.loss_curve_) == 6
    assert not hasattr(quick(solver="lbfgs"), "partial_fit")


def test_sample_weight_focuses_the_fit():
    rng = np.random.RandomState(0)
    X = np.vstack(
        [rng.normal(size=(50, 5)) * [5, 1, 1, 1, 1], rng.normal(size=(50, 5)) * [1, 1, 1, 1, 5]]
    )
    weights = np.r_[np.ones(50), np.full(50, 1e-3)]
    ae = AutoencoderTransformer(
        1,
        hidden_layer_sizes=(),
        activation="identity",
        solver="lbfgs",
        linear_path=False,
        random_state=0,
    ).fit(X, sample_weight=weights)
    first, second = ae.score_samples(X[:50]).mean(), ae.score_samples(X[50:]).mean()
    assert first > second


# ------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[1.0, np.nan], [2.0, 3.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), ValueError, "infinity"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (np.arange(5.0), ValueError, "2D"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "float"),
        (np.array([[1 + 1j, 2], [3, 4]]), ValueError, "Complex"),
        (sp.csr_matrix(np.array([[1.0, np.nan], [0, 1]])), ValueError, "NaN"),
    ],
)
def test_bad_input_to_fit(X, error, match):
    with pytest.raises(error, match=match):
        quick().fit(X)


def test_wrong_number_of_features(small):
    ae = quick().fit(small)
    with pytest.raises(ValueError, match="features"):
        ae.transform(small[:, :4])
    with pytest.raises(ValueError, match="features"):
        ae.partial_fit(small[:, :4])
    with pytest.raises(ValueError, match=r"n_components_=2"):
        ae.inverse_transform(np.zeros((3, 5)))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_components=0), "'n_components' parameter"),
        (dict(solver="newton"), "'solver' parameter"),
        (dict(activation="swish"), "'activation' parameter"),
        (dict(loss="hinge"), "'loss' parameter"),
        (dict(alpha=-1.0), "'alpha' parameter"),
        (dict(learning_rate_init=0.0), "'learning_rate_init' parameter"),
        (dict(batch_size=0), "'batch_size' parameter"),
        (dict(validation_fraction=1.0), "'validation_fraction' parameter"),
        (dict(hidden_layer_sizes=(8, 0)), "hidden_layer_sizes must be > 0"),
    ],
)
def test_bad_parameters_are_named(small, params, match):
    with pytest.raises(ValueError, match=match):
        quick(**params).fit(small)


def test_non_integer_hidden_sizes(small):
    with pytest.raises(TypeError, match="hidden_layer_sizes must hold integers"):
        quick(hidden_layer_sizes=(8.5,)).fit(small)


def test_unfitted_raises(small):
    with pytest.raises(NotFittedError):
        quick().transform(small)


def test_divergence_keeps_the_previous_model(small):
    ae = quick(solver="sgd", warm_start=True, momentum=0.0).fit(small)
    before = ae._theta.copy(), list(ae.loss_curve_)
    ae.set_params(learning_rate_init=1e6)
    with pytest.raises(ValueError, match="learning_rate_init"):
        ae.fit(small * 1e3)
    np.testing.assert_array_equal(ae._theta, before[0])
    assert ae.loss_curve_ == before[1]
    assert np.isfinite(ae.transform(small)).all()
