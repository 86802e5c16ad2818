"""Out-of-core training with fit_chunks: memmaps, chunk order, argument checks."""

import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer
from skae._streaming import chunk_bounds, fit_chunks


def curved_data(n_samples=6000, n_features=12, seed=0):
    """Rows near a 2-D curved manifold in 12-D, so PCA(3) misses a share."""
    rng = np.random.RandomState(seed)
    t = rng.uniform(-1, 1, size=(n_samples, 2))
    F = np.column_stack([t, np.sin(3 * t), t[:, :1] * t[:, 1:], t**2])
    A = rng.normal(size=(F.shape[1], n_features))
    return (F @ A + 0.05 * rng.normal(size=(n_samples, n_features))).astype(np.float32)


def write_memmap(path, X):
    out = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    out[:] = X
    out.flush()
    del out
    return np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)


def explained(estimator, X):
    """Share of the variance the reconstruction keeps (1 - relative MSE)."""
    X_hat = estimator.inverse_transform(estimator.transform(X))
    return 1 - np.mean((X - X_hat) ** 2) / X.var(axis=0).mean()


class Recorder:
    """Stands in for an estimator: logs which rows each partial_fit call got."""

    def __init__(self):
        self.calls = []

    def partial_fit(self, X, y=None, sample_weight=None):
        X = np.asarray(X)
        weights = None if sample_weight is None else np.asarray(sample_weight).copy()
        self.calls.append((X[:, 0].astype(int).tolist(), weights))
        return self


class SliceOnly:
    """An HDF5-like dataset: rows come out only through bounded slices.

    It has no ``__array__``, so any attempt to read the whole array fails.
    """

    def __init__(self, data, max_rows):
        self._data, self._max_rows = data, max_rows
        self.shape, self.dtype = data.shape, data.dtype
        self.reads = []

    def __getitem__(self, key):
        assert isinstance(key, slice), f"expected a row slice, got {key!r}"
        start, stop, step = key.indices(self.shape[0])
        assert step == 1 and stop - start <= self._max_rows, key
        self.reads.append((start, stop))
        return np.array(self._data[start:stop])

    def __array__(self, *args, **kwargs):
        raise AssertionError("the whole array was read")

    def __len__(self):
        return self.shape[0]


def index_rows(n_rows):
    return np.arange(n_rows, dtype=np.float64)[:, None] * np.ones((1, 2))


def first_rows(recorder):
    return [rows[0] for rows, _ in recorder.calls]


# ------------------------------------------------------------- memmap streaming


def test_memmap_stream_equals_the_same_calls_on_memory(tmp_path):
    X = curved_data(3000)
    X_mm = write_memmap(tmp_path / "X.f32", X)
    streamed = AutoencoderTransformer(3, hidden_layer_sizes=(16,), random_state=0)
    fit_chunks(streamed, X_mm, chunk_size=1000, n_epochs=2, shuffle_chunks=False)

    by_hand = AutoencoderTransformer(3, hidden_layer_sizes=(16,), random_state=0)
    for _ in range(2):
        for start in (0, 1000, 2000):
            by_hand.partial_fit(X[start : start + 1000])

    assert streamed.n_iter_ == by_hand.n_iter_ == 6
    for W_stream, W_hand in zip(streamed.coefs_, by_hand.coefs_):
        np.testing.assert_array_equal(W_stream, W_hand)
    # The first chunk fixed the centring.
    np.testing.assert_allclose(streamed.mean_, X[:1000].mean(axis=0), rtol=1e-5, atol=1e-6)


