"""
Anomaly detection with ``score_samples``
========================================

``score_samples`` is the negative mean squared reconstruction error of each
row: rows unlike the training data reconstruct badly and score low. Here the
model is fitted on scikit-learn's digits *without the digit 7*; held-out
digits of the other classes are the normal rows and all the 7s are the
anomalies. The ROC AUC of ``-score_samples`` as an anomaly score is printed for
the autoencoder and for PCA's reconstruction error at the same code size.

The figure shows the two score distributions and the held-out rows the
autoencoder finds most anomalous.

Run ``python examples/plot_anomaly_detection.py``; ``SKAE_EXAMPLE_QUICK=1``
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
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

QUICK = os.environ.get("SKAE_EXAMPLE_QUICK") == "1"
ANOMALY = 7
N_COMPONENTS = 8

# %%
# Train on normal rows only
# -------------------------

X, y = load_digits(return_X_y=True)
normal, anomalies = X[y != ANOMALY], X[y == ANOMALY]
X_train, X_normal = train_test_split(normal, test_size=0.25, random_state=0)
X_test = np.vstack([X_normal, anomalies])
is_anomaly = np.r_[np.zeros(len(X_normal)), np.ones(len(anomalies))]

ae = AutoencoderTransformer(n_components=N_COMPONENTS, random_state=0)
if QUICK:
    ae.set_params(max_iter=5)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # the quick mode stops early
    ae.fit(X_train)
pca = PCA(N_COMPONENTS).fit(X_train)

# %%
# Score the held-out rows
# -----------------------
#
# A low score means a poor reconstruction, so ``-score_samples`` is the
# anomaly score. PCA's reconstruction error is the baseline.

scores = ae.score_samples(X_test)
pca_scores = -np.mean((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2, axis=1)
print(f"ROC AUC, autoencoder: {roc_auc_score(is_anomaly, -scores):.3f}")
print(f"ROC AUC, PCA:         {roc_auc_score(is_anomaly, -pca_scores):.3f}")

# %%
# Score distributions and the most anomalous rows
# -----------------------------------------------

fig = plt.figure(figsize=(9, 3.4))
ax = fig.add_axes([0.07, 0.17, 0.42, 0.72])
bins = np.linspace(scores.min(), scores.max(), 40)
ax.hist(scores[is_anomaly == 0], bins=bins, alpha=0.6, label="held-out normal digits")
ax.hist(scores[is_anomaly == 1], bins=bins, alpha=0.6, label=f"unseen digit {ANOMALY}")
ax.set_xlabel("score_samples (negative reconstruction MSE)")
ax.set_ylabel("rows")
ax.legend(fontsize=8)
ax.set_title(f"autoencoder, ROC AUC {roc_auc_score(is_anomaly, -scores):.3f}", fontsize=10)

worst = np.argsort(scores)[:12]
for i, row in enumerate(worst):
    sub = fig.add_axes([0.55 + (i % 6) * 0.075, 0.52 - (i // 6) * 0.4, 0.07, 0.3])
    sub.imshow(X_test[row].reshape(8, 8), cmap="gray_r")
    sub.set_xticks([])
    sub.set_yticks([])
    sub.set_title("7" if is_anomaly[row] else "other", fontsize=7)
fig.text(0.55, 0.9, "the 12 lowest-scoring held-out rows", fontsize=10)
if os.environ.get("SKAE_EXAMPLE_OUTPUT"):  # a PNG copy, only when asked for
    output = Path(os.environ["SKAE_EXAMPLE_OUTPUT"])
    output.mkdir(parents=True, exist_ok=True)
    fig.savefig(output / "anomaly_detection.png", dpi=100)
plt.show()
