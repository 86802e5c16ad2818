"""
Denoising digits: PCA, a plain and a denoising autoencoder
==========================================================

The digits are scaled to [0, 1] (divided by 16) and the test digits corrupted
by Gaussian noise of standard deviation 0.3 in those units. Each model,
trained on the training digits, reconstructs the noisy test digits, and each
reconstruction is compared with the *clean* test digits.

The plain and the denoising autoencoder have the same size; the denoising one
saw its training inputs corrupted the same way (``noise="gaussian"``), with the
loss measured against the clean input. The script also prints how well PCA and
the plain autoencoder reconstruct the clean test digits, to separate "models
the digits well" from "removes noise".

Run ``python examples/plot_denoising.py``; ``SKAE_EXAMPLE_QUICK=1`` trains
briefly and ``SKAE_EXAMPLE_OUTPUT=DIR`` saves the figure into ``DIR``.
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
SIGMA = 0.3  # in the units of the digits scaled to [0, 1]
N_COMPONENTS = 16

# %%
# Data and models
# ---------------
#
# ``noise_level`` is in units of the autoencoder's ``scale_``, the root mean
# feature variance of the training data: noise of standard deviation ``SIGMA``
# in the data's units is ``noise_level=SIGMA / scale_``.

X, _ = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
noisy = X_test + np.random.RandomState(1).normal(0.0, SIGMA, size=X_test.shape)

scale = np.sqrt(X_train.var(axis=0).mean())
params = dict(
    n_components=N_COMPONENTS,
    hidden_layer_sizes=(128,),
    max_iter=5 if QUICK else 100,
    random_state=0,
)
models = {
    "PCA": PCA(N_COMPONENTS).fit(X_train),
    "plain autoencoder": AutoencoderTransformer(**params),
    "denoising autoencoder": AutoencoderTransformer(
        **params, noise="gaussian", noise_level=SIGMA / scale
    ),
}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # the quick mode stops early
    for name, model in models.items():
        if name != "PCA":
            model.fit(X_train)

# %%
# Reconstruction errors
# ---------------------
#
# On clean test digits, and on the noisy ones, always measured against the
# clean digits.


def reconstruct(model, X):
    return model.inverse_transform(model.transform(X))


print("MSE against the clean test digits")
print(f"{'reconstructing':>24}  {'clean input':>11}  {'noisy input':>11}")
print(f"{'the input itself':>24}  {0:11.4f}  {np.mean((noisy - X_test) ** 2):11.4f}")
rows = {"clean": X_test, f"noisy (sigma={SIGMA})": noisy}
for name, model in models.items():
    clean_mse = np.mean((reconstruct(model, X_test) - X_test) ** 2)
    rows[name] = reconstruct(model, noisy)
    noisy_mse = np.mean((rows[name] - X_test) ** 2)
    print(f"{name:>24}  {clean_mse:11.4f}  {noisy_mse:11.4f}")

# %%
# The figure
# ----------
#
# Rows: clean test digits, their noisy versions, and each model's
# reconstruction of the noisy digits with its error against the clean ones.

n_show = 10
fig, axes = plt.subplots(len(rows), n_show, figsize=(n_show, 1.25 * len(rows)))
for row_axes, (name, images) in zip(axes, rows.items()):
    mse = np.mean((images - X_test) ** 2)
    title = name if name == "clean" else f"{name}: MSE {mse:.4f}"
    row_axes[n_show // 2].set_title(title, loc="center", fontsize=10)
    for ax, image in zip(row_axes, images[:n_show]):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
fig.suptitle(f"Reconstructing noisy digits with {N_COMPONENTS} components", fontsize=12)
fig.tight_layout()
if os.environ.get("SKAE_EXAMPLE_OUTPUT"):  # a PNG copy, only when asked for
    output = Path(os.environ["SKAE_EXAMPLE_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    fig.savefig(output / "denoising.png", dpi=100)
plt.show()
