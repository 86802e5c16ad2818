"""Codes for new rows: the autoencoder's ``transform`` against UMAP's, in rows per second.

Run from the repository root::

    python benchmarks/bench_transform.py --out docs/results/clustering

On MNIST (10,000 rows, 784 features) and the digits (divided by 16), the
panel's estimators (``AutoencoderTransformer(n_components=10,
n_neighbors=15, random_state=seed)`` and umap-learn's ``UMAP(n_components=10,
n_neighbors=15, min_dist=0.0)``, see ``bench_clustering.py --panel``) are
fitted on the fixed 80% training split of ``datasets.py``; each then encodes
the held-out 20%. After one untimed call each, the two take turns, one
throughput measurement at a time (``compare.throughput``: repeated calls for
at least 0.2 s), ``--repeats`` times, first with one thread (BLAS and numba)
and then with every core. The report gives the medians and their ratio, and
is written to ``transform.json`` in ``--out``. ``--quick``: 300 rows, a few
epochs of the autoencoder (UMAP keeps its own: its transform fails after
two) and one repeat, for the tests; its numbers mean nothing.
"""

import argparse
import contextlib
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import environment  # noqa: E402
from bench_clustering import (  # noqa: E402
    CLUSTER_K,
    _run_facts,
    _write_json,
    clustering_data,
    has_umap,
    panel_autoencoder,
    panel_umap,
    warm_up,
)
from compare import throughput  # noqa: E402

DATASETS = ("mnist", "digits")
QUICK_ROWS = 300


@contextlib.contextmanager
def threads(n):
    """``n`` BLAS threads, and ``n`` numba threads when numba is there (umap-learn's)."""
    try:
        import numba
    except ImportError:
        numba = None
    before = numba.get_num_threads() if numba else None
    with threadpool_limits(limits=n):
        if numba:
            numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        try:
            yield
        finally:
            if numba:
                numba.set_num_threads(before)


def fitted(name, seed, use_umap, quick):
    """The held-out rows, and the two estimators fitted on the training split."""
    _, _, X_train, X_test, _, _ = clustering_data(name)
    if quick:
        X_train, X_test = X_train[:QUICK_ROWS], X_test[:QUICK_ROWS]
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    models = {"skae": panel_autoencoder(CLUSTER_K, seed, quick)}
    if use_umap:
        models["umap"] = panel_umap(CLUSTER_K, False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="umap")
        for model in models.values():
            model.fit(X_train)
            model.transform(X_test)  # untimed: numba compiles UMAP's transform here
    return X_test, models


def transform_case(name, seed, repeats, use_umap, quick):
    """Rows per second of each method on one set, at one thread and at every core."""
    X_test, models = fitted(name, seed, use_umap, quick)
    rows = []
    for n_threads in sorted({1, os.cpu_count() or 1}):
        rates = {method: [] for method in models}
        with threads(n_threads), warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="umap")
            for _ in range(repeats):
                for method, model in models.items():  # side by side, in turns
                    rates[method].append(throughput(model, X_test))
        row = {
            "dataset": name,
            "seed": seed,
            "threads": n_threads,
            "n_test": int(X_test.shape[0]),
            "load_1min": (environment.load_average() or [None])[0],
        }
        for method, values in rates.items():
            row[f"{method}_rows_per_second"] = float(np.median(values))
            row[f"{method}_all"] = values
        if use_umap:
            row["ratio"] = row["skae_rows_per_second"] / row["umap_rows_per_second"]
        rows.append(row)
    return rows


def markdown(report):
    lines = [
        "| data set | threads | skae rows/s | UMAP rows/s | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in report["rows"]:
        umap = r.get("umap_rows_per_second")
        umap, ratio = ("-", "-") if umap is None else (f"{umap:,.0f}", f"{r['ratio']:.0f}")
        lines.append(
            f"| {r['dataset']} | {r['threads']} | {r['skae_rows_per_second']:,.0f} "
            f"| {umap} | {ratio} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/clustering", help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="the autoencoder's random_state")
    parser.add_argument("--repeats", type=int, default=7, help="measurements per method")
    parser.add_argument("--quick", action="store_true", help="a tiny run for the tests")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    args.datasets = None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started, load_start = time.perf_counter(), environment.load_average()
    commit = environment.git_commit()
    use_umap = has_umap()

    def log(message):
        print(message, file=sys.stderr, flush=True)

    warm_up(args.quick, False, log)
    repeats = 1 if args.quick else args.repeats
    rows = []
    for name in DATASETS:
        case = transform_case(name, args.seed, repeats, use_umap, args.quick)
        rows.extend(case)
        for r in case:
            log(f"  {name}, {r['threads']} thread(s): ratio {r.get('ratio')}")
    report = {
        "mode": "transform",
        "seed": args.seed,
        "repeats": repeats,
        "skipped": [] if use_umap else ["umap: umap-learn is not installed"],
        "split": "datasets.split: fit on 80% of the rows, transform the other 20%",
        "timing": "compare.throughput: rows per second of transform, repeated for at least "
        "0.2 s; the methods take turns; medians over the repeats",
        **_run_facts(args, started, load_start, commit),
        "command": " ".join(["python", "benchmarks/bench_transform.py", *args.argv]),
        "rows": rows,
    }
    path = out / "transform.json"
    _write_json(report, path)
    print(markdown(report))
    print(f"\nTotal {report['total_seconds']:.0f} s. Wrote {path}")


if __name__ == "__main__":
    main()
