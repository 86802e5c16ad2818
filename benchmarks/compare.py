"""AutoencoderTransformer against PCA and the tools users would pick instead.

Run from the repository root::

    python benchmarks/compare.py            # about 3 minutes on 2 cores
    python benchmarks/compare.py --full     # more patience, more sizes, clustering
    python benchmarks/compare.py --clustering-only   # KMeans on codes, against UMAP

For each data set of ``benchmarks/datasets.py`` (digits, the MNIST test set,
8x8 grey image patches, an S-curve lifted to 50-D) and each code size, every
method is fitted on the training part and measured on the fixed held-out 20%:

- ``pca``: :class:`sklearn.decomposition.PCA`;
- ``ae``: :class:`skae.AutoencoderTransformer` with only ``n_components`` and
  ``random_state`` set (its defaults; ``--ae-params`` sets others, ``--full``
  gives it more patience before it stops);
- ``mlp``: :class:`sklearn.neural_network.MLPRegressor` trained X -> X with the
  autoencoder's layer sizes, on data centred and divided by one global scale
  as the autoencoder does; its code is the middle hidden layer. A budget of 15
  epochs in the quick run; its own ``max_iter`` with ``--full``;
- ``kpca``: :class:`sklearn.decomposition.KernelPCA` (RBF kernel,
  ``fit_inverse_transform=True``), fitted on at most ``--kpca-rows`` training
  rows because it needs an n x n kernel matrix.

Metrics: reconstruction MSE, explained variance (``1 - SSE / SST`` around the
held-out mean), fit time, transform throughput (rows/s), and, for the labelled
data sets, KMeans on the held-out codes scored by NMI and ARI against the
labels, beside KMeans on the raw held-out features.

The clustering benchmark (``--clustering`` adds it, ``--full`` too;
``--clustering-only`` runs it alone)::

    python benchmarks/compare.py --clustering-only --out docs/results/clustering

KMeans(n_classes) on 10-D codes of all of MNIST (10,000 rows) and of the
digits (divided by 16), for the raw pixels, PCA, the autoencoder with its
defaults, the autoencoder with ``n_neighbors=15`` (its neighbour-graph term)
and umap-learn's UMAP (skipped with a note when umap-learn is absent), each
seeded method once per ``--seeds`` value: NMI and ARI after a fit on all rows,
its fit time, then, after a fit on the fixed training split, the transform
speed and reconstruction MSE on the held-out rows and how well held-out rows
land in the training rows' clusters. It writes ``clustering.json`` (with the
machine and its load) and ``clustering_codes_2d.png`` (2-D codes of MNIST) to
``--out``. ``--quick`` makes it a small run for the tests (1,500 rows, a few
epochs).

The jobs (one per data set and size) run ``--n-jobs`` at a time, each with
``cpu_count // n_jobs`` BLAS threads; fit times and throughputs are measured
inside the jobs. Output: a markdown table on stdout, ``results.json`` and PNG
figures in ``--out`` (default ``results/``). No network access is needed.
"""

import argparse
import json
import os
import platform
import sys
import time
import warnings
from functools import cache
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA, KernelPCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

HERE = str(Path(__file__).resolve().parent)
sys.path.insert(0, HERE)
# The pool's worker processes import this folder's modules too.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH")) if p)
import datasets  # noqa: E402

import skae  # noqa: E402
from skae import AutoencoderTransformer  # noqa: E402

SIZES = (2, 8, 16, 32)
FULL_SIZES = (2, 4, 8, 16, 32, 64)
METHODS = ("pca", "ae", "mlp", "kpca")
LABELS = {
    "pca": "PCA",
    "ae": "AutoencoderTransformer",
    "mlp": "MLPRegressor X->X",
    "kpca": "KernelPCA",
}


# ----------------------------------------------------------------- methods


class MLPAutoencoder:
    """MLPRegressor trained X -> X, with a transform/inverse_transform interface.

    The data are centred and divided by one global scale first (as
    AutoencoderTransformer does internally), so both networks see the same
    numbers. The code is the middle hidden layer (with MLPRegressor's hidden
    activation, since MLPRegressor has no linear hidden layer).
    """

    def __init__(self, n_components, hidden_layer_sizes, random_state=0, **params):
        self.n_components = n_components
        self.hidden_layer_sizes = tuple(hidden_layer_sizes)
        sizes = (*self.hidden_layer_sizes, n_components, *self.hidden_layer_sizes[::-1])
        self.mlp = MLPRegressor(hidden_layer_sizes=sizes, random_state=random_state, **params)

    def fit(self, X):
        self.mean_ = X.mean(axis=0)
        self.scale_ = float(np.sqrt(X.var(axis=0).mean())) or 1.0
        Xs = (X - self.mean_) / self.scale_
        self.mlp.fit(Xs, Xs)
        return self

    def _forward(self, A, start, stop):
        layers = list(zip(self.mlp.coefs_, self.mlp.intercepts_))
        last = len(layers) - 1
        for i in range(start, stop):
            W, b = layers[i]
            A = A @ W + b
            if i < last:
                A = np.maximum(A, 0) if self.mlp.activation == "relu" else _activate(self.mlp, A)
        return A

    def transform(self, X):
        middle = len(self.hidden_layer_sizes) + 1
        return self._forward((X - self.mean_) / self.scale_, 0, middle)

    def inverse_transform(self, Z):
        middle = len(self.hidden_layer_sizes) + 1
        return self._forward(Z, middle, len(self.mlp.coefs_)) * self.scale_ + self.mean_


