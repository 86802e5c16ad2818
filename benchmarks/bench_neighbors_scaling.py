"""How the fit with the neighbour-graph term grows with the number of rows.

Fits ``AutoencoderTransformer(n_components=10, n_neighbors=15)`` on
``--rows`` rows of synthetic 784-feature data (a mixture of 10 random
low-rank clusters in [0, 1], float32, like MNIST in shape) and times, in the
same process: the neighbour search and the fuzzy graph (the graph phase:
principal components, exact or approximate k-nearest neighbours, UMAP's
graph), and the whole fit. With ``n_epochs=None`` training samples about the
same number of edges at any size, so training time stays about flat and the
graph phase is what grows; the script prints the exponent of a power law
fitted to the fit times and to the graph times (log-log least squares).

``--mnist`` instead times the fit on all 10,000 MNIST images shipped in
``data/mnist10k`` (float64 as loaded, and float32), side by side with
umap-learn's ``UMAP(n_components=10).fit_transform`` after a warm-up call
that compiles its JIT code, each ``--repeats`` times in turn.

Run::

    python benchmarks/bench_neighbors_scaling.py --rows 10000 30000 100000 --json scaling.json
    python benchmarks/bench_neighbors_scaling.py --rows 2000 4000 --n-epochs 1   # quick
    python benchmarks/bench_neighbors_scaling.py --mnist --repeats 2 --json mnist_fit.json
"""

import argparse
import json
import os
import platform
import time

import numpy as np

from skae import AutoencoderTransformer
from skae import _autoencoder as autoencoder_module


def make_rows(n_rows, n_features=784, n_clusters=10, rank=12, seed=0):
    """Rows near ``n_clusters`` random ``rank``-dimensional planes, clipped to [0, 1]."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(n_clusters, size=n_rows)
    centres = rng.uniform(0.1, 0.4, size=(n_clusters, n_features))
    bases = rng.normal(0, 0.08, size=(n_clusters, rank, n_features))
    X = np.empty((n_rows, n_features), dtype=np.float32)
    for c in range(n_clusters):
        rows = np.flatnonzero(labels == c)
        X[rows] = centres[c] + rng.normal(size=(rows.size, rank)) @ bases[c]
    X += rng.normal(0, 0.02, size=X.shape).astype(np.float32)
    np.clip(X, 0, 1, out=X)
    return X, labels


class GraphTimer:
    """Times the estimator's graph phase by wrapping the module's two graph functions."""

    def __init__(self):
        self.seconds = 0.0

    def wrap(self, name):
        function = getattr(autoencoder_module, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        setattr(autoencoder_module, name, timed)
        return function


def mnist_fit_times(repeats):
    """Fit seconds on MNIST: the autoencoder in float64 and float32, and UMAP."""
    import statistics
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from datasets import read_mnist

    X, _ = read_mnist()
    contenders = {
        "AutoencoderTransformer(n_neighbors=15), float64": lambda: AutoencoderTransformer(
            10, n_neighbors=15, random_state=0
        ).fit(X),
        "AutoencoderTransformer(n_neighbors=15), float32": lambda: AutoencoderTransformer(
            10, n_neighbors=15, random_state=0
        ).fit(X.astype(np.float32)),
    }
    try:
        import umap

        # JIT warm-up on the same data: a smaller set leaves the paths of larger
        # ones (NN-descent above 4,096 rows) to compile inside the first timed run.
        umap.UMAP(n_components=10, random_state=0).fit_transform(X)
        contenders["UMAP(n_components=10).fit_transform"] = lambda: umap.UMAP(
            n_components=10, random_state=0
        ).fit_transform(X)
    except ImportError:
        print("umap-learn is not installed (the bench extra): its row is left out")
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
            print(f"{name}: {times[name][-1]:.1f} s, load {os.getloadavg()[0]:.1f}", flush=True)
    rows = [dict(contender=name, fit_s=statistics.median(t), runs=t) for name, t in times.items()]
    for row in rows:
        print(f"| {row['contender']} | {row['fit_s']:.1f} s |")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--n-epochs", type=int, default=None)
    parser.add_argument("--neighbors-algorithm", default="auto")
    parser.add_argument("--json", default=None)
    parser.add_argument("--mnist", action="store_true", help="MNIST fit times beside UMAP")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    if args.mnist:
        rows = mnist_fit_times(args.repeats)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"machine": platform.platform(), "mnist": rows}, f, indent=1)
        return
    results = []
    for n_rows in args.rows:
        X, _ = make_rows(n_rows)
        timer = GraphTimer()
        originals = {name: timer.wrap(name) for name in ("nearest_neighbors", "fuzzy_graph")}
        try:
            ae = AutoencoderTransformer(
                n_components=10,
                n_neighbors=15,
                n_epochs=args.n_epochs,
                neighbors_algorithm=args.neighbors_algorithm,
                random_state=0,
            )
            start = time.perf_counter()
            ae.fit(X)
            fit_s = time.perf_counter() - start
        finally:
            for name, function in originals.items():
                setattr(autoencoder_module, name, function)
        row = dict(rows=n_rows, fit_s=fit_s, graph_s=timer.seconds, epochs=ae.n_iter_)
        row["load"] = os.getloadavg()[0]
        results.append(row)
        print(
            f"{n_rows:>8,} rows: fit {fit_s:7.1f} s (graph {timer.seconds:6.1f} s), "
            f"{ae.n_iter_} epochs, load {row['load']:.1f}",
            flush=True,
        )
    if len(results) > 1:
        n = np.log([r["rows"] for r in results])
        for key in ("fit_s", "graph_s"):
            slope = np.polyfit(n, np.log([r[key] for r in results]), 1)[0]
            print(f"{key}: grows as rows^{slope:.2f}")
            for r in results:
                r[f"{key}_exponent"] = float(slope)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": platform.platform(), "rows": results}, f, indent=1)


if __name__ == "__main__":
    main()
