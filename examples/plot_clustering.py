"""
Clustering MNIST with the neighbour-graph term
==============================================

A plain autoencoder is trained to reconstruct its input, and nothing asks its
codes to form clusters. ``n_neighbors=15`` adds UMAP's view of the data: the
graph of each image's 14 nearest neighbours is laid out as UMAP lays it out,
and the network learns that layout while its codes still decode. The
pipeline

.. code-block:: python

   make_pipeline(
       AutoencoderTransformer(n_components=10, n_neighbors=15, random_state=0),
       KMeans(10, n_init=10, random_state=0),
   )

is scored here by the normalized mutual information (NMI) and adjusted Rand
index (ARI) between its clusters and the true digits, which it never sees,
beside the same pipeline with a plain autoencoder and with PCA.

The figure shows the 2-D codes of an autoencoder trained with the term
(``n_components=2``), coloured by digit, and the ten KMeans centres of the
10-D pipeline decoded back to images with ``inverse_transform``, something
UMAP's embedding cannot do cheaply.

The data are the 10,000 images of the MNIST test set shipped in the
repository's ``data/mnist10k`` (see the README there for its licence). Run
``python examples/plot_clustering.py`` (a few minutes on two cores);
``SKAE_EXAMPLE_QUICK=1`` uses 1,500 images and a few epochs,
``SKAE_EXAMPLE_OUTPUT=DIR`` saves the figure into ``DIR``.
"""

import gzip
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import BoundaryNorm
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.pipeline import make_pipeline

from skae import AutoencoderTransformer

QUICK = os.environ.get("SKAE_EXAMPLE_QUICK") == "1"
try:
    HERE = Path(__file__).resolve().parent
except NameError:  # the docs' gallery runs the script from its folder, without __file__
    HERE = Path.cwd()
MNIST = HERE.parent / "data" / "mnist10k"


def read_mnist(directory=MNIST):
    with gzip.open(directory / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(directory / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images / 255.0, labels


X, y = read_mnist()
# The quick mode: fewer images, a few epochs. Its scores mean little.
quick = {"plain": {}, "neighbors": {}}
if QUICK:
    X, y = X[:1500], y[:1500]
    quick = {"plain": {"max_iter": 3}, "neighbors": {"n_epochs": 5}}

# %%
# Three pipelines, scored against the labels
# ------------------------------------------
#
# Only the autoencoder's ``n_neighbors`` differs between the last two.

pipelines = {
    "PCA(10)": PCA(10, random_state=0),
    "AutoencoderTransformer(10)": AutoencoderTransformer(
        n_components=10, random_state=0, **quick["plain"]
    ),
    "AutoencoderTransformer(10, n_neighbors=15)": AutoencoderTransformer(
        n_components=10, n_neighbors=15, random_state=0, **quick["neighbors"]
    ),
}
for name, reducer in pipelines.items():
    pipeline = make_pipeline(reducer, KMeans(10, n_init=10, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the quick mode stops early
        clusters = pipeline.fit_predict(X)
    pipelines[name] = pipeline
    print(
        f"{name:43s} + KMeans(10): NMI {normalized_mutual_info_score(y, clusters):.3f} "
        f"ARI {adjusted_rand_score(y, clusters):.3f}"
    )

# %%
# The codes still decode
# ----------------------
#
# The neighbour term pulls the codes into clusters, and the decoder is still
# trained on the reconstruction: ``score`` (the negative mean squared error)
# stays a working measure, here on the training images.

for name in list(pipelines)[1:]:
    print(f"{name:43s} score: {pipelines[name][0].score(X):.4f}")

# %%
# A 2-D view, and the decoded cluster centres
# -------------------------------------------
#
# A second autoencoder with the term, trained for 2-D codes to draw them; and
# each KMeans centre of the 10-D pipeline run through ``inverse_transform``,
# labelled with the digit most of its cluster's members are.

ae_2d = AutoencoderTransformer(n_components=2, n_neighbors=15, random_state=0, **quick["neighbors"])
codes_2d = ae_2d.fit_transform(X)

ae, kmeans = pipelines["AutoencoderTransformer(10, n_neighbors=15)"][:2]
centres = ae.inverse_transform(kmeans.cluster_centers_)
majority = [np.bincount(y[kmeans.labels_ == c], minlength=10).argmax() for c in range(10)]
order = np.argsort(majority, kind="stable")

fig = plt.figure(figsize=(11, 4.4))
grid = fig.add_gridspec(2, 7, width_ratios=[3.6, 0.5, 1, 1, 1, 1, 1])
ax = fig.add_subplot(grid[:, 0])
cmap = plt.get_cmap("tab10", 10)
points = ax.scatter(
    codes_2d[:, 0],
    codes_2d[:, 1],
    c=y,
    cmap=cmap,
    norm=BoundaryNorm(np.arange(-0.5, 10), cmap.N),
    s=2,
    alpha=0.6,
    linewidths=0,
)
bar = fig.colorbar(points, ax=ax, fraction=0.04, pad=0.02, ticks=range(10))
bar.set_label("digit")
ax.set_xticks([])
ax.set_yticks([])
ax.set_title("2-D codes, n_neighbors=15", fontsize=9)
for i, c in enumerate(order):
    ax = fig.add_subplot(grid[i // 5, 2 + i % 5])
    ax.imshow(centres[c].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"cluster {c}: mostly {majority[c]}", fontsize=7)
fig.text(0.7, 0.95, "KMeans(10) centres of the 10-D codes, decoded", ha="center", fontsize=9)
fig.tight_layout()
if os.environ.get("SKAE_EXAMPLE_OUTPUT"):  # a PNG copy, only when asked for
    output = Path(os.environ["SKAE_EXAMPLE_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    fig.savefig(output / "clustering.png", dpi=100)
plt.show()
