"""A fitted model is its fitted state; every fit trains with the current parameters.

- ``set_params`` after ``fit`` changes no output until the next fit, whatever
  the parameter;
- a warm fit and ``partial_fit`` build their objective from the current
  parameters (the L1 penalty, the noise, the weight decay, beta, the
  neighbour graph), and refuse a change the fitted weights cannot serve;
- whether a fit starts from fresh weights is recorded, not guessed.
"""

import copy
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

from skae import AutoencoderTransformer, VariationalAutoencoder
from skae._optimizers import SGD


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:400] / 16.0


# A valid value other than the fitted one, for every constructor parameter.
OTHER_VALUES = {
    "n_components": 3,
    "hidden_layer_sizes": (5,),
    "linear_path": False,
    "tied_weights": True,
    "noise": "masking",
    "noise_level": 0.3,
    "code_l1": 0.5,
    "n_neighbors": 5,
    "neighbor_weight": 2.0,
    "min_dist": 0.5,
    "spread": 2.0,
    "negative_sample_rate": 3,
    "n_epochs": 7,
    "neighbors_algorithm": "kd_tree",
    "beta": 10.0,
    "activation": "tanh",
    "loss": "binary_crossentropy",
    "solver": "lbfgs",
    "alpha": 1.0,
    "batch_size": 17,
    "learning_rate": "adaptive",
    "learning_rate_init": 0.1,
    "power_t": 0.9,
    "max_iter": 3,
    "shuffle": False,
    "random_state": 5,
    "tol": 0.5,
    "verbose": True,
    "warm_start": True,
    "momentum": 0.5,
    "nesterovs_momentum": False,
    "early_stopping": True,
    "validation_fraction": 0.3,
    "beta_1": 0.5,
    "beta_2": 0.5,
    "epsilon": 1e-3,
    "n_iter_no_change": 3,
    "max_fun": 10,
}

FITTED = {
    "autoencoder": AutoencoderTransformer(
        2, hidden_layer_sizes=(4,), max_iter=5, random_state=0, noise="gaussian"
    ),
    "variational": VariationalAutoencoder(2, hidden_layer_sizes=(4,), max_iter=5, random_state=0),
}


def outputs(estimator, X):
    """Everything a fitted estimator computes, as arrays."""
    codes = estimator.transform(X)
    result = {
        "transform": codes,
        "inverse_transform": estimator.inverse_transform(codes),
        "score_samples": estimator.score_samples(X),
        "score": np.array(estimator.score(X)),
        "get_feature_names_out": estimator.get_feature_names_out(),
        "coefs_": np.concatenate([W.ravel() for W in estimator.coefs_]),
        "intercepts_": np.concatenate([b.ravel() for b in estimator.intercepts_]),
    }
    if hasattr(estimator, "sample"):
        result["sample"] = estimator.sample(5, random_state=0)
    return result


def test_every_parameter_has_another_value():
    for estimator in FITTED.values():
        params = estimator.get_params()
        assert set(params) <= set(OTHER_VALUES), set(params) - set(OTHER_VALUES)
        for name, value in params.items():
            assert OTHER_VALUES[name] != value, name


@pytest.mark.parametrize(
    "kind, name",
    [(kind, name) for kind, estimator in FITTED.items() for name in estimator.get_params()],
)
def test_set_params_after_fit_changes_no_output(X, kind, name):
    fitted = copy.deepcopy(FITTED[kind]).fit(X)
    before = outputs(fitted, X)
    fitted.set_params(**{name: OTHER_VALUES[name]})
    after = outputs(fitted, X)
    for what, value in before.items():
        np.testing.assert_array_equal(after[what], value, err_msg=f"{what} after {name}")


# ------------------------------------------------------------- what cannot change

LAYOUT = {
    "autoencoder": [
        "hidden_layer_sizes",
        "n_components",
        "linear_path",
        "tied_weights",
        "activation",
        "loss",
    ],
    "variational": ["hidden_layer_sizes", "n_components", "activation", "loss"],
}


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
@pytest.mark.parametrize(
    "kind, name", [(kind, name) for kind, names in LAYOUT.items() for name in names]
)
def test_a_changed_layout_is_refused_and_leaves_the_model(X, kind, name, how):
    fitted = copy.deepcopy(FITTED[kind]).set_params(warm_start=True).fit(X)
    before = outputs(fitted, X)
    fitted.set_params(**{name: OTHER_VALUES[name]})
    with pytest.raises(ValueError, match=f"({name}=.* to .*).*cannot change on a warm start"):
        fitted.partial_fit(X) if how == "partial_fit" else fitted.fit(X)
    after = outputs(fitted, X)
    for what, value in before.items():
        np.testing.assert_array_equal(after[what], value, err_msg=what)


# ------------------------------------------------- warm fits use the parameters


def warm_pair(estimator, X, **changed):
    """Two warm fits from the same fitted model: as it is, and with ``changed``."""
    fitted = estimator.set_params(warm_start=True).fit(X)
    same, other = copy.deepcopy(fitted), copy.deepcopy(fitted)
    return same.fit(X), other.set_params(**changed).fit(X)


def small_autoencoder(**params):
    base = dict(n_components=3, hidden_layer_sizes=(16,), max_iter=10, random_state=0)
    return AutoencoderTransformer(**{**base, "learning_rate_init": 0.01, **params})


