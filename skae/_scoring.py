"""A label-free scorer for the settings of a clustering pipeline.

A pipeline that ends in a clusterer scores, by default, with the clusterer's
``score``: for :class:`~sklearn.cluster.KMeans` the negative inertia, which
grows as the codes shrink and so favours the fewest dimensions.
:func:`trustworthiness_stability_scorer` scores the pipeline on held-out rows
by two things that do not depend on the codes' scale: how well the codes keep
the rows' neighbourhoods, and how reproducible the clusters are. The user
guide's page on tuning (``model_selection.rst``) shows how it was chosen among
other candidates (``benchmarks/bench_model_selection.py``).
"""

import numpy as np
from sklearn.base import clone
from sklearn.manifold import trustworthiness
from sklearn.metrics import adjusted_rand_score
from sklearn.utils import check_array

__all__ = ["trustworthiness_stability_scorer"]


def _reducer_and_clusterer(estimator):
    """The steps before the last (the reduction) and the last (a clusterer with ``predict``)."""
    steps = getattr(estimator, "steps", None)
    if not steps or len(steps) < 2 or not hasattr(estimator[-1], "predict"):
        raise TypeError(
            "The scorer expects a Pipeline of a reduction followed by a clusterer with "
            "predict, such as make_pipeline(AutoencoderTransformer(), KMeans(10)); got "
            f"{estimator!r}."
        )
    return estimator[:-1], estimator[-1]


def _code_trustworthiness(X, codes, n_neighbors, max_samples):
    """:func:`~sklearn.manifold.trustworthiness` of ``codes``, on at most ``max_samples`` rows.

    The rows are a fixed random subset (seeded with 0): the function holds
    two square matrices of distances between the rows.
    """
    X = check_array(X, accept_sparse="csr")
    if X.shape[0] > max_samples:
        rows = np.sort(np.random.RandomState(0).permutation(X.shape[0])[:max_samples])
        X, codes = X[rows], codes[rows]
    return float(trustworthiness(X, codes, n_neighbors=n_neighbors))


def _cluster_stability(clusterer, codes):
    """Adjusted Rand index between the fitted clusters of ``codes`` and those of a refit."""
    refit = clone(clusterer).fit_predict(codes)
    return float(adjusted_rand_score(clusterer.predict(codes), refit))


def trustworthiness_stability_scorer(estimator, X, y=None, *, n_neighbors=15, max_samples=2000):
    """Score a clustering pipeline without labels: codes' trustworthiness, clusters' stability.

    A scorer for :class:`~sklearn.model_selection.GridSearchCV` (``scoring=``)
    and the other searches over the settings of a pipeline that reduces the
    data, then clusters the result, such as ``make_pipeline(
    AutoencoderTransformer(n_neighbors=15), KMeans(10))``. On the rows ``X``
    (a held-out fold, in a search) it returns the mean of two numbers, each at
    most 1, and higher is better:

    - the **trustworthiness** of the codes (the output of every step but the
      last) with respect to ``X``, with ``n_neighbors`` neighbours
      (:func:`sklearn.manifold.trustworthiness`): whether rows that are close
      in the codes are close in ``X``;
    - the **stability** of the clusters: the adjusted Rand index between the
      clusters the fitted pipeline assigns to the rows and those that a clone
      of its last step, fitted on the rows' codes, finds. Clusters that a
      reduction only imposes on the data do not come back on other rows.

    Neither depends on the codes' scale, unlike the negative inertia of
    :class:`~sklearn.cluster.KMeans`, which a search uses when given no
    ``scoring`` and which favours the fewest dimensions. Over grids of
    ``n_components``, ``hidden_layer_sizes`` and ``neighbor_weight`` on MNIST
    and the digits, its ranking was the closest, of the candidates measured, to
    the ranking by agreement with the true classes, which it never sees: see
    :ref:`model-selection`.

    Read more in the :ref:`User Guide <model-selection>`.

    Parameters
    ----------
    estimator : Pipeline
        A fitted pipeline whose last step is a clusterer with ``predict``
        (:class:`~sklearn.cluster.KMeans`,
        :class:`~sklearn.cluster.MiniBatchKMeans`,
        :class:`~sklearn.mixture.GaussianMixture`, ...). Every step before it
        is the reduction; it may be any transformer, such as
        :class:`~sklearn.decomposition.PCA`, so that a search can compare
        reductions.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The rows to score, numeric: the neighbourhoods are measured in their
        Euclidean distances. Use rows the pipeline was not fitted on.
    y : None
        Ignored; present for the scorer's signature.
    n_neighbors : int, default=15
        Neighbours of each row for the trustworthiness; it must be smaller
        than half the rows scored.
    max_samples : int, default=2000
        The trustworthiness is computed on at most this many rows, a fixed
        random subset, since it holds two ``n_samples x n_samples`` matrices;
        the stability uses every row.

    Returns
    -------
    score : float
        ``(trustworthiness + stability) / 2``, at most 1.

    See Also
    --------
    sklearn.manifold.trustworthiness : The first half of the score.
    sklearn.metrics.adjusted_rand_score : The measure of the second half.

    Notes
    -----
    The stability compares two clusterings of the same rows, in the spirit of
    Lange et al., "Stability-based validation of clustering solutions",
    Neural Computation 16 (2004). Each call fits the last step once more, on
    the scored rows' codes. With ``functools.partial`` the keyword arguments
    can be changed, e.g. ``partial(trustworthiness_stability_scorer,
    n_neighbors=10)``.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from skae import AutoencoderTransformer, trustworthiness_stability_scorer
    >>> X, _ = load_digits(return_X_y=True)
    >>> pipeline = make_pipeline(
    ...     AutoencoderTransformer(hidden_layer_sizes=(32,), max_iter=5, random_state=0),
    ...     KMeans(10, random_state=0),
    ... )
    >>> search = GridSearchCV(
    ...     pipeline,
    ...     {"autoencodertransformer__n_components": [2, 8]},
    ...     scoring=trustworthiness_stability_scorer,
    ...     cv=2,
    ... ).fit(X)
    >>> sorted(search.best_params_)
    ['autoencodertransformer__n_components']
    >>> bool(search.best_score_ <= 1)
    True
    """
    reducer, clusterer = _reducer_and_clusterer(estimator)
    codes = np.asarray(reducer.transform(X))
    trust = _code_trustworthiness(X, codes, n_neighbors, max_samples)
    return (trust + _cluster_stability(clusterer, codes)) / 2
