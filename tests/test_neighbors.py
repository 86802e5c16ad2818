"""The neighbour-graph term: neighbours, UMAP's fuzzy graph, its layout, the estimator."""

import inspect
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import normalized_mutual_info_score

from skae import AutoencoderTransformer, _spectral_start
from skae import _graph_layout as graph_layout
from skae import _graph_term as graph_term
from skae._compat import _openmp_effective_n_threads
from skae._data import COVARIANCE_MAX_FEATURES, principal_axes
from skae._graph_layout import _EdgeSteps, _pruned, find_ab_params, optimize_layout
from skae._graph_term import COMPONENT_MARGIN, LayoutTargetTerm, packed_components
from skae._neighbors import (
    SHARED_CANDIDATES,
    fuzzy_graph,
    nearest_neighbors,
    rows_graph,
    shared_neighbors,
)
from skae._optimizers import l2_penalty
from skae._regularizers import GaussianPool
from skae._spectral_start import spectral_start


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 6)) * 4
    return centres[rng.integers(4, size=150)] + rng.normal(size=(150, 6))


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


# ----------------------------------------------------------------- neighbours


def test_exact_neighbors_match_brute_force(blobs):
    idx, dist = nearest_neighbors(blobs, 7, chunk_rows=16)
    full = np.sqrt(((blobs[:, None] - blobs[None]) ** 2).sum(-1))
    np.fill_diagonal(full, np.inf)
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :7], atol=1e-10)
    assert not (idx == np.arange(len(blobs))[:, None]).any()
    np.testing.assert_allclose(np.take_along_axis(full, idx, 1), dist, atol=1e-10)


def test_sparse_input_gives_the_dense_result(blobs):
    X = np.where(np.abs(blobs) > 2, blobs, 0.0)
    _, d1 = nearest_neighbors(X, 5)
    _, d2 = nearest_neighbors(sp.csr_matrix(X), 5, chunk_rows=7)
    np.testing.assert_allclose(d1, d2, atol=1e-10)


@pytest.mark.parametrize(
    "form, n_features",
    [("float32", COVARIANCE_MAX_FEATURES + 52), ("float64", COVARIANCE_MAX_FEATURES + 52)]
    + [("sparse", n) for n in (COVARIANCE_MAX_FEATURES + 52, 200)],
)
def test_principal_axes_of_wide_or_sparse_rows_are_pcas(form, n_features):
    # Beyond COVARIANCE_MAX_FEATURES, and for sparse rows, the axes come from
    # a subspace iteration on the implicitly centred rows; they span PCA's top
    # components, weights counting as repeated rows.
    rng = np.random.RandomState(0)
    n_rows, k = 300, 8
    signal = rng.normal(size=(n_rows, 12)) * np.geomspace(10.0, 2.0, 12)
    X = signal @ rng.normal(size=(12, n_features)) + rng.normal(
        scale=0.1, size=(n_rows, n_features)
    )
    X = np.where(np.abs(X) > 5, X, 0.0) if form == "sparse" else X
    weights = rng.randint(1, 4, size=n_rows).astype(float)
    repeated = np.repeat(X, weights.astype(int), axis=0)
    mean, scale = repeated.mean(axis=0), 2.5
    data = {"float32": X.astype(np.float32), "float64": X, "sparse": sp.csr_matrix(X)}[form]
    axes = principal_axes(data, mean, scale, k + 2, np.random.RandomState(1), weights)
    assert axes.shape == (k + 2, n_features)
    pca = PCA(k, svd_solver="full").fit(repeated)
    cosines = np.linalg.svd(axes[:k] @ pca.components_.T, compute_uv=False)
    assert cosines.min() > 1 - 1e-6
    np.testing.assert_allclose(np.linalg.norm(axes, axis=1), 1.0, rtol=1e-6)


