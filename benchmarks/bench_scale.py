"""The neighbour-graph term at scale: MNIST grown to a million rows, against UMAP.

Run from the repository root::

    python benchmarks/bench_scale.py --rows 1000000 --out docs/results/clustering
    python benchmarks/bench_scale.py --rows 10000 30000 100000 300000 --out docs/results/clustering

Each fit runs in its own process, on ``mnist_grown(rows)`` (float32, 784
features, see ``panel.py``): ``AutoencoderTransformer(n_components=10,
n_neighbors=15, random_state=0, verbose=1)`` and umap-learn's
``UMAP(n_components=10, n_neighbors=15, min_dist=0.0)`` (parallel,
``random_state=None``, after a warm-up fit on 5,000 rows; the autoencoder's
warm-up is a small fit on 1,000 rows, which its imports and first calls
would otherwise add). Both report their phases (``verbose``). Each is given
``--timeout`` seconds (default one hour). The report has the fit's wall
time, the process's peak resident memory (the data included: 4 bytes per
entry), and the NMI of ``KMeans(10)`` fitted on 100,000 of the codes and
applied to all, and the progress report of each (umap-learn's own time stamps, and
the autoencoder's ``verbose=1`` lines after the seconds since the fit
started); a fit that times out keeps the end of its report. It is written to
``scale.json`` in ``--out``, one entry per method and size, kept across runs,
and drawn in ``scale.png``: NMI and fit time against the rows.
"""

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import environment  # noqa: E402
import panel  # noqa: E402

METHODS = ("skae", "umap")


class _Stamped:
    """A text stream that starts each line with the seconds since ``start``."""

    def __init__(self, stream, start):
        self.stream, self.start, self.at_line_start = stream, start, True

    def write(self, text):
        for piece in text.splitlines(keepends=True):
            if self.at_line_start:
                self.stream.write(f"[{time.perf_counter() - self.start:8.1f} s] ")
            self.stream.write(piece)
            self.at_line_start = piece.endswith("\n")
        return len(text)

    def flush(self):
        self.stream.flush()


def fit_once(method, n_rows):
    """Fit ``method`` on ``n_rows`` grown MNIST rows in this process; print a JSON line."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score

    X, y = panel.mnist_grown(n_rows, 0)
    if method == "skae":
        from skae import AutoencoderTransformer

        warm, _ = panel.mnist10k(0)  # untimed: imports and first calls, as UMAP's warm-up
        AutoencoderTransformer(n_components=10, n_neighbors=15, n_epochs=2).fit(warm[:1000])
        model = AutoencoderTransformer(n_components=10, n_neighbors=15, random_state=0, verbose=1)
    else:
        import umap

        warm, _ = panel.mnist10k(0)
        umap.UMAP(n_components=10, n_neighbors=15, min_dist=0.0).fit(warm[:5000])
        model = umap.UMAP(n_components=10, n_neighbors=15, min_dist=0.0, verbose=True)
    start = time.perf_counter()
    with warnings.catch_warnings(), contextlib.redirect_stdout(_Stamped(sys.stdout, start)):
        warnings.simplefilter("ignore")
        codes = model.fit_transform(X)
    seconds = time.perf_counter() - start
    sample = np.random.RandomState(0).choice(n_rows, min(n_rows, 100_000), replace=False)
    kmeans = KMeans(10, n_init=10, random_state=0).fit(codes[sample])
    nmi = normalized_mutual_info_score(y, kmeans.predict(codes))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux
    result = {"fit_seconds": round(seconds, 1), "nmi": round(float(nmi), 4), "peak_rss_gb": peak}
    print(json.dumps(result), flush=True)


def run(method, n_rows, timeout):
    """Fit in a child process; its time, NMI and peak memory, or the timeout."""
    entry = {"method": method, "rows": n_rows, "load_before": environment.load_average()}
    command = [sys.executable, __file__, "--child", method, "--rows", str(n_rows)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        entry.update(status="timeout", timeout_seconds=timeout)
        entry["log"] = "\n".join(
            (part or b"")[-2000:].decode(errors="replace")
            for part in (expired.stdout, expired.stderr)
        ).strip()
        return entry
    entry["wall_seconds_with_data"] = round(time.perf_counter() - started, 1)
    entry["load_after"] = environment.load_average()
    if done.returncode != 0:
        entry.update(status="failed", log=done.stderr[-2000:])
        return entry
    lines = done.stdout.strip().splitlines()
    entry.update(status="done", **json.loads(lines[-1]))
    entry["log"] = "\n".join(lines[:-1])[-4000:]
    return entry


def scale_figure(report, out):
    """``scale.png``: NMI and fit time against the rows, per method; runs not done marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    methods = (
        ("skae", "AutoencoderTransformer(10, n_neighbors=15)", "C0", "o"),
        ("umap", "umap-learn UMAP(10, n_neighbors=15, min_dist=0)", "C1", "s"),
    )
    sizes = sorted({r["rows"] for r in report["runs"]})
    for key, label, colour, marker in methods:
        runs = sorted((r for r in report["runs"] if r["method"] == key), key=lambda r: r["rows"])
        done = [r for r in runs if r["status"] == "done"]
        style = {"color": colour, "marker": marker, "label": label}
        left.plot([r["rows"] for r in done], [r["nmi"] for r in done], **style)
        right.plot([r["rows"] for r in done], [r["fit_seconds"] for r in done], **style)
        for r in runs:
            if r["status"] == "timeout":
                right.plot(r["rows"], r["timeout_seconds"], color=colour, marker="^", ls="none")
                right.annotate(
                    f"not done in {r['timeout_seconds'] / 60:.0f} min",
                    (r["rows"], r["timeout_seconds"]),
                    textcoords="offset points",
                    xytext=(-8, -12),
                    ha="right",
                    fontsize=7,
                    color=colour,
                )
    left.set_ylabel("NMI of KMeans(10) on the codes")
    right.set_ylabel("fit time (s)")
    right.set_yscale("log")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel("rows of MNIST grown")
        ax.set_xticks(sizes)
        ax.set_xticklabels([f"{n:,}" for n in sizes], fontsize=7)
        ax.minorticks_off()
        ax.grid(alpha=0.3)
    handles, labels = left.get_legend_handles_labels()
    fig.suptitle(
        f"Each fit in its own process, {report['machine']['cores']} cores; "
        "the loads are in the table",
        fontsize=9,
    )
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    path = out / "scale.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--out", default="docs/results/clustering")
    parser.add_argument("--child", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fit_once(args.child, args.rows[0])
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "scale.json"
    report = json.loads(path.read_text()) if path.exists() else {"runs": []}
    report["machine"] = environment.machine()
    for n_rows in args.rows:
        for method in args.methods:
            entry = run(method, n_rows, args.timeout)
            entry["commit"] = environment.git_commit()
            report["runs"] = [
                r for r in report["runs"] if (r["method"], r["rows"]) != (method, n_rows)
            ] + [entry]
            path.write_text(json.dumps(report, indent=1) + "\n")
            shown = {k: v for k, v in entry.items() if k != "log"}
            print(json.dumps(shown), flush=True)
    print(f"Wrote {path} and {scale_figure(report, out)}")


if __name__ == "__main__":
    main()
