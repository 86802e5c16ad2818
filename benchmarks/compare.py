"""AutoencoderTransformer against PCA and the tools users would pick instead.

Run from the repository root::

    python benchmarks/compare.py            # about 3 minutes on 2 cores
    python benchmarks/compare.py --full     # more patience, more sizes

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

The clustering benchmark, with the neighbour-graph term against UMAP, is
``benchmarks/bench_clustering.py``.

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
import environment  # noqa: E402

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


def run_all(names, sizes, args, log):
    """All jobs, the costliest first, on ``args.n_jobs`` processes."""
    threads = _threads(args.n_jobs)
    cost = {"mnist": 100, "patches": 3, "manifold": 2, "digits": 1}
    jobs = []
    for name in names:
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
            log(format_row(row))
        outputs.append(out)
    return outputs


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
    for name in names:
        data = load_data(name)
        log(
            f"{name}: {data.description}; {data.X_train.shape[0]} training rows, "
            f"{data.X_test.shape[0]} held out"
        )
    outputs = run_all(names, sizes, args, log)
    results, extras = collect(outputs, names, sizes)
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
            **environment.versions(),
            "platform": platform.platform(),
            "cpu": environment.cpu_model(),
            "cpu_count": os.cpu_count(),
            "load_average_end": environment.load_average(),
        },
        "results": results,
        "mnist_fit_times": fit_rows,
    }
    with open(out / "results.json", "w") as f:
        json.dump(report, f, indent=1, default=str)
    paths = [] if args.no_figures else figures(results, extras, out, args.show_k)

    print(markdown_table(results))
    if fit_rows:
        print()
        print(fit_time_table(fit_rows))
    print()
    print(
        f"Total {elapsed:.0f} s with {args.n_jobs} jobs x {_threads(args.n_jobs)} BLAS "
        f"thread(s). Wrote {out / 'results.json'}" + "".join(f", {p}" for p in paths)
    )


if __name__ == "__main__":
    # Run as the importable module ``compare``, so that the pool's workers
    # find the job functions by name.
    import compare

    compare.main()