def test_sparse_rows_are_linked_on_all_their_features():
    # Sparse rows (counts, tf-idf) get the graph of the rows themselves, each
    # keeping of SHARED_CANDIDATES times as many nearest those sharing most;
    # the same rows dense get the graph of their top 30 principal components.
    X = sp.random(80, 60, density=0.1, format="csr", random_state=0)
    rows, mean, scale = np.arange(80), np.asarray(X.mean(axis=0)).ravel(), 0.5

    def graph_of(data):
        rng = np.random.RandomState(0)
        return rows_graph(data, rows, mean, scale, 40, 6, algorithm="brute", rng=rng)

    graph, features, projection, _ = graph_of(X)
    assert features.shape == (80, 30) and projection.shape == (80, 40)

    def on_rows_of(data):
        candidates = nearest_neighbors(data, 5 * SHARED_CANDIDATES)
        return fuzzy_graph(*shared_neighbors(*candidates, 5), 6)

    np.testing.assert_allclose(graph.toarray(), on_rows_of(X.toarray()).toarray(), atol=1e-8)
    dense_graph, dense_features, _, _ = graph_of(X.toarray())
    np.testing.assert_allclose(dense_features, features, atol=1e-10)
    on_components = fuzzy_graph(*nearest_neighbors(features, 5), 6)
    np.testing.assert_allclose(dense_graph.toarray(), on_components.toarray(), atol=1e-8)
    assert np.abs(dense_graph - graph).max() > 0.1  # the two differ
    some = np.arange(0, 80, 2)  # rows of zero weight are left out
    graph, _, _, _ = rows_graph(
        X, some, mean, scale, 40, 6, algorithm="brute", rng=np.random.RandomState(0)
    )
    np.testing.assert_allclose(graph.toarray(), on_rows_of(X[some].toarray()).toarray(), atol=1e-8)


@pytest.mark.parametrize("n_candidates", [4, 9])
def test_shared_neighbors_against_a_direct_count(n_candidates):
    # Each kept neighbour shares at least as many candidates (the row and the
    # neighbour themselves included) as any candidate left out, the nearer
    # winning ties; the kept ones come back nearest first, with their distances.
    rng = np.random.RandomState(0)
    X = np.round(rng.normal(size=(60, 3)), 1)  # rounded: equal counts and distances
    indices, distances = nearest_neighbors(X, n_candidates)
    kept, kept_distances = shared_neighbors(indices, distances, 3)
    assert kept.shape == kept_distances.shape == (60, 3)
    lists = [{i, *indices[i]} for i in range(60)]
    for i in range(60):
        counts = [len(lists[i] & lists[j]) for j in indices[i]]
        ranked = sorted(range(n_candidates), key=lambda c: (-counts[c], c))[:3]
        expected = sorted(ranked)  # positions among the candidates: nearest first
        np.testing.assert_array_equal(kept[i], indices[i, expected])
        np.testing.assert_array_equal(kept_distances[i], distances[i, expected])
    assert (kept != indices[:, :3]).any()  # the ranking did change some


def test_shared_neighbors_keep_all_when_no_more_candidates():
    X = np.random.RandomState(0).normal(size=(20, 2))
    indices, distances = nearest_neighbors(X, 4)
    kept, kept_distances = shared_neighbors(indices, distances, 4)
    np.testing.assert_array_equal(kept, indices)
    np.testing.assert_array_equal(kept_distances, distances)


def test_approximate_neighbors_recall(blobs):
    pytest.importorskip("pynndescent")
    idx, _ = nearest_neighbors(blobs, 5, algorithm="nndescent", random_state=0)
    exact, _ = nearest_neighbors(blobs, 5)
    assert not (idx == np.arange(150)[:, None]).any()
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(idx, exact)])
    assert recall > 0.9


