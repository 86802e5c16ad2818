"""The NumPy core: gradients against central finite differences, layout, init."""

import tracemalloc

import numpy as np
import pytest

from skae._activations import ACTIVATIONS, DERIVATIVES
from skae._data import RowLoader
from skae._graph_term import LayoutTargetTerm
from skae._losses import LOSSES
from skae._network import Network
from skae._objective import AutoencoderObjective
from skae._optimizers import SGD, Adam, l2_penalty
from skae._regularizers import L1CodePenalty
from skae._variational_network import VariationalNetwork, VariationalObjective


def objective(network, theta, X, row_weight, alpha, grad=None):
    acts, deltas = network.allocate(X.shape[0], theta.dtype)
    acts[0][...] = X
    loss = network.loss_and_grad(theta, acts, deltas, grad, row_weight)
    if grad is None:
        grad = np.zeros_like(theta)
    return loss + l2_penalty(theta, grad, alpha, network.decayed)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_gradient_matches_finite_differences(activation, loss, finite_difference_gradient):
    rng = np.random.RandomState(0)
    sizes = [5, 4, 2, 4, 5]
    network = Network(sizes, [activation, "identity", activation, "identity"], loss)
    theta = network.init(rng) + 0.1 * rng.normal(size=network.n_params)
    X = rng.uniform(0.05, 0.95, size=(7, 5))
    weight = rng.uniform(0.5, 2.0, size=7)
    row_weight = weight / weight.sum()
    alpha = 0.3

    grad = np.empty_like(theta)
    objective(network, theta, X, row_weight, alpha, grad)
    expected = finite_difference_gradient(
        lambda t: objective(network, t, X, row_weight, alpha), theta
    )
    error = np.linalg.norm(grad - expected) / np.linalg.norm(grad + expected)
    assert error < 1e-6


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("linear_path", [False, True])
@pytest.mark.parametrize("hidden", [(), (4,), (4, 3)])
def test_gradient_with_tied_weights_and_linear_path(
    tied, linear_path, hidden, finite_difference_gradient
):
    rng = np.random.RandomState(1)
    sizes = [5, *hidden, 2, *hidden[::-1], 5]
    activations = ["tanh"] * len(hidden) + ["identity"] + ["tanh"] * len(hidden) + ["identity"]
    network = Network(sizes, activations, tied=tied, linear_path=linear_path)
    theta = network.init(rng) + 0.1 * rng.normal(size=network.n_params)
    X = rng.normal(size=(6, 5))
    grad = np.empty_like(theta)
    objective(network, theta, X, 1 / 6, 0.2, grad)
    expected = finite_difference_gradient(lambda t: objective(network, t, X, 1 / 6, 0.2), theta)
    error = np.linalg.norm(grad - expected) / np.linalg.norm(grad + expected)
    assert error < 1e-6


def test_tied_weights_store_each_matrix_once():
    untied = Network([6, 4, 2, 4, 6], ["relu", "identity", "relu", "identity"])
    tied = Network([6, 4, 2, 4, 6], ["relu", "identity", "relu", "identity"], tied=True)
    assert tied.n_weights * 2 == untied.n_weights
    theta = tied.init(np.random.RandomState(0))
    params = tied.parameters(theta)
    np.testing.assert_array_equal(params[0][0], params[3][0].T)
    assert np.shares_memory(params[0][0], params[3][0])


def test_layout_views_share_the_flat_vector():
    network = Network([6, 3, 6], ["identity", "identity"])
    theta = np.arange(network.n_params, dtype=float)
    (W1, b1), (W2, b2) = network.parameters(theta)
    assert network.n_params == 6 * 3 + 3 * 6 + 3 + 6
    assert network.n_weights == 36
    assert W1.shape == (6, 3) and W2.shape == (3, 6)
    for view in (W1, b1, W2, b2):
        assert np.shares_memory(view, theta)
    theta[:] = 0
    assert not W2.any() and not b1.any()


def test_init_scales_by_activation():
    rng = np.random.RandomState(0)
    relu = Network([400, 400, 400], ["relu", "identity"]).init(rng)
    tanh = Network([400, 400, 400], ["tanh", "identity"]).init(rng)
    relu_first = relu[: 400 * 400]
    tanh_first = tanh[: 400 * 400]
    assert relu_first.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert tanh_first.std() == pytest.approx(np.sqrt(6 / 800) / np.sqrt(3), rel=0.02)
    assert not relu[Network([400, 400, 400], ["relu", "identity"]).n_weights :].any()


