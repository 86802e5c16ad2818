"""
The 2-D latent space of a variational autoencoder
=================================================

A :class:`~skae.VariationalAutoencoder` with a 2-D code, trained on the digits
scaled to [0, 1] with a Bernoulli decoder (``loss="binary_crossentropy"``).

Left: the posterior mean (``transform``) of every digit, coloured by its label;
the KL term keeps the codes spread like the prior N(0, I), so the classes
share one round cloud without gaps. Right: the decoder's mean
(``inverse_transform``) over a grid of codes between the prior's 5th and 95th
percentiles: moving through the latent space morphs one digit into the next.

Run ``python examples/plot_vae_latent.py``; ``SKAE_EXAMPLE_QUICK=1`` trains
briefly and ``SKAE_EXAMPLE_OUTPUT=DIR`` saves the figure into ``DIR``.
"""

import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skae import VariationalAutoencoder

QUICK = os.environ.get("SKAE_EXAMPLE_QUICK") == "1"

# %%
# Fit, and look at the posterior means
# ------------------------------------
#
# The KL term asks the codes to spread like N(0, I): mean near 0 and
# variance near 1 in each direction.

X, y = load_digits(return_X_y=True)
X = X / 16.0
vae = VariationalAutoencoder(
    n_components=2,
    hidden_layer_sizes=(128,),
    loss="binary_crossentropy",
    learning_rate_init=0.002,
    max_iter=5 if QUICK else 200,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # the quick mode stops early
    Z = vae.fit_transform(X)
print(
    f"trained {vae.n_iter_} epochs; posterior means: mean {Z.mean(axis=0).round(3)}, "
    f"variance {Z.var(axis=0).round(3)}"
)

# %%
# The codes, and a grid of decoded codes
# --------------------------------------

n_grid = 15
ticks = norm.ppf(np.linspace(0.05, 0.95, n_grid))  # evenly spaced in prior probability
codes = np.array([[z0, z1] for z1 in ticks[::-1] for z0 in ticks])
images = vae.inverse_transform(codes).reshape(n_grid, n_grid, 8, 8)
images = np.pad(images, ((0, 0), (0, 0), (0, 1), (0, 1)))  # a blank line between digits
mosaic = images.transpose(0, 2, 1, 3).reshape(9 * n_grid, 9 * n_grid)

fig, (left, right) = plt.subplots(1, 2, figsize=(13, 6))
points = left.scatter(Z[:, 0], Z[:, 1], c=y, cmap="tab10", s=6)
left.legend(*points.legend_elements(), title="digit", loc="center left", bbox_to_anchor=(1, 0.5))
left.set(xlabel="z[0] (posterior mean)", ylabel="z[1]", title="Digits in the latent space")
left.set_aspect("equal")
right.imshow(mosaic, cmap="gray_r", extent=(ticks[0], ticks[-1], ticks[0], ticks[-1]))
right.set(xlabel="z[0]", ylabel="z[1]", title="Decoded grid of codes")
fig.tight_layout()
if os.environ.get("SKAE_EXAMPLE_OUTPUT"):  # a PNG copy, only when asked for
    output = Path(os.environ["SKAE_EXAMPLE_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    fig.savefig(output / "vae_latent.png", dpi=100)
plt.show()
