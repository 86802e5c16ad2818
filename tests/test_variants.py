"""The autoencoder family: denoising, sparse-code, tied-weight and variational.

Gradients are checked against central finite differences in float64 (with the
training noise off, or fixed); behaviour is checked on the digits, scaled to
[0, 1] by dividing by 16.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import InvalidParameterError

from skae import AutoencoderTransformer, VariationalAutoencoder
from skae._data import RowLoader
from skae._network import Network
from skae._objective import AutoencoderObjective
from skae._optimizers import l2_penalty
from skae._regularizers import L1CodePenalty, corrupt
from skae._variational_network import VariationalNetwork, VariationalObjective


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(autouse=True)
def _quiet_convergence():
    # Short fits on purpose: the warnings say so and are not under test here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def relative_error(grad, expected):
    return np.linalg.norm(grad - expected) / np.linalg.norm(grad + expected)


def activations_for(hidden, activation="tanh"):
    return [activation] * len(hidden) + ["identity"] + [activation] * len(hidden) + ["identity"]


# ------------------------------------------------------------ gradient checks


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("linear_path", [False, True])
@pytest.mark.parametrize("hidden", [(), (4,), (4, 3)])
def test_l1_code_penalty_gradient(tied, linear_path, hidden, finite_difference_gradient):
    rng = np.random.RandomState(0)
    network = Network(
        [5, *hidden, 2, *hidden[::-1], 5],
        activations_for(hidden),
        tied=tied,
        linear_path=linear_path,
    )
    theta = network.init(rng) + 0.1 * rng.normal(size=network.n_params)
    X = rng.normal(size=(6, 5))
    weight = rng.uniform(0.5, 2.0, size=6)
    row_weight = weight / weight.sum()

    def objective(t, grad=None):
        acts, deltas = network.allocate(6, t.dtype)
        acts[0][...] = X
        term = L1CodePenalty(0.7)
        buffers = term.allocate(6, 2, np.float64)

        def penalty(codes):
            return term.value_and_grad(codes, np.arange(6), row_weight, buffers), buffers.grad

        return network.loss_and_grad(t, acts, deltas, grad, row_weight, code_penalty=penalty)

    grad = np.empty_like(theta)
    objective(theta, grad)
    assert relative_error(grad, finite_difference_gradient(objective, theta)) < 1e-6


def test_l1_code_penalty_value():
    code = np.array([[1.0, -3.0], [0.5, 0.0]])
    row_weight = np.array([0.25, 0.75])
    term = L1CodePenalty(2.0)
    buffers = term.allocate(2, 2, np.float64)
    value = term.value_and_grad(code, np.arange(2), row_weight, buffers)
    grad = buffers.grad
    assert value == pytest.approx(2.0 * (0.25 * 2.0 + 0.75 * 0.25))
    np.testing.assert_allclose(grad, [[0.25, -0.25], [0.75, 0.0]])


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("linear_path", [False, True])
def test_input_gradient(tied, linear_path, finite_difference_gradient):
    rng = np.random.RandomState(3)
    hidden = (4,)
    network = Network(
        [5, *hidden, 2, *hidden[::-1], 5],
        activations_for(hidden),
        tied=tied,
        linear_path=linear_path,
    )
    theta = network.init(rng) + 0.1 * rng.normal(size=network.n_params)
    X = rng.normal(size=(3, 5))
    target = rng.normal(size=(3, 5))

    def objective(x, want_delta=False):
        acts, deltas = network.allocate(3, np.float64)
        acts[0][...] = x.reshape(3, 5)
        grad = np.empty(network.n_params) if want_delta else None
        loss = network.loss_and_grad(
            theta, acts, deltas, grad, 1 / 3, target=target, input_delta=want_delta
        )
        return (loss, deltas[0].ravel().copy()) if want_delta else loss

    _, d_input = objective(X.ravel(), want_delta=True)
    expected = finite_difference_gradient(objective, X.ravel().copy())
    assert relative_error(d_input, expected) < 1e-6


def fitted(estimator, X):
    """An estimator whose network and scaling are set up for ``X``."""
    return estimator.set_params(max_iter=1, random_state=0).fit(X)


def estimator_objective(estimator, model, X, sample_weight, rng_seed=None):
    """The training objective ``model`` of fitted ``estimator`` on ``X`` as a function of theta.

    ``model`` is the objective the estimator hands its trainer (the
    ``objective_of`` fixture); the L2 penalty is added. ``rng_seed`` fixes the
    training noise: each evaluation draws the same.
    """
    total = sample_weight.sum()

    def objective(theta, grad=None):
        buffers = model.allocate(X.shape[0], theta.dtype)
        rng = None if rng_seed is None else np.random.default_rng(rng_seed)
        scratch = np.zeros_like(theta) if grad is None else grad
        row_weight = sample_weight / total
        loss = model.loss_and_grad(theta, X, slice(None), row_weight, buffers, grad, rng)
        return loss + l2_penalty(theta, scratch, estimator.alpha / total, model.decayed)

    return objective


@pytest.mark.parametrize(
    "params",
    [
        dict(tied_weights=True),
        dict(tied_weights=True, linear_path=False, code_l1=0.3),
        dict(code_l1=0.3),
        dict(tied_weights=True, code_l1=0.3, loss="binary_crossentropy"),
        dict(tied_weights=True, code_l1=0.3, noise="gaussian", hidden_layer_sizes=(4, 3)),
    ],
)
def test_autoencoder_objective_gradient(params, finite_difference_gradient, objective_of):
    """Noise off (rng=None): L1 and tied weights through the estimator."""
    rng = np.random.RandomState(1)
    X = rng.uniform(0.05, 0.95, size=(9, 6))
    sample_weight = rng.uniform(0.5, 2.0, size=9)
    base = dict(n_components=2, hidden_layer_sizes=(4,), activation="tanh", alpha=0.1)
    ae = fitted(AutoencoderTransformer(**{**base, **params}), X)
    theta = ae._theta + 0.1 * rng.normal(size=ae._theta.size)
    objective = estimator_objective(ae, objective_of(ae), X, sample_weight)
    grad = np.empty_like(theta)
    objective(theta, grad)
    assert relative_error(grad, finite_difference_gradient(objective, theta)) < 1e-6


@pytest.mark.parametrize("loss", ["squared_error", "binary_crossentropy"])
@pytest.mark.parametrize("hidden", [(), (4,), (5, 3)])
@pytest.mark.parametrize("sampled", [True, False])
def test_vae_network_gradient(loss, hidden, sampled, finite_difference_gradient):
    """The ELBO's gradient, with the reparameterisation noise held fixed."""
    rng = np.random.RandomState(0)
    X = rng.uniform(0.05, 0.95, size=(7, 6))
    network = VariationalNetwork(6, hidden, 2, "tanh", loss)
    model = VariationalObjective(network, RowLoader(), beta=0.7)
    theta = model.init(X, None, rng) + 0.1 * rng.normal(size=model.n_params)
    weight = rng.uniform(0.5, 2.0, size=7)
    row_weight = weight / weight.sum()

    def objective(t, grad=None):
        buffers = model.allocate(7, t.dtype)
        noise = np.random.default_rng(3) if sampled else None
        loss_value = model.loss_and_grad(t, X, slice(None), row_weight, buffers, grad, noise)
        scratch = np.zeros_like(t) if grad is None else grad
        return loss_value + l2_penalty(t, scratch, 0.3, model.decayed)

    grad = np.empty_like(theta)
    objective(theta, grad)
    assert relative_error(grad, finite_difference_gradient(objective, theta)) < 1e-6


