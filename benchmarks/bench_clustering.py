"""KMeans on the codes of the neighbour-graph term, against PCA, a plain autoencoder and UMAP.

Run from the repository root::

    python benchmarks/bench_clustering.py --out docs/results/clustering
    python benchmarks/bench_clustering.py --panel --out docs/results/clustering
    python benchmarks/bench_clustering.py --ablations --out docs/results/clustering

The first: KMeans(n_classes) on 10-D codes of all of MNIST (10,000 rows) and
of the digits (divided by 16), for the raw pixels, PCA, the autoencoder with
its defaults, the autoencoder with ``n_neighbors=15`` (its neighbour-graph
term) and umap-learn's UMAP (skipped with a note when umap-learn is absent),
each seeded method once per ``--seeds`` value: NMI and ARI after a fit on all
rows, its fit time, then, after a fit on the fixed training split, the
transform speed and reconstruction MSE on the held-out rows and how well
held-out rows land in the training rows' clusters. It writes
``clustering.json`` (with the machine and its load) and
``clustering_codes_2d.png`` (2-D codes of MNIST) to ``--out``.

``--panel``: ``AutoencoderTransformer(n_components=k, n_neighbors=15,
random_state=seed)`` against ``umap.UMAP(n_components=k, n_neighbors=15,
min_dist=0.0)`` at its fastest (not seeded, so parallel, after untimed
warm-up fits on 5,000 and 1,000 rows, and on 5,000 sparse rows), k the number
of classes, over the data sets of ``panel.py``: digits (float32 and float64),
mnist10k, MNIST grown to 30,000 and 100,000 rows, the synthetic loops,
shells, roll_bands, blobs, tree, moons and circles, the sparse tf-idf topics,
the digits and MNIST enlarged to 64x64 and 56x56 pixels (wide rows),
the loops, tree and roll_bands grown to 20,000 rows, and the iris, wine and
breast-cancer tables; seeds 0 and 1. Per set and seed:
the NMI of KMeans(k) on the fitted rows' codes and the fit times. It writes
``panel.json`` (after every case, so an interrupted run keeps what it did)
and ``panel_scaling.png`` (NMI and fit time against the rows of MNIST grown:
10,000, 30,000, 100,000, seed 0; when ``--datasets`` leaves at least two of
those sizes). ``--n-components 2`` gives both methods two-dimensional codes
instead, as for a scatter plot, and KMeans still looks for k clusters.
``--held-out`` runs the same comparison over the sets of ``held_out.py``
instead, data the defaults were not chosen on, but for one rule that
``held_out.py`` names (float32, and the 0/1 rows in float64 too); with
``--ablations``, it runs the ablations on those sets.

``--layouts``: on the digits, mnist10k, the loops, roll_bands, the tree and
the loops grown to 20,000 rows (float32, seeds 0 to 3), the graph's layout by
skae's epochs (mini-batches of sampled edges), by three times as many of
them, and by umap-learn's own sequential ones (``umap.layouts``, not in
parallel), from the same graph and start, the graph built on the top 30 principal components (as the
estimator builds it) and on all features (as umap-learn builds it): the NMI
of KMeans(k) on the start and on each layout, and each layout's time. It
writes ``layouts.json``.

``--ablations``: on mnist10k, the digits, the loops, roll_bands, the blobs
and the tree (float32, seed 0), the autoencoder with its defaults, with
``neighbor_weight`` 0.25 and 1.0, with ``linear_path=False``, with twice the
network's default epochs, with the graph's far-apart parts left where the
layout puts them, the graph's layout alone (no network) and PCA(k):
NMI after a fit on all rows, then the held-out MSE relative to PCA's and the
new rows' NMI after a fit on the 80/20 split. It writes ``ablations.json``.

The panel and the ablations fit one model at a time, in this process, with
every core (BLAS threads as the environment sets them). ``--quick`` makes
every mode a small run for the tests, whose numbers mean nothing: 1,500 rows
and a few epochs for the first; 300 rows, one seed, ``n_epochs=2`` and a
300-row UMAP warm-up for the other two.
"""

import argparse
import json
import os
import platform
import sys
import time
import warnings
from contextlib import contextmanager, nullcontext
from functools import cache, partial
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import calinski_harabasz_score, normalized_mutual_info_score
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


# ------------------------------------------------------------------ the panel
#
# --panel: the autoencoder with only n_components, n_neighbors=15 and
# random_state set, against umap-learn at its fastest, over the data sets of
# panel.py. --ablations: the parts of the autoencoder's training with
# n_neighbors, one at a time, on MNIST, the digits and four synthetic sets.
# Both run one fit at a time in this process, each fit with every core (BLAS
# and numba threads as the environment sets them), so that the fit times
# compare.

