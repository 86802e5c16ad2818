"""How many candidates the graph of sparse rows should rank by shared neighbours.

Run from the repository root::

    python benchmarks/bench_shared_neighbors.py --out docs/results/clustering

Sparse rows (tf-idf, counts) are linked on all their features; each row
searches ``SHARED_CANDIDATES`` times its ``n_neighbors - 1`` nearest others
and keeps those that share most of them (``skae._neighbors.shared_neighbors``).
This script sets that multiple to each of ``--candidates`` in turn (1: the
nearest alone) and fits ``AutoencoderTransformer(n_components=k,
n_neighbors=15, random_state=seed)`` on text-like sets of
``panel.topics`` that differ in their documents' length, their topics and
the share of background words, beside umap-learn's ``UMAP(n_components=k,
n_neighbors=15, min_dist=0.0)`` (at its fastest, not seeded) in the same
run. For each multiple it reports the share of kept neighbours of the
row's own topic, and the NMI of ``KMeans(k, n_init=10, random_state=0)`` on
the codes. The report goes to ``shared_neighbors.json`` in ``--out``.
``--quick``: 600 rows, two epochs, one multiple beside 1 and no UMAP (its
compilation would take most of the run); its numbers mean nothing.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import environment  # noqa: E402
import panel  # noqa: E402
from bench_clustering import (  # noqa: E402
    N_NEIGHBORS,
    _timed_fit,
    _write_json,
    has_umap,
    kmeans_nmi,
    panel_autoencoder,
    panel_umap,
)

# The text-like sets, each ``panel.topics`` with these arguments.
SETS = {
    "topics": {"seed": 0},
    "topics, another draw": {"seed": 1},
    "long documents": {"seed": 2, "length": 40, "n_topics": 12},
    "short documents, more background": {
        "seed": 3,
        "length": 10,
        "background": 0.95,
        "n_rows": 8000,
    },
    "fewer topics": {"seed": 6, "length": 20, "background": 0.9, "n_rows": 5000, "n_topics": 6},
}
CANDIDATES = (1, 2, 3, 4, 6)


def kept_purity(X, y, candidates):
    """The share of each row's kept neighbours (of ``candidates`` times as many) in its class."""
    from skae._neighbors import nearest_neighbors, shared_neighbors

    k = N_NEIGHBORS - 1
    indices, distances = nearest_neighbors(X, min(X.shape[0] - 1, candidates * k))
    kept, _ = shared_neighbors(indices, distances, k)
    return float(np.mean(y[kept] == y[:, np.newaxis]))


def run(args, log):
    import skae._neighbors

    started, load_start = time.perf_counter(), environment.load_average()
    use_umap = has_umap() and not args.quick
    names = list(SETS)[:1] if args.quick else list(SETS)
    candidates = (1, 3) if args.quick else args.candidates
    default = skae._neighbors.SHARED_CANDIDATES
    report = {
        "command": " ".join(["python", "benchmarks/bench_shared_neighbors.py", *args.argv]),
        "git_commit": environment.git_commit(),
        "quick": args.quick,
        "seed": args.seed,
        "candidates": list(candidates),
        "default": default,
        "kmeans": "KMeans(k, n_init=10, random_state=0), k the number of topics",
        "rows": [],
    }
    if use_umap:  # compile umap-learn's code, untimed
        X, _ = panel.topics(seed=0, n_rows=600)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            panel_umap(2, args.quick).fit(X)
    for name in names:
        params = dict(SETS[name], **({"n_rows": 600} if args.quick else {}))
        X, y = panel.topics(**params)
        k = len(np.unique(y))
        row = {"dataset": name, "params": params, "n_rows": int(X.shape[0]), "n_classes": k}
        if use_umap:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                codes, row["umap_fit_seconds"], _, _ = _timed_fit(panel_umap(k, args.quick), X)
            row["umap_nmi"] = kmeans_nmi(codes, y, k)
        for multiple in candidates:
            skae._neighbors.SHARED_CANDIDATES = multiple
            try:
                model = panel_autoencoder(k, args.seed, args.quick)
                codes, seconds, _, _ = _timed_fit(model, X)
            finally:
                skae._neighbors.SHARED_CANDIDATES = default
            row[f"purity_{multiple}"] = kept_purity(X, y, multiple)
            row[f"nmi_{multiple}"] = kmeans_nmi(codes, y, k)
            row[f"fit_seconds_{multiple}"] = seconds
        report["rows"].append(row)
        log(
            f"  {name}: "
            + ", ".join(
                f"x{m} purity {row[f'purity_{m}']:.3f} NMI {row[f'nmi_{m}']:.3f}"
                for m in candidates
            )
            + (f"; UMAP NMI {row['umap_nmi']:.3f}" if use_umap else "")
        )
    report.update(
        total_seconds=time.perf_counter() - started,
        load_average_start=load_start,
        load_average_end=environment.load_average(),
        environment=environment.machine(),
    )
    path = args.out / "shared_neighbors.json"
    _write_json(report, path)
    return report, path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("results/clustering"))
    parser.add_argument(
        "--candidates",
        default=",".join(map(str, CANDIDATES)),
        help="comma-separated multiples of n_neighbors - 1 to search and rank",
    )
    parser.add_argument("--seed", type=int, default=0, help="the autoencoder's random_state")
    parser.add_argument("--quick", action="store_true", help="a tiny run for the tests")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.candidates = [int(v) for v in args.candidates.split(",")]
    if min(args.candidates) < 1:
        parser.error(f"--candidates must be at least 1, got {args.candidates}")
    args.out.mkdir(parents=True, exist_ok=True)
    report, path = run(args, lambda line: print(line, flush=True))
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