@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_warm_fit_honours_code_l1(X, how):
    fitted = small_autoencoder(tied_weights=True, warm_start=True).fit(X)
    same, other = copy.deepcopy(fitted), copy.deepcopy(fitted).set_params(code_l1=2.0)
    for _ in range(1 if how == "fit" else 10):
        for model in (same, other):
            getattr(model, how)(X)
    plain, sparse = (np.abs(m.transform(X)).mean() for m in (same, other))
    assert sparse < 0.8 * plain


@pytest.mark.parametrize("noise, level", [("gaussian", 2.0), ("masking", 0.5)])
def test_warm_fit_honours_noise(X, noise, level):
    # The training loss of noisy inputs against clean targets is higher.
    same, other = warm_pair(small_autoencoder(), X, noise=noise, noise_level=level)
    assert np.mean(other.loss_curve_[-5:]) > 1.2 * np.mean(same.loss_curve_[-5:])
    # noise_level alone: a stronger noise costs more
    weak, strong = warm_pair(
        small_autoencoder(noise="gaussian", noise_level=0.05), X, noise_level=2.0
    )
    assert np.mean(strong.loss_curve_[-5:]) > 1.2 * np.mean(weak.loss_curve_[-5:])


def test_warm_fit_honours_alpha(X):
    same, other = warm_pair(small_autoencoder(alpha=0.0), X, alpha=50.0)
    norms = [sum(float((W**2).sum()) for W in m.coefs_) for m in (same, other)]
    assert norms[1] < 0.8 * norms[0]


def test_warm_fit_honours_beta(X):
    vae = VariationalAutoencoder(
        2, hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=10, random_state=0
    )
    same, other = warm_pair(vae, X, beta=50.0)
    assert other.transform(X).std() < 0.5 * same.transform(X).std()


def digit_clusters(model, X):
    """NMI of KMeans on the codes against the digits' labels."""
    labels = KMeans(10, n_init=10, random_state=0).fit_predict(model.transform(X))
    return normalized_mutual_info_score(load_digits().target[: len(X)], labels)


def test_warm_fit_honours_n_neighbors_and_neighbor_weight(X):
    plain = small_autoencoder(max_iter=20, warm_start=True).fit(X)
    graph = dict(n_neighbors=10, n_epochs=50)
    weighted = copy.deepcopy(plain).set_params(**graph).fit(X)
    unweighted = copy.deepcopy(plain).set_params(**graph, neighbor_weight=0.0).fit(X)
    # The layout of the neighbour graph, learnt by the warm fit, sorts the digits
    # better than the reconstruction alone does, with the same training otherwise.
    assert digit_clusters(weighted, X) > digit_clusters(unweighted, X) + 0.02
    assert digit_clusters(weighted, X) > digit_clusters(plain, X) + 0.05


def test_a_changed_random_state_restarts_the_random_stream(X):
    fitted = small_autoencoder(warm_start=True, max_iter=3).fit(X)
    again, again_too, reseeded = (copy.deepcopy(fitted) for _ in range(3))
    reseeded.set_params(random_state=1)
    codes = [m.fit(X).transform(X) for m in (again, again_too, reseeded)]
    np.testing.assert_array_equal(codes[0], codes[1])
    assert not np.array_equal(codes[0], codes[2])


def test_partial_fit_goes_on_with_the_optimizer_only_while_its_settings_hold(X):
    ae = small_autoencoder().partial_fit(X).partial_fit(X)  # two batches of 200 rows each
    continued = copy.deepcopy(ae).partial_fit(X)
    assert continued._optimizer.t == 6
    changed = copy.deepcopy(ae).set_params(beta_1=0.5).partial_fit(X)
    assert changed._optimizer.t == 2 and changed._optimizer.beta_1 == 0.5
    switched = copy.deepcopy(ae).set_params(solver="sgd", momentum=0.5).partial_fit(X)
    assert isinstance(switched._optimizer, SGD) and switched._optimizer.momentum == 0.5


# ------------------------------------------------------ fresh weights, recorded


def rms(codes):
    return float(np.sqrt(np.mean(codes**2)))


def test_only_fresh_weights_get_the_graph_terms_start(X, interrupt_after):
    still = dict(n_neighbors=10, n_epochs=1, learning_rate_init=1e-12)
    # A fresh fit with the term starts at the least-squares map to the graph's
    # layout, whose codes have a root mean square near the layout's 3 (PCA's
    # codes, where a fresh plain fit starts, have 1.7 with 20 components).
    cold = small_autoencoder(**{**still, "n_components": 20}).fit(X)
    assert 2.4 < rms(cold.transform(X)) <= 3.0
    # Weights that a first epoch moved, even one interrupted before it ended
    # (no epoch counted, no loss recorded), are not fresh: a warm fit with the
    # term goes on from them as they are.
    ae = interrupt_after(20, hidden_layer_sizes=(16,), batch_size=50, random_state=0)
    ae.interrupt_at = 3
    with pytest.warns(UserWarning, match="interrupted"):
        ae.fit(X)
    assert ae.n_iter_ == 0 and ae.loss_curve_ == []
    interrupted = ae.transform(X)
    assert rms(interrupted) < 2.0
    ae.interrupt_at = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae.set_params(warm_start=True, **still).fit(X)
    np.testing.assert_allclose(ae.transform(X), interrupted, rtol=1e-6, atol=1e-8)
