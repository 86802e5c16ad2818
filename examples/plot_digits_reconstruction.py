"""Reconstructions of held-out digits: PCA against the autoencoder.

Both models compress the 64 pixels of scikit-learn's 8x8 digits to the same
number of components, are fitted on 80% of the digits and reconstruct the
other 20%. The figure shows, for each code size, a row of PCA reconstructions
and a row of autoencoder reconstructions under the originals, with each row's
held-out mean squared error.

The autoencoder runs with its defaults: it starts from PCA's solution (its
linear path) and trains its layers on what PCA misses, so with every code size
its error is at most PCA's and usually well below.

Run ``python examples/plot_digits_reconstruction.py``. Environment variables:
``SKAE_EXAMPLE_QUICK=1`` trains briefly (a smoke test), ``SKAE_EXAMPLE_OUTPUT``
is the directory the PNG is written to (default: the current directory).
"""

import os
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

QUICK = os.environ.get("SKAE_EXAMPLE_QUICK") == "1"
OUTPUT = Path(os.environ.get("SKAE_EXAMPLE_OUTPUT", "."))
SIZES = (2, 8) if QUICK else (2, 8, 16)
N_SHOW = 10

X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0, stratify=y)

rows = [("original", X_test)]
for k in SIZES:
    pca = PCA(n_components=k).fit(X_train)
    ae = AutoencoderTransformer(n_components=k, random_state=0)
    if QUICK:
        ae.set_params(max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X_train)
    for name, model in [("PCA", pca), ("autoencoder", ae)]:
        X_hat = model.inverse_transform(model.transform(X_test))
        error = np.mean((X_test - X_hat) ** 2)
        rows.append((f"{name}, k={k}\nMSE {error:.2f}", X_hat))
        print(f"k={k:2d} {name:12s} held-out MSE {error:.3f}")

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
OUTPUT.mkdir(parents=True, exist_ok=True)
path = OUTPUT / "digits_reconstruction.png"
fig.savefig(path, dpi=100)
print(f"wrote {path}")