@pytest.mark.parametrize("loss", ["squared_error", "binary_crossentropy"])
def test_vae_objective_gradient(loss, finite_difference_gradient, objective_of):
    """Through the estimator: its own noise draw, fixed by seeding it alike."""
    rng = np.random.RandomState(2)
    X = rng.uniform(0.05, 0.95, size=(8, 5))
    sample_weight = rng.uniform(0.5, 2.0, size=8)
    vae = fitted(
        VariationalAutoencoder(2, hidden_layer_sizes=(4,), activation="tanh", loss=loss, alpha=0.1),
        X,
    )
    theta = vae._theta + 0.1 * rng.normal(size=vae._theta.size)
    objective = estimator_objective(vae, objective_of(vae), X, sample_weight, rng_seed=7)
    grad = np.empty_like(theta)
    objective(theta, grad)
    assert relative_error(grad, finite_difference_gradient(objective, theta)) < 1e-6


def test_vae_kl_term_matches_closed_form():
    """beta scales exactly the KL of N(mean, exp(log_var)) to N(0, I), divided by n_features."""
    rng = np.random.RandomState(4)
    X = rng.normal(size=(6, 5))
    values = []
    for beta in (0.0, 2.0):
        network = VariationalNetwork(5, (3,), 2, "tanh", "squared_error")
        model = VariationalObjective(network, RowLoader(), beta)
        theta = model.init(X, None, np.random.RandomState(4))
        buffers = model.allocate(6, np.float64)
        values.append(model.loss_and_grad(theta, X, slice(None), 1 / 6, buffers))
    heads = network.encoder.predict(network.halves(theta)[0], X)
    mean, log_var = heads[:, :2], heads[:, 2:]
    kl = 0.5 * (mean**2 + np.exp(log_var) - 1 - log_var).sum(axis=1).mean()
    assert values[1] - values[0] == pytest.approx(2.0 * kl / 5, rel=1e-12)