# (name in panel.py, dtype of X): the panel, in the order it runs.
PANEL_SETS = (
    ("digits", "float32"),
    ("digits", "float64"),
    ("mnist10k", "float32"),
    ("loops", "float32"),
    ("shells", "float32"),
    ("roll_bands", "float32"),
    ("blobs", "float32"),
    ("tree", "float32"),
    ("moons", "float32"),
    ("circles", "float32"),
    ("topics", "float32"),
    ("digits_64x64", "float32"),
    ("mnist_56x56", "float32"),
    ("iris", "float32"),
    ("wine", "float32"),
    ("breast_cancer", "float32"),
    ("loops_20000", "float32"),
    ("tree_20000", "float32"),
    ("roll_bands_20000", "float32"),
    ("mnist_grown_30000", "float32"),
    ("mnist_grown_100000", "float32"),
)
# --panel --held-out: the sets of held_out.py (its docstring says what each has tested).
HELD_OUT_SETS = (
    ("s_curve_bands", "float32"),
    ("anisotropic_blobs", "float32"),
    ("nested_blobs", "float32"),
    ("helices", "float32"),
    ("binary_profiles", "float32"),
    ("binary_profiles", "float64"),
    ("two_clusters_per_class", "float32"),
    ("grouped_clusters", "float32"),
    ("uneven_groups", "float32"),
)
HELD_OUT_NAMES = tuple(dict.fromkeys(n for n, _ in HELD_OUT_SETS))
# The scaling sweep over MNIST grown, seed 0: the panel's runs at these sizes
# (mnist_grown(10_000) is mnist10k itself).
SCALING_SETS = {10_000: "mnist10k", 30_000: "mnist_grown_30000", 100_000: "mnist_grown_100000"}
ABLATION_SETS = ("mnist10k", "digits", "loops", "roll_bands", "blobs", "tree")
# (name, parameters changed from the panel's estimator); "layout" is KMeans
# on the graph's layout itself, before any network; "pca" is PCA(k), the
# reference of the held-out MSE.
TWICE_THE_EPOCHS = "twice the default"  # resolved per fit by network_epochs
ABLATIONS = (
    ("default", {}),
    ("neighbor_weight=0.25", {"neighbor_weight": 0.25}),
    ("neighbor_weight=1.0", {"neighbor_weight": 1.0}),
    ("linear_path=False", {"linear_path": False}),
    ("n_epochs x2", {"n_epochs": TWICE_THE_EPOCHS}),
    ("parts as laid out", {}),  # see parts_as_laid_out
    ("layout", None),
    ("pca", None),
)
ABLATION_LABELS = {
    "default": "the default (n_neighbors=15)",
    "neighbor_weight=0.25": "neighbor_weight=0.25 (default 0.5)",
    "neighbor_weight=1.0": "neighbor_weight=1.0",
    "linear_path=False": "linear_path=False (no linear start)",
    "n_epochs x2": "n_epochs twice the default",
    "parts as laid out": "far-apart parts of the graph not moved closer",
    "layout": "the graph's layout alone, no network",
    "pca": "PCA(k), for reference",
}
DATA_SEED = 0  # every generated set (synthetic, MNIST grown) uses this data seed
DATA_SEED_NOTE = (
    "The generated sets (the synthetic ones and MNIST grown) are drawn with data seed 0 for "
    "every seed: the seed is only the autoencoder's random_state, so both seeds (and both "
    "UMAP runs) see the same rows."
)
UMAP_PARAMS = {"n_neighbors": N_NEIGHBORS, "min_dist": 0.0}
# Rows of umap-learn's untimed warm-up fits: above 4,096 rows it searches neighbours by
# NN-descent, below exactly, each with numba code of its own to compile.
UMAP_WARM_UP_ROWS = (5000, 1000)
# Sparse input has an NN-descent of its own: one more warm-up fit, on sparse rows.
UMAP_SPARSE_WARM_UP_ROWS = 5000
PANEL_UMAP_TIMING = (
    "umap-learn at its fastest: random_state=None (so its numba code runs in parallel, "
    "n_jobs=-1), after untimed warm-up fits in the same process on {rows} random rows "
    "(above 4,096 rows umap-learn searches neighbours by NN-descent, below exactly) and "
    "on {sparse_rows} random sparse rows (sparse rows have an NN-descent of their own), "
    "which compile its JIT code and the neighbour searches; UMAP's two runs per set are its "
    "'seeds' 0 and 1 though it is not seeded. UMAP converts float64 input to float32 itself."
)
# --quick: every mode tiny, for the tests; its numbers mean nothing.
QUICK_PANEL_ROWS = 300  # the first rows of each set
QUICK_GROWN_ROWS = {"mnist_grown_30000": 400, "mnist_grown_100000": 600}
QUICK_GROWN_BASE = 200  # MNIST images copied by the quick MNIST grown
QUICK_EPOCHS = {"n_epochs": 2}  # the autoencoder's and UMAP's


def panel_label(name, dtype):
    """The set's name as the tables show it, with its dtype when that is not float32."""
    return name if dtype == "float32" else f"{name} ({dtype})"