def test_missing_pynndescent_is_a_clear_import_error(blobs, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pynndescent(name, *args, **kwargs):
        if name.startswith("pynndescent"):
            raise ImportError("No module named 'pynndescent'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pynndescent)
    with pytest.raises(ImportError, match="pip install pynndescent"):
        nearest_neighbors(blobs, 5, algorithm="nndescent")


def test_duplicates_are_neighbours_but_not_self():
    X = np.repeat(np.arange(10.0)[:, None], 3, axis=0)  # each row three times
    idx, dist = nearest_neighbors(X, 4)
    assert not (idx == np.arange(30)[:, None]).any()
    assert (dist[:, :2] == 0).all()  # the two copies


# ------------------------------------------------------------------ the graph


def reference_graph(idx, dist, n_neighbors):
    """UMAP's construction row by row, written plainly (local_connectivity=1)."""
    n, target = idx.shape[0], np.log2(n_neighbors)
    P = np.zeros((n, n))
    mean_all = dist[:, : n_neighbors - 1].sum() / (n * n_neighbors)
    for i in range(n):
        d = dist[i, : n_neighbors - 1]
        positive = d[d > 0]
        rho = positive[0] if positive.size else 0.0
        lo, hi, mid = 0.0, np.inf, 1.0
        for _ in range(64):
            total = np.exp(-np.maximum(d - rho, 0) / mid).sum()
            if abs(total - target) < 1e-5:
                break
            if total > target:
                hi = mid
                mid = (lo + hi) / 2
            else:
                lo = mid
                mid = mid * 2 if hi == np.inf else (lo + hi) / 2
        floor = 1e-3 * (d.sum() / n_neighbors if rho > 0 else mean_all)
        sigma = max(mid, floor)
        P[i, idx[i, : n_neighbors - 1]] = np.exp(-np.maximum(d - rho, 0) / sigma)
    return P + P.T - P * P.T


@pytest.mark.parametrize("n_neighbors", [3, 8, 15])
def test_graph_matches_a_plain_reference(blobs, n_neighbors):
    idx, dist = nearest_neighbors(blobs, 14)
    graph = fuzzy_graph(idx, dist, n_neighbors)
    np.testing.assert_allclose(graph.toarray(), reference_graph(idx, dist, n_neighbors), atol=1e-9)


def test_graph_is_symmetric_in_unit_interval(blobs):
    graph = fuzzy_graph(*nearest_neighbors(blobs, 9), 10)
    assert abs(graph - graph.T).max() == 0
    assert graph.data.min() > 0 and graph.data.max() <= 1
    assert graph.diagonal().sum() == 0


def test_graph_on_duplicates_and_constant_data():
    X = np.repeat(np.random.default_rng(1).normal(size=(20, 4)), 4, axis=0)
    constant = np.ones((30, 5))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for data in (X, constant):
            graph = fuzzy_graph(*nearest_neighbors(data, 7), 8)
            assert np.isfinite(graph.data).all()
            assert graph.data.min() > 0 and graph.data.max() <= 1
    graph = fuzzy_graph(*nearest_neighbors(constant, 7), 8)
    np.testing.assert_array_equal(graph.data, 1.0)


def test_ab_params_follow_min_dist():
    a0, b0 = find_ab_params(1.0, 0.0)
    a1, b1 = find_ab_params(1.0, 0.1)
    assert a1 == pytest.approx(1.577, rel=1e-2) and b1 == pytest.approx(0.895, rel=1e-2)
    assert a0 > a1  # tighter packing
    with pytest.raises(ValueError, match="min_dist"):
        find_ab_params(1.0, 3.0)


# ----------------------------------------------------------------- the layout


def _graph_and_steps(n_parts, rate=5):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    graph = _pruned(fuzzy_graph(*nearest_neighbors(X, 5), 6), 200)
    a, b = find_ab_params(1.0, 0.0)
    steps = _EdgeSteps(graph, 2, a, b, rate, np.random.default_rng(1), n_batches=3, n_parts=n_parts)
    return graph, steps, a, b


def test_edge_sampling_keeps_umaps_expected_pull_and_push():
    """Kept with probability min(1, 2w), scaled by max(1, 2w): 2w in expectation."""
    graph, steps, _, _ = _graph_and_steps(1, rate=5)
    W = graph.toarray() / graph.data.max()
    w = W[steps.heads, steps.tails]
    assert steps.heads.size == np.count_nonzero(np.triu(W, 1))  # each edge once
    np.testing.assert_allclose(steps.keep_probability * steps.scale, 2 * w, rtol=1e-6)
    # each end's negatives: rate * w per edge and epoch, as umap-learn's
    np.testing.assert_allclose(steps.keep_probability * steps.negative_weight, 5 * w, rtol=1e-6)
    assert steps.keep_probability.max() <= 1.0


@pytest.mark.parametrize("n_parts", [1, 3])
def test_edge_steps_against_a_direct_formula(n_parts, monkeypatch):
    """One mini-batch's step, replayed edge by edge with the same draws."""
    monkeypatch.setattr(graph_layout, "BLOCK_EDGES", 4)  # several blocks a part
    _, steps, a, b = _graph_and_steps(n_parts)
    Y = np.random.default_rng(2).normal(size=(30, 2)).astype(np.float32)
    kept, negatives = steps.draw(steps.batches[1], np.random.default_rng(3))
    assert kept.size > 3 * 4 and negatives.size == 2 * kept.size
    for part in range(steps.n_parts):
        steps.edge_gradients(Y, kept, negatives, part)
    moved = Y.copy()
    steps.scatter(moved, kept.size, np.float32(0.5))

    def pull(d):
        sq = max(d @ d, 1e-12)
        return np.clip(2 * a * b * sq ** (b - 1) / (1 + a * sq**b) * d, -4, 4)

    def push(d):
        sq = d @ d
        return 0 * d if sq == 0 else np.clip(2 * b / ((0.001 + sq) * (1 + a * sq**b)) * d, -4, 4)

    step = np.zeros((30, 2))
    Y64 = Y.astype(np.float64)
    for lo in range(0, kept.size, 4):
        block = kept[lo : lo + 4]
        for k, edge in enumerate(block):
            h, t = steps.heads[edge], steps.tails[edge]
            scale, weight = steps.scale[edge], steps.negative_weight[edge]
            g = pull(Y64[t] - Y64[h]) * scale
            step[h] += g + push(Y64[h] - Y64[negatives[2 * lo + k]]) * weight
            step[t] += -g + push(Y64[t] - Y64[negatives[2 * lo + block.size + k]]) * weight
    np.testing.assert_allclose(moved, Y64 + 0.5 * step, rtol=1e-4, atol=1e-5)


def test_spectral_start_puts_disconnected_parts_apart():
    X = np.vstack([np.random.default_rng(0).normal(size=(60, 3)) + 100 * i for i in range(3)])
    graph = fuzzy_graph(*nearest_neighbors(X, 5), 6)
    start = spectral_start(graph, 2, np.random.RandomState(0), X)
    assert start.dtype == np.float32 and start.min() >= 0 and start.max() <= 10
    parts = np.repeat(np.arange(3), 60)
    centres = np.stack([start[parts == i].mean(axis=0) for i in range(3)])
    nearest = np.linalg.norm(start[:, None] - centres[None], axis=2).argmin(axis=1)
    np.testing.assert_array_equal(nearest, parts)  # every row lies nearest its own part


def test_coarse_spectral_start_above_the_row_cap_separates_parts(monkeypatch):
    rng = np.random.default_rng(0)
    parts = np.repeat(np.arange(4), 400)
    X = rng.normal(size=(4, 5))[parts] * 2.5 + rng.normal(size=(1600, 5)) * 0.5
    graph = fuzzy_graph(*nearest_neighbors(X, 9), 10)
    monkeypatch.setattr(_spectral_start, "SPECTRAL_MAX_ROWS", 1000)
    monkeypatch.setattr(_spectral_start, "COARSE_ROWS", 150)  # about 11 rows a group
    start = spectral_start(graph, 3, np.random.RandomState(0), X)
    assert start.shape == (1600, 3) and start.dtype == np.float32
    assert start.min() >= 0 and start.max() <= 10
    found = KMeans(4, n_init=10, random_state=0).fit_predict(start)
    assert normalized_mutual_info_score(parts, found) > 0.95


def test_spectral_start_keeps_a_large_part_among_many_small_ones_wide():
    rng = np.random.default_rng(0)
    big = rng.normal(size=(400, 3)) * 3
    small = [rng.normal(size=(8, 3)) * 0.1 + rng.normal(size=3) * 100 for _ in range(200)]
    X = np.vstack([big, *small])
    start = spectral_start(fuzzy_graph(*nearest_neighbors(X, 5), 6), 2, np.random.RandomState(0), X)
    assert np.all(np.isfinite(start))
    spread = start[:400].max(axis=0) - start[:400].min(axis=0)
    assert spread.min() > 2.5  # of the start's 10 in each column, not shrunk to a point


def _parts(n_parts, rows, spread, apart, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(n_parts), rows))
    centres = rng.normal(size=(n_parts, 2)) * apart
    return centres[labels] + rng.normal(size=(labels.size, 2)) * spread, labels


def _packed_directly(layout, labels, n_parts, margin):
    """packed_components written plainly: a loop over the parts and their pairs."""
    centres = np.stack([layout[labels == i].mean(axis=0) for i in range(n_parts)])
    within = layout - centres[labels]
    radii = [np.quantile(np.linalg.norm(within[labels == i], axis=1), 0.95) for i in range(n_parts)]
    offsets = centres - layout.mean(axis=0)
    factor = max(
        margin * (radii[i] + radii[j]) / np.linalg.norm(offsets[i] - offsets[j])
        for i in range(n_parts)
        for j in range(i + 1, n_parts)
    )
    return within + min(factor, 1.0) * offsets[labels], factor


@pytest.mark.parametrize("block", [2, 512])
def test_packed_components_against_a_direct_computation(block, monkeypatch):
    monkeypatch.setattr(graph_term, "PAIR_BLOCK", block)
    layout, labels = _parts(7, [30, 50, 80, 120, 31, 40, 64], spread=1.0, apart=100.0)
    layout = layout.astype(np.float32)
    packed = packed_components(layout, labels, 7)
    expected, factor = _packed_directly(layout.astype(np.float64), labels, 7, COMPONENT_MARGIN)
    assert factor < 0.5  # the parts were far apart, and were moved
    np.testing.assert_allclose(packed, expected, rtol=1e-6, atol=1e-6)
    # each part moves as a whole; the closest pair ends exactly at the margin
    for i in range(7):
        moved = packed[labels == i] - layout[labels == i]
        np.testing.assert_allclose(moved, np.broadcast_to(moved[0], moved.shape), atol=1e-4)
    _, factor_after = _packed_directly(packed, labels, 7, COMPONENT_MARGIN)
    assert factor_after == pytest.approx(1.0)


@pytest.mark.parametrize(
    "case", ["connected", "close", "concentric", "single points", "one far, two overlapping"]
)
def test_packing_leaves_parts_alone_when_it_cannot_or_need_not_move_them(case):
    if case == "connected":
        layout, labels = _parts(3, 40, spread=1.0, apart=50.0)
        labels = np.zeros_like(labels)
    elif case == "close":
        layout, labels = _parts(3, 40, spread=1.0, apart=1.5)
    elif case == "concentric":
        angle = np.random.default_rng(0).uniform(0, 2 * np.pi, 200)
        labels = np.repeat([0, 1], 100)
        layout = np.c_[np.cos(angle), np.sin(angle)] * (1 + 4 * labels)[:, None]
    elif case == "single points":
        layout = np.repeat(np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]), 20, axis=0)
        labels = np.repeat(np.arange(3), 20)
    else:
        layout, labels = _parts(3, 40, spread=1.0, apart=0.0)
        layout[labels == 2] += 100.0
    n_parts = labels.max() + 1
    assert packed_components(layout, labels, n_parts) is layout


