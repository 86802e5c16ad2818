"""Out-of-core and distributed training: throughput, memory, grid-search wall time.

Part 1 writes a ``--rows`` x 64 float32 memmap (10,000,000 rows = 2.56 GB by
default) chunk by chunk into a temporary folder, evicts it from the page cache,
and trains an :class:`~skae.AutoencoderTransformer` on it with
``fit_chunks`` (``partial_fit`` over row-chunks). It reports rows/s and the
process's peak memory in two honest measures:

* peak ``RssAnon`` -- anonymous memory the process owns (heap, NumPy buffers),
  sampled from ``/proc/self/status`` every few milliseconds by a thread. This
  is the number that must stay bounded by the chunk size (limit: 500 MB).
* ``VmHWM`` -- peak resident set, reset before training through
  ``/proc/self/clear_refs``. It also counts the memmap's file-backed pages,
  which the kernel keeps cached while memory is free and drops under pressure,
  so it grows with the data read, not with what the process owns.

Part 2 times ``GridSearchCV(..., n_jobs=-1)`` under
``joblib.parallel_config(backend="dask")`` on a ``LocalCluster`` of two
single-threaded worker processes against ``n_jobs=1``, both as is (BLAS with
its default threads) and with BLAS on one thread like each worker (medians
over ``--repeats`` runs), and compares their ``mean_test_score``: the
one-thread run and the cluster do the same arithmetic, while a different
number of BLAS threads may change float32 sums in the last bits.

Run::

    python benchmarks/bench_stream.py --json stream.json
    python benchmarks/bench_stream.py --rows 200000 --json /tmp/small.json

Needs the ``dist`` extra (dask[distributed], dask-ml) for part 2; without it
part 2 is skipped.
"""

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
import warnings

import environment
import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info, threadpool_limits

from skae import AutoencoderTransformer, fit_chunks

N_FEATURES = 64
RSS_LIMIT_MB = 500


# ----------------------------------------------------------------- the data


def make_rows(n_rows, seed, n_features=N_FEATURES):
    """Rows near a 4-D curved manifold in ``n_features`` dimensions (float32)."""
    mixing = np.random.RandomState(12345).normal(size=(16, n_features)) / 4
    rng = np.random.RandomState(seed)
    t = rng.uniform(-1, 1, size=(n_rows, 4))
    features = np.hstack([t, np.sin(2.5 * t), t * t[:, ::-1], t**2 - 1 / 3])
    X = features @ mixing + 0.05 * rng.normal(size=(n_rows, n_features))
    return X.astype(np.float32)


def write_memmap(path, n_rows, write_rows=500_000):
    """Write the data chunk by chunk, then drop them from the page cache."""
    with open(path, "wb") as f:
        for i, start in enumerate(range(0, n_rows, write_rows)):
            make_rows(min(write_rows, n_rows - start), seed=i).tofile(f)
        f.flush()
        os.fsync(f.fileno())
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return np.memmap(path, dtype=np.float32, mode="r", shape=(n_rows, N_FEATURES))


# --------------------------------------------------------------- the memory


def status_mb(*keys):
    """Fields of /proc/self/status, in MB (None where unavailable)."""
    values = dict.fromkeys(keys)
    try:
        with open("/proc/self/status") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name in values:
                    values[name] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return values


def reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakSampler(threading.Thread):
    """Samples RssAnon and RssFile every ``interval`` seconds; keeps the maxima."""

    def __init__(self, interval=0.005):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_anon = self.peak_file = 0.0
        self.n_samples = 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            self.sample()
            time.sleep(self.interval)

    def sample(self):
        now = status_mb("RssAnon", "RssFile")
        if now["RssAnon"] is not None:
            self.peak_anon = max(self.peak_anon, now["RssAnon"])
            self.peak_file = max(self.peak_file, now["RssFile"])
            self.n_samples += 1

    def stop(self):
        self._stop_event.set()
        self.join()
        self.sample()


# ------------------------------------------------------------------ part 1


def explained_variance(estimator, X):
    X_hat = estimator.inverse_transform(estimator.transform(X))
    return float(1 - np.mean((X - X_hat) ** 2) / X.var(axis=0).mean())