def panel_data(name, dtype="float32", quick=False):
    """The rows and labels of one set of ``panel.py`` or ``held_out.py``, in ``dtype``.

    Sparse rows stay sparse.
    """
    import held_out
    import panel

    if quick and name in QUICK_GROWN_ROWS:
        X, y = panel.mnist_grown(QUICK_GROWN_ROWS[name], DATA_SEED, base_rows=QUICK_GROWN_BASE)
    else:
        loader = held_out.HELD_OUT.get(name, partial(panel.load, name))
        X, y = loader(DATA_SEED)
        if quick:
            X, y = X[:QUICK_PANEL_ROWS], y[:QUICK_PANEL_ROWS]
    if sparse.issparse(X):
        return X.astype(dtype), y
    return np.ascontiguousarray(X, dtype=dtype), y


def panel_autoencoder(k, seed, quick, **params):
    """``AutoencoderTransformer(n_components=k, n_neighbors=15, random_state=seed)``."""
    from skae import AutoencoderTransformer

    model = AutoencoderTransformer(
        n_components=k, n_neighbors=N_NEIGHBORS, random_state=seed, **params
    )
    return model.set_params(**QUICK_EPOCHS) if quick else model


def panel_umap(k, quick):
    """umap-learn's ``UMAP(n_components=k, n_neighbors=15, min_dist=0.0)``, not seeded."""
    from umap import UMAP

    model = UMAP(n_components=k, **UMAP_PARAMS)
    return model.set_params(**QUICK_EPOCHS) if quick else model


def _timed_fit(model, X):
    """The fitted rows' codes, and the wall and CPU seconds of ``model.fit(X)`` alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", module="umap")
        load = environment.load_average()
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(X)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    codes = model.embedding_ if hasattr(model, "embedding_") else model.transform(X)
    return np.asarray(codes), wall, cpu, load[0] if load else None


def kmeans_nmi(codes, y, k):
    """NMI of ``KMeans(k, n_init=10, random_state=0)`` on ``codes`` against ``y``."""
    labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(codes)
    return float(normalized_mutual_info_score(y, labels))


def warm_up(quick, use_umap, log):
    """Untimed first fits: umap-learn's compilation, the autoencoder's imports.

    Returns the warm-up's facts for the JSON.
    """
    facts = {}
    rng = np.random.RandomState(0)
    X = rng.normal(size=(QUICK_PANEL_ROWS, 20)).astype(np.float32)
    start = time.perf_counter()
    panel_autoencoder(4, 0, quick=True).fit(X)
    facts["skae_seconds"] = time.perf_counter() - start
    if use_umap:
        facts.update(umap_rows=[], umap_seconds=[])
        for rows in (QUICK_PANEL_ROWS,) if quick else UMAP_WARM_UP_ROWS:
            X = rng.normal(size=(rows, 20)).astype(np.float32)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                panel_umap(10, quick).fit(X)
            facts["umap_rows"].append(rows)
            facts["umap_seconds"].append(time.perf_counter() - start)
            log(f"warm-up: UMAP on {rows:,} random rows, {facts['umap_seconds'][-1]:.1f} s")
        if not quick:
            rows = UMAP_SPARSE_WARM_UP_ROWS
            X = sparse.random(rows, 200, density=0.05, format="csr", random_state=rng)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                panel_umap(10, quick).fit(X.astype(np.float32))
            facts["umap_sparse_rows"] = rows
            facts["umap_sparse_seconds"] = time.perf_counter() - start
            seconds = facts["umap_sparse_seconds"]
            log(f"warm-up: UMAP on {rows:,} random sparse rows, {seconds:.1f} s")
    return facts


def panel_case(name, dtype, seed, use_umap, quick, n_components=None):
    """One set and seed: the autoencoder's fit, then UMAP's; scores and times.

    Both reduce the rows to ``n_components`` columns, by default as many as
    the set has classes; KMeans always looks for as many clusters as classes.
    """
    X, y = panel_data(name, dtype, quick)
    k = len(np.unique(y))
    dim = k if n_components is None else n_components
    row = {
        "dataset": name,
        "label": panel_label(name, dtype),
        "dtype": dtype,
        "seed": seed,
        "data_seed": DATA_SEED if name not in ("mnist10k", "digits") else None,
        "n_rows": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "n_classes": int(k),
        "n_components": int(dim),
    }
    model = panel_autoencoder(dim, seed, quick)
    row["skae_nmi"] = kmeans_nmi(_fit_into(row, "skae", model, X), y, k)
    row["skae_epochs"] = int(model.n_iter_)
    if use_umap:
        row["umap_nmi"] = kmeans_nmi(_fit_into(row, "umap", panel_umap(dim, quick), X), y, k)
        row["fit_time_ratio"] = row["skae_fit_seconds"] / row["umap_fit_seconds"]
    return row


def _fit_into(row, method, model, X):
    """Fit ``model`` on ``X``; its times and the load before into ``row``; the codes."""
    codes, wall, cpu, load = _timed_fit(model, X)
    row[f"{method}_fit_seconds"], row[f"{method}_fit_cpu_seconds"] = wall, cpu
    row[f"load_1min_{method}"] = load
    return codes


def scaling_rows(rows):
    """The sweep over MNIST grown at seed 0, from the panel's rows."""
    sweep = []
    for size, name in SCALING_SETS.items():
        for r in rows:
            if r["dataset"] == name and r["dtype"] == "float32" and r["seed"] == 0:
                keys = (
                    "n_rows",
                    "skae_nmi",
                    "skae_fit_seconds",
                    "load_1min_skae",
                    "umap_nmi",
                    "umap_fit_seconds",
                    "load_1min_umap",
                )
                sweep.append({"size": size, "from": name, **{key: r.get(key) for key in keys}})
    return sweep


