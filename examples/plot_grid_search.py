"""
Choosing the network's size with ``GridSearchCV``
=================================================

``n_components`` and ``hidden_layer_sizes`` are separate parameters, so a grid
search can tune either or both. The estimator's ``score`` is the negative mean
squared reconstruction error, so ``GridSearchCV`` needs no target and no
scorer. The figure is a heat map of the cross-validated reconstruction error
of scikit-learn's digits for each pair, with ``hidden_layer_sizes=()`` (a
linear autoencoder: PCA) as the first column.

Run ``python examples/plot_grid_search.py``; ``SKAE_EXAMPLE_QUICK=1`` searches
a smaller grid briefly and ``SKAE_EXAMPLE_OUTPUT=DIR`` saves the figure into
``DIR``.
"""

import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer

QUICK = os.environ.get("SKAE_EXAMPLE_QUICK") == "1"

# %%
# The search
# ----------
#
# No ``y`` and no ``scoring``: ``score`` is already "higher is better".

X, _ = load_digits(return_X_y=True)
grid = {
    "hidden_layer_sizes": [(), (32,), (128,)],
    "n_components": [2, 4, 8, 16],
}
estimator = AutoencoderTransformer(random_state=0, max_iter=50)
if QUICK:
    grid = {"hidden_layer_sizes": [(), (32,)], "n_components": [2, 8]}
    estimator.set_params(max_iter=3)

search = GridSearchCV(estimator, grid, cv=3)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter stops the fits early
    search.fit(X)
print("best:", search.best_params_, f"cross-validated MSE {-search.best_score_:.3f}")

# %%
# Cross-validated error of every pair
# -----------------------------------

sizes, ks = grid["hidden_layer_sizes"], grid["n_components"]
mse = np.empty((len(ks), len(sizes)))
for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    mse[ks.index(params["n_components"]), sizes.index(params["hidden_layer_sizes"])] = -score

fig, ax = plt.subplots(figsize=(4.8, 3.8))
image = ax.imshow(mse, cmap="viridis_r", aspect="auto")
for i in range(len(ks)):
    for j in range(len(sizes)):
        ax.text(
            j,
            i,
            f"{mse[i, j]:.2f}",
            ha="center",
            va="center",
            fontsize=9,
            color="white" if mse[i, j] > mse.mean() else "black",
        )
ax.set_xticks(range(len(sizes)), [str(s) for s in sizes])
ax.set_yticks(range(len(ks)), [str(k) for k in ks])
ax.set_xlabel("hidden_layer_sizes")
ax.set_ylabel("n_components")
ax.set_title("digits: 3-fold cross-validated MSE", fontsize=10)
fig.colorbar(image, ax=ax, label="MSE")
fig.tight_layout()
if os.environ.get("SKAE_EXAMPLE_OUTPUT"):  # a PNG copy, only when asked for
    output = Path(os.environ["SKAE_EXAMPLE_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    fig.savefig(output / "grid_search.png", dpi=100)
plt.show()