def test_far_apart_groups_come_closer_in_the_codes_and_keep_their_clusters(capsys):
    # three groups of three clusters each: the neighbour graph falls into the
    # three groups, which stay apart in the codes, but only about the margin
    # apart, so that the clusters within each group keep their share of them
    rng = np.random.default_rng(0)
    groups = rng.normal(scale=10, size=(3, 20))
    centres = (groups[:, None] + rng.normal(scale=0.6, size=(3, 3, 20))).reshape(9, 20)
    cluster = np.repeat(np.arange(9), 200)
    group = cluster // 3
    X = centres[cluster] + rng.normal(size=(1800, 20))
    model = AutoencoderTransformer(n_components=3, n_neighbors=15, random_state=0, verbose=1)
    Z = model.fit_transform(X)
    assert "Graph layout: 3 parts that no edge links, moved closer" in capsys.readouterr().out
    c = np.stack([Z[group == g].mean(axis=0) for g in range(3)])
    r = [np.quantile(np.linalg.norm(Z[group == g] - c[g], axis=1), 0.95) for g in range(3)]
    apart = [np.linalg.norm(c[i] - c[j]) / (r[i] + r[j]) for i, j in [(0, 1), (0, 2), (1, 2)]]
    assert 1.0 < min(apart) < 2.5  # about 5 apart when the layout is taken as it is
    within = [
        normalized_mutual_info_score(
            cluster[group == g], KMeans(3, n_init=10, random_state=0).fit_predict(Z[group == g])
        )
        for g in range(3)
    ]
    assert np.mean(within) > 0.7  # 0.64 when the layout is taken as it is