def _run_facts(args, started, load_start, commit):
    """What every result file of the panel and the ablations says about its run."""
    return {
        "command": " ".join(["python", "benchmarks/bench_clustering.py", *args.argv]),
        "git_commit": commit,
        "quick": args.quick,
        "total_seconds": time.perf_counter() - started,
        "load_average_start": load_start,
        "load_average_end": environment.load_average(),
        "kmeans": "KMeans(k, n_init=10, random_state=0), k the number of classes",
        "environment": environment.machine(),
    }


def _write_json(report, path):
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w") as f:
        json.dump(report, f, indent=1, default=str)
    tmp.replace(path)


def run_panel(args, out, log):
    """The panel: every set and seed, written to ``panel.json`` after each case."""
    started, load_start = time.perf_counter(), environment.load_average()
    commit = environment.git_commit()  # at the start: the code that runs
    use_umap = has_umap()
    skipped = [] if use_umap else ["umap: umap-learn is not installed (pip install -e '.[bench]')"]
    for note in skipped:
        log(f"panel: skipping {note}")
    every = HELD_OUT_SETS if args.held_out else PANEL_SETS
    sets = [(n, d) for n, d in every if args.datasets is None or n in args.datasets]
    seeds = args.seeds[:1] if args.quick else args.seeds
    facts = warm_up(args.quick, use_umap, log)
    report = {
        "mode": "held_out" if args.held_out else "panel",
        "seeds": seeds,
        "n_components": args.n_components,
        "data_seed": DATA_SEED,
        "data_seed_note": DATA_SEED_NOTE,
        "skae_params": {"n_neighbors": N_NEIGHBORS, **(QUICK_EPOCHS if args.quick else {})},
        "skae_timing": "the wall time of fit alone (the codes come from transform, untimed); "
        "one tiny untimed fit first, so that imports are not timed",
        "umap_params": {
            "random_state": None,
            **UMAP_PARAMS,
            **(QUICK_EPOCHS if args.quick else {}),
        },
        "umap_timing": PANEL_UMAP_TIMING.format(
            rows=" and ".join(f"{n:,}" for n in facts.get("umap_rows", [])),
            sparse_rows=f"{facts.get('umap_sparse_rows', 0):,}",
        )
        if use_umap
        else None,
        "warm_up": facts,
        "skipped": skipped,
        "rows": [],
    }
    path = out / "panel.json"
    for name, dtype in sets:
        for seed in seeds:
            row = panel_case(name, dtype, seed, use_umap, args.quick, args.n_components)
            report["rows"].append(row)
            report["scaling"] = scaling_rows(report["rows"])
            report.update(_run_facts(args, started, load_start, commit), complete=False)
            _write_json(report, path)
            umap = (
                f"; UMAP NMI {row['umap_nmi']:.3f}, fit {row['umap_fit_seconds']:.1f} s "
                f"(load {row['load_1min_umap']})"
                if use_umap
                else ""
            )
            log(
                f"  {row['label']} ({row['n_rows']:,} x {row['n_features']}) seed {seed}: "
                f"skae NMI {row['skae_nmi']:.3f}, fit {row['skae_fit_seconds']:.1f} s "
                f"(load {row['load_1min_skae']}){umap}"
            )
    report.update(_run_facts(args, started, load_start, commit), complete=True)
    _write_json(report, path)
    paths = [path]
    if not args.no_figures and len(report["scaling"]) > 1:  # a curve needs two sizes
        paths.append(panel_figure(report, out))
    return report, paths