def test_memmap_stream_fits_and_transforms_as_well_as_in_memory(tmp_path):
    X = curved_data(6000)
    X_mm = write_memmap(tmp_path / "X.f32", X)
    n_epochs = 20
    streamed = fit_chunks(
        AutoencoderTransformer(3, hidden_layer_sizes=(32,), random_state=0),
        X_mm,
        chunk_size=1000,
        n_epochs=n_epochs,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory = AutoencoderTransformer(
            3, hidden_layer_sizes=(32,), random_state=0, max_iter=n_epochs
        ).fit(X)

    Z = streamed.transform(X_mm)
    assert Z.shape == (6000, 3)
    assert Z.dtype == np.float32
    assert np.isfinite(Z).all()
    np.testing.assert_array_equal(Z, streamed.transform(X))
    assert streamed.n_iter_ == n_epochs * 6

    stream_quality = explained(streamed, X)
    assert stream_quality > explained(in_memory, X) - 0.02
    # The data are curved: the streamed autoencoder beats the linear optimum.
    assert stream_quality > PCA(3).fit(X).explained_variance_ratio_.sum() + 0.05


def test_only_bounded_slices_are_read():
    X = curved_data(2500, n_features=6)
    data = SliceOnly(X, max_rows=700)
    ae = AutoencoderTransformer(2, hidden_layer_sizes=(8,), random_state=0)
    fit_chunks(ae, data, chunk_size=700, n_epochs=2, random_state=0)
    # 4 chunks of 625 rows each, every one read once per epoch.
    chunks = [(0, 625), (625, 1250), (1250, 1875), (1875, 2500)]
    assert sorted(data.reads) == sorted(2 * chunks)
    assert ae.n_iter_ == 8


def test_pandas_frame_chunks_keep_feature_names():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(curved_data(1200, n_features=4), columns=["a", "b", "c", "d"])
    ae = fit_chunks(
        AutoencoderTransformer(2, hidden_layer_sizes=(8,), random_state=0),
        X,
        chunk_size=400,
        random_state=0,
    )
    assert list(ae.feature_names_in_) == ["a", "b", "c", "d"]
    assert ae.transform(X).shape == (1200, 2)


# ----------------------------------------------------------------- chunk order


@pytest.mark.parametrize(
    ("n_rows", "chunk_size"), [(10, 3), (10, 5), (7, 7), (7, 100), (1001, 100)]
)
def test_chunk_bounds_cover_rows_in_near_equal_pieces(n_rows, chunk_size):
    bounds = chunk_bounds(n_rows, chunk_size)
    sizes = np.diff(bounds)
    assert bounds[0] == 0 and bounds[-1] == n_rows
    assert len(sizes) == -(-n_rows // chunk_size)
    assert sizes.max() <= chunk_size
    assert sizes.max() - sizes.min() <= 1


def test_chunk_order_is_deterministic_for_a_random_state():
    X = index_rows(100)
    runs = [fit_chunks(Recorder(), X, chunk_size=10, n_epochs=3, random_state=7) for _ in range(2)]
    assert first_rows(runs[0]) == first_rows(runs[1])

    other = fit_chunks(Recorder(), X, chunk_size=10, n_epochs=3, random_state=8)
    assert first_rows(other) != first_rows(runs[0])

    seeded = fit_chunks(
        Recorder(), X, chunk_size=10, n_epochs=3, random_state=np.random.RandomState(7)
    )
    assert first_rows(seeded) == first_rows(runs[0])


def test_each_epoch_visits_every_chunk_once_in_a_new_order():
    X = index_rows(100)
    starts = first_rows(fit_chunks(Recorder(), X, chunk_size=10, n_epochs=3, random_state=0))
    epochs = [starts[i : i + 10] for i in range(0, 30, 10)]
    for epoch in epochs:
        assert sorted(epoch) == list(range(0, 100, 10))
    assert len({tuple(epoch) for epoch in epochs}) > 1
    assert any(epoch != sorted(epoch) for epoch in epochs)


def test_without_shuffle_chunks_follow_the_rows():
    recorder = fit_chunks(
        Recorder(), index_rows(10), chunk_size=4, n_epochs=2, shuffle_chunks=False
    )
    rows = [r for r, _ in recorder.calls]
    assert rows == 2 * [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]


def test_sample_weight_travels_with_its_rows():
    X = index_rows(50)
    weight = np.arange(50, dtype=np.float64) + 0.5
    recorder = fit_chunks(Recorder(), X, chunk_size=8, random_state=0, sample_weight=weight)
    assert len(recorder.calls) == 7
    for rows, w in recorder.calls:
        np.testing.assert_array_equal(w, np.asarray(rows) + 0.5)


def test_same_seeds_give_the_same_autoencoder():
    X = curved_data(2000, n_features=6)
    fits = [
        fit_chunks(
            AutoencoderTransformer(2, hidden_layer_sizes=(8,), random_state=3),
            X,
            chunk_size=500,
            n_epochs=2,
            random_state=1,
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fits[0].transform(X), fits[1].transform(X))


# ------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"chunk_size": 0}, "chunk_size must be an integer >= 1"),
        ({"chunk_size": -5}, "chunk_size must be an integer >= 1"),
        ({"chunk_size": 2.5}, "chunk_size must be an integer >= 1"),
        ({"chunk_size": True}, "chunk_size must be an integer >= 1"),
        ({"chunk_size": None}, "chunk_size must be an integer >= 1"),
        ({"chunk_size": 10, "n_epochs": 0}, "n_epochs must be an integer >= 1"),
        ({"chunk_size": 10, "n_epochs": 1.0}, "n_epochs must be an integer >= 1"),
        ({"chunk_size": 10, "shuffle_chunks": "yes"}, "shuffle_chunks must be a bool"),
        ({"chunk_size": 10, "random_state": "seed"}, "random_state must be None, an int"),
        (
            {"chunk_size": 10, "sample_weight": np.ones(19)},
            r"sample_weight must have shape \(20,\)",
        ),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, words):
    recorder = Recorder()
    with pytest.raises(ValueError, match=words):
        fit_chunks(recorder, index_rows(20), **kwargs)
    assert recorder.calls == []


def test_estimator_without_partial_fit_is_rejected():
    with pytest.raises(ValueError, match="must have a partial_fit method.*solver='adam'"):
        fit_chunks(AutoencoderTransformer(solver="lbfgs"), index_rows(20), chunk_size=5)


@pytest.mark.parametrize(
    ("X", "words"),
    [
        (np.arange(10.0), "X must be a 2-D sliceable array"),
        ([[1.0, 2.0], [3.0, 4.0]], "X must be a 2-D sliceable array"),
        (np.empty((0, 3)), "X has no rows"),
    ],
)
def test_bad_X_raises_value_error(X, words):
    with pytest.raises(ValueError, match=words):
        fit_chunks(Recorder(), X, chunk_size=5)


def test_unknown_row_count_asks_for_chunk_sizes():
    class UnknownRows:
        shape = (float("nan"), 3)

    with pytest.raises(ValueError, match="known number of rows.*compute_chunk_sizes"):
        fit_chunks(Recorder(), UnknownRows(), chunk_size=5)
