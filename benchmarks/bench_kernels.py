"""NumPy kernel choices of the core, timed side by side.

Four choices in skae's core rest on how NumPy's and SciPy's kernels
perform, not on arithmetic, so they are measured here rather than asserted:

1. relu in float32 (``skae/_activations.py``): ``np.maximum(Z, 0)`` against
   ``np.maximum(Z, zero_row)``, a row of zeros broadcast over the batch.
2. the squared error's sum (``skae/_losses.py``): ``np.einsum("ij,ij->", D,
   D)`` against ``np.vdot(D, D)`` (a BLAS dot product).
3. the layout's steps summed onto the rows (``skae/_graph_layout.py``,
   ``add_steps``): ``np.bincount`` of the ends weighted by one column of the
   steps at a time, against one product of the ends' incidence matrix with
   all the steps, on the kept edges of one mini-batch of the graph below;
   the two sums are checked equal bit for bit.
4. the graph layout's epochs (``skae/_graph_layout.py``) on one thread
   against ``--threads`` threads, on the fuzzy graph (15 neighbours) of
   Gaussian blobs in 30-D (20 centres), 10-D layout, ``--layout-rows`` rows:
   milliseconds per epoch (``--layout-epochs`` epochs per call). Below
   ``MIN_ROWS_PER_THREAD`` rows a thread, the epochs use fewer threads, so
   the two may be the same work. The layouts are checked equal bit for bit.

Each pair runs alternately on the same arrays, ``--repeats`` times; the table
gives the median microseconds per call and the median of the per-repeat
ratios. relu works in place, so each call first restores ``Z`` by a copy,
which is timed in the same rotation and taken off. One BLAS thread
(threadpoolctl), as in ``bench_speed.py``.

Usage: ``python benchmarks/bench_kernels.py [--repeats 15] [--rows 512] [--threads 2]
[--layout-rows 5000,10000,30000,100000] [--layout-epochs 20]``
"""

import argparse
import statistics
import time

import numpy as np
from sklearn.datasets import make_blobs
from threadpoolctl import threadpool_limits

from skae._graph_layout import (
    BATCHES_PER_EPOCH,
    _EdgeSteps,
    _pruned,
    add_steps,
    find_ab_params,
    layout_parts,
    optimize_layout,
)
from skae._neighbors import fuzzy_graph, nearest_neighbors
from skae._spectral_start import spectral_start


def timed(function, number):
    start = time.perf_counter()
    for _ in range(number):
        function()
    return (time.perf_counter() - start) / number * 1e6


def compare(first, second, repeats, number, baseline=None):
    """Median microseconds of two callables, alternated, and of their ratios.

    With ``baseline`` (a third callable, timed in the same rotation), its time
    is taken off both before the medians and the ratios.
    """
    a, b, c = [], [], []
    calls = [(first, a), (second, b)] + ([(baseline, c)] if baseline else [])
    for r in range(repeats):
        for function, times in calls[r % len(calls) :] + calls[: r % len(calls)]:
            times.append(timed(function, number))
    if baseline:
        a = [x - z for x, z in zip(a, c)]
        b = [y - z for y, z in zip(b, c)]
    ratio = statistics.median(x / y for x, y in zip(a, b))
    return statistics.median(a), statistics.median(b), ratio


def relu_rows(rows, repeats, rng):
    for dtype in (np.float32, np.float64):
        for width in (8, 32, 64, 128, 512, 784):
            source = rng.standard_normal((rows, width)).astype(dtype)
            Z = np.empty_like(source)
            zero_row = np.zeros(width, dtype)

            def scalar():
                np.copyto(Z, source)
                np.maximum(Z, 0, out=Z)

            def row():
                np.copyto(Z, source)
                np.maximum(Z, zero_row, out=Z)

            s, r, ratio = compare(scalar, row, repeats, 200, lambda: np.copyto(Z, source))
            yield (
                f"relu {np.dtype(dtype).name} {rows}x{width}",
                "maximum(Z, 0)",
                s,
                "maximum(Z, zero_row)",
                r,
                ratio,
            )