# -------------------------------------------------------------------- noise


def test_corrupt_gaussian_and_masking():
    rng = np.random.default_rng(0)
    clean = np.full((400, 50), 2.0)
    batch = clean.copy()
    corrupt(batch, "gaussian", 0.3, rng, np.empty_like(batch), None)
    assert (batch - clean).mean() == pytest.approx(0.0, abs=0.01)
    assert (batch - clean).std() == pytest.approx(0.3, rel=0.02)
    batch = clean.copy()
    fill = np.arange(50.0)
    corrupt(batch, "masking", 0.25, rng, np.empty_like(batch), fill)
    masked = batch != clean
    assert masked.mean() == pytest.approx(0.25, abs=0.01)
    np.testing.assert_array_equal(batch[masked], np.broadcast_to(fill, batch.shape)[masked])


@pytest.mark.parametrize("noise", ["gaussian", "masking"])
def test_noise_corrupts_the_input_but_not_the_target(noise, objective_of):
    rng = np.random.RandomState(0)
    X = rng.uniform(1.0, 3.0, size=(20, 6))
    ae = fitted(AutoencoderTransformer(2, hidden_layer_sizes=(4,), noise=noise, noise_level=0.5), X)
    model, theta = objective_of(ae), ae._theta
    buffers = model.allocate(20, np.float64)
    clean = model.loss_and_grad(theta, X, slice(None), 1 / 20, buffers)
    plain_model = AutoencoderObjective(model.network, model.loader)
    plain_buffers = plain_model.allocate(20, np.float64)
    plain = plain_model.loss_and_grad(theta, X, slice(None), 1 / 20, plain_buffers)
    assert clean == pytest.approx(plain, rel=1e-12)
    noisy = model.loss_and_grad(
        theta, X, slice(None), 1 / 20, buffers, None, np.random.default_rng(0)
    )
    assert noisy > clean
    # The target is the clean, scaled batch; masked entries hold the raw 0.
    np.testing.assert_allclose(buffers.target, (X - ae.mean_) / ae.scale_)
    if noise == "masking":
        masked = buffers.acts[0] != buffers.target
        assert 0.3 < masked.mean() < 0.7
        raw = buffers.acts[0] * ae.scale_ + ae.mean_
        np.testing.assert_allclose(raw[masked], 0.0, atol=1e-12)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_noise_is_drawn_from_the_random_state(solver):
    X = np.random.RandomState(0).normal(size=(40, 5))
    params = dict(
        hidden_layer_sizes=(4,), noise="gaussian", noise_level=0.5, solver=solver, max_iter=5
    )
    a = AutoencoderTransformer(2, random_state=0, **params).fit(X)
    b = AutoencoderTransformer(2, random_state=0, **params).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    c = AutoencoderTransformer(2, random_state=0, **{**params, "noise": None}).fit(X)
    assert not np.allclose(a.transform(X), c.transform(X))


