"""The optimizers against plain, whole-vector reference updates."""

import numpy as np
import pytest

from skae._optimizers import BLOCK, SGD, Adam


def reference_adam(n_steps, theta, grads, lr, b1, b2, eps):
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t, g in enumerate(grads[:n_steps], 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        theta = theta - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
    return theta


def reference_sgd(theta, grads, lr, mu, nesterov):
    velocity = np.zeros_like(theta)
    for g in grads:
        velocity = mu * velocity - lr * g
        theta = theta + (mu * velocity - lr * g if nesterov else velocity)
    return theta


# More parameters than one block, so that the blocked steps meet a block edge.
N_PARAMS = BLOCK + 123


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.0, 0.0), (0.5, 0.9)])
def test_adam_matches_the_textbook_update(betas):
    rng = np.random.default_rng(0)
    theta = rng.normal(size=N_PARAMS)
    grads = [rng.normal(size=N_PARAMS) * 10.0 ** rng.integers(-6, 2) for _ in range(20)]
    optimizer = Adam(N_PARAMS, np.float64, 0.01, *betas, 1e-8)
    ours = theta.copy()
    for g in grads:
        optimizer.step(ours, g)
    expected = reference_adam(20, theta, grads, 0.01, *betas, 1e-8)
    np.testing.assert_allclose(ours - theta, expected - theta, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_matches_the_textbook_update(nesterov):
    rng = np.random.default_rng(1)
    theta = rng.normal(size=N_PARAMS)
    grads = [rng.normal(size=N_PARAMS) for _ in range(10)]
    optimizer = SGD(N_PARAMS, np.float64, 0.01, momentum=0.9, nesterov=nesterov)
    ours = theta.copy()
    for g in grads:
        optimizer.step(ours, g)
    expected = reference_sgd(theta, grads, 0.01, 0.9, nesterov)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "make",
    [
        lambda n, dtype: Adam(n, dtype, 0.01),
        lambda n, dtype: SGD(n, dtype, 0.01, momentum=0.9),
    ],
)
@pytest.mark.parametrize(
    "decayed",
    [
        (),
        (slice(0, 100),),
        (slice(0, BLOCK),),
        (slice(0, BLOCK + 50),),
        (slice(0, N_PARAMS),),
        (slice(10, 100), slice(BLOCK - 5, BLOCK + 7)),
    ],
)
def test_decay_is_the_l2_gradient_added_over_the_decayed_slices(make, dtype, decayed):
    # step(theta, g, decay, decayed) is step(theta, g + decay * theta on the
    # slices, 0 elsewhere), with slices inside the first block, ending on its
    # edge, in the second, at the end, and two of them, one across the edge.
    rng = np.random.default_rng(2)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    theta = rng.normal(size=N_PARAMS).astype(dtype)
    fused, reference = make(N_PARAMS, dtype), make(N_PARAMS, dtype)
    ours, expected = theta.copy(), theta.copy()
    for _ in range(3):
        g = rng.normal(size=N_PARAMS).astype(dtype)
        penalised = g.copy()
        for where in decayed:
            penalised[where] += dtype(0.3) * expected[where]
        squares = sum(float(ours[where].astype(np.float64) @ ours[where]) for where in decayed)
        reference.step(expected, penalised)
        value = fused.step(ours, g, decay=0.3, decayed=decayed)
        assert value == pytest.approx(0.5 * 0.3 * squares, rel=tolerance)
        np.testing.assert_allclose(
            g, penalised, rtol=tolerance, atol=tolerance
        )  # the gradient now holds it
    np.testing.assert_allclose(ours, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize(
    "make",
    [
        lambda number: Adam(N_PARAMS, np.float32, *map(number, (0.01, 0.9, 0.999, 1e-8))),
        lambda number: SGD(
            N_PARAMS, np.float32, number(0.01), "invscaling", number(0.5), number(0.9)
        ),
    ],
)
def test_float32_steps_compute_in_float32_with_numpy_scalar_hyperparameters(make):
    # NumPy float64 scalars (from np.linspace, a grid, a config file) would turn
    # every float32 operation of a step into a float64 one and round it back:
    # slower, and other bits. The steps must equal those with Python floats,
    # bit for bit, the decay given as a NumPy scalar too.
    rng = np.random.default_rng(3)
    theta = rng.normal(size=N_PARAMS).astype(np.float32)
    grads = [rng.normal(size=N_PARAMS).astype(np.float32) for _ in range(3)]
    results = []
    for number in (float, np.float64):
        optimizer, ours = make(number), theta.copy()
        for g in grads:
            optimizer.step(ours, g.copy(), number(1e-3), (slice(0, 1000),))
            optimizer.epoch_ends(100)
        results.append(ours)
    np.testing.assert_array_equal(results[0], results[1])