@pytest.mark.parametrize("dim", [1, 2, 10])
def test_add_steps_sums_repeated_ends_as_bincount_does_bit_for_bit(dim):
    # One pass over the ends must give the per-column float64 sums of
    # np.bincount (the layout's former scatter), in the same order, to the bit.
    rng = np.random.default_rng(dim)
    n_rows, n_ends = 50, 4000  # about 80 steps a row: rounding would show
    ends = rng.integers(0, n_rows - 5, size=n_ends).astype(np.intp)  # rows 45-49 get none
    steps = (rng.standard_normal((n_ends, dim)) * 10.0 ** rng.integers(-3, 3, (n_ends, 1))).astype(
        np.float32
    )
    alpha = np.float32(0.37)
    Y = rng.standard_normal((n_rows, dim)).astype(np.float32)
    start = Y.copy()
    expected = Y.copy()
    for d in range(dim):
        step = np.bincount(ends, weights=steps[:, d], minlength=n_rows)
        step *= alpha
        expected[:, d] += step.astype(np.float32)
    buffers = graph_layout.step_buffers(n_ends + 7, dim)  # longer than needed
    graph_layout.add_steps(Y, ends, steps, alpha, buffers)
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y, expected)
    np.testing.assert_array_equal(Y[45:], start[45:])  # rows no end names are untouched
    assert np.all(Y[:45] != start[:45])


