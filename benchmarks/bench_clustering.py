"""KMeans on the codes of the neighbour-graph term, against PCA, a plain autoencoder and UMAP.

Run from the repository root::

    python benchmarks/bench_clustering.py --out docs/results/clustering

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
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import normalized_mutual_info_score
from threadpoolctl import threadpool_limits

HERE = str(Path(__file__).resolve().parent)
sys.path.insert(0, HERE)
# The pool's worker processes import this folder's modules too.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH")) if p)
import datasets  # noqa: E402
import environment  # noqa: E402
from compare import _fmt, _threads, clustering, make_autoencoder, mse, throughput  # noqa: E402

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
    if not has_umap():
        available.remove("umap")
        skipped.append("umap: umap-learn is not installed (pip install -e '.[bench]')")
    for note in skipped:
        log(f"clustering: skipping {note}")
    cost = {"raw": 1, "pca": 1, "ae": 100, "ae_nn": 60, "umap": 40}
    scale = {"mnist": 10, "digits": 1}
    jobs = []
    for name in args.datasets:
        for method in available:
            for seed in args.seeds if method in SEEDED else [0]:
                task = delayed(clustering_task)(
                    name, method, seed, threads, args.quick, args.ae_params, args.full
                )
                jobs.append((cost[method] * scale[name], task))
    if not args.no_figures and "mnist" in args.datasets:
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
    return {
        "command": " ".join(["python", "benchmarks/bench_clustering.py", *args.argv]),
        "git_commit": environment.git_commit(),
        "quick": args.quick,
        "seeds": list(args.seeds),
        "n_jobs": args.n_jobs,
        "blas_threads_per_job": _threads(args.n_jobs),
        "total_seconds": time.perf_counter() - started,
        "load_average_start": load_start,
        "load_average_end": environment.load_average(),
        "kmeans": "KMeans(n_classes, n_init=10, random_state=0)",
        "umap_timing": "a small UMAP fit and transform ran first in the job, so numba's "
        "compilation is not in the fit time; the transform was called once before timing",
        "params": params,
        "skipped": skipped,
        "environment": {
            **environment.versions(),
            "platform": platform.platform(),
            "cpu": environment.cpu_model(),
            "cpu_count": os.cpu_count(),
        },
        "rows": rows,
        "codes_2d": codes_2d,
    }


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


def run(args, log):
    """The jobs, the costliest first, on ``args.n_jobs`` processes."""
    jobs, skipped = clustering_jobs(args, _threads(args.n_jobs), log)
    jobs.sort(key=lambda job: -job[0])
    outputs = []
    parallel = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")
    for out in parallel(job for _, job in jobs):
        for row in out["rows"]:
            if out["kind"] == "clustering":
                log(
                    f"  {row['dataset']} {row['label']} seed {row['seed']}: "
                    f"NMI {row['nmi']:.3f}, fit {row.get('fit_seconds', 0):.1f} s"
                )
            else:
                log(f"  2-D codes, mnist, {row['label']}: fit {row['fit_seconds']:.1f} s")
        outputs.append(out)
    return outputs, skipped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/clustering", help="output directory")
    parser.add_argument(
        "--datasets",
        default=",".join(CLUSTER_DATASETS),
        help="comma-separated subset of " + ",".join(CLUSTER_DATASETS),
    )
    parser.add_argument(
        "--seeds",
        default="0,1",
        help="comma-separated random_state values of the autoencoders and UMAP "
        "(PCA and the raw pixels run once)",
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
        help="JSON object of AutoencoderTransformer parameters to set instead of the defaults",
    )
    parser.add_argument(
        "--full", action="store_true", help="the plain autoencoder gets more patience"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a tiny run for the tests: 1,500 rows, a few epochs, small networks",
    )
    parser.add_argument("--no-figures", action="store_true")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    args.datasets = [n for n in args.datasets.split(",") if n]
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    load_start = environment.load_average()
    outputs, skipped = run(args, log)
    report, paths = write_clustering(outputs, args, skipped, started, load_start, out)
    print(clustering_markdown(report))
    print()
    print(
        f"Total {report['total_seconds']:.0f} s with {args.n_jobs} jobs x "
        f"{_threads(args.n_jobs)} BLAS thread(s); load average {load_start} at the start, "
        f"{report['load_average_end']} at the end. Wrote " + ", ".join(str(p) for p in paths)
    )


if __name__ == "__main__":
    # Run as the importable module ``bench_clustering``, so that the pool's
    # workers find the job functions by name.
    import bench_clustering

    bench_clustering.main()