def test_binary_crossentropy_is_finite_for_huge_logits():
    raw = np.array([[1e4, -1e4, 0.0]])
    target = np.array([[1.0, 0.0, 1.0]])
    delta = np.empty_like(raw)
    with np.errstate(all="raise"):
        loss = LOSSES["binary_crossentropy"].value_and_delta(raw, target, 1.0, delta)
    assert loss == pytest.approx(np.log(2) / 3)
    np.testing.assert_allclose(delta, [[0.0, 0.0, -0.5 / 3]])


@pytest.mark.parametrize("linear_path", [False, True])
def test_predict_matches_training_forward(linear_path):
    rng = np.random.RandomState(1)
    network = Network(
        [4, 3, 2, 3, 4], ["tanh", "identity", "tanh", "identity"], linear_path=linear_path
    )
    theta = network.init(rng) + 0.1 * rng.normal(size=network.n_params)
    X = rng.normal(size=(5, 4))
    acts, _ = network.allocate(5, theta.dtype)
    acts[0][...] = X
    network.forward(theta, acts)
    np.testing.assert_allclose(network.predict(theta, X), acts[-1])
    np.testing.assert_allclose(network.predict(theta, X, 0, 2), acts[2])
    np.testing.assert_allclose(network.predict(theta, acts[2], 2), acts[-1])