def test_layout_separates_clusters_and_repeats_bit_for_bit(blobs):
    graph = _pruned(fuzzy_graph(*nearest_neighbors(blobs, 9), 10), 200)
    a, b = find_ab_params(1.0, 0.0)
    start = spectral_start(graph, 2, np.random.RandomState(0), blobs)
    first, second = (optimize_layout(graph, start.copy(), 200, a, b, 5, seed=3) for _ in range(2))
    np.testing.assert_array_equal(first, second)
    truth = KMeans(4, n_init=10, random_state=0).fit_predict(blobs)
    found = KMeans(4, n_init=10, random_state=0).fit_predict(first)
    assert normalized_mutual_info_score(truth, found) > 0.95


def test_layout_is_the_same_bit_for_bit_on_any_number_of_threads(blobs, monkeypatch):
    monkeypatch.setattr(graph_layout, "MIN_ROWS_PER_THREAD", 10)
    graph = _pruned(fuzzy_graph(*nearest_neighbors(blobs, 9), 10), 200)
    a, b = find_ab_params(1.0, 0.0)
    start = spectral_start(graph, 2, np.random.RandomState(0), blobs)
    one, three = (optimize_layout(graph, start.copy(), 50, a, b, 5, 3, n_threads=t) for t in (1, 3))
    np.testing.assert_array_equal(one, three)


def test_layout_threads_get_enough_rows_each():
    rows = graph_layout.MIN_ROWS_PER_THREAD
    assert graph_layout.layout_parts(rows - 1, 8) == 1
    assert graph_layout.layout_parts(2 * rows, 8) == 2
    assert graph_layout.layout_parts(100 * rows, 8) == 8
    assert graph_layout.layout_parts(100 * rows, 1) == 1


@pytest.mark.parametrize(
    "n_rows, n_epochs",
    [(100, 500), (10_000, 500), (10_001, 499), (20_000, 353), (30_000, 288), (62_500, 200)],
)
def test_layout_epochs_fall_from_500_to_200_without_a_step(n_rows, n_epochs):
    # umap-learn's 500 up to 10,000 rows; beyond, 500 * sqrt(10,000 / rows), at least 200
    assert graph_layout.default_layout_epochs(n_rows) == n_epochs
    assert graph_layout.default_layout_epochs(10 * n_rows) <= n_epochs
    assert graph_layout.default_layout_epochs(10**7) == 200


# ---------------------------------------------------------- the term on codes


