"""``trustworthiness_stability_scorer``: a label-free scorer for clustering pipelines."""

from functools import partial

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skae import AutoencoderTransformer, trustworthiness_stability_scorer

scorer = trustworthiness_stability_scorer


@pytest.fixture(scope="module")
def blobs():
    return make_blobs(600, n_features=20, centers=6, cluster_std=3.0, random_state=0)


def pca_kmeans(k):
    return make_pipeline(PCA(k, random_state=0), KMeans(6, n_init=4, random_state=0))


def test_score_is_the_mean_of_trustworthiness_and_stability(blobs):
    X, _ = blobs
    fitted = pca_kmeans(3).fit(X[:400])
    X_new = X[400:]
    codes = fitted[:-1].transform(X_new)
    refit = clone(fitted[-1]).fit_predict(codes)
    stability = adjusted_rand_score(fitted.predict(X_new), refit)
    for n_neighbors, score in [(15, scorer), (10, partial(scorer, n_neighbors=10))]:
        trust = trustworthiness(X_new, codes, n_neighbors=n_neighbors)
        assert score(fitted, X_new) == pytest.approx((trust + stability) / 2, abs=1e-12)


def test_trustworthiness_uses_a_fixed_subset_of_at_most_max_samples_rows(blobs):
    X, _ = blobs
    fitted = pca_kmeans(3).fit(X)
    # The stability half is the same on every subset size; the trustworthiness
    # half changes with the rows it sees, and is the same on every call.
    small = scorer(fitted, X, max_samples=100)
    assert small == scorer(fitted, X, max_samples=100)
    assert small != scorer(fitted, X, max_samples=len(X))
    assert scorer(fitted, X, max_samples=len(X)) == scorer(fitted, X, max_samples=10**6)


def test_a_grid_search_chooses_the_reduction_that_keeps_the_clusters(blobs):
    """KMeans' own score prefers the fewest dimensions; the scorer does not."""
    X, y = blobs
    grid = {"pca__n_components": [1, 2, 4, 8]}
    default = GridSearchCV(pca_kmeans(2), grid, cv=3).fit(X)
    search = GridSearchCV(pca_kmeans(2), grid, cv=3, scoring=scorer).fit(X)
    assert default.best_params_ == {"pca__n_components": 1}
    assert search.best_params_["pca__n_components"] > 1
    nmi = {
        name: normalized_mutual_info_score(y, s.best_estimator_.predict(X))
        for name, s in [("default", default), ("scorer", search)]
    }
    assert nmi["scorer"] > nmi["default"] + 0.1


def test_codes_that_forget_the_data_score_low(blobs):
    X, _ = blobs
    noise = FunctionTransformer(lambda X: np.random.RandomState(len(X)).normal(size=(len(X), 3)))
    forgetful = make_pipeline(noise, KMeans(6, n_init=4, random_state=0)).fit(X[:400])
    assert scorer(forgetful, X[400:]) < 0.5 < 0.9 < scorer(pca_kmeans(3).fit(X[:400]), X[400:])


def test_an_autoencoder_pipeline_and_a_dataframe(blobs):
    pd = pytest.importorskip("pandas")
    X, _ = blobs
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    pipeline = make_pipeline(
        AutoencoderTransformer(3, hidden_layer_sizes=(8,), max_iter=5, random_state=0),
        KMeans(6, n_init=2, random_state=0),
    ).fit(frame[:400])
    assert 0 < scorer(pipeline, frame[400:]) <= 1


@pytest.mark.parametrize(
    "estimator",
    [
        AutoencoderTransformer(),
        make_pipeline(KMeans(3)),
        make_pipeline(PCA(2), AgglomerativeClustering(3)),
    ],
    ids=["no-pipeline", "one-step", "no-predict"],
)
def test_what_is_not_a_clustering_pipeline_is_refused(estimator, blobs):
    with pytest.raises(TypeError, match="Pipeline of a reduction followed by a clusterer"):
        scorer(estimator, blobs[0])