def _activate(mlp, A):
    from sklearn.neural_network._base import ACTIVATIONS

    ACTIVATIONS[mlp.activation](A)
    return A


def _kernel_pca(n_components, X_train, random_state=0):
    # RBF width from the data's total variance ("scale" in SVC's sense); a
    # small ridge for the pre-image map. Not tuned per data set.
    gamma = 1.0 / (X_train.shape[1] * X_train.var())
    return KernelPCA(
        n_components,
        kernel="rbf",
        gamma=gamma,
        fit_inverse_transform=True,
        alpha=1e-3,
        eigen_solver="randomized",
        random_state=random_state,
    )


def _hidden_sizes(ae):
    sizes = ae.hidden_layer_sizes
    return (sizes,) if np.isscalar(sizes) else tuple(sizes)


# ----------------------------------------------------------------- metrics


def mse(X, X_hat):
    return float(np.mean((np.asarray(X) - X_hat) ** 2))


def explained_variance(X, X_hat):
    """``1 - SSE / SST`` with SST around the held-out data's own mean."""
    residual = np.sum((X - X_hat) ** 2)
    total = np.sum((X - X.mean(axis=0)) ** 2)
    return float(1.0 - residual / total)


def throughput(model, X, min_seconds=0.2):
    """Rows per second of ``model.transform`` on ``X`` (repeated for a stable time)."""
    repeats, elapsed = 0, 0.0
    start = time.perf_counter()
    while elapsed < min_seconds or repeats < 2:
        model.transform(X)
        repeats += 1
        elapsed = time.perf_counter() - start
    return repeats * X.shape[0] / elapsed


def clustering(codes, labels, n_clusters, seed=0):
    kmeans = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed)
    predicted = kmeans.fit_predict(codes)
    return (
        float(normalized_mutual_info_score(labels, predicted)),
        float(adjusted_rand_score(labels, predicted)),
    )


# ----------------------------------------------------------------- running

# --full: the same model, trained with more patience before it stops.
FULL_AE_PARAMS = {"max_iter": 1000, "n_iter_no_change": 30}
# MLPRegressor: a capped budget in the quick run (a 784-wide network costs as
# much per epoch as the autoencoder), and with --full its own defaults plus
# the early stopping the autoencoder uses.
MLP_PARAMS = {False: {"early_stopping": True, "max_iter": 15}, True: {"early_stopping": True}}
N_SHOW = 10  # reconstructions kept for the figure


@cache
def load_data(name):
    return datasets.load(name)


def make_autoencoder(k, ae_params, full):
    model = AutoencoderTransformer(k, random_state=0).set_params(**ae_params)
    return model.set_params(**FULL_AE_PARAMS) if full else model


def make_model(method, k, X_fit, full, ae_params):
    if method == "pca":
        return PCA(k, random_state=0)
    if method == "ae":
        return make_autoencoder(k, ae_params, full)
    if method == "mlp":
        hidden = _hidden_sizes(make_autoencoder(k, ae_params, full))
        return MLPAutoencoder(k, hidden, random_state=0, **MLP_PARAMS[full])
    if method == "kpca":
        return _kernel_pca(k, X_fit)
    raise ValueError(method)


def run_one(method, k, data, full, kpca_rows, ae_params, train_rows=None):
    X_fit = data.X_train[:train_rows]
    X_fit = X_fit[:kpca_rows] if method == "kpca" else X_fit
    model = make_model(method, k, X_fit, full, ae_params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_fit)
        fit_time = time.perf_counter() - start
    codes = model.transform(data.X_test)
    X_hat = model.inverse_transform(codes)
    row = {
        "dataset": data.name,
        "n_components": k,
        "method": method,
        "n_train": int(X_fit.shape[0]),
        "mse": mse(data.X_test, X_hat),
        "mse_train": mse(X_fit, model.inverse_transform(model.transform(X_fit))),
        "explained_variance": explained_variance(data.X_test, X_hat),
        "fit_seconds": fit_time,
        "rows_per_second": throughput(model, data.X_test),
    }
    if method == "ae":
        row["n_iter"] = int(model.n_iter_)
    if method == "mlp":
        row["n_iter"] = int(model.mlp.n_iter_)
    if data.classes:
        row["nmi"], row["ari"] = clustering(codes, data.y_test, len(np.unique(data.y_test)))
    return row, codes, X_hat