def bench_stream(args):
    folder = tempfile.mkdtemp(prefix="skae-bench-stream-", dir=args.tmpdir)
    try:
        start = time.perf_counter()
        X = write_memmap(os.path.join(folder, "X.f32"), args.rows)
        write_s = time.perf_counter() - start
        size_gb = X.size * X.itemsize / 1e9

        ae = AutoencoderTransformer(
            n_components=8,
            hidden_layer_sizes=(32,),
            batch_size=args.batch_size,
            random_state=0,
        )
        before = status_mb("RssAnon", "VmRSS")
        hwm_reset = reset_peak_rss()
        sampler = PeakSampler()
        sampler.start()
        start = time.perf_counter()
        fit_chunks(ae, X, chunk_size=args.chunk_size, n_epochs=args.epochs, random_state=0)
        train_s = time.perf_counter() - start
        sampler.stop()
        after = status_mb("VmHWM")

        # Quality on a sample of rows spread over the file (read after the
        # memory measurement), against PCA with the same code size.
        rng = np.random.RandomState(1)
        rows = np.sort(rng.choice(args.rows, size=min(args.rows, 100_000), replace=False))
        sample = np.asarray(X[rows])
        del X
        result = {
            "rows": args.rows,
            "features": N_FEATURES,
            "file_gb": round(size_gb, 3),
            "write_s": round(write_s, 1),
            "chunk_size": args.chunk_size,
            "batch_size": args.batch_size,
            "epochs": args.epochs,
            "partial_fit_calls": ae.n_iter_,
            "train_s": round(train_s, 1),
            "rows_per_s": round(args.rows * args.epochs / train_s),
            "rss_anon_before_mb": round(before["RssAnon"] or 0, 1),
            "peak_rss_anon_mb": round(sampler.peak_anon, 1),
            "peak_rss_file_mb": round(sampler.peak_file, 1),
            "vm_hwm_mb": round(after["VmHWM"] or 0, 1) if hwm_reset else None,
            "rss_samples": sampler.n_samples,
            "rss_anon_limit_mb": RSS_LIMIT_MB,
            "rss_anon_within_limit": sampler.peak_anon < RSS_LIMIT_MB,
            "explained_variance_autoencoder": round(explained_variance(ae, sample), 4),
            "explained_variance_pca": round(
                float(PCA(8).fit(sample).explained_variance_ratio_.sum()), 4
            ),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return result


# ------------------------------------------------------------------ part 2


def grid_search(X, n_jobs, max_iter):
    search = GridSearchCV(
        AutoencoderTransformer(random_state=0, max_iter=max_iter),
        {"hidden_layer_sizes": [(16,), (32,), (64,)], "n_components": [4, 8]},
        n_jobs=n_jobs,
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X)


def timed(function, repeats):
    """Median wall time, all times, and every run's mean_test_score."""
    times, scores = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        search = function()
        times.append(time.perf_counter() - start)
        scores.append(search.cv_results_["mean_test_score"])
    return statistics.median(times), times, np.array(scores), search


def bench_grid(args):
    try:
        import joblib
        from dask.distributed import Client, LocalCluster
    except ImportError as error:
        return {"skipped": f"dask.distributed is not installed ({error})"}

    X = make_rows(args.grid_rows, seed=999)
    blas_threads = max((p["num_threads"] for p in threadpool_info()), default=None)
    # n_jobs=1 as a user runs it (BLAS with its default threads), and with BLAS
    # on one thread like each dask worker: the like-for-like reference.
    local_s, local_times, local, search = timed(
        lambda: grid_search(X, 1, args.grid_max_iter), args.repeats
    )
    with threadpool_limits(1):
        one_s, one_times, one, _ = timed(
            lambda: grid_search(X, 1, args.grid_max_iter), args.repeats
        )
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        startup_s = time.perf_counter() - start
        with joblib.parallel_config(backend="dask"):
            dask_s, dask_times, remote, _ = timed(
                lambda: grid_search(X, -1, args.grid_max_iter), args.repeats
            )
    # One row of mean_test_score per repeat; every row is compared.
    scores = {"local": local, "one": one, "dask": remote}
    return {
        "rows": args.grid_rows,
        "features": N_FEATURES,
        "dtype": str(X.dtype),
        "candidates": local.shape[1],
        "fits": 3 * local.shape[1],
        "max_iter": args.grid_max_iter,
        "repeats": args.repeats,
        "blas_threads_default": blas_threads,
        "n_jobs_1_median_s": round(local_s, 2),
        "n_jobs_1_times_s": [round(t, 2) for t in local_times],
        "n_jobs_1_blas_1_median_s": round(one_s, 2),
        "n_jobs_1_blas_1_times_s": [round(t, 2) for t in one_times],
        "dask_median_s": round(dask_s, 2),
        "dask_times_s": [round(t, 2) for t in dask_times],
        "cluster": "LocalCluster(n_workers=2, processes=True, threads_per_worker=1)",
        "cluster_startup_s": round(startup_s, 2),
        "speedup_vs_n_jobs_1": round(local_s / dask_s, 2),
        "speedup_vs_n_jobs_1_blas_1": round(one_s / dask_s, 2),
        "dask_scores_identical_to_blas_1_run": bool(np.all(remote == one[0])),
        "max_abs_score_difference_vs_blas_1_run": float(np.max(np.abs(remote - one[0]))),
        "dask_scores_allclose_to_n_jobs_1": bool(np.allclose(remote, local[0])),
        "max_abs_score_difference_vs_n_jobs_1": float(np.max(np.abs(remote - local[0]))),
        "repeats_identical": {name: bool(np.all(runs == runs[0])) for name, runs in scores.items()},
        "best_params": {k: str(v) for k, v in search.best_params_.items()},
        "mean_test_scores": {name: score.tolist() for name, score in scores.items()},
    }


# ------------------------------------------------------------------- report


def markdown(stream, grid, machine):
    lines = [
        f"Machine: {machine['cpus']} CPUs, Python {machine['python']}, NumPy {machine['numpy']}",
        "",
        "| streaming `partial_fit` over a float32 memmap | value |",
        "| --- | --- |",
        f"| rows x features (file size) | {stream['rows']:,} x {stream['features']} "
        f"({stream['file_gb']} GB) |",
        f"| chunk_size / batch_size / epochs | {stream['chunk_size']:,} / "
        f"{stream['batch_size']} / {stream['epochs']} |",
        f"| training time | {stream['train_s']} s |",
        f"| throughput | {stream['rows_per_s']:,} rows/s |",
        f"| RssAnon before training | {stream['rss_anon_before_mb']} MB |",
        f"| peak RssAnon (sampled, limit {RSS_LIMIT_MB} MB) | "
        f"{stream['peak_rss_anon_mb']} MB "
        f"({'within' if stream['rss_anon_within_limit'] else 'OVER'} limit) |",
        f"| peak RssFile (memmap pages cached) | {stream['peak_rss_file_mb']} MB |",
        f"| VmHWM (anon + file-backed) | {stream['vm_hwm_mb']} MB |",
        f"| explained variance, autoencoder (8) vs PCA (8) | "
        f"{stream['explained_variance_autoencoder']} vs "
        f"{stream['explained_variance_pca']} |",
    ]
    if "skipped" in grid:
        lines += ["", f"Grid search skipped: {grid['skipped']}"]
    else:
        lines += [
            "",
            f"| GridSearchCV, {grid['candidates']} candidates x 3 folds, "
            f"{grid['rows']:,} x {grid['features']} {grid['dtype']}, "
            f"max_iter={grid['max_iter']} | median wall time | runs |",
            "| --- | --- | --- |",
            f"| n_jobs=1 (BLAS {grid['blas_threads_default']} threads) | "
            f"{grid['n_jobs_1_median_s']} s | {grid['n_jobs_1_times_s']} |",
            f"| n_jobs=1 (BLAS 1 thread) | {grid['n_jobs_1_blas_1_median_s']} s | "
            f"{grid['n_jobs_1_blas_1_times_s']} |",
            f"| n_jobs=-1, dask backend, {grid['cluster']} | {grid['dask_median_s']} s "
            f"| {grid['dask_times_s']} |",
            "",
            f"Speed-up {grid['speedup_vs_n_jobs_1']}x over n_jobs=1, "
            f"{grid['speedup_vs_n_jobs_1_blas_1']}x over n_jobs=1 on one BLAS thread; "
            f"cluster start-up {grid['cluster_startup_s']} s (not included). "
            "mean_test_score on the cluster identical to the one-BLAS-thread run: "
            f"{grid['dask_scores_identical_to_blas_1_run']} (max difference "
            f"{grid['max_abs_score_difference_vs_blas_1_run']:.3g}); allclose to the default "
            f"n_jobs=1 run: {grid['dask_scores_allclose_to_n_jobs_1']} (max difference "
            f"{grid['max_abs_score_difference_vs_n_jobs_1']:.3g}).",
        ]
    lines += [
        "",
        f"Load average (1 min) before / after: {machine['load_before']} / "
        f"{machine['load_after']} on {machine['cpus']} CPUs.",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=10_000_000,
        help="rows of the memmap (default 10,000,000 = 2.56 GB)",
    )
    parser.add_argument("--chunk-size", type=int, default=100_000, help="rows per partial_fit call")
    parser.add_argument(
        "--batch-size", type=int, default=200, help="mini-batch size of the estimator"
    )
    parser.add_argument("--epochs", type=int, default=1, help="passes over the memmap")
    parser.add_argument("--grid-rows", type=int, default=10_000)
    parser.add_argument("--grid-max-iter", type=int, default=10)
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="grid-search runs per setting (the median is reported)",
    )
    parser.add_argument("--no-grid", action="store_true", help="skip the grid search")
    parser.add_argument("--tmpdir", default=None, help="where to write the memmap")
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args(argv)

    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "load_before": (environment.load_average() or [None])[0],
    }
    # A fresh process for the streaming part: its /proc/self figures are then
    # about streaming alone, and the grid search below starts from a clean heap.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        stream = pool.apply(bench_stream, (args,))
    grid = {"skipped": "--no-grid"} if args.no_grid else bench_grid(args)
    machine["load_after"] = (environment.load_average() or [None])[0]
    print(markdown(stream, grid, machine))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "stream": stream, "grid_search": grid}, f, indent=2)
    return 0 if stream["rss_anon_within_limit"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
