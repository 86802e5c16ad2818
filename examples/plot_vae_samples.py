"""New digits from a variational autoencoder.

A ``VariationalAutoencoder`` with an 8-dimensional code and a Bernoulli decoder
(``loss="binary_crossentropy"``) is trained on the digits scaled to [0, 1];
``sample`` then decodes codes drawn from the prior N(0, I). The figure is a
grid of such samples, none of them a training digit.

Run ``python examples/plot_vae_samples.py``; ``SKAE_EXAMPLE_QUICK=1`` trains
briefly, and ``SKAE_EXAMPLE_OUTPUT`` is the directory the PNG is written to
(default: the current directory).
"""

import os
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skae import VariationalAutoencoder

QUICK = os.environ.get("SKAE_EXAMPLE_QUICK") == "1"
OUTPUT = os.environ.get("SKAE_EXAMPLE_OUTPUT", ".")

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

fig, axes = plt.subplots(6, 10, figsize=(8, 5))
for ax, image in zip(axes.ravel(), samples):
    ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
fig.suptitle("Digits sampled from a variational autoencoder (8-D code)")
fig.tight_layout()
path = os.path.join(OUTPUT, "vae_samples.png")
fig.savefig(path, dpi=100)
print(f"wrote {path}")
