"""
Learning curves from ``loss_curve_`` and ``validation_loss_curve_``
===================================================================

With ``early_stopping=True`` the estimator holds out ``validation_fraction``
of the training rows, records their loss after every epoch in
``validation_loss_curve_`` beside the training loss in ``loss_curve_``, stops
when the validation loss stops improving and keeps the weights of its best
epoch. For ``loss="squared_error"`` both curves are in units of the data's
mean feature variance, i.e. the share of the variance the reconstruction
misses, so PCA's share (``1 - pca.explained_variance_ratio_.sum()``) is drawn
as a reference: the autoencoder starts there (its linear path is PCA).

Two sizes of network on scikit-learn's digits: the wide one learns faster and
reaches a lower validation loss, but the gap between its training and
validation curves (what it learns about the training rows only) grows with
the epochs. The dotted line marks the epoch whose weights are kept.

Run ``python examples/plot_learning_curves.py``; ``SKAE_EXAMPLE_QUICK=1``
trains briefly and ``SKAE_EXAMPLE_OUTPUT=DIR`` saves the figure into ``DIR``.
"""

import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer

QUICK = os.environ.get("SKAE_EXAMPLE_QUICK") == "1"
N_COMPONENTS = 8

X, _ = load_digits(return_X_y=True)
pca_share = 1 - PCA(N_COMPONENTS).fit(X).explained_variance_ratio_.sum()

# %%
# Two networks, each with early stopping
# --------------------------------------

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
for ax, hidden in zip(axes, [(32,), (512,)]):
    ae = AutoencoderTransformer(
        N_COMPONENTS,
        hidden_layer_sizes=hidden,
        early_stopping=True,
        n_iter_no_change=20,
        max_iter=5 if QUICK else 300,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the quick mode stops early
        ae.fit(X)
    epochs = np.arange(1, ae.n_iter_ + 1)
    best = int(np.argmin(ae.validation_loss_curve_)) + 1
    ax.plot(epochs, ae.loss_curve_, label="loss_curve_ (training)")
    ax.plot(epochs, ae.validation_loss_curve_, label="validation_loss_curve_")
    ax.axhline(pca_share, color="grey", linestyle="--", label="PCA")
    ax.axvline(best, color="black", linewidth=0.8, linestyle=":", label=f"kept: epoch {best}")
    ax.set_title(f"hidden_layer_sizes={hidden}", fontsize=10)
    ax.set_xlabel("epoch")
    print(
        f"{hidden}: {ae.n_iter_} epochs, best validation loss "
        f"{ae.best_loss_:.4f} at epoch {best}; PCA {pca_share:.4f}"
    )
axes[0].set_ylabel("share of variance missed")
axes[0].legend(fontsize=8)
fig.suptitle(f"digits, n_components={N_COMPONENTS}", fontsize=10)
fig.tight_layout()
if os.environ.get("SKAE_EXAMPLE_OUTPUT"):  # a PNG copy, only when asked for
    output = Path(os.environ["SKAE_EXAMPLE_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    fig.savefig(output / "learning_curves.png", dpi=100)
plt.show()
