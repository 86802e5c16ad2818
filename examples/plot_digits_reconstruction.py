"""
Reconstructing digits: PCA against the autoencoder
===================================================

Both models compress the 64 pixels of scikit-learn's 8x8 digits to the same
number of components, are fitted on 80% of the digits and reconstruct the
other 20%. The figure shows the original held-out digits and, for each code
size, a row of PCA reconstructions and a row of autoencoder reconstructions,
each with its held-out mean squared error.

The autoencoder runs with its defaults: it starts from PCA's solution (its
linear path) and trains its layers on what PCA misses, so its error starts at
PCA's and goes down from there.

Run ``python examples/plot_digits_reconstruction.py``; ``SKAE_EXAMPLE_QUICK=1``
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
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

QUICK = os.environ.get("SKAE_EXAMPLE_QUICK") == "1"
SIZES = (2, 8) if QUICK else (2, 8, 16)
N_SHOW = 10

# %%
# Fit PCA and the autoencoder at each code size
# ---------------------------------------------

X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0, stratify=y)

rows = [("original", X_test)]
for k in SIZES:
    pca = PCA(n_components=k).fit(X_train)
    ae = AutoencoderTransformer(n_components=k, random_state=0)
    if QUICK:
        ae.set_params(max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the quick mode stops early
        ae.fit(X_train)
    for name, model in [("PCA", pca), ("autoencoder", ae)]:
        X_hat = model.inverse_transform(model.transform(X_test))
        error = np.mean((X_test - X_hat) ** 2)
        rows.append((f"{name}, k={k}\nMSE {error:.2f}", X_hat))
        print(f"k={k:2d} {name:12s} held-out MSE {error:.3f}")

# %%
# The held-out digits and their reconstructions
# ---------------------------------------------

fig, axes = plt.subplots(len(rows), N_SHOW, figsize=(N_SHOW * 0.8, len(rows) * 0.9))
for r, (label, images) in enumerate(rows):
    for c in range(N_SHOW):
        ax = axes[r, c]
        ax.imshow(images[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
fig.suptitle("Held-out digits reconstructed from k components", fontsize=10)
fig.tight_layout()
if os.environ.get("SKAE_EXAMPLE_OUTPUT"):  # a PNG copy, only when asked for
    output = Path(os.environ["SKAE_EXAMPLE_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    fig.savefig(output / "digits_reconstruction.png", dpi=100)
plt.show()