def loss_rows(rows, repeats, rng):
    for dtype in (np.float32, np.float64):
        D = rng.standard_normal((rows, 784)).astype(dtype)
        s, r, ratio = compare(
            lambda: np.einsum("ij,ij->", D, D), lambda: np.vdot(D, D), repeats, 200
        )
        yield (f"sum of squares {np.dtype(dtype).name} {rows}x784", "einsum", s, "vdot", r, ratio)


def scatter_row(graph, start, a, b, repeats):
    """The steps of one mini-batch's kept edges, summed onto the rows both ways."""
    rng = np.random.default_rng(0)
    steps = _EdgeSteps(graph, start.shape[1], a, b, 5, rng, BATCHES_PER_EPOCH)
    kept, negatives = steps.draw(steps.batches[0], rng)
    steps.edge_gradients(start, kept, negatives, 0)
    ends, gradient = steps.ends[: 2 * kept.size], steps.gradient[: 2 * kept.size]
    alpha = np.float32(0.5)
    by_column, at_once = start.copy(), start.copy()

    def bincount():
        for d in range(gradient.shape[1]):
            step = np.bincount(ends, weights=gradient[:, d], minlength=graph.shape[0])
            step *= alpha
            by_column[:, d] += step.astype(np.float32)

    def incidence():
        add_steps(at_once, ends, gradient, alpha, steps.sums)

    number = max(1, 2_000_000 // ends.size)
    by, at, ratio = compare(bincount, incidence, repeats, number)
    if not np.array_equal(by_column, at_once):
        raise AssertionError(f"the two sums of steps differ on {graph.shape[0]} rows")
    return (
        f"layout steps to rows, {graph.shape[0]} rows, {ends.size} ends (ms)",
        "bincount per column",
        by / 1000,
        "incidence product",
        at / 1000,
        ratio,
    )


def layout_rows(sizes, threads, epochs, repeats):
    a, b = find_ab_params(1.0, 0.0)
    for n_rows in sizes:
        X, _ = make_blobs(n_rows, n_features=30, centers=20, random_state=0)
        graph = _pruned(fuzzy_graph(*nearest_neighbors(X, 14), 15), 200)
        start = spectral_start(graph, 10, np.random.RandomState(0), X)
        yield scatter_row(graph, start, a, b, repeats)
        layouts = {}

        def epochs_on(n_threads):
            def run():
                layouts[n_threads] = optimize_layout(
                    graph, start.copy(), epochs, a, b, 5, seed=0, n_threads=n_threads
                )

            return run

        one, many, ratio = compare(epochs_on(1), epochs_on(threads), repeats, 1)
        if not np.array_equal(layouts[1], layouts[threads]):
            raise AssertionError(f"the layouts of {n_rows} rows differ between thread counts")
        used = layout_parts(n_rows, threads)
        yield (
            f"layout epoch, {n_rows} rows, {graph.nnz // 2} edges (ms)",
            "1 thread",
            one / 1000 / epochs,
            f"{threads} threads ({used} used)",
            many / 1000 / epochs,
            ratio,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--layout-rows", default="5000,10000,30000,100000")
    parser.add_argument("--layout-epochs", type=int, default=20)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print(
        f"NumPy {np.__version__}; medians of {args.repeats} alternated repeats of 200 calls; "
        "relu times net of the copy that restores Z before each call"
    )
    print("| kernel | A | A: us/call | B | B: us/call | A / B |")
    print("|---|---|---:|---|---:|---:|")
    with threadpool_limits(1):
        for row in (
            *relu_rows(args.rows, args.repeats, rng),
            *loss_rows(args.rows, args.repeats, rng),
        ):
            name, a, ta, b, tb, ratio = row
            print(f"| {name} | `{a}` | {ta:.1f} | `{b}` | {tb:.1f} | {ratio:.2f} |", flush=True)
    sizes = [int(n) for n in args.layout_rows.split(",") if n]
    for name, a, ta, b, tb, ratio in layout_rows(
        sizes, args.threads, args.layout_epochs, args.repeats
    ):
        print(f"| {name} | {a} | {ta:.1f} | {b} | {tb:.1f} | {ratio:.2f} |", flush=True)


if __name__ == "__main__":
    main()