def panel_markdown(report):
    """One row per set: the seeds' values joined by " / "."""
    lines = [
        "| data set | rows | skae NMI | UMAP NMI | skae fit (s) | UMAP fit (s) | skae / UMAP |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    groups = {}
    for r in report["rows"]:
        groups.setdefault(r["label"], []).append(r)
    for label, rs in groups.items():
        lines.append(
            f"| {label} | {rs[0]['n_rows']:,} | {_seeds(rs, 'skae_nmi', '.3f')} "
            f"| {_seeds(rs, 'umap_nmi', '.3f')} | {_seeds(rs, 'skae_fit_seconds', '.1f')} "
            f"| {_seeds(rs, 'umap_fit_seconds', '.1f')} | {_seeds(rs, 'fit_time_ratio', '.2f')} |"
        )
    return "\n".join(lines)


def panel_figure(report, out):
    """``panel_scaling.png``: NMI and fit time against the rows of MNIST grown."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweep = report["scaling"]
    rows = [r["n_rows"] for r in sweep]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    methods = (
        ("skae", "AutoencoderTransformer(k, n_neighbors=15)", "C0", "o"),
        ("umap", "umap-learn UMAP(k, n_neighbors=15, min_dist=0)", "C1", "s"),
    )
    for key, label, colour, marker in methods:
        if all(r.get(f"{key}_nmi") is None for r in sweep):
            continue
        style = {"color": colour, "marker": marker, "label": label}
        left.plot(rows, [r[f"{key}_nmi"] for r in sweep], **style)
        right.plot(rows, [r[f"{key}_fit_seconds"] for r in sweep], **style)
    left.set_ylabel("NMI of KMeans(10) on the codes")
    right.set_ylabel("fit time (s)")
    right.set_yscale("log")
    right.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    right.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel("rows of MNIST grown")
        ax.set_xticks(rows)
        ax.set_xticklabels([f"{n:,}" for n in rows], fontsize=8)
        ax.minorticks_off()
        ax.grid(alpha=0.3)
    handles, labels = left.get_legend_handles_labels()
    loads = [
        r.get(f"load_1min_{m}")
        for r in sweep
        for m in ("skae", "umap")
        if r.get(f"load_1min_{m}") is not None
    ]
    load = f", 1-min load {min(loads):.1f}-{max(loads):.1f}" if loads else ""
    fig.suptitle(
        f"MNIST grown by shifted, noisy copies: seed 0, {report['environment']['cores']} "
        f"cores{load}",
        fontsize=9,
    )
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    path = out / "panel_scaling.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# -------------------------------------------------------------- the ablations


def _layout_graph(X, model, seed, graph_features="components"):
    """The pruned graph, its start and the layout's constants, as the estimator builds them.

    The steps of ``AutoencoderTransformer._training_plan`` through skae's
    private functions: the rows' top principal components in the network's
    scaling, the fuzzy neighbour graph there, pruned for the layout's epochs,
    and its spectral start. The random draws start from ``RandomState(seed)``
    here, where the estimator draws its network's weights first, so the
    layout is one like the estimator's, not the same one.

    ``graph_features="features"`` builds the graph on all the features, in
    the network's view of the rows (:class:`skae._data.RowLoader`: centred and
    scaled alike, so the distances are those of the rows), as umap-learn
    does, instead of the top principal components.
    """
    from skae._data import RowLoader, weighted_moments
    from skae._graph_layout import find_ab_params, layout_start
    from skae._neighbors import GRAPH_COMPONENTS, neighbor_graph, rows_graph

    rng = np.random.RandomState(seed)
    mean, scale = weighted_moments(X)
    mean = np.asarray(mean.astype(X.dtype), dtype=np.float64)
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    algorithm = model.neighbors_algorithm
    if graph_features == "features":
        features = RowLoader(mean, scale).load(X, slice(None), np.empty(X.shape))
        graph = neighbor_graph(features, model.n_neighbors, algorithm=algorithm, random_state=rng)
    else:
        n_axes = min(GRAPH_COMPONENTS, X.shape[1])
        rows = np.arange(X.shape[0])
        graph, features, _, _ = rows_graph(
            X, rows, mean, scale, n_axes, model.n_neighbors, algorithm=algorithm, rng=rng
        )
    pruned, start, n_epochs, layout_seed = layout_start(graph, model.n_components, rng, features)
    a, b = find_ab_params(model.spread, model.min_dist)
    return pruned, start, n_epochs, a, b, layout_seed


def skae_epochs(model, graph, epochs_factor=1):
    """skae's layout epochs on a graph of :func:`_layout_graph` (its start is copied).

    ``epochs_factor`` multiplies the epochs, on the same pruned graph.
    """
    from skae._graph_layout import optimize_layout

    pruned, start, n_epochs, a, b, layout_seed = graph
    return optimize_layout(
        pruned,
        start.copy(),
        epochs_factor * n_epochs,
        a,
        b,
        model.negative_sample_rate,
        layout_seed,
    )


def layout_alone(X, model, seed):
    """The graph's layout that ``model`` would learn, built as its training plan builds it."""
    return skae_epochs(model, _layout_graph(X, model, seed))


def umap_default_epochs(n_rows):
    """umap-learn's default epochs of ``UMAP.fit``: 500 up to 10,000 rows, 200 beyond."""
    return 500 if n_rows <= 10_000 else 200


def umap_epochs(model, graph):
    """umap-learn's own epochs (sequential, one edge at a time) on the same graph and start.

    ``umap.layouts.optimize_layout_euclidean``, as ``UMAP.fit`` calls it, but
    not in parallel, so that the seed fixes it; its default number of epochs
    for the rows (:func:`umap_default_epochs`), on the graph pruned for them as
    umap-learn prunes it (weights below the largest over the epochs dropped).
    """
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import make_epochs_per_sample

    from skae._graph_layout import _pruned

    pruned, start, _, a, b, layout_seed = graph
    n_epochs = umap_default_epochs(pruned.shape[0])
    pruned = _pruned(pruned, n_epochs)
    edges = pruned.tocoo()
    start = start.copy()
    rng_state = np.random.RandomState(layout_seed).randint(-(2**31) + 1, 2**31 - 1, 3)
    return optimize_layout_euclidean(
        start,
        start,
        edges.row,
        edges.col,
        n_epochs,
        pruned.shape[0],
        make_epochs_per_sample(edges.data, n_epochs),
        a,
        b,
        rng_state.astype(np.int64),
        1.0,
        1.0,
        model.negative_sample_rate,
        parallel=False,
        move_other=True,
    )