def test_fold_affine_reads_raw_data():
    rng = np.random.RandomState(2)
    network = Network([4, 3, 4], ["identity", "identity"], linear_path=True)
    theta = network.init(rng) + 0.1 * rng.normal(size=network.n_params)
    X = rng.normal(3.0, 5.0, size=(5, 4))
    mean, scale = X.mean(axis=0), 5.0
    folded = network.fold_affine(theta.copy(), mean, scale)
    expected = network.predict(theta, (X - mean) / scale) * scale + mean
    np.testing.assert_allclose(network.predict(folded, X), expected)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_activation_scratch_changes_nothing_and_derivative_is_right(activation):
    rng = np.random.RandomState(4)
    Z = rng.normal(scale=3.0, size=(6, 5))
    forward = ACTIVATIONS[activation]
    A, A_scratch = Z.copy(), Z.copy()
    forward(A)
    forward(A_scratch, np.full_like(Z, np.nan))
    np.testing.assert_array_equal(A_scratch, A)

    delta = rng.normal(size=Z.shape)
    d, d_scratch = delta.copy(), delta.copy()
    DERIVATIVES[activation](A, d)
    DERIVATIVES[activation](A, d_scratch, np.full_like(Z, np.nan))
    np.testing.assert_array_equal(d_scratch, d)
    up, down = Z + 1e-6, Z - 1e-6
    forward(up)
    forward(down)
    np.testing.assert_allclose(d, delta * (up - down) / 2e-6, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("tied, linear_path", [(False, False), (False, True), (True, True)])
def test_float32_gradient_agrees_with_float64(activation, tied, linear_path):
    rng = np.random.RandomState(3)
    network = Network(
        [20, 12, 4, 12, 20],
        [activation, "identity", activation, "identity"],
        tied=tied,
        linear_path=linear_path,
    )
    theta = network.init(rng) + 0.1 * rng.normal(size=network.n_params)
    X = rng.normal(size=(16, 20))
    grads = {}
    for dtype in (np.float64, np.float32):
        acts, deltas = network.allocate(16, dtype)
        acts[0][...] = X
        grad = np.empty(network.n_params, dtype)
        workspace = network.workspace(16, dtype)
        network.loss_and_grad(theta.astype(dtype), acts, deltas, grad, 1 / 16, workspace=workspace)
        l2_penalty(theta.astype(dtype), grad, 0.1, network.decayed)
        grads[dtype] = grad
    assert grads[np.float32].dtype == np.float32
    difference = np.linalg.norm(grads[np.float32] - grads[np.float64])
    assert difference < 1e-5 * np.linalg.norm(grads[np.float64])


def _objective(case, activation, X):
    """The objective the trainer calls, and a batch of 2048 rows of ``X`` (4096 x 300)."""
    sizes = [300, 64, 32, 64, 300]
    activations = [activation, "identity", activation, "identity"]
    loader = RowLoader(X.mean(axis=0), 2.0)
    if case == "variational":
        network = VariationalNetwork(300, (64,), 32, activation, "squared_error")
        return VariationalObjective(network, loader), np.arange(0, 4096, 2)
    tied = case == "tied"
    network = Network(sizes, activations, tied=tied, linear_path=case != "no linear path")
    options = {
        "gaussian": dict(noise="gaussian", noise_level=0.1),
        "masking": dict(noise="masking", noise_level=0.2),
        "l1": dict(code_terms=[L1CodePenalty(0.1)]),
    }.get(case, {})
    batch = np.arange(0, 4096, 2)
    if case == "layout":  # the neighbour-graph term's targets, with pooled noise
        targets = np.random.RandomState(0).normal(size=(4096, 32)).astype(np.float32)
        term = LayoutTargetTerm(targets, 0.5)
        options = dict(noise="gaussian", noise_level=0.1, code_terms=[term], pool_noise=True)
    return AutoencoderObjective(network, loader, **options), batch


@pytest.mark.parametrize(
    "case, activation",
    [("linear path", name) for name in sorted(ACTIVATIONS)]
    + [
        (case, "relu")
        for case in ("no linear path", "tied", "gaussian", "masking", "l1", "layout", "variational")
    ],
)
def test_training_step_allocates_no_array(case, activation):
    # The trainer's step: the objective's loss and gradient of a batch of rows
    # gathered from X, into the buffers allocated once per fit, then the
    # optimizer's step with the L2 penalty. It allocates no array: the
    # smallest it could make is the code's 2048 x 32 float32 block, 256 kB.
    # (NumPy's ufuncs may still use their fixed 8192-element buffers for a
    # broadcast, a cast or a strided operand: 32 kB each in float32, whatever
    # the batch; per-row sums of 2048 rows are 8 kB.)
    rng = np.random.RandomState(5)
    X = rng.normal(size=(4096, 300)).astype(np.float32)
    objective, batch = _objective(case, activation, X)
    theta = objective.init(X, None, rng)
    buffers = objective.allocate(objective.batch_rows(2048), np.float32)
    grad = np.empty_like(theta)
    optimizer = Adam(theta.size, theta.dtype, learning_rate_init=np.float64(1e-3))
    noise = np.random.default_rng(0) if objective.needs_rng else None

    def step():  # as train_stochastic does it: the penalty goes in the step
        batch_buffers = buffers.head(batch.size)
        objective.loss_and_grad(theta, X, batch, 1 / 2048, batch_buffers, grad, noise)
        optimizer.step(theta, grad, np.float64(1e-3), objective.decayed)

    step()
    tracemalloc.start()
    try:
        step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2048 * 32 * 4


def _weight_mask(model, n_params):
    """1 over every weight matrix of ``model`` (layers and linear path), 0 elsewhere."""
    mask = np.zeros(n_params)
    for W, _ in model.parameters(mask):
        W[...] = 1
    if getattr(model, "linear_path", None) is not None:
        for W in model.linear_weights(mask):
            W[...] = 1
    return mask


@pytest.mark.parametrize("optimizer", [Adam, SGD])
@pytest.mark.parametrize(
    "make",
    [
        lambda: Network(
            [20, 12, 4, 12, 20], ["relu", "identity", "relu", "identity"], linear_path=True
        ),
        lambda: Network([20, 12, 4, 12, 20], ["relu", "identity", "relu", "identity"], tied=True),
        lambda: VariationalNetwork(20, (12,), 4, "relu", "squared_error"),
    ],
)
def test_the_step_and_l2_penalty_decay_the_weights_only(make, optimizer):
    # The stochastic solvers have the optimizer's step add the L2 penalty's
    # gradient over ``decayed`` and return its value; L-BFGS takes both from
    # ``l2_penalty``. Both must be alpha / 2 * ||W||^2 over the weights alone.
    model = make()
    rng = np.random.RandomState(0)
    theta = rng.normal(size=model.n_params)
    grad = rng.normal(size=theta.size)
    mask = _weight_mask(model, theta.size)
    expected_grad = grad + 0.3 * mask * theta
    expected_value = 0.15 * float(np.sum(mask * theta**2))
    penalty_grad = grad.copy()
    assert l2_penalty(theta, penalty_grad, 0.3, model.decayed) == pytest.approx(expected_value)
    np.testing.assert_allclose(penalty_grad, expected_grad, rtol=1e-12)
    step = optimizer(theta.size, theta.dtype)
    assert step.step(theta.copy(), grad, 0.3, model.decayed) == pytest.approx(expected_value)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12)