def test_masking_level_must_be_a_probability():
    X = np.random.RandomState(0).normal(size=(10, 3))
    ae = AutoencoderTransformer(2, hidden_layer_sizes=(), noise="masking", noise_level=1.5)
    with pytest.raises(ValueError, match=r'noise="masking" needs noise_level in \[0, 1\]'):
        ae.fit(X)
    assert not hasattr(ae, "_theta")


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(noise="salt"), "noise"),
        (dict(noise_level=-0.1), "noise_level"),
        (dict(code_l1=-1.0), "code_l1"),
        (dict(tied_weights="yes"), "tied_weights"),
    ],
)
def test_invalid_options(params, name):
    X = np.random.RandomState(0).normal(size=(10, 3))
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        AutoencoderTransformer(2, **params).fit(X)


def test_denoising_beats_plain_on_noisy_digits(digits):
    """Digits in [0, 1]; test rows corrupted by N(0, 0.3**2) in those units."""
    X = digits[0]
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    noisy = X_test + np.random.RandomState(1).normal(0.0, 0.3, size=X_test.shape)
    scale = np.sqrt(X_train.var(axis=0).mean())  # the autoencoder's scale_
    params = dict(n_components=16, hidden_layer_sizes=(64,), max_iter=30, random_state=0)
    errors = {}
    for name, extra in [
        ("plain", {}),
        ("denoising", dict(noise="gaussian", noise_level=0.3 / scale)),
    ]:
        ae = AutoencoderTransformer(**params, **extra).fit(X_train)
        assert ae.scale_ == pytest.approx(scale)
        errors[name] = np.mean((ae.inverse_transform(ae.transform(noisy)) - X_test) ** 2)
    assert errors["denoising"] < 0.8 * errors["plain"]


# ------------------------------------------------------------------ sparse code


def test_code_l1_is_in_the_objective(objective_of):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 6))
    ae = fitted(AutoencoderTransformer(3, hidden_layer_sizes=(5,), code_l1=0.4), X)
    plain = fitted(AutoencoderTransformer(3, hidden_layer_sizes=(5,)), X)
    with_l1, without = (
        objective.loss_and_grad(ae._theta, X, slice(None), 1 / 30, objective.allocate(30, float))
        for objective in map(objective_of, (ae, plain))
    )
    assert with_l1 - without == pytest.approx(0.4 * np.abs(ae.transform(X)).mean(), rel=1e-10)
    # loss_curve_ holds it too: one full-batch epoch of lbfgs starts from the same point.
    curves = [
        AutoencoderTransformer(
            3, hidden_layer_sizes=(5,), code_l1=l1, solver="lbfgs", max_iter=1, random_state=0
        )
        .fit(X)
        .loss_curve_[0]
        for l1 in (0.0, 5.0)
    ]
    assert curves[1] > curves[0]


def near_zero_share(Z):
    """Share of code entries below 5% of their row's largest: blind to the codes' scale."""
    return float(np.mean(np.abs(Z) < 0.05 * np.abs(Z).max(axis=1, keepdims=True)))