LAYOUT_NOTE = (
    "The layout alone is built by the benchmark through skae's private functions, as the "
    "estimator's training plan builds it (graph on the top 30 principal components, then "
    "the layout), with RandomState(seed); the estimator draws its network's weights first, "
    "so the layout is one like the estimator's, not the same one."
)


def network_epochs(params, X):
    """``params``, with ``TWICE_THE_EPOCHS`` made twice the network's default epochs for ``X``."""
    if params.get("n_epochs") != TWICE_THE_EPOCHS:
        return params
    from skae._graph_term import default_epochs

    return {**params, "n_epochs": 2 * default_epochs(X.shape[0], X.shape[1])}


@contextmanager
def parts_as_laid_out():
    """Fits that leave the graph's disconnected parts where the layout puts them.

    skae has no parameter for it: this swaps the private step that moves them
    closer (``skae._graph_term.packed_components``) for one that returns the
    layout as it is, and puts it back afterwards.
    """
    from skae import _graph_term

    packed = _graph_term.packed_components
    _graph_term.packed_components = lambda layout, labels, n_parts: layout
    try:
        yield
    finally:
        _graph_term.packed_components = packed


def ablation_case(name, variant, params, seed, quick):
    """One variant on one set: all rows (NMI, fit time), then the 80/20 split."""
    X, y = panel_data(name, "float32", quick)
    k = len(np.unique(y))
    X_train, X_test, y_train, y_test = datasets.split(X, y)
    row = {
        "dataset": name,
        "variant": variant,
        "label": ABLATION_LABELS[variant],
        "params": params,
        "seed": seed,
        "n_rows": int(X.shape[0]),
        "n_train": int(X_train.shape[0]),
        "n_test": int(X_test.shape[0]),
        "n_classes": int(k),
    }

    def kmeans_split(codes_train, codes_test):
        kmeans = KMeans(n_clusters=k, n_init=10, random_state=0).fit(codes_train)
        row["nmi_train"] = float(normalized_mutual_info_score(y_train, kmeans.labels_))
        if codes_test is not None:
            row["nmi_new"] = float(normalized_mutual_info_score(y_test, kmeans.predict(codes_test)))

    if variant == "layout":
        model = panel_autoencoder(k, seed, quick)
        row["load_1min"] = environment.load_average()[0]
        start = time.perf_counter()
        codes = layout_alone(X, model, seed)
        row["fit_seconds"] = time.perf_counter() - start
        row["nmi"] = kmeans_nmi(codes, y, k)
        kmeans_split(layout_alone(X_train, model, seed), None)
        row["note"] = "a layout has no map for new rows and no decoder: no held-out numbers"
        return row
    if variant == "pca":
        # With no fewer classes than features, PCA keeps every feature: no MSE to compare.
        lossless = k >= X.shape[1]

        def make(rows):
            return PCA(min(k, X.shape[1]), random_state=seed)

        if lossless:
            row["note"] = "PCA keeps every feature (k >= n_features): no MSE ratio"
    else:

        def make(rows):
            return panel_autoencoder(k, seed, quick, **network_epochs(params, rows))

    context = parts_as_laid_out if variant == "parts as laid out" else nullcontext
    model = make(X)
    with context():
        codes, row["fit_seconds"], row["fit_cpu_seconds"], row["load_1min"] = _timed_fit(model, X)
    row["nmi"] = kmeans_nmi(codes, y, k)
    if hasattr(model, "n_iter_"):
        row["epochs"] = int(model.n_iter_)
    model = make(X_train)
    with context():
        codes_train, row["fit_seconds_split"], _, _ = _timed_fit(model, X_train)
    codes_test = np.asarray(model.transform(X_test))
    row["mse"] = mse(X_test, model.inverse_transform(codes_test))
    kmeans_split(codes_train, codes_test)
    return row


