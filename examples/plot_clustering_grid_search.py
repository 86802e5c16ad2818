"""
Label-free grid search of a clustering pipeline
===============================================

``GridSearchCV`` scores a pipeline with its last step's ``score`` when it is
given no ``scoring``. For a pipeline that ends in
:class:`~sklearn.cluster.KMeans`, that is the negative inertia: the sum of
squared distances to the cluster centres, which shrinks with the codes, so the
search prefers the fewest dimensions whatever the clusters look like.
:func:`skae.trustworthiness_stability_scorer` scores the held-out rows instead
by the trustworthiness of their codes and the stability of their clusters,
neither of which depends on the codes' scale.

Both searches run over the code size and the weight of the neighbour-graph
term of ``make_pipeline(AutoencoderTransformer(n_neighbors=15), KMeans(10))``
on scikit-learn's digits. The labels stay out of the search's choice; they are
only used to score each setting's held-out clusters by their normalized
mutual information (NMI) with the digits, to show which ranking was right.

Run ``python examples/plot_clustering_grid_search.py``;
``SKAE_EXAMPLE_QUICK=1`` trains the network fewer epochs and
``SKAE_EXAMPLE_OUTPUT=DIR`` saves the figure into ``DIR``.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import spearmanr
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.metrics import (
    check_scoring,
    make_scorer,
    normalized_mutual_info_score,
)
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from skae import AutoencoderTransformer, trustworthiness_stability_scorer

QUICK = os.environ.get("SKAE_EXAMPLE_QUICK") == "1"

# %%
# The pipeline and the grid
# -------------------------

X, y = load_digits(return_X_y=True)
X = X / 16.0
autoencoder = AutoencoderTransformer(
    n_neighbors=15,
    hidden_layer_sizes=(64,),
    n_epochs=5 if QUICK else 20,
    random_state=0,
)
pipeline = make_pipeline(autoencoder, KMeans(n_clusters=10, random_state=0))
grid = {
    "autoencodertransformer__n_components": [2, 4, 8, 16],
    "autoencodertransformer__neighbor_weight": [0.0, 1.0],
}

# %%
# One search, three scores
# ------------------------
#
# A search given several scorers fits each setting once per fold and scores
# it with each. ``refit`` names the scorer that chooses; here the labels'
# NMI is recorded beside the two label-free scores but chooses nothing.

scoring = {
    "KMeans' score (no scoring)": check_scoring(pipeline),
    "trustworthiness_stability_scorer": trustworthiness_stability_scorer,
    "NMI": make_scorer(normalized_mutual_info_score),
}
search = GridSearchCV(
    pipeline,
    grid,
    scoring=scoring,
    refit="trustworthiness_stability_scorer",
    cv=KFold(3, shuffle=True, random_state=0),
)
search.fit(X, y)  # y reaches only the NMI scorer

results = search.cv_results_
nmi = results["mean_test_NMI"]
settings = [
    f"n_components={p['autoencodertransformer__n_components']}, "
    f"neighbor_weight={p['autoencodertransformer__neighbor_weight']}"
    for p in results["params"]
]
for name in list(scoring)[:2]:
    scores = results[f"mean_test_{name}"]
    best = np.argmax(scores)
    rho = spearmanr(scores, nmi).statistic
    print(f"{name}:")
    print(f"  chooses {settings[best]}: held-out NMI {nmi[best]:.2f}")
    print(f"  Spearman correlation with the NMI over the grid: {rho:+.2f}")
print(f"the best held-out NMI of the grid: {nmi.max():.2f}")

# %%
# Each setting's score against its held-out NMI
# ---------------------------------------------
#
# A score ranks the settings as the labels would when its points rise from
# left to right; the ringed point is the setting the score chooses.

sizes = grid["autoencodertransformer__n_components"]
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
for ax, name in zip(axes, list(scoring)[:2]):
    scores = results[f"mean_test_{name}"]
    for params, score, value in zip(results["params"], scores, nmi):
        k = params["autoencodertransformer__n_components"]
        weight = params["autoencodertransformer__neighbor_weight"]
        color = f"C{sizes.index(k)}"
        ax.scatter(score, value, marker="o" if weight else "s", color=color, s=40)
        ax.annotate(
            f"{k}",
            (score, value),
            textcoords="offset points",
            xytext=(5, 3),
            fontsize=8,
        )
    best = np.argmax(scores)
    ax.scatter(scores[best], nmi[best], s=250, facecolors="none", edgecolors="k")
    rho = spearmanr(scores, nmi).statistic
    ax.set_title(f"{name}\nSpearman's rho with the NMI: {rho:+.2f}", fontsize=9)
    ax.set_xlabel("held-out score (higher is better)", fontsize=9)
axes[0].set_ylabel("held-out NMI with the digits", fontsize=9)
handles = [
    plt.Line2D([], [], marker=marker, linestyle="", color="grey", label=label)
    for marker, label in [("s", "neighbor_weight=0"), ("o", "neighbor_weight=1")]
]
axes[1].legend(
    handles=handles,
    fontsize=8,
    loc="lower right",
    title="label: n_components",
    title_fontsize=8,
)
fig.tight_layout()
if os.environ.get("SKAE_EXAMPLE_OUTPUT"):  # a PNG copy, only when asked for
    output = Path(os.environ["SKAE_EXAMPLE_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    fig.savefig(output / "clustering_grid_search.png", dpi=100)
plt.show()