def _threads(n_jobs):
    return max(1, (os.cpu_count() or 1) // n_jobs)


def size_task(name, k, methods, full, kpca_rows, show_k, threads, ae_params, train_rows):
    """Every method at one data set and code size (one job of the pool)."""
    data = load_data(name)
    rows, codes, reconstructions = [], {}, {}
    with threadpool_limits(limits=threads):
        for method in methods:
            row, Z, X_hat = run_one(method, k, data, full, kpca_rows, ae_params, train_rows)
            rows.append(row)
            if k == 2:
                codes[method] = Z
            if k == show_k:
                reconstructions[method] = X_hat[:N_SHOW]
    return {
        "kind": "size",
        "dataset": name,
        "k": k,
        "rows": rows,
        "codes": codes,
        "reconstructions": reconstructions,
    }


def raw_task(name, threads):
    """KMeans on the raw held-out features, the clustering baseline."""
    data = load_data(name)
    with threadpool_limits(limits=threads):
        nmi, ari = clustering(data.X_test, data.y_test, len(np.unique(data.y_test)))
    row = {
        "dataset": name,
        "n_components": data.X_test.shape[1],
        "method": "raw",
        "nmi": nmi,
        "ari": ari,
    }
    return {"kind": "raw", "dataset": name, "rows": [row]}


def mnist_fit_times(sizes, ae_params, full, log):
    """Wall time of fitting the autoencoder on all 10,000 MNIST images, all cores."""
    X, _ = datasets.read_mnist()
    rows = []
    for k in sizes:
        model = make_autoencoder(k, ae_params, full)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(X)
            seconds = time.perf_counter() - start
        rows.append({"n_components": k, "fit_seconds": seconds, "n_iter": int(model.n_iter_)})
        log(f"  mnist, all 10,000 rows, k={k}: fit {seconds:.1f} s, {model.n_iter_} epochs")
    return rows


# -------------------------------------------------------------- clustering

# --clustering / --clustering-only: KMeans on 10-D codes of MNIST (all 10,000
# rows) and the digits (X / 16), for PCA, the autoencoder with and without its
# neighbour-graph term and umap-learn's UMAP; then the fixed 80/20 split of
# datasets.py for the held-out measurements; and 2-D codes of MNIST for a figure.
CLUSTER_DATASETS = ("mnist", "digits")
CLUSTER_METHODS = ("raw", "pca", "ae", "ae_nn", "umap")
SEEDED = ("ae", "ae_nn", "umap")  # fitted once per --seeds value
CLUSTER_K = 10
N_NEIGHBORS = 15
CLUSTER_LABELS = {
    "raw": "raw pixels",
    "pca": "PCA(10)",
    "ae": "AutoencoderTransformer(10)",
    "ae_nn": f"AutoencoderTransformer(10, n_neighbors={N_NEIGHBORS})",
    "umap": "umap-learn UMAP(10)",
}
# --quick: a small run for the tests (1,500 rows, a few epochs); its numbers mean nothing.
QUICK_ROWS = 1500
QUICK_PARAMS = {
    "ae": {"hidden_layer_sizes": (32,), "max_iter": 3},
    "ae_nn": {"hidden_layer_sizes": (32,), "n_epochs": 3},
    "umap": {"n_epochs": 20},
}
UMAP_MSE_NOTE = (
    "umap-learn's inverse_transform interpolates in a Delaunay triangulation of the "
    "embedding, which does not scale to 10-D codes (umap-learn warns so itself), so "
    "UMAP has no held-out MSE"
)


def has_neighbor_term():
    return "n_neighbors" in AutoencoderTransformer().get_params()


def has_umap():
    import importlib.util

    return importlib.util.find_spec("umap") is not None


@cache
def clustering_data(name, quick=False):
    """All rows and labels (digits divided by 16), and the fixed split of ``datasets.py``."""
    if name == "mnist":
        X, y = datasets.read_mnist()
    elif name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    else:
        raise ValueError(name)
    if quick:
        X, y = X[:QUICK_ROWS], y[:QUICK_ROWS]
    X_train, X_test, y_train, y_test = datasets.split(X, y)
    return X, y, X_train, X_test, y_train, y_test


def make_cluster_model(method, k, seed, quick, ae_params, full):
    if method == "pca":
        return PCA(k, random_state=seed)
    if method in ("ae", "ae_nn"):
        model = make_autoencoder(k, ae_params, full).set_params(random_state=seed)
        if method == "ae_nn":
            model.set_params(n_neighbors=N_NEIGHBORS)
    elif method == "umap":
        from umap import UMAP

        model = UMAP(n_components=k, random_state=seed)
    else:
        raise ValueError(method)
    return model.set_params(**QUICK_PARAMS[method]) if quick else model


def _fit_transform(model, X):
    """Codes of ``X`` from a fresh fit; wall and CPU seconds of the fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*n_jobs.*overridden.*")  # UMAP, seeded
        wall, cpu = time.perf_counter(), time.process_time()
        codes = model.fit_transform(X)
        return np.asarray(codes), time.perf_counter() - wall, time.process_time() - cpu


def _warm_up_umap(X, k, threads):
    """One small UMAP fit and transform, so numba's compilation is not timed."""
    from umap import UMAP

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        UMAP(n_components=k, n_epochs=5, random_state=0).fit(X[:300]).transform(X[300:400])


def clustering_task(name, method, seed, threads, quick, ae_params, full):
    """One method (and seed) on one data set: all rows, then the split (one job of the pool)."""
    X, y, X_train, X_test, y_train, y_test = clustering_data(name, quick)
    n_classes = len(np.unique(y))
    row = {"dataset": name, "method": method, "label": CLUSTER_LABELS[method], "seed": seed}
    with threadpool_limits(limits=threads):
        if method == "raw":
            row["n_components"] = int(X.shape[1])
            row["label"] = f"raw pixels ({X.shape[1]}-D)"
            codes, codes_train, codes_test = X, X_train, X_test
        else:
            row["n_components"] = CLUSTER_K
            if method == "umap":
                _warm_up_umap(X, CLUSTER_K, threads)
            # All rows: the clustering scores.
            model = make_cluster_model(method, CLUSTER_K, seed, quick, ae_params, full)
            codes, row["fit_seconds"], row["fit_cpu_seconds"] = _fit_transform(model, X)
            if hasattr(model, "n_iter_"):
                row["n_iter"] = int(model.n_iter_)
            # The training split: held-out MSE, transform speed, new rows' clusters.
            model = make_cluster_model(method, CLUSTER_K, seed, quick, ae_params, full)
            codes_train, row["fit_seconds_split"], _ = _fit_transform(model, X_train)
            codes_test = np.asarray(model.transform(X_test))  # also the warm-up call
            row["rows_per_second"] = throughput(model, X_test)
            if method == "umap":
                row["mse_note"] = UMAP_MSE_NOTE
            else:
                row["mse"] = mse(X_test, model.inverse_transform(codes_test))
        row["nmi"], row["ari"] = clustering(codes, y, n_classes)
        kmeans = KMeans(n_clusters=n_classes, n_init=10, random_state=0).fit(codes_train)
        row["nmi_train"] = float(normalized_mutual_info_score(y_train, kmeans.labels_))
        row["nmi_new"] = float(normalized_mutual_info_score(y_test, kmeans.predict(codes_test)))
        row["nmi_new_minus_train"] = row["nmi_new"] - row["nmi_train"]
        row["n_rows"], row["n_train"], row["n_test"] = len(X), len(X_train), len(X_test)
    return {"kind": "clustering", "rows": [row]}


def codes_2d_task(method, threads, quick, ae_params, full):
    """2-D codes of every MNIST row, for the figure."""
    X, y, *_ = clustering_data("mnist", quick)
    with threadpool_limits(limits=threads):
        if method == "umap":
            _warm_up_umap(X, 2, threads)
        model = make_cluster_model(method, 2, 0, quick, ae_params, full)
        codes, wall, cpu = _fit_transform(model, X)
        nmi, ari = clustering(codes, y, 10)
    row = {"method": method, "label": CLUSTER_LABELS[method].replace("(10", "(2")}
    row.update(fit_seconds=wall, fit_cpu_seconds=cpu, nmi=nmi, ari=ari)
    return {"kind": "codes_2d", "rows": [row], "codes": codes.astype(np.float32)}


def clustering_jobs(args, threads, log):
    """The clustering benchmark's jobs, each with a rough cost for the pool's order."""
    available = list(CLUSTER_METHODS)
    skipped = []
    if not has_neighbor_term():
        available.remove("ae_nn")
        skipped.append("ae_nn: this skae's AutoencoderTransformer has no n_neighbors parameter")
    if not has_umap():
        available.remove("umap")
        skipped.append("umap: umap-learn is not installed (pip install -e '.[bench]')")
    for note in skipped:
        log(f"clustering: skipping {note}")
    cost = {"raw": 1, "pca": 1, "ae": 100, "ae_nn": 60, "umap": 40}
    scale = {"mnist": 10, "digits": 1}
    jobs = []
    for name in args.clustering_datasets:
        for method in available:
            for seed in args.seeds if method in SEEDED else [0]:
                task = delayed(clustering_task)(
                    name, method, seed, threads, args.quick, args.ae_params, args.full
                )
                jobs.append((cost[method] * scale[name], task))
    if not args.no_figures and "mnist" in args.clustering_datasets:
        for method in ("pca", "ae", "ae_nn", "umap"):
            if method in available:
                task = delayed(codes_2d_task)(
                    method, threads, args.quick, args.ae_params, args.full
                )
                jobs.append((cost[method] * 10, task))
    return jobs, skipped


def clustering_report(outputs, args, skipped, started, load_start):
    """The clustering JSON: rows in a fixed order, the run, the machine and its load."""
    order = {m: i for i, m in enumerate(CLUSTER_METHODS)}
    names = {n: i for i, n in enumerate(CLUSTER_DATASETS)}
    rows = [row for out in outputs if out["kind"] == "clustering" for row in out["rows"]]
    rows.sort(key=lambda r: (names[r["dataset"]], order[r["method"]], r["seed"]))
    pca_mse = {r["dataset"]: r["mse"] for r in rows if r["method"] == "pca"}
    for r in rows:
        if "mse" in r and r["dataset"] in pca_mse:
            r["mse_vs_pca"] = r["mse"] / pca_mse[r["dataset"]]
    codes_2d = [row for out in outputs if out["kind"] == "codes_2d" for row in out["rows"]]
    codes_2d.sort(key=lambda r: order[r["method"]])
    params = {}
    for method in ("ae", "ae_nn", "umap"):
        if any(r["method"] == method for r in rows):
            model = make_cluster_model(method, CLUSTER_K, 0, args.quick, args.ae_params, args.full)
            params[method] = {
                k: v
                for k, v in model.get_params().items()
                if k not in ("random_state", "n_components") and not callable(v)
            }
    versions = {"skae": skae.__version__, "numpy": np.__version__}
    import sklearn

    versions["scikit-learn"] = sklearn.__version__
    if has_umap():
        from importlib.metadata import version

        versions["umap-learn"] = version("umap-learn")
        versions["pynndescent"] = version("pynndescent")
    return {
        "command": " ".join(["python", "benchmarks/compare.py", *args.argv]),
        "git_commit": _git_commit(),
        "quick": args.quick,
        "seeds": list(args.seeds),
        "n_jobs": args.n_jobs,
        "blas_threads_per_job": _threads(args.n_jobs),
        "total_seconds": time.perf_counter() - started,
        "load_average_start": load_start,
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
        "kmeans": "KMeans(n_classes, n_init=10, random_state=0)",
        "umap_timing": "a small UMAP fit and transform ran first in the job, so numba's "
        "compilation is not in the fit time; the transform was called once before timing",
        "params": params,
        "skipped": skipped,
        "environment": {
            **versions,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu": _cpu_name(),
            "cpu_count": os.cpu_count(),
        },
        "rows": rows,
        "codes_2d": codes_2d,
    }


def _git_commit():
    """The checkout's commit, with "+changes" when skae/ differs from it."""
    import subprocess

    root = Path(HERE).parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "skae"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return None
    return (commit + ("+changes" if dirty else "")) or None


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _seeds(values, key, spec):
    """The seeds' values joined by " / "; empty where the method has none."""
    if all(r.get(key) is None for r in values):
        return ""
    return " / ".join(_fmt(r.get(key), spec) for r in values)


def clustering_markdown(report):
    """One row per data set and method; seeds' values joined by " / "."""
    lines = [
        (
            "| data set | codes | NMI | ARI | fit (s) | transform (rows/s) | held-out MSE "
            "| MSE / PCA | new-rows NMI - training NMI |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    groups = {}
    for r in report["rows"]:
        groups.setdefault((r["dataset"], r["method"]), []).append(r)
    for (name, _), rs in groups.items():
        lines.append(
            f"| {name} | {rs[0]['label']} "
            f"| {_seeds(rs, 'nmi', '.3f')} | {_seeds(rs, 'ari', '.3f')} "
            f"| {_seeds(rs, 'fit_seconds', '.1f')} | {_seeds(rs, 'rows_per_second', ',.0f')} "
            f"| {_seeds(rs, 'mse', '.4f')} | {_seeds(rs, 'mse_vs_pca', '.3f')} "
            f"| {_seeds(rs, 'nmi_new_minus_train', '+.3f')} |"
        )
    return "\n".join(lines)


def clustering_figure(outputs, report, out):
    """``clustering_codes_2d.png``: 2-D codes of all MNIST rows, one panel per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = {out_["rows"][0]["method"]: out_ for out_ in outputs if out_["kind"] == "codes_2d"}
    methods = [m for m in ("pca", "ae", "ae_nn", "umap") if m in panels]
    if not methods:
        return None
    _, y, *_ = clustering_data("mnist", report["quick"])
    titles = {
        "pca": "PCA",
        "ae": "AutoencoderTransformer",
        "ae_nn": f"AutoencoderTransformer,\nn_neighbors={N_NEIGHBORS}",
        "umap": "umap-learn UMAP",
    }
    fig, axes = plt.subplots(
        1, len(methods), figsize=(3.3 * len(methods) + 0.8, 3.6), squeeze=False
    )
    cmap = plt.get_cmap("tab10", 10)
    norm = matplotlib.colors.BoundaryNorm(np.arange(-0.5, 10), cmap.N)
    for ax, method in zip(axes[0], methods):
        codes, row = panels[method]["codes"], panels[method]["rows"][0]
        points = ax.scatter(
            codes[:, 0], codes[:, 1], c=y, cmap=cmap, norm=norm, s=1, alpha=0.6, linewidths=0
        )
        ax.set_title(
            f"{titles[method]}\n(KMeans on these 2-D codes: NMI {row['nmi']:.2f})", fontsize=8
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("code 1", fontsize=8)
        ax.set_ylabel("code 2", fontsize=8)
    bar = fig.colorbar(points, ax=axes[0].tolist(), fraction=0.02, pad=0.02)
    bar.set_ticks(np.arange(10))
    bar.set_label("digit", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    fig.suptitle(f"MNIST, {len(y):,} images: 2-D codes coloured by digit", fontsize=9, y=1.06)
    path = out / "clustering_codes_2d.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def write_clustering(outputs, args, skipped, started, load_start, out):
    report = clustering_report(outputs, args, skipped, started, load_start)
    with open(out / "clustering.json", "w") as f:
        json.dump(report, f, indent=1, default=str)
    path = None if args.no_figures else clustering_figure(outputs, report, out)
    return report, [out / "clustering.json", *([path] if path else [])]


def run_all(names, sizes, args, log):
    """All jobs, the costliest first, on ``args.n_jobs`` processes."""
    threads = _threads(args.n_jobs)
    cost = {"mnist": 100, "patches": 3, "manifold": 2, "digits": 1}
    jobs, skipped = [], []
    if args.clustering:
        jobs, skipped = clustering_jobs(args, threads, log)
    for name in [] if args.clustering_only else names:
        n_features = load_data(name).X_train.shape[1]
        for k in sizes:
            if k < n_features:
                jobs.append(
                    (
                        cost.get(name, 1) * k,
                        delayed(size_task)(
                            name,
                            k,
                            args.methods,
                            args.full,
                            args.kpca_rows,
                            args.show_k,
                            threads,
                            args.ae_params,
                            args.train_rows,
                        ),
                    )
                )
        if load_data(name).classes:
            jobs.append((0, delayed(raw_task)(name, threads)))
    jobs.sort(key=lambda job: -job[0])
    outputs = []
    parallel = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")
    for out in parallel(job for _, job in jobs):
        for row in out["rows"]:
            if out["kind"] == "clustering":
                log(
                    f"  clustering {row['dataset']} {row['label']} seed {row['seed']}: "
                    f"NMI {row['nmi']:.3f}, fit {row.get('fit_seconds', 0):.1f} s"
                )
            elif out["kind"] == "codes_2d":
                log(f"  2-D codes, mnist, {row['label']}: fit {row['fit_seconds']:.1f} s")
            else:
                log(format_row(row))
        outputs.append(out)
    return outputs, skipped


def collect(outputs, names, sizes):
    """Rows in a fixed order, each with its MSE relative to PCA's; figure data."""
    order = {name: i for i, name in enumerate(names)}
    methods = {m: i for i, m in enumerate(("raw", *METHODS))}
    results = [row for out in outputs if out["kind"] in ("size", "raw") for row in out["rows"]]
    results.sort(
        key=lambda r: (
            order[r["dataset"]],
            r["method"] != "raw",
            r["n_components"],
            methods[r["method"]],
        )
    )
    pca_mse = {(r["dataset"], r["n_components"]): r["mse"] for r in results if r["method"] == "pca"}
    for r in results:
        key = (r["dataset"], r["n_components"])
        if "mse" in r and key in pca_mse:
            r["mse_vs_pca"] = r["mse"] / pca_mse[key]
    extras = {name: {"data": load_data(name), "codes": {}, "reconstructions": {}} for name in names}
    for out in outputs:
        if out["kind"] == "size":
            extras[out["dataset"]]["codes"].update(out["codes"])
            extras[out["dataset"]]["reconstructions"].update(out["reconstructions"])
    return results, extras


# ----------------------------------------------------------------- output


def format_row(row):
    parts = [f"{row['dataset']:8s} k={row['n_components']:<3d} {row['method']:5s}"]
    if "mse" in row:
        parts.append(
            f"mse {row['mse']:.4g} ev {row['explained_variance']:.3f} fit {row['fit_seconds']:.1f}s"
        )
    if "nmi" in row:
        parts.append(f"nmi {row['nmi']:.3f}")
    return "  " + " ".join(parts)


def _fmt(value, spec):
    return "" if value is None else format(value, spec)


def markdown_table(rows):
    lines = [
        (
            "| data set | k | method | held-out MSE | MSE / PCA | explained var. | fit (s) "
            "| transform (rows/s) | NMI | ARI |"
        ),
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        method = r["method"]
        if method == "kpca":
            method = f"kpca ({r['n_train']} rows)"
        elif method == "mlp" and "n_iter" in r:
            method = f"mlp ({r['n_iter']} epochs)"
        lines.append(
            f"| {r['dataset']} | {r['n_components']} | {method} | {_fmt(r.get('mse'), '.4g')} "
            f"| {_fmt(r.get('mse_vs_pca'), '.3f')} | {_fmt(r.get('explained_variance'), '.3f')} "
            f"| {_fmt(r.get('fit_seconds'), '.2f')} | {_fmt(r.get('rows_per_second'), ',.0f')} "
            f"| {_fmt(r.get('nmi'), '.3f')} | {_fmt(r.get('ari'), '.3f')} |"
        )
    return "\n".join(lines)


def fit_time_table(rows):
    lines = [
        f"| fit on all 10,000 MNIST images ({os.cpu_count()} cores) | epochs | fit (s) |",
        "|---|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| AutoencoderTransformer({r['n_components']}) | {r['n_iter']} "
            f"| {r['fit_seconds']:.1f} |"
        )
    return "\n".join(lines)


def figures(results, extras, out, show_k):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name in datasets.NAMES if name in extras]
    paths = []

    # MSE against n_components, one panel per data set.
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        sizes = set()
        for method in METHODS:
            points = sorted(
                (r["n_components"], r["mse"])
                for r in results
                if r["dataset"] == name and r["method"] == method
            )
            if points:
                ks, values = zip(*points)
                sizes.update(ks)
                ax.plot(ks, values, "o-", label=LABELS[method])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sorted(sizes), [str(k) for k in sorted(sizes)])
        ax.minorticks_off()
        ax.set_title(name)
        ax.set_xlabel("n_components")
    axes[0][0].set_ylabel("held-out MSE (log scale)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "mse_vs_components.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)

    # Original / PCA / autoencoder reconstructions of held-out images.
    for name in names:
        data, rec = extras[name]["data"], extras[name]["reconstructions"]
        if data.image_shape is None or "pca" not in rec or "ae" not in rec:
            continue
        n_show = N_SHOW
        fig, axes = plt.subplots(3, n_show, figsize=(n_show * 0.9, 3.0))
        for row, (label, images) in enumerate(
            [
                ("original", data.X_test),
                (f"PCA, k={show_k}", rec["pca"]),
                (f"autoencoder, k={show_k}", rec["ae"]),
            ]
        ):
            for col in range(n_show):
                ax = axes[row, col]
                ax.imshow(
                    images[col].reshape(data.image_shape),
                    cmap="gray_r" if name != "patches" else "gray",
                    vmin=data.X_test.min(),
                    vmax=data.X_test.max(),
                )
                ax.set_xticks([])
                ax.set_yticks([])
            axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        fig.suptitle(f"{name}: held-out images", fontsize=10)
        fig.tight_layout()
        paths.append(out / f"reconstructions_{name}.png")
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)

    # 2-D codes coloured by label.
    panels = [
        (name, method)
        for name in names
        for method in ("pca", "ae")
        if method in extras[name]["codes"]
    ]
    if panels:
        n_cols = 2
        n_rows = int(np.ceil(len(panels) / n_cols))
        fig, axes = plt.subplots(
            n_rows, n_cols, figsize=(4.6 * n_cols, 3.6 * n_rows), squeeze=False
        )
        # What the colour of a point stands for, per data set.
        colour_labels = {
            "digits": "digit",
            "mnist": "digit",
            "patches": "source image (index)",
            "manifold": "position along the S-curve",
        }
        for ax, (name, method) in zip(axes.ravel(), panels):
            data = extras[name]["data"]
            codes = extras[name]["codes"][method]
            values = np.unique(data.y_test)
            discrete = data.classes or (values.size <= 10 and np.all(values == np.round(values)))
            if discrete:
                # One colour per label, a colour bar with one tick per label.
                bounds = np.append(values - 0.5, values[-1] + 0.5)
                cmap = plt.get_cmap("tab10" if values.size > 2 else "coolwarm", values.size)
                norm = matplotlib.colors.BoundaryNorm(bounds, cmap.N)
            else:
                cmap, norm = plt.get_cmap("viridis"), None
            points = ax.scatter(codes[:, 0], codes[:, 1], c=data.y_test, cmap=cmap, norm=norm, s=3)
            bar = fig.colorbar(points, ax=ax, fraction=0.05, pad=0.02)
            if discrete:
                bar.set_ticks(values)
                bar.set_ticklabels([f"{v:g}" for v in values])
            bar.set_label(colour_labels.get(name, "label"), fontsize=8)
            bar.ax.tick_params(labelsize=7)
            ax.set_title(
                f"{name}: {'PCA' if method == 'pca' else 'autoencoder'} codes (k=2)", fontsize=9
            )
            ax.set_xlabel("code 1", fontsize=8)
            ax.set_ylabel("code 2", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in axes.ravel()[len(panels) :]:
            ax.set_visible(False)
        fig.tight_layout()
        paths.append(out / "codes_2d.png")
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    return paths


def summarize(paths):
    """One row per earlier run (its ``results.json``): the autoencoder against PCA."""
    lines = [
        (
            "| run | --ae-params | worst MSE / PCA (where) | MNIST MSE / PCA by k "
            "| MNIST training-rows MSE / PCA by k | MNIST ae fit (s) by k | MNIST epochs by k "
            "| all ae fits (s) | NMI, KMeans(10) on 10-D codes |"
        ),
        "|---|---|---|---|---|---|---|---:|---:|",
    ]
    paths = [Path(p) / "results.json" if Path(p).is_dir() else Path(p) for p in paths]
    reports = []
    for path in paths:
        with open(path) as f:
            reports.append(json.load(f))
    for path, report in zip(paths, reports):
        results = report["results"]
        ae = [r for r in results if r["method"] == "ae"]
        pca_train = {
            (r["dataset"], r["n_components"]): r.get("mse_train")
            for r in results
            if r["method"] == "pca"
        }
        mnist = sorted((r for r in ae if r["dataset"] == "mnist"), key=lambda r: r["n_components"])

        def joined(values, spec):
            return " / ".join(format(v, spec) for v in values) or "-"

        worst = max(ae, key=lambda r: r["mse_vs_pca"], default=None)
        where = (
            "-"
            if worst is None
            else (f"{worst['mse_vs_pca']:.3f} ({worst['dataset']}, k={worst['n_components']})")
        )
        train = [
            r["mse_train"] / pca_train[("mnist", r["n_components"])]
            for r in mnist
            if r.get("mse_train") is not None
        ]
        nmi = [
            r["nmi"]
            for r in report.get("mnist_clustering", [])
            if r.get("method", "ae") == "ae" and r["codes"].startswith("Autoencoder")
        ]
        params = f"`{json.dumps(report.get('ae_params_set', {}))}`"
        if report.get("train_rows"):
            params += f", {report['train_rows']} training rows"
        lines.append(
            f"| {path.parent.name} | {params} "
            f"| {where} "
            f"| {joined((r['mse_vs_pca'] for r in mnist), '.3f')} | {joined(train, '.3f')} "
            f"| {joined((r['fit_seconds'] for r in mnist), '.0f')} "
            f"| {joined((r['n_iter'] for r in mnist), 'd')} "
            f"| {sum(r['fit_seconds'] for r in ae):.0f} | {joined(nmi, '.3f')} |"
        )
    # Runs over more than one data set: the autoencoder's MSE / PCA by k on each.
    names = [
        n
        for n in datasets.NAMES
        if any(
            r["method"] == "ae" and r["dataset"] == n
            for report in reports
            for r in report["results"]
        )
    ]
    several = [
        (path, report)
        for path, report in zip(paths, reports)
        if len({r["dataset"] for r in report["results"] if r["method"] == "ae"}) > 1
    ]
    if several:
        lines += [
            "",
            "| run | " + " | ".join(f"{n}: ae MSE / PCA by k" for n in names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for path, report in several:
            cells = []
            for n in names:
                ae = sorted(
                    (r["n_components"], r["mse_vs_pca"])
                    for r in report["results"]
                    if r["method"] == "ae" and r["dataset"] == n
                )
                cells.append(" / ".join(format(v, ".3f") for _, v in ae) or "-")
            lines.append(f"| {Path(path).parent.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--full",
        action="store_true",
        help="more patience before stopping (max_iter=1000, n_iter_no_change=30) and more sizes",
    )
    parser.add_argument("--out", default="results", help="output directory")
    parser.add_argument(
        "--datasets",
        default=",".join(datasets.NAMES),
        help="comma-separated subset of " + ",".join(datasets.NAMES),
    )
    parser.add_argument("--sizes", default=None, help="comma-separated n_components")
    parser.add_argument(
        "--methods",
        default=",".join(METHODS),
        help="comma-separated subset of " + ",".join(METHODS),
    )
    parser.add_argument(
        "--kpca-rows",
        type=int,
        default=2000,
        help="training rows KernelPCA is fitted on (it needs n x n memory)",
    )
    parser.add_argument(
        "--train-rows",
        type=int,
        default=None,
        help="fit on only the first N training rows of each data set (the "
        "held-out rows stay the same): a learning curve",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=2,
        help="jobs run at once, each with cpu_count // n_jobs BLAS threads",
    )
    parser.add_argument(
        "--ae-params",
        type=json.loads,
        default={},
        help="JSON object of AutoencoderTransformer parameters to set "
        "instead of the defaults (the MLP baseline follows its "
        "hidden_layer_sizes), e.g. '{\"hidden_layer_sizes\": [100]}'",
    )
    parser.add_argument(
        "--clustering",
        action="store_true",
        help="also run the clustering benchmark (always on with --full): KMeans on "
        "10-D codes of all of MNIST and the digits for PCA, the autoencoder with and "
        "without n_neighbors and UMAP; writes clustering.json and clustering_codes_2d.png",
    )
    parser.add_argument(
        "--clustering-only",
        action="store_true",
        help="run the clustering benchmark and nothing else (no results.json)",
    )
    parser.add_argument(
        "--clustering-datasets",
        default=",".join(CLUSTER_DATASETS),
        help="comma-separated subset of " + ",".join(CLUSTER_DATASETS),
    )
    parser.add_argument(
        "--seeds",
        default="0,1",
        help="comma-separated random_state values of the clustering benchmark's "
        "autoencoders and UMAP (PCA and the raw pixels run once)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a tiny clustering run for the tests: 1,500 rows, a few epochs, small networks",
    )
    parser.add_argument(
        "--mnist-fit-time",
        action="store_true",
        help="after the jobs, time the autoencoder's fit on all 10,000 "
        "MNIST images at each size, using every core",
    )
    parser.add_argument("--no-figures", action="store_true")
    parser.add_argument(
        "--summarize",
        nargs="+",
        metavar="RESULTS",
        help="only print a one-row-per-run summary of earlier runs' "
        "results.json files (or their folders)",
    )
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    args.clustering = args.clustering or args.clustering_only or args.full
    args.clustering_datasets = [n for n in args.clustering_datasets.split(",") if n]
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    if args.summarize:
        print(summarize(args.summarize))
        return
    args.methods = [m for m in args.methods.split(",") if m]
    if "pca" not in args.methods:
        args.methods.insert(0, "pca")
    args.show_k = 8
    names = [n for n in args.datasets.split(",") if n]
    if args.sizes:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    else:
        sizes = FULL_SIZES if args.full else SIZES
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    load_start = [round(v, 2) for v in os.getloadavg()]
    for name in [] if args.clustering_only else names:
        data = load_data(name)
        log(
            f"{name}: {data.description}; {data.X_train.shape[0]} training rows, "
            f"{data.X_test.shape[0]} held out"
        )
    outputs, skipped = run_all(names, sizes, args, log)
    cluster_report, cluster_paths = None, []
    if args.clustering:
        cluster_report, cluster_paths = write_clustering(
            outputs, args, skipped, started, load_start, out
        )
    if args.clustering_only:
        print(clustering_markdown(cluster_report))
        print()
        print(
            f"Total {cluster_report['total_seconds']:.0f} s with {args.n_jobs} jobs x "
            f"{_threads(args.n_jobs)} BLAS thread(s); load average {load_start} at the start, "
            f"{cluster_report['load_average_end']} at the end. Wrote "
            + ", ".join(str(p) for p in cluster_paths)
        )
        return
    results, extras = collect(outputs, names, sizes)
    cluster_rows = [
        {**r, "codes": r["label"]}
        for r in (cluster_report or {}).get("rows", [])
        if r["dataset"] == "mnist"
    ]
    fit_rows = []
    if args.mnist_fit_time:
        log("mnist: the autoencoder's fit on all 10,000 images, every core")
        fit_rows = mnist_fit_times(sizes, args.ae_params, args.full, log)
    elapsed = time.perf_counter() - started

    report = {
        "command": " ".join(["python", "benchmarks/compare.py", *args.argv]),
        "full": args.full,
        "sizes": list(sizes),
        "train_rows": args.train_rows,
        "n_jobs": args.n_jobs,
        "blas_threads_per_job": _threads(args.n_jobs),
        "total_seconds": elapsed,
        "autoencoder_params": {
            k: v
            for k, v in make_autoencoder(2, args.ae_params, args.full).get_params().items()
            if k not in ("random_state", "n_components")
        },
        "ae_params_set": args.ae_params,
        "mlp_params": MLP_PARAMS[args.full],
        "environment": {
            "skae": skae.__version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
        },
        "results": results,
        "mnist_clustering": cluster_rows,
        "mnist_fit_times": fit_rows,
    }
    with open(out / "results.json", "w") as f:
        json.dump(report, f, indent=1, default=str)
    paths = [] if args.no_figures else figures(results, extras, out, args.show_k)

    print(markdown_table(results))
    if fit_rows:
        print()
        print(fit_time_table(fit_rows))
    if cluster_report:
        print()
        print(clustering_markdown(cluster_report))
    print()
    print(
        f"Total {elapsed:.0f} s with {args.n_jobs} jobs x {_threads(args.n_jobs)} BLAS "
        f"thread(s). Wrote {out / 'results.json'}"
        + "".join(f", {p}" for p in [*cluster_paths, *paths])
    )


if __name__ == "__main__":
    # Run as the importable module ``compare``, so that the pool's workers
    # find the job functions by name.
    import compare

    compare.main()