def run_ablations(args, out, log):
    """The ablations on ``ABLATION_SETS`` (``HELD_OUT_SETS``'s), written to ``ablations.json``."""
    started, load_start = time.perf_counter(), environment.load_average()
    commit = environment.git_commit()  # at the start: the code that runs
    every = HELD_OUT_NAMES if args.held_out else ABLATION_SETS
    names = [n for n in every if args.datasets is None or n in args.datasets]
    seed = args.seeds[0]
    warm_up(args.quick, False, log)
    rows = []
    for name in names:
        for variant, params in ABLATIONS:
            row = ablation_case(name, variant, params, seed, args.quick)
            rows.append(row)
            log(
                f"  {name} {variant}: NMI {row['nmi']:.3f}, fit {row['fit_seconds']:.1f} s, "
                f"new rows' NMI {_fmt(row.get('nmi_new'), '.3f') or '-'}"
            )
    pca_mse = {r["dataset"]: r["mse"] for r in rows if r["variant"] == "pca" and "note" not in r}
    for r in rows:
        if r.get("mse") is not None and r["dataset"] in pca_mse:
            r["mse_vs_pca"] = r["mse"] / pca_mse[r["dataset"]]
    report = {
        "mode": "ablations_held_out" if args.held_out else "ablations",
        "seed": seed,
        "skae_params": {"n_neighbors": N_NEIGHBORS, **(QUICK_EPOCHS if args.quick else {})},
        "split": "datasets.split: a fixed 20% of the rows held out (permutation seeded with 0)",
        "nmi": "KMeans on the codes of a fit on all rows",
        "nmi_train": "KMeans on the training rows' codes of a fit on the 80% split",
        "nmi_new": "that KMeans' predictions for the held-out rows' codes",
        "mse_vs_pca": "held-out reconstruction MSE over PCA(k)'s, both fitted on the split",
        "layout_note": LAYOUT_NOTE,
        **_run_facts(args, started, load_start, commit),
        "rows": rows,
    }
    path = out / "ablations.json"
    _write_json(report, path)
    return report, [path]


# --layouts: skae's mini-batch epochs against umap-learn's sequential ones,
# on the same graph from the same start, over several seeds, with the graph
# on the top principal components (as the estimator) and on all features.
LAYOUT_SETS = ("digits", "mnist10k", "loops", "roll_bands", "tree", "loops_20000", "tree_20000")
LAYOUT_SEEDS = (0, 1, 2, 3)
LAYOUT_EPOCHS_FACTOR = 3
LAYOUT_METHODS = {
    "skae": "skae's epochs (edge mini-batches, NumPy)",
    "skae_long": f"skae's epochs x {LAYOUT_EPOCHS_FACTOR}",
    "umap": "umap-learn's epochs (one edge at a time, numba)",
}
LAYOUT_GRAPHS = {
    "components": "top 30 principal components",
    "features": "all features",
}


def within_class_share(codes, y):
    """The share of the codes' variance within the classes: lower, tighter clusters further apart.

    ``W / (W + B)``, the within-class sum of squares over the total, from
    scikit-learn's Calinski-Harabasz index ``(B / (k - 1)) / (W / (n - k))``.
    """
    n, k = len(y), len(np.unique(y))
    index = calinski_harabasz_score(np.asarray(codes, dtype=np.float64), y)
    return float(1.0 / (1.0 + index * (k - 1) / (n - k)))


def run_layouts(args, out, log):
    """The layouts of each set's graphs, per seed, written to ``layouts.json``."""
    started, load_start = time.perf_counter(), environment.load_average()
    commit = environment.git_commit()
    if not has_umap():
        raise SystemExit("--layouts needs umap-learn: pip install -e '.[bench]'")
    names = [n for n in LAYOUT_SETS if args.datasets is None or n in args.datasets]
    seeds = args.seeds[:1] if args.quick else LAYOUT_SEEDS
    warm_up(args.quick, True, log)
    layouts = {
        "skae": skae_epochs,
        "skae_long": lambda model, graph: skae_epochs(model, graph, LAYOUT_EPOCHS_FACTOR),
        "umap": umap_epochs,
    }
    rows = []
    for name in names:
        X, y = panel_data(name, "float32", args.quick)
        k = len(np.unique(y))
        model = panel_autoencoder(k, 0, args.quick)
        for graph_features in LAYOUT_GRAPHS:
            for seed in seeds:
                row = {
                    "dataset": name,
                    "graph": graph_features,
                    "seed": seed,
                    "n_rows": int(X.shape[0]),
                    "n_classes": int(k),
                }
                graph = _layout_graph(X, model, seed, graph_features)
                row["n_epochs"] = int(graph[2])
                row["umap_n_epochs"] = umap_default_epochs(X.shape[0])
                row["start_nmi"] = kmeans_nmi(graph[1], y, k)
                row["start_within"] = within_class_share(graph[1], y)
                for method, build in layouts.items():
                    begin = time.perf_counter()
                    codes = build(model, graph)
                    row[f"{method}_seconds"] = time.perf_counter() - begin
                    row[f"{method}_nmi"] = kmeans_nmi(codes, y, k)
                    row[f"{method}_within"] = within_class_share(codes, y)
                rows.append(row)
                log(
                    f"  {name}, graph on {LAYOUT_GRAPHS[graph_features]}, seed {seed}: "
                    + f"start {row['start_nmi']:.3f}, "
                    + ", ".join(f"{m} {row[f'{m}_nmi']:.3f}" for m in layouts)
                )
    report = {
        "mode": "layouts",
        "seeds": list(seeds),
        "methods": LAYOUT_METHODS,
        "graphs": LAYOUT_GRAPHS,
        "epochs_factor": LAYOUT_EPOCHS_FACTOR,
        "layout_note": "All from the same pruned graph and spectral start, built as the "
        "estimator builds them (by default on the top 30 principal components; also on all "
        "features, centred and scaled, as umap-learn builds it) with RandomState(seed); "
        "umap-learn's optimize_layout_euclidean runs with parallel=False so that the seed "
        "fixes it, for umap-learn's default number of epochs (500 up to 10,000 rows, 200 "
        "beyond) on the graph pruned for them. The longer run of skae's epochs keeps the "
        "graph pruned for its default epochs. The spectral start's column is KMeans on the "
        "positions every method starts from.",
        "within_class_share": "the sum of squared distances of a layout's rows to their "
        "class's mean over that to the mean of all rows",
        **_run_facts(args, started, load_start, commit),
        "rows": rows,
    }
    path = out / "layouts.json"
    _write_json(report, path)
    return report, [path]


