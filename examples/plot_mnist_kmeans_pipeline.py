"""
Clustering MNIST: a ``Pipeline`` of the autoencoder and ``KMeans``
==================================================================

``make_pipeline(AutoencoderTransformer(10), KMeans(10))`` reduces the 784
pixels of each image to a 10-D code and clusters the codes; the same pipeline
with PCA in place of the autoencoder is the baseline. Both are scored by the
normalized mutual information (NMI) and adjusted Rand index (ARI) between the
clusters and the true digits, which the pipelines never see.

The figure shows, for each of the autoencoder pipeline's clusters, the cluster
centre decoded back to an image (``inverse_transform`` of the KMeans centre)
and a few of the cluster's members.

The data are the 10,000 images of the MNIST test set shipped in the
repository's ``data/mnist10k`` (see the README there for its licence). Run
``python examples/plot_mnist_kmeans_pipeline.py``; ``SKAE_EXAMPLE_QUICK=1``
uses 2,000 images and a few epochs, ``SKAE_EXAMPLE_OUTPUT=DIR`` saves the
figure into ``DIR``.
"""

import gzip
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
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
if QUICK:
    X, y = X[:2000], y[:2000]

# %%
# Two pipelines, scored against the labels
# ----------------------------------------

autoencoder = AutoencoderTransformer(n_components=10, random_state=0)
if QUICK:
    autoencoder.set_params(max_iter=3)
pipelines = {
    "PCA(10) + KMeans(10)": make_pipeline(
        PCA(10, random_state=0), KMeans(10, n_init=10, random_state=0)
    ),
    "AutoencoderTransformer(10) + KMeans(10)": make_pipeline(
        autoencoder, KMeans(10, n_init=10, random_state=0)
    ),
}
for name, pipeline in pipelines.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the quick mode stops early
        clusters = pipeline.fit_predict(X)
    print(
        f"{name:42s} NMI {normalized_mutual_info_score(y, clusters):.3f} "
        f"ARI {adjusted_rand_score(y, clusters):.3f}"
    )

# %%
# Each cluster of the autoencoder pipeline: its decoded centre and members
# ------------------------------------------------------------------------

ae, kmeans = pipeline[0], pipeline[-1]
centres = ae.inverse_transform(kmeans.cluster_centers_)
n_members = 8
fig, axes = plt.subplots(10, n_members + 1, figsize=((n_members + 1) * 0.8, 10 * 0.85))
for c in range(10):
    members = np.flatnonzero(clusters == c)[:n_members]
    images = [centres[c]] + [X[i] for i in members]
    for j in range(n_members + 1):
        ax = axes[c, j]
        ax.set_xticks([])
        ax.set_yticks([])
        if j < len(images):
            ax.imshow(images[j].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        else:
            ax.set_visible(False)
    axes[c, 0].set_ylabel(f"cluster {c}", fontsize=8)
axes[0, 0].set_title("decoded\ncentre", fontsize=8)
fig.suptitle("KMeans(10) on autoencoder codes of MNIST", fontsize=10)
fig.tight_layout()
if os.environ.get("SKAE_EXAMPLE_OUTPUT"):  # a PNG copy, only when asked for
    output = Path(os.environ["SKAE_EXAMPLE_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    fig.savefig(output / "mnist_kmeans_pipeline.png", dpi=100)
plt.show()