def test_code_l1_makes_sparser_codes(digits):
    X = digits[0]
    params = dict(
        n_components=16, hidden_layer_sizes=(64,), tied_weights=True, max_iter=30, random_state=0
    )
    plain = AutoencoderTransformer(**params).fit(X)
    sparse = AutoencoderTransformer(**params, code_l1=1.0).fit(X)
    assert near_zero_share(sparse.transform(X)) > 2 * near_zero_share(plain.transform(X))


# ---------------------------------------------------------------- tied weights


@pytest.mark.parametrize("linear_path", [False, True])
@pytest.mark.parametrize("hidden", [(), (6,), (6, 4)])
def test_tied_weights_halve_the_weights(linear_path, hidden):
    X = np.random.RandomState(0).normal(size=(20, 8))
    params = dict(hidden_layer_sizes=hidden, linear_path=linear_path)
    tied = fitted(AutoencoderTransformer(3, tied_weights=True, **params), X)
    untied = fitted(AutoencoderTransformer(3, **params), X)
    n_weights = [sum(W.size for W in ae.coefs_[: len(ae.coefs_) // 2]) for ae in (tied, untied)]
    # each tied matrix is stored once: the decoder's coefs_ are views of the encoder's
    assert sum(W.size for W in untied.coefs_) == 2 * n_weights[1]
    assert len({id(W.base) for W in tied.coefs_}) == 1 and n_weights[0] == n_weights[1]
    for encoder, decoder in zip(tied.coefs_, tied.coefs_[::-1]):
        assert np.shares_memory(encoder, decoder)
        np.testing.assert_array_equal(encoder, decoder.T)


@pytest.mark.parametrize("linear_path", [False, True])
def test_tied_transform_matches_training_forward(linear_path):
    """Folding the scaling into tied weights must not fold it twice into one matrix."""
    rng = np.random.RandomState(0)
    X = rng.normal(5.0, 3.0, size=(25, 6))
    ae = AutoencoderTransformer(
        2,
        hidden_layer_sizes=(4,),
        tied_weights=True,
        linear_path=linear_path,
        max_iter=5,
        random_state=0,
    ).fit(X)
    assert ae.scale_ != pytest.approx(1.0)
    network = ae._network
    acts, _ = network.allocate(25, np.float64)
    acts[0][...] = (X - ae.mean_) / ae.scale_
    network.forward(ae._theta, acts)
    np.testing.assert_allclose(ae.transform(X), acts[network.code_index], atol=1e-12)
    np.testing.assert_allclose(
        ae.inverse_transform(ae.transform(X)), acts[-1] * ae.scale_ + ae.mean_, atol=1e-10
    )


def test_tied_start_is_pca_and_not_stuck_there(digits):
    """lbfgs, which follows gradients only, must leave PCA: the start is no stationary point."""
    X = digits[0][:600]
    pca = PCA(8).fit(X)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    params = dict(
        n_components=8,
        hidden_layer_sizes=(32,),
        tied_weights=True,
        alpha=0.0,
        solver="lbfgs",
        random_state=0,
    )
    # the start: one adam epoch whose steps are too small to count
    start = AutoencoderTransformer(**{**params, "solver": "adam"}, learning_rate_init=1e-12)
    start.set_params(max_iter=1).fit(X)
    assert -start.score(X) == pytest.approx(pca_mse, rel=1e-3)
    trained = AutoencoderTransformer(**params, max_iter=100).fit(X)
    assert -trained.score(X) < 0.8 * pca_mse


# ------------------------------------------------------------------------ VAE


def posterior(vae, X):
    """Mean and log-variance of q(z | x) for the rows of X."""
    return vae._posterior_rows(vae._encoder_params(X.dtype), X)


@pytest.fixture(scope="module")
def vae(digits):
    return VariationalAutoencoder(
        2,
        hidden_layer_sizes=(32,),
        loss="binary_crossentropy",
        learning_rate_init=0.003,
        max_iter=30,
        random_state=0,
    ).fit(digits[0])


def test_vae_aggregate_posterior_is_like_the_prior(vae, digits):
    mean, log_var = posterior(vae, digits[0])
    np.testing.assert_array_equal(vae.transform(digits[0]), mean)
    assert np.all(np.abs(mean.mean(axis=0)) < 0.5)
    assert np.all(np.abs(mean.var(axis=0) - 1) < 0.3)
    # The aggregate posterior: the mixture of N(mean, exp(log_var)) over the rows.
    assert np.all(np.abs(mean.var(axis=0) + np.exp(log_var).mean(axis=0) - 1) < 0.3)


def test_vae_samples_look_like_the_data(vae, digits):
    samples = vae.sample(2000, random_state=0)
    assert samples.shape == (2000, 64)
    assert samples.min() >= 0 and samples.max() <= 1
    assert abs(samples.mean() - digits[0].mean()) < 0.05
    np.testing.assert_array_equal(samples, vae.sample(2000, random_state=0))
    assert not np.array_equal(samples[:5], vae.sample(5, random_state=1))


@pytest.mark.parametrize("n_samples", [0, -1, 2.5, True])
def test_vae_sample_needs_a_positive_integer(vae, n_samples):
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        vae.sample(n_samples)


def test_vae_score_samples_is_the_negative_per_row_objective(vae, digits, objective_of):
    X = digits[0][:50]
    scores = vae.score_samples(X)
    model = objective_of(vae)
    buffers = model.allocate(1, np.float64)
    for i in (0, 17, 49):
        objective = model.loss_and_grad(vae._theta, X, slice(i, i + 1), 1.0, buffers)
        assert scores[i] == pytest.approx(-objective, rel=1e-10)
    assert vae.score(X) == pytest.approx(scores.mean())
    noise = np.random.RandomState(0).uniform(0, 1, size=(50, 64))
    assert vae.score(noise) < vae.score(X)


def test_vae_weighted_objective_equals_repeated_rows(objective_of):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(12, 4))
    weights = rng.randint(0, 4, size=12)
    repeated = np.repeat(X, weights, axis=0)
    vae = fitted(VariationalAutoencoder(2, hidden_layer_sizes=(3,)), X)
    losses, grads = [], []
    for data, sw in [(X, weights.astype(float)), (repeated, np.ones(len(repeated)))]:
        grads.append(np.empty_like(vae._theta))
        objective = estimator_objective(vae, objective_of(vae), data, sw)
        losses.append(objective(vae._theta, grads[-1]))
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-14)


def test_vae_beta_trades_kl_for_reconstruction(digits):
    X = digits[0][:500]
    kl = []
    for beta in (0.2, 5.0):
        model = VariationalAutoencoder(
            2,
            hidden_layer_sizes=(16,),
            beta=beta,
            loss="binary_crossentropy",
            max_iter=15,
            learning_rate_init=0.003,
            random_state=0,
        ).fit(X)
        mean, log_var = posterior(model, X)
        kl.append(np.mean(0.5 * (mean**2 + np.exp(log_var) - 1 - log_var).sum(axis=1)))
    assert kl[1] < 0.5 * kl[0]


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_vae_other_solvers_train(solver, digits):
    X = digits[0][:300]
    params = dict(hidden_layer_sizes=(16,), solver=solver, max_iter=20, random_state=0)
    if solver == "sgd":
        params["learning_rate_init"] = 0.01
    model = VariationalAutoencoder(2, **params).fit(X)
    again = VariationalAutoencoder(2, **params).fit(X)
    np.testing.assert_array_equal(model.transform(X), again.transform(X))
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_vae_float32_stays_float32(digits):
    X = digits[0][:200].astype(np.float32)
    model = VariationalAutoencoder(2, hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X)
    assert all(W.dtype == np.float32 for W in model.coefs_)
    assert model.transform(X).dtype == np.float32
    assert model.sample(3, random_state=0).dtype == np.float32
