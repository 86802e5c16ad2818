"""Peak memory of repeated ``partial_fit`` calls, side by side with another skae.

Each version runs in a fresh subprocess with one BLAS thread. It loads the
MNIST images shipped in ``data/mnist10k``, notes the resident memory, and
makes ``--calls`` ``partial_fit`` calls of an
:class:`~skae.AutoencoderTransformer` 784-512-128-8 (float64, the default
``linear_path``), cycling over ``--chunk-rows``-row chunks. The peak resident
set (``VmHWM``) is reset after the first call, which builds the model (the
PCA start); the report is the peak over the other calls minus the memory
before the first: the model itself (weights and Adam's moments, 3 x 7.6 MB)
plus what a call allocates on top of it, and what glibc keeps of the first
call's temporaries. So also the peak of the memory the calls allocate (NumPy
reports its buffers to ``tracemalloc``) above what the model holds between
calls, over calls 2 to ``--calls``, and the median time of a call.

Run::

    python benchmarks/bench_partial_fit_memory.py
    python benchmarks/bench_partial_fit_memory.py --before /tmp/skae-before --json mem.json

``--before DIR`` names a folder holding another copy of ``skae/`` (e.g. from
``git archive <commit> skae | tar -x -C DIR``), measured in the same run.
Linux only (it reads ``/proc``).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, os, sys, time, tracemalloc, warnings
import numpy as np
from threadpoolctl import threadpool_limits
sys.path.insert(0, {benchmarks!r})
from datasets import read_mnist
import skae

def status_mb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)

X = read_mnist()[0][: {calls} * {chunk_rows}]
chunks = [X[i : i + {chunk_rows}] for i in range(0, X.shape[0], {chunk_rows})]
ae = skae.AutoencoderTransformer(8, hidden_layer_sizes=(512, 128), random_state=0)
times = []
with threadpool_limits(1), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    before = status_mb("VmRSS")
    tracemalloc.start()
    for i in range({calls}):
        start = time.perf_counter()
        ae.partial_fit(chunks[i % len(chunks)])
        times.append(time.perf_counter() - start)
        if i == 0:  # the first call builds the model (the PCA start): not counted
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            tracemalloc.reset_peak()
            held = tracemalloc.get_traced_memory()[0]
    peak = status_mb("VmHWM")
    allocated = (tracemalloc.get_traced_memory()[1] - held) / 2**20
    tracemalloc.stop()
print(json.dumps(dict(
    skae_file=skae.__file__, n_params=int(sum(W.size + b.size for W, b in
        zip(ae.coefs_, ae.intercepts_))), rss_before_mb=before, peak_mb=peak,
    peak_minus_before_mb=peak - before, call_s=sorted(times)[len(times) // 2],
    call_peak_allocated_mb=allocated,
)))
"""


def run(folder, args):
    """One version's measurement, in a fresh interpreter importing skae from ``folder``."""
    code = CHILD.format(benchmarks=str(HERE), calls=args.calls, chunk_rows=args.chunk_rows)
    env = dict(os.environ, PYTHONPATH=str(folder), OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each version")
    parser.add_argument("--before", default=None, help="a folder holding another skae/")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    versions = {"skae": HERE.parent}
    if args.before:
        versions = {"skae-before": Path(args.before).resolve(), **versions}
    results = {name: [] for name in versions}
    for _ in range(args.repeats):  # alternate the versions
        for name, folder in versions.items():
            results[name].append(run(folder, args))
    print(f"{args.calls} partial_fit calls of {args.chunk_rows} MNIST rows, 784-512-128-8:")
    print(
        "| version | peak RSS - RSS before the calls (MB): median (runs) "
        "| peak allocated by a call (MB) | median call (ms) |"
    )
    print("|---|---:|---:|---:|")
    summary = {}
    for name, runs in results.items():
        peaks = [r["peak_minus_before_mb"] for r in runs]
        calls = [r["call_s"] for r in runs]
        allocated = statistics.median(r["call_peak_allocated_mb"] for r in runs)
        summary[name] = {"peak_minus_before_mb": peaks, "call_s": calls, "runs": runs}
        shown = ", ".join(f"{p:.1f}" for p in peaks)
        print(
            f"| {name} | {statistics.median(peaks):.1f} ({shown}) | {allocated:.1f} "
            f"| {statistics.median(calls) * 1e3:.1f} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