def layouts_markdown(report):
    methods = list(report["methods"])
    lines = [
        "| data set | graph on | the spectral start | "
        + " | ".join(report["methods"][m] for m in methods)
        + " |",
        "|---|---|" + "---:|" * (len(methods) + 1),
    ]
    for key in dict.fromkeys((r["dataset"], r["graph"]) for r in report["rows"]):
        rs = [r for r in report["rows"] if (r["dataset"], r["graph"]) == key]
        cells = [" / ".join(f"{r[f'{m}_nmi']:.3f}" for r in rs) for m in ("start", *methods)]
        lines.append(f"| {key[0]} | {report['graphs'][key[1]]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ablations_markdown(report):
    lines = [
        "| data set | variant | NMI | fit (s) | MSE / PCA | training NMI (split) | new rows' NMI |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['dataset']} | {r['label']} | {r['nmi']:.3f} | {r['fit_seconds']:.1f} "
            f"| {_fmt(r.get('mse_vs_pca'), '.3f')} | {r['nmi_train']:.3f} "
            f"| {_fmt(r.get('nmi_new'), '.3f')} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/clustering", help="output directory")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--panel",
        action="store_true",
        help="the autoencoder against UMAP over the data sets of panel.py: panel.json "
        "and panel_scaling.png",
    )
    mode.add_argument(
        "--ablations",
        action="store_true",
        help="the autoencoder's parts one at a time on "
        + ", ".join(ABLATION_SETS)
        + ": ablations.json",
    )
    mode.add_argument(
        "--layouts",
        action="store_true",
        help="skae's layout epochs against umap-learn's on the same graphs: layouts.json",
    )
    parser.add_argument(
        "--datasets",
        default=None,
        help="comma-separated subset of " + ",".join(CLUSTER_DATASETS) + " (with --panel: "
        "of "
        + ",".join(dict.fromkeys(n for n, _ in PANEL_SETS))
        + "; with --ablations: of "
        + ",".join(ABLATION_SETS)
        + ")",
    )
    parser.add_argument(
        "--seeds",
        default="0,1",
        help="comma-separated random_state values of the autoencoders and UMAP "
        "(PCA and the raw pixels run once; --ablations runs the first only)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=2,
        help="jobs run at once, each with cpu_count // n_jobs BLAS threads (not with "
        "--panel or --ablations, which fit one model at a time on every core)",
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
        help="a tiny run for the tests: 1,500 rows, a few epochs, small networks (with "
        "--panel or --ablations: 300 rows, one seed, n_epochs=2)",
    )
    parser.add_argument(
        "--n-components",
        type=int,
        default=None,
        help="with --panel: the columns of both methods' codes on every set (default: as "
        "many as the set has classes); KMeans still looks for as many clusters as classes",
    )
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="with --panel or --ablations: the sets of held_out.py ("
        + ",".join(HELD_OUT_NAMES)
        + "), which the defaults were not chosen on, instead of the usual ones",
    )
    parser.add_argument("--no-figures", action="store_true")
    args = parser.parse_args(argv)
    if args.n_components is not None and not args.panel:
        parser.error("--n-components goes with --panel")
    if args.held_out and not (args.panel or args.ablations):
        parser.error("--held-out goes with --panel or --ablations")
    if args.n_components is not None and args.n_components < 1:
        parser.error(f"--n-components must be at least 1, got {args.n_components}")
    args.argv = sys.argv[1:] if argv is None else list(argv)
    if args.datasets is not None:
        args.datasets = [n for n in args.datasets.split(",") if n]
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    if args.panel or args.ablations or args.layouts:
        run_mode, markdown = (
            (run_panel, panel_markdown)
            if args.panel
            else (run_ablations, ablations_markdown)
            if args.ablations
            else (run_layouts, layouts_markdown)
        )
        report, paths = run_mode(args, out, log)
        print(markdown(report))
        print()
        print(
            f"Total {report['total_seconds']:.0f} s; load average {report['load_average_start']} "
            f"at the start, {report['load_average_end']} at the end. Wrote "
            + ", ".join(str(p) for p in paths)
        )
        return

    if args.datasets is None:
        args.datasets = list(CLUSTER_DATASETS)
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