@pytest.mark.parametrize("row_weight", [1 / 5, np.array([0.1, 0.3, 0.2, 0.25, 0.15])])
def test_target_term_gradient_matches_finite_differences(row_weight, finite_difference_gradient):
    rng = np.random.default_rng(0)
    targets = rng.normal(size=(9, 3))
    rows = np.array([4, 0, 7, 7, 2])
    term = LayoutTargetTerm(targets, weight=0.7)
    buffers = term.allocate(5, 3, np.float64)
    codes = rng.normal(size=(5, 3))
    value = term.value_and_grad(codes, rows, row_weight, buffers)
    direct = 0.7 * np.sum(np.broadcast_to(row_weight, 5) * ((codes - targets[rows]) ** 2).mean(1))
    assert value == pytest.approx(direct)
    expected = finite_difference_gradient(
        lambda c: term.value_and_grad(c.reshape(5, 3), rows, row_weight, buffers), codes.ravel()
    )
    term.value_and_grad(codes, rows, row_weight, buffers)
    np.testing.assert_allclose(buffers.grad.ravel(), expected, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------ the estimator


def graph_model(**params):
    base = dict(n_components=3, hidden_layer_sizes=(16,), n_neighbors=6, n_epochs=3, random_state=0)
    return AutoencoderTransformer(**{**base, **params})


@pytest.mark.parametrize(
    "params",
    [dict(), dict(tied_weights=True), dict(linear_path=False, code_l1=0.2, noise="gaussian")],
)
def test_objective_gradient_with_the_graph_term(params, finite_difference_gradient, objective_of):
    """Through the objective the estimator trains, its noise fixed."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 5))
    ae = graph_model(hidden_layer_sizes=(4,), activation="tanh", **params).fit(X)
    term = LayoutTargetTerm(rng.normal(size=(40, 3)), weight=0.7)
    objective = objective_of(ae, [term])
    batch = next(iter(objective.batches(np.arange(40), 12, np.random.RandomState(1), True)))
    theta = ae._theta + 0.05 * rng.normal(size=ae._theta.size)

    def f(t, grad=None):
        # Fresh buffers each time: the noise pool lives in them.
        buffers = objective.allocate(batch.size, theta.dtype)
        value = objective.loss_and_grad(
            t, X, batch, 1 / batch.size, buffers, grad, np.random.default_rng(7)
        )
        scratch = np.zeros_like(t) if grad is None else grad
        return value + l2_penalty(t, scratch, 0.01, objective.decayed)

    grad = np.empty_like(theta)
    f(theta, grad)
    expected = finite_difference_gradient(f, theta)
    assert np.linalg.norm(grad - expected) / np.linalg.norm(grad + expected) < 1e-6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_noise_pool_draws_are_normal_and_recycled(dtype):
    pool = GaussianPool(64, 30, dtype, level=0.5)
    rng = np.random.default_rng(0)
    noise = np.stack([pool.add_to(np.zeros((64, 30), dtype), rng) for _ in range(400)])
    assert noise.dtype == dtype
    assert abs(noise.mean()) < 0.01 and noise.std() == pytest.approx(0.5, rel=0.02)
    # Any two batches share few rows; the pool's rows come back (4 x 64 of them).
    first = {row.tobytes() for row in noise[0]}
    assert sum(row.tobytes() in first for row in noise[1]) < 64
    assert any(row.tobytes() in first for batch in noise[1:20] for row in batch)
    # A batch that starts at one of the pool's last two rows wraps round to its first.
    seed = next(s for s in range(1000) if np.random.default_rng(s).integers(256) >= 254)
    wrapped = pool.add_to(np.zeros((3, 30), dtype), np.random.default_rng(seed))
    assert (wrapped != 0).all(axis=1).all()


def test_auto_noise_is_gaussian_only_with_the_term(digits):
    X = digits[0][:200]
    plain = dict(n_components=3, hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    codes = [AutoencoderTransformer(**plain, noise=n).fit(X).transform(X) for n in ("auto", None)]
    np.testing.assert_array_equal(*codes)
    auto, off, on = (graph_model(noise=n).fit(X).transform(X) for n in ("auto", None, "gaussian"))
    np.testing.assert_array_equal(auto, on)
    assert not np.allclose(auto, off)


def test_codes_keep_the_clusters(digits):
    X, y = digits[0][:600], digits[1][:600]
    scores = {}
    for name, k in [("plain", None), ("graph", 10)]:
        ae = AutoencoderTransformer(
            10, hidden_layer_sizes=(64,), n_neighbors=k, n_epochs=40, max_iter=40, random_state=0
        ).fit(X)
        labels = KMeans(10, n_init=5, random_state=0).fit_predict(ae.transform(X))
        scores[name] = normalized_mutual_info_score(y, labels)
    assert scores["graph"] > scores["plain"] + 0.05
    assert scores["graph"] > 0.8


@pytest.mark.parametrize(
    "params, pca_starts",
    [(dict(), 0), (dict(tied_weights=True), 1), (dict(n_neighbors=None), 1)],
)
def test_pca_start_only_where_the_layout_does_not_replace_it(monkeypatch, params, pca_starts):
    # With the graph the linear path starts at the map to the layout; PCA's
    # axes for it would be thrown away. Tied weights have no such start.
    from skae import _objective

    calls = []

    def counted(*args, **kwargs):
        calls.append(args[3])
        return principal_axes(*args, **kwargs)

    monkeypatch.setattr(_objective, "principal_axes", counted)
    X = np.random.RandomState(0).normal(size=(60, 5))
    graph_model(**params).fit(X)
    assert calls == [3] * pca_starts


@pytest.mark.parametrize("n_rows, n_epochs", [(150, 782), (256, 782), (600, 334), (2000, 100)])
def test_default_epochs_give_small_data_as_many_steps(n_rows, n_epochs):
    # about 200,000 row samples, a batch counting as at least 256 rows
    X = np.random.RandomState(0).normal(size=(n_rows, 3)).astype(np.float32)
    ae = graph_model(n_epochs=None, n_neighbors=15, n_components=2, hidden_layer_sizes=(4,))
    assert ae.fit(X).n_iter_ == n_epochs == len(ae.loss_curve_)


@pytest.mark.parametrize("n_features, batch, n_epochs", [(1024, 256, 667), (4096, 64, 167)])
def test_wide_rows_train_in_smaller_batches_as_many_steps(capsys, n_features, batch, n_epochs):
    # A batch holds at most 256 x 1,024 values; the steps stay about 782.
    X = np.random.RandomState(0).normal(size=(300, n_features)).astype(np.float32)
    ae = graph_model(n_epochs=None, n_neighbors=15, n_components=2, hidden_layer_sizes=(4,))
    ae.set_params(verbose=1)
    assert ae.fit(X).n_iter_ == n_epochs
    assert f"Network: {n_epochs} epochs of batches of {batch} rows" in capsys.readouterr().out
    assert 0 <= n_epochs * 300 - 200_000 * batch / 256 < 300  # row samples
    if n_features > 1024:  # a batch size set by the user is kept; the epochs do not follow it
        ae.set_params(batch_size=100).fit(X)
        assert f"Network: {n_epochs} epochs of batches of 100 rows" in capsys.readouterr().out


def test_the_whole_api_works_with_the_term(digits):
    X = digits[0][:300].astype(np.float32)
    ae = graph_model(n_components=4).fit(X)
    Z = ae.transform(X)
    assert Z.dtype == np.float32 and Z.shape == (300, 4)
    assert ae.inverse_transform(Z).shape == X.shape
    assert np.isfinite(ae.score_samples(X)).all() and ae.score(X) < 0
    assert ae.n_iter_ == 3 and len(ae.loss_curve_) == 3
    assert ae.validation_loss_curve_ is None  # no early stopping with the term
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(ae)).transform(X), Z)
    pd = pytest.importorskip("pandas")
    frame = ae.set_output(transform="pandas").transform(X)
    assert isinstance(frame, pd.DataFrame) and frame.shape == (300, 4)


def test_same_random_state_same_codes(digits):
    X = digits[0][:200]
    a, b = (graph_model().fit(X).transform(X) for _ in range(2))
    np.testing.assert_array_equal(a, b)


def test_same_codes_whatever_the_threads(digits, monkeypatch):
    """The layout's threads follow scikit-learn's OpenMP limit and change no code."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(graph_layout, "MIN_ROWS_PER_THREAD", 20)  # threads even on 200 rows
    calls = []
    original = graph_layout.optimize_layout

    def spy(*args, **kwargs):
        calls.append(inspect.signature(original).bind(*args, **kwargs).arguments["n_threads"])
        return original(*args, **kwargs)

    monkeypatch.setattr(graph_layout, "optimize_layout", spy)
    X = digits[0][:200]
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        one = graph_model().fit_transform(X)
    with threadpoolctl.threadpool_limits(limits=2, user_api="openmp"):
        two = graph_model().fit_transform(X)
        allowed = _openmp_effective_n_threads()  # 1 on a machine of one core
    np.testing.assert_array_equal(one, two)
    assert calls == [1, allowed]


@pytest.mark.parametrize(
    "X",
    [
        np.repeat(np.random.RandomState(0).normal(size=(15, 4)), 4, axis=0),  # duplicates
        np.ones((40, 4)),  # constant
        sp.random(60, 8, density=0.3, format="csr", random_state=0),  # sparse
    ],
    ids=["duplicated rows", "constant data", "sparse"],
)
def test_awkward_data_fits(X):
    ae = graph_model().fit(X)
    assert np.isfinite(ae.transform(X)).all()


def test_zero_weight_rows_are_left_out_of_the_graph():
    X = np.random.RandomState(0).normal(size=(30, 4))
    weights = np.r_[np.ones(25), np.zeros(5)]
    ae = graph_model().fit(X, sample_weight=weights)
    assert np.isfinite(ae.transform(X)).all()
    with pytest.raises(ValueError, match="n_neighbors=6 needs more training rows"):
        graph_model().fit(X, sample_weight=np.r_[np.ones(6), np.zeros(24)])


def test_bad_settings_are_refused_and_change_nothing(digits):
    X = digits[0][:100]
    fitted = graph_model().fit(X)
    before = pickle.dumps(fitted)
    with pytest.raises(ValueError, match="needs more training rows than that; got 5 samples"):
        fitted.fit(X[:5])
    assert pickle.dumps(fitted) == before
    with pytest.raises(ValueError, match="n_neighbors"):
        graph_model(n_neighbors=1).fit(X)
    with pytest.raises(ValueError, match="n_neighbors"):
        graph_model(n_neighbors=2.5).fit(X)
    with pytest.raises(AttributeError, match="'partial_fit': it does not support n_neighbors"):
        graph_model().partial_fit(X)
    with pytest.raises(ValueError, match='stochastic solver .*got solver="lbfgs"'):
        graph_model(solver="lbfgs").fit(X)
    with pytest.raises(ValueError, match="min_dist must be smaller than 3 \\* spread"):
        graph_model(min_dist=3.0).fit(X)


def test_a_graph_too_big_for_memory_is_refused_before_any_work(digits, monkeypatch):
    X = digits[0][:100]
    fitted = graph_model().fit(X)
    before = pickle.dumps(fitted)
    monkeypatch.setattr("skae._graph_term.available_memory", lambda: 10_000)
    monkeypatch.setattr("skae._neighbors.principal_axes", pytest.fail)  # no work first
    with pytest.raises(MemoryError, match=r"n_neighbors=6 on 100 rows needs about .* GiB"):
        fitted.fit(X)
    assert pickle.dumps(fitted) == before
