"""Denoising digits: PCA, a plain autoencoder and a denoising autoencoder.

The digits are scaled to [0, 1] (divided by 16) and the test digits corrupted
by Gaussian noise of standard deviation 0.3 in those units. Each model, trained
on clean training digits, reconstructs the noisy test digits; the figure shows
the rows clean / noisy / PCA / plain / denoising, and each row's title gives
its mean squared error against the clean digits. The plain and the denoising
autoencoder have the same size; the denoising one saw inputs corrupted the
same way during training (``noise="gaussian"``), with the loss measured
against the clean input.

Run ``python examples/plot_denoising.py``; ``SKAE_EXAMPLE_QUICK=1`` trains
briefly, and ``SKAE_EXAMPLE_OUTPUT`` is the directory the PNG is written to
(default: the current directory).
"""

import os
import warnings

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
OUTPUT = os.environ.get("SKAE_EXAMPLE_OUTPUT", ".")
SIGMA = 0.3  # in the units of the digits scaled to [0, 1]
N_COMPONENTS = 16

X, _ = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
noisy = X_test + np.random.RandomState(1).normal(0.0, SIGMA, size=X_test.shape)

# noise_level is in units of the autoencoder's scale_, the root mean feature
# variance of the training data: SIGMA in data units is SIGMA / scale_.
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
rows = {"clean": X_test, f"noisy (sigma={SIGMA})": noisy}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # the quick mode stops early
    for name, model in models.items():
        if name != "PCA":
            model.fit(X_train)
        rows[name] = model.inverse_transform(model.transform(noisy))

n_show = 10
fig, axes = plt.subplots(len(rows), n_show, figsize=(n_show, 1.25 * len(rows)))
for row_axes, (name, images) in zip(axes, rows.items()):
    mse = np.mean((images - X_test) ** 2)
    title = name if name == "clean" else f"{name}: MSE {mse:.4f}"
    row_axes[n_show // 2].set_title(title, loc="center", fontsize=10)
    for ax, image in zip(row_axes, images[:n_show]):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
    print(f"{name:>24}: MSE against the clean test digits {mse:.4f}")
fig.suptitle(f"Reconstructing noisy digits with {N_COMPONENTS} components", fontsize=12)
fig.tight_layout()
path = os.path.join(OUTPUT, "denoising.png")
fig.savefig(path, dpi=100)
print(f"wrote {path}")
