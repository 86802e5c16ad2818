"""dask: grid search on a LocalCluster, and Incremental over a dask array.

Skipped when the ``dist`` extra (dask[distributed], dask-ml) is not installed.
"""

import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")
da = pytest.importorskip("dask.array")
wrappers = pytest.importorskip("dask_ml.wrappers")

import joblib  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skae import AutoencoderTransformer  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def low_rank_data(n_samples=600, n_features=10, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 3)) @ rng.normal(size=(3, n_features))
    return X + 0.1 * rng.normal(size=(n_samples, n_features))


def grid_search(X, n_jobs):
    search = GridSearchCV(
        AutoencoderTransformer(random_state=0, max_iter=10),
        {"hidden_layer_sizes": [(), (8,)], "n_components": [2, 3]},
        n_jobs=n_jobs,
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X)


def test_grid_search_on_the_cluster_scores_as_the_local_run(client):
    X = low_rank_data()
    local = grid_search(X, n_jobs=1)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
        remote = grid_search(X, n_jobs=-1)

    assert len(tasks.data) > 0, "no task ran on the cluster"
    assert {task["worker"] for task in tasks.data} <= set(client.scheduler_info()["workers"])
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert remote.best_params_ == local.best_params_
    # Sanity: the search discriminates, so equal scores are not all trivially equal.
    assert np.ptp(local.cv_results_["mean_test_score"]) > 0.1


def test_incremental_fits_and_transforms_a_dask_array(client):
    X = low_rank_data(2000).astype(np.float32)
    dX = da.from_array(X, chunks=(500, X.shape[1]))
    model = wrappers.Incremental(
        AutoencoderTransformer(3, hidden_layer_sizes=(8,), random_state=0),
        shuffle_blocks=False,
    )
    model.fit(dX)
    fitted = model.estimator_
    assert fitted.n_iter_ == 4  # one partial_fit per block

    Z = model.transform(dX)
    assert isinstance(Z, da.Array)
    Z = Z.compute()
    assert Z.shape == (2000, 3)
    assert Z.dtype == np.float32
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(Z, fitted.transform(X), rtol=1e-5, atol=1e-6)

    # The blocks were trained in order: the same as partial_fit on them here.
    local = AutoencoderTransformer(3, hidden_layer_sizes=(8,), random_state=0)
    for start in range(0, 2000, 500):
        local.partial_fit(X[start : start + 500])
    for W_remote, W_local in zip(fitted.coefs_, local.coefs_):
        np.testing.assert_allclose(W_remote, W_local, rtol=1e-5, atol=1e-6)


def test_map_blocks_with_explicit_chunks_gives_a_correct_lazy_shape(client):
    # Incremental.transform declares the input's columns on its lazy result;
    # the recipe on the user guide's scaling-out page states the code width instead.
    X = low_rank_data(1000)
    dX = da.from_array(X, chunks=(250, X.shape[1]))
    ae = AutoencoderTransformer(3, hidden_layer_sizes=(8,), random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X)
    Z = dX.map_blocks(ae.transform, chunks=(dX.chunks[0], (3,)), dtype=dX.dtype)
    assert Z.shape == (1000, 3)
    np.testing.assert_allclose(Z.compute(), ae.transform(X))
