"""
New digits from a variational autoencoder
=========================================

A :class:`~skae.VariationalAutoencoder` with an 8-dimensional code and a
Bernoulli decoder (``loss="binary_crossentropy"``) is trained on the digits
scaled to [0, 1]; ``sample`` then decodes codes drawn from the prior N(0, I).
The figure is a grid of such samples, none of them a training digit.

Run ``python examples/plot_vae_samples.py``; ``SKAE_EXAMPLE_QUICK=1`` trains
briefly and ``SKAE_EXAMPLE_OUTPUT=DIR`` saves the figure into ``DIR``.
"""

import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skae import VariationalAutoencoder

QUICK = os.environ.get("SKAE_EXAMPLE_QUICK") == "1"

# %%
# Fit, then sample from the prior
# -------------------------------
#
# The samples' mean pixel is a quick check that they look like the data.

X, _ = load_digits(return_X_y=True)
X = X / 16.0
vae = VariationalAutoencoder(
    n_components=8,
    hidden_layer_sizes=(128,),
    loss="binary_crossentropy",
    learning_rate_init=0.002,
    max_iter=5 if QUICK else 200,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # the quick mode stops early
    vae.fit(X)
samples = vae.sample(60, random_state=0)
print(f"trained {vae.n_iter_} epochs; objective per feature {vae.loss_curve_[-1]:.4f}")
print(f"mean pixel: samples {samples.mean():.4f}, data {X.mean():.4f}")

# %%
# Sixty samples
# -------------

fig, axes = plt.subplots(6, 10, figsize=(8, 5))
for ax, image in zip(axes.ravel(), samples):
    ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
fig.suptitle("Digits sampled from a variational autoencoder (8-D code)")
fig.tight_layout()
if os.environ.get("SKAE_EXAMPLE_OUTPUT"):  # a PNG copy, only when asked for
    output = Path(os.environ["SKAE_EXAMPLE_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    fig.savefig(output / "vae_samples.png", dpi=100)
plt.show()
