"""Measure the variants of the user guide's "Which autoencoder when" page.

Run from the repository root (about a minute on 2 cores)::

    python docs/measure_variants.py            # writes docs/results/variants.json
    python docs/make_tables.py                 # turns it into the page's tables

Three small experiments on scikit-learn's digits scaled to [0, 1]:

- ``denoising``: the setting of ``examples/plot_denoising.py`` at full length
  (16 components, one hidden layer of 128 units, 100 epochs, test digits
  corrupted by Gaussian noise of standard deviation 0.3): each model's MSE
  against the clean test digits, reconstructing clean and noisy inputs;
- ``tied``: 150 training digits, 16 components, one hidden layer of 64 units,
  200 epochs, with and without ``tied_weights``, measured on the other 1,647;
- ``sparse``: all digits, tied weights, 16 components, one hidden layer of 64
  units, 30 epochs, with and without ``code_l1=1.0``: the share of code entries
  under 5% of their row's largest, and the reconstruction MSE.
"""

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

import skae
from skae import AutoencoderTransformer

OUT = Path(__file__).resolve().parent / "results" / "variants.json"


def mse(model, X, target):
    return float(np.mean((model.inverse_transform(model.transform(X)) - target) ** 2))


def n_weights(model):
    """Weight entries stored: a tied decoder matrix is a view of an encoder matrix."""
    seen, total = [], 0
    for W in model.coefs_:
        if not any(np.shares_memory(W, other) for other in seen):
            total += W.size
        seen.append(W)
    return int(total)


def denoising(X, sigma=0.3, n_components=16):
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    noisy = X_test + np.random.RandomState(1).normal(0.0, sigma, size=X_test.shape)
    scale = np.sqrt(X_train.var(axis=0).mean())
    params = dict(n_components=n_components, hidden_layer_sizes=(128,), max_iter=100)
    models = {
        "PCA": PCA(n_components).fit(X_train),
        "plain autoencoder": AutoencoderTransformer(**params, random_state=0),
        "denoising autoencoder": AutoencoderTransformer(
            **params, noise="gaussian", noise_level=sigma / scale, random_state=0
        ),
    }
    rows = [
        {"model": "the input itself", "clean": 0.0, "noisy": float(np.mean((noisy - X_test) ** 2))}
    ]
    for name, model in models.items():
        if name != "PCA":
            model.fit(X_train)
        rows.append(
            {
                "model": name,
                "clean": mse(model, X_test, X_test),
                "noisy": mse(model, noisy, X_test),
                "epochs": getattr(model, "n_iter_", None),
            }
        )
    return {"sigma": sigma, "noise_level": sigma / scale, "rows": rows}


def tied(X, n_components=16):
    X_small, X_test = train_test_split(X, train_size=150, random_state=0)
    pca = PCA(n_components).fit(X_small)
    rows = [{"model": "PCA", "weights": None, "test_mse": mse(pca, X_test, X_test)}]
    for tied_weights in (False, True):
        ae = AutoencoderTransformer(
            n_components,
            hidden_layer_sizes=(64,),
            tied_weights=tied_weights,
            max_iter=200,
            random_state=0,
        ).fit(X_small)
        rows.append(
            {
                "model": f"AutoencoderTransformer(tied_weights={tied_weights})",
                "weights": n_weights(ae),
                "test_mse": mse(ae, X_test, X_test),
            }
        )
    return {"n_train": len(X_small), "n_test": len(X_test), "rows": rows}


def sparse(X, n_components=16):
    rows = []
    for code_l1 in (0.0, 1.0):
        ae = AutoencoderTransformer(
            n_components,
            hidden_layer_sizes=(64,),
            tied_weights=True,
            code_l1=code_l1,
            max_iter=30,
            random_state=0,
        ).fit(X)
        Z = ae.transform(X)
        small = np.abs(Z) < 0.05 * np.abs(Z).max(axis=1, keepdims=True)
        rows.append({"code_l1": code_l1, "small_share": float(small.mean()), "mse": mse(ae, X, X)})
    return {"rows": rows}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(OUT), help="the JSON file to write")
    args = parser.parse_args(argv)
    X, _ = load_digits(return_X_y=True)
    X = X / 16.0
    started = time.perf_counter()
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        report = {"denoising": denoising(X), "tied": tied(X), "sparse": sparse(X)}
    report["command"] = "python docs/measure_variants.py"
    report["seconds"] = time.perf_counter() - started
    report["environment"] = {
        "skae": skae.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
