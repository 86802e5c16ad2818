"""Training and transform speed of skae, side by side with what users would run instead.

Three parts in one run, and a fourth on request:

1. **Training**: seconds per epoch of the autoencoder 784-512-128-8-128-512-784
   (relu, adam, a fixed number of epochs, ``tol=0``, no early stopping) on
   MNIST-sized data, at each batch size and dtype, for

   * ``skae``: :class:`~skae.AutoencoderTransformer` with ``linear_path=False``
     (the like-for-like network) and with the default ``linear_path=True``;
   * ``MLPRegressor``: scikit-learn's network of the same shape fitted X -> X
     (its code layer is relu too; it computes in the dtype of X);
   * ``torch``: a PyTorch CPU autoencoder of the same shape with
     ``torch.optim.Adam`` and MSE (only when torch is importable);
   * ``roofline``: the matrix products alone -- forward, weight gradients and
     input gradients except the first layer's, with the same shapes, memory
     layouts and dtype -- timed with ``np.matmul`` into preallocated ``out=``
     buffers, for the same batches of an epoch (``roofline+path`` adds the
     products of the linear path).

   Every contender is warmed up by one epoch first (for the estimators, a fit
   with ``warm_start=True``, so the timed fits skip initialisation: setup such
   as the PCA start of the linear path is not in the epoch time). Then each
   repeat runs every contender once for ``--epochs`` epochs, the order rotated
   from repeat to repeat. Reported: the median seconds per epoch, the median
   over repeats of each pair's ratio (taken within a repeat), and each
   contender's roofline fraction ``roofline time / contender time``.

2. **Transform**: rows/s of ``transform`` (fitted models of the same shape)
   against ``PCA(8).transform`` and the encoder's matmul roofline (its products
   on chunks of the rows ``transform`` uses).

3. **Memory**: peak resident memory of ``fit`` on a ``--rss-rows`` x 100
   float32 array, in a fresh subprocess: the peak (``VmHWM``, reset after the
   data are made) minus the resident memory just before ``fit``.

4. ``--profile``: where one fit's time goes, per phase (activations,
   derivatives, loss, optimizer step with the L2 penalty, batch gathering,
   and the rest: mostly the matrix products, whose time alone the training
   part's roofline gives), by wrapping the core's registries and two of its
   methods with timers.

``--before DIR`` adds ``skae-before``: another copy of the package (a folder
holding ``skae/``, e.g. from ``git archive <commit> skae | tar -x -C DIR``),
measured in the same run, so a change is judged side by side.

Run::

    python benchmarks/bench_speed.py --json speed.json
    python benchmarks/bench_speed.py --quick
    python benchmarks/bench_speed.py --profile --before /tmp/skae-before

The data are the 10,000 MNIST test images (``--mnist``, scaled to [0, 1]) or,
with ``--data random`` or when that file is missing, uniform random data of the
same shape. ``--threads N`` limits BLAS (and torch) to N threads; by default
they run as configured. ``--quick`` runs 2,000 rows, one epoch, three repeats
and 200,000 rows for the memory part. Part 3 reads Linux's ``/proc``. A
markdown table goes to standard output, everything measured to ``--json``.
"""

import argparse
import collections
import contextlib
import gc
import gzip
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import environment
import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

import skae

HIDDEN = (512, 128)
N_COMPONENTS = 8
ALPHA = 1e-4
MNIST = str(Path(__file__).resolve().parents[1] / "data" / "mnist10k" / "t10k-images-idx3-ubyte.gz")
RSS_FEATURES = 100
RSS_BUDGET_MB = 300

torch = None  # imported in main() when installed: it stays optional


def layer_sizes(n_features, hidden=HIDDEN, n_components=N_COMPONENTS):
    return [n_features, *hidden, n_components, *hidden[::-1], n_features]


def batches(n_rows, batch_size):
    """Row counts of the batches of one epoch (the last one may be partial)."""
    return [min(batch_size, n_rows - start) for start in range(0, n_rows, batch_size)]


# ------------------------------------------------------------- contenders
#
# Each contender is prepared (built and warmed up by one epoch) once per
# (dtype, batch size) and then ``run(epochs)`` returns the seconds it took.


# Both estimators get the same optimiser and a fixed number of epochs (tol=0,
# no early stopping); they are timed on warm-started fits after a one-epoch fit.
FIXED_EPOCHS = dict(
    activation="relu",
    solver="adam",
    alpha=ALPHA,
    learning_rate_init=1e-3,
    max_iter=1,
    shuffle=True,
    tol=0.0,
    early_stopping=False,
    n_iter_no_change=10**6,
    warm_start=True,
)


class WarmFit:
    """An estimator timed on warm-started fits of ``epochs`` epochs (no setup inside)."""

    def __init__(self, estimator, *fit_args):
        self.estimator, self.fit_args = estimator, fit_args
        estimator.fit(*fit_args)

    def run(self, epochs):
        self.estimator.set_params(max_iter=epochs)
        start = time.perf_counter()
        self.estimator.fit(*self.fit_args)
        return time.perf_counter() - start


class Skae(WarmFit):
    """AutoencoderTransformer (of ``module``, a skae package)."""

    def __init__(self, module, linear_path, X, batch_size, seed=0):
        super().__init__(
            module.AutoencoderTransformer(
                N_COMPONENTS,
                hidden_layer_sizes=HIDDEN,
                linear_path=linear_path,
                batch_size=batch_size,
                random_state=seed,
                **FIXED_EPOCHS,
            ),
            X,
        )


class Mlp(WarmFit):
    """MLPRegressor fitted X -> X."""

    def __init__(self, X, batch_size, seed=0):
        super().__init__(
            MLPRegressor(
                hidden_layer_sizes=(*HIDDEN, N_COMPONENTS, *HIDDEN[::-1]),
                batch_size=batch_size,
                random_state=seed,
                **FIXED_EPOCHS,
            ),
            X,
            X,
        )
        self.dtype = self.estimator.coefs_[0].dtype


class Torch:
    """The same autoencoder in PyTorch on the CPU: shuffled batches, Adam, MSE."""

    def __init__(self, X, batch_size, seed=0):
        torch.manual_seed(seed)
        sizes = layer_sizes(X.shape[1])
        code = len(sizes) // 2
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
            if i + 1 not in (code, len(sizes) - 1):  # linear code and output
                layers.append(torch.nn.ReLU())
        dtype = torch.float32 if X.dtype == np.float32 else torch.float64
        self.model = torch.nn.Sequential(*layers).to(dtype)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.X = torch.from_numpy(X)
        self.batch_size = batch_size
        self.run(1)

    def run(self, epochs):
        X, model, optimizer = self.X, self.model, self.optimizer
        start = time.perf_counter()
        for _ in range(epochs):
            order = torch.randperm(X.shape[0])
            for first in range(0, X.shape[0], self.batch_size):
                batch = X[order[first : first + self.batch_size]]
                optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.mse_loss(model(batch), batch)
                loss.backward()
                optimizer.step()
        return time.perf_counter() - start


class Roofline:
    """The training step's matrix products alone, as skae's core lays them out.

    One flat parameter vector with weight views, C-ordered activation and
    delta buffers, weight gradients ``acts[i].T @ delta`` written into views
    of a flat gradient, input gradients ``delta @ W.T`` for every layer but
    the first; with ``linear_path``, the path's products too.
    """

    def __init__(self, n_features, n_rows, batch_size, dtype, linear_path=False, seed=0):
        rng = np.random.default_rng(seed)
        sizes = layer_sizes(n_features)
        self.code, self.last = len(sizes) // 2, len(sizes) - 2
        shapes = [(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)]
        if linear_path:
            shapes += [(sizes[0], sizes[self.code]), (sizes[self.code], sizes[0])]
        total = sum(a * b for a, b in shapes)
        theta = rng.normal(0, 0.05, total).astype(dtype)
        grad = np.empty_like(theta)
        self.weights, self.grads, offset = [], [], 0
        for shape in shapes:
            size = shape[0] * shape[1]
            self.weights.append(theta[offset : offset + size].reshape(shape))
            self.grads.append(grad[offset : offset + size].reshape(shape))
            offset += size
        self.acts = [rng.uniform(0, 1, (batch_size, s)).astype(dtype) for s in sizes]
        self.deltas = [rng.normal(0, 1e-2, (batch_size, s)).astype(dtype) for s in sizes]
        self.scratch = [np.empty_like(d) for d in self.deltas]
        self.linear_path = linear_path
        self.epoch = batches(n_rows, batch_size)

    def step(self, n):
        a = [x[:n] for x in self.acts]
        d = [x[:n] for x in self.deltas]
        s = [x[:n] for x in self.scratch]
        W, G, code, last, path = self.weights, self.grads, self.code, self.last, self.linear_path
        for i in range(last + 1):
            np.matmul(a[i], W[i], out=a[i + 1])
            if path and i == code - 1:
                np.matmul(a[0], W[-2], out=s[i + 1])
            if path and i == last:
                np.matmul(a[code], W[-1], out=s[i + 1])
        for i in range(last, -1, -1):
            np.matmul(a[i].T, d[i + 1], out=G[i])
            if path and i == last:
                np.matmul(a[code].T, d[i + 1], out=G[-1])
            if path and i == code - 1:
                np.matmul(a[0].T, d[i + 1], out=G[-2])
            if i > 0:
                np.matmul(d[i + 1], W[i].T, out=d[i])
                if path and i == code:
                    np.matmul(d[last + 1], W[-1].T, out=s[i])

    def run(self, epochs):
        start = time.perf_counter()
        for _ in range(epochs):
            for n in self.epoch:
                self.step(n)
        return time.perf_counter() - start


# ---------------------------------------------------------------- helpers


def median_ratio(times, numerator, denominator):
    """Median over repeats of ``times[numerator][r] / times[denominator][r]``."""
    pairs = zip(times[numerator], times[denominator])
    return statistics.median(a / b for a, b in pairs)


def alternate(contenders, repeats, run):
    """Time every contender once per repeat, rotating the order each repeat."""
    names = list(contenders)
    times = {name: [] for name in names}
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            times[name].append(run(contenders[name]))
    return times


def import_copy(folder, name="skae_before"):
    """Import the ``skae`` package found in ``folder`` under another name."""
    init = os.path.join(folder, "skae", "__init__.py")
    if not os.path.exists(init):
        raise SystemExit(f"--before: no skae/__init__.py in {folder}")
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[os.path.dirname(init)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_data(args):
    if args.data == "mnist" and os.path.exists(args.mnist):
        with gzip.open(args.mnist) as f:
            images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
        X, source = images[: args.rows] / 255.0, f"MNIST test images ({args.mnist}) / 255"
    else:
        X = np.random.default_rng(0).uniform(size=(args.rows, 784))
        source = "uniform random in [0, 1)"
    return X, source


def machine():
    info = environment.machine()
    info["torch"] = torch.__version__ if torch is not None else None
    info["torch_threads"] = torch.get_num_threads() if torch is not None else None
    return info


# ------------------------------------------------------------------- parts


def bench_training(X64, args, before):
    results = []
    n_rows, n_features = X64.shape
    for dtype in args.dtype:
        X = np.ascontiguousarray(X64, dtype=dtype)
        for batch_size in args.batch:
            contenders = {
                "roofline": Roofline(n_features, n_rows, batch_size, dtype),
                "roofline+path": Roofline(n_features, n_rows, batch_size, dtype, linear_path=True),
                "skae": Skae(skae, False, X, batch_size),
                "skae linear_path": Skae(skae, True, X, batch_size),
            }
            if before is not None:
                contenders["skae-before"] = Skae(before, False, X, batch_size)
            if not args.no_mlp:
                contenders["MLPRegressor"] = Mlp(X, batch_size)
            if torch is not None:
                contenders["torch"] = Torch(X, batch_size)
            times = alternate(contenders, args.repeats, lambda c: c.run(args.epochs))
            mlp_dtype = (
                str(contenders["MLPRegressor"].dtype) if "MLPRegressor" in contenders else None
            )
            for name in contenders:
                roof = "roofline+path" if name == "skae linear_path" else "roofline"
                row = {
                    "dtype": dtype,
                    "batch_size": batch_size,
                    "contender": name,
                    "epoch_s": statistics.median(times[name]) / args.epochs,
                    "epoch_s_all": [t / args.epochs for t in times[name]],
                    "roofline_fraction": median_ratio(times, roof, name),
                }
                for other in ("skae", "MLPRegressor", "torch", "skae-before"):
                    if other in contenders and other != name:
                        row[f"vs_{other}"] = median_ratio(times, name, other)
                if name == "MLPRegressor":
                    row["computes_in"] = mlp_dtype
                results.append(row)
                print(_training_line(row), flush=True)
            del contenders
    return results


def _training_line(row):
    extra = "  ".join(f"{k}={v:.3f}" for k, v in row.items() if k.startswith("vs_"))
    return (
        f"  {row['dtype']:7s} batch {row['batch_size']:4d}  {row['contender']:17s} "
        f"{row['epoch_s']:8.3f} s/epoch  roofline {row['roofline_fraction']:6.1%}  {extra}"
    )


def encoder_roofline(X, weights, path, chunk):
    """The encoder's products (and the linear path's, ``path``) on ``chunk``-row pieces of ``X``."""
    outs = [np.empty((chunk, W.shape[1]), X.dtype) for W in weights]
    path_out = None if path is None else np.empty((chunk, path.shape[1]), X.dtype)

    def run():
        start = time.perf_counter()
        for first in range(0, X.shape[0], chunk):
            A = source = X[first : first + chunk]
            for W, out in zip(weights, outs):
                A = np.matmul(A, W, out=out[: len(source)])
            if path is not None:
                np.matmul(source, path, out=path_out[: len(source)])
        return time.perf_counter() - start

    return run


def bench_transform(X64, args, before):
    from skae._data import CHUNK_ROWS

    results = []
    n_rows, n_features = X64.shape
    for dtype in args.dtype:
        X = np.ascontiguousarray(X64, dtype=dtype)
        rng = np.random.default_rng(0)
        sizes = layer_sizes(n_features)[: len(HIDDEN) + 2]
        encoder = [rng.normal(0, 0.05, (a, b)).astype(dtype) for a, b in zip(sizes, sizes[1:])]
        path = rng.normal(0, 0.05, (n_features, N_COMPONENTS)).astype(dtype)
        fitted = {}
        for name, linear_path in (("skae", False), ("skae linear_path", True)):
            est = skae.AutoencoderTransformer(
                N_COMPONENTS,
                hidden_layer_sizes=HIDDEN,
                linear_path=linear_path,
                max_iter=1,
                batch_size=512,
                early_stopping=False,
                random_state=0,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                fitted[name] = est.fit(X)
        pca = PCA(N_COMPONENTS, random_state=0).fit(X)
        runs = {
            "roofline": encoder_roofline(X, encoder, None, CHUNK_ROWS),
            "roofline+path": encoder_roofline(X, encoder, path, CHUNK_ROWS),
            "skae": _timed_call(fitted["skae"].transform, X),
            "skae linear_path": _timed_call(fitted["skae linear_path"].transform, X),
            "PCA": _timed_call(pca.transform, X),
        }
        times = alternate(runs, args.repeats, lambda run: run())
        for name in runs:
            roof = "roofline+path" if name == "skae linear_path" else "roofline"
            row = {
                "dtype": dtype,
                "contender": name,
                "rows_per_s": n_rows / statistics.median(times[name]),
                "seconds_all": times[name],
                "roofline_fraction": median_ratio(times, roof, name),
                "vs_PCA": median_ratio(times, name, "PCA"),
            }
            results.append(row)
            print(
                f"  {dtype:7s} {name:17s} {row['rows_per_s']:12,.0f} rows/s  "
                f"roofline {row['roofline_fraction']:6.1%}  time vs PCA {row['vs_PCA']:.1f}x",
                flush=True,
            )
    return results


def _timed_call(function, X):
    def run():
        start = time.perf_counter()
        function(X)
        return time.perf_counter() - start

    return run


def _proc_status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def rss_child(rows, epochs, batch_size, threads, package=None):
    """Runs in a fresh process: make the data, reset the peak, fit, print JSON."""
    if threads:
        threadpool_limits(threads)
    module = skae if package is None else import_copy(package)
    X = np.empty((rows, RSS_FEATURES), dtype=np.float32)
    rng = np.random.default_rng(0)
    for first in range(0, rows, 100_000):
        block = X[first : first + 100_000]
        rng.standard_normal(out=block, dtype=np.float32)
    est = module.AutoencoderTransformer(
        N_COMPONENTS,
        hidden_layer_sizes=(64,),
        linear_path=True,
        batch_size=batch_size,
        max_iter=epochs,
        tol=0.0,
        early_stopping=False,
        random_state=0,
    )
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident size
        peak_field = "VmHWM"
    except OSError:
        peak_field = None
    baseline = _proc_status("VmRSS")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X)
    seconds = time.perf_counter() - start
    if peak_field is None:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    else:
        peak = _proc_status(peak_field)
    print(
        json.dumps(
            {
                "rows": rows,
                "features": RSS_FEATURES,
                "dtype": "float32",
                "epochs": epochs,
                "batch_size": batch_size,
                "data_mb": X.nbytes / 1e6,
                "baseline_mb": baseline / 1e6,
                "peak_mb": peak / 1e6,
                "peak_minus_baseline_mb": (peak - baseline) / 1e6,
                "peak_measure": peak_field or "ru_maxrss (since process start)",
                "fit_s": seconds,
                "weights_dtype": str(est.coefs_[0].dtype),
            }
        )
    )


def bench_memory(args):
    results = []
    versions = {"skae": None} if args.before is None else {"skae-before": args.before, "skae": None}
    for name, package in versions.items():
        command = [
            sys.executable,
            os.path.abspath(__file__),
            "--rss-child",
            str(args.rss_rows),
            str(args.rss_epochs),
            "512",
            str(args.threads or 0),
        ]
        if package is not None:
            command += ["--rss-package", package]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        result = {"version": name, **json.loads(done.stdout.strip().splitlines()[-1])}
        result["budget_mb"] = result["data_mb"] + RSS_BUDGET_MB
        print(
            f"  {name}: fit on {result['rows']:,} x {result['features']} float32 "
            f"({result['data_mb']:.0f} MB): peak - baseline = "
            f"{result['peak_minus_baseline_mb']:.0f} MB in {result['fit_s']:.1f} s",
            flush=True,
        )
        results.append(result)
    return results


# The phases the profile times, each at a named extension point of the core:
# its registries (dicts of functions, or of loss objects whose
# ``value_and_delta`` is timed) and two methods. Matrix products, bias
# sums and the rest of the forward and backward passes are what remains; the
# roofline of the training part times the products alone.
PHASES = {
    "activations": ("_activations", "ACTIVATIONS"),
    "derivatives": ("_activations", "DERIVATIVES"),
    "loss": ("_losses", "LOSSES"),
    "optimizer step (with the L2 penalty)": ("_optimizers", "Optimizer.step"),
    "batch gathering": ("_data", "RowLoader.load"),
}


def _timed(function, totals, phase):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[phase] += time.perf_counter() - start

    return wrapper


@contextlib.contextmanager
def phase_timers(module, totals):
    """Wrap the core's extension points of ``module`` (a skae package) with timers.

    A version of skae that lacks one of them gets no time for that phase (it
    stays in the rest) and a note on stderr, instead of a patch in the wrong
    place.
    """
    restore = []
    for phase, (submodule, name) in PHASES.items():
        owner, *path = [getattr(module, submodule, None), *name.split(".")]
        for attribute in path[:-1]:
            owner = getattr(owner, attribute, None)
        target = getattr(owner, path[-1], None)
        if target is None:
            print(f"  (profile: {module.__name__} has no {submodule}.{name})", file=sys.stderr)
        elif isinstance(target, dict):  # a registry: time each of its functions
            for key, entry in list(target.items()):
                if hasattr(entry, "value_and_delta"):  # a loss object: time its method
                    restore.append((entry, "value_and_delta", None))
                    entry.value_and_delta = _timed(entry.value_and_delta, totals, phase)
                else:
                    restore.append((target, key, entry))
                    target[key] = _timed(entry, totals, phase)
        else:
            restore.append((owner, path[-1], target))
            setattr(owner, path[-1], _timed(target, totals, phase))
    try:
        yield
    finally:
        for owner, key, value in restore:
            if isinstance(owner, dict):
                owner[key] = value
            elif value is None:  # the instance's timer shadowed its class's method
                delattr(owner, key)
            else:
                setattr(owner, key, value)


def bench_profile(X64, args, before):
    results = []
    versions = {"skae": skae} if before is None else {"skae-before": before, "skae": skae}
    for dtype in args.dtype:
        X = np.ascontiguousarray(X64, dtype=dtype)
        for batch_size in args.batch:
            for name, module in versions.items():
                runner = Skae(module, False, X, batch_size)
                totals = collections.Counter()
                with phase_timers(module, totals):
                    seconds = runner.run(args.epochs)
                row = {
                    "dtype": dtype,
                    "batch_size": batch_size,
                    "version": name,
                    "epoch_s": seconds / args.epochs,
                }
                for phase in PHASES:
                    row[phase] = totals[phase] / args.epochs
                row["rest"] = row["epoch_s"] - sum(row[p] for p in PHASES)
                results.append(row)
                shares = "  ".join(f"{p} {row[p] / row['epoch_s']:.0%}" for p in (*PHASES, "rest"))
                print(
                    f"  {dtype:7s} batch {batch_size:4d} {name:11s} "
                    f"{row['epoch_s']:.3f} s/epoch: {shares}",
                    flush=True,
                )
    return results


# ------------------------------------------------------------------ report


def markdown(report):
    lines = []
    train = report.get("training", [])
    if train:
        lines += [
            "| dtype | batch | contender | s/epoch: median (min-max) | roofline fraction "
            "| time vs MLPRegressor | time vs torch |",
            "|---|---:|---|---:|---:|---:|---:|",
        ]
        for row in train:
            vs = [f"{row[k]:.2f}x" if k in row else "" for k in ("vs_MLPRegressor", "vs_torch")]
            spread = f"{min(row['epoch_s_all']):.3f}-{max(row['epoch_s_all']):.3f}"
            lines.append(
                f"| {row['dtype']} | {row['batch_size']} | {row['contender']} "
                f"| {row['epoch_s']:.3f} "
                f"({spread}) | {row['roofline_fraction']:.0%} | {vs[0]} | {vs[1]} |"
            )
        lines.append("")
    transform = report.get("transform", [])
    if transform:
        lines += [
            "| dtype | transform | rows/s: median (min-max) | roofline fraction | time vs PCA |",
            "|---|---|---:|---:|---:|",
        ]
        for row in transform:
            rows = row["rows_per_s"] * statistics.median(row["seconds_all"])
            spread = f"{rows / max(row['seconds_all']):,.0f}-{rows / min(row['seconds_all']):,.0f}"
            lines.append(
                f"| {row['dtype']} | {row['contender']} | {row['rows_per_s']:,.0f} ({spread}) "
                f"| {row['roofline_fraction']:.0%} | {row['vs_PCA']:.1f}x |"
            )
        lines.append("")
    memory = report.get("memory", [])
    if memory:
        lines += [
            "| version | fit on | data | resident before fit | peak during fit | peak - before "
            "| allowed over the data | fit time |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in memory:
            lines.append(
                f"| {row['version']} | {row['rows']:,} x {row['features']} float32, "
                f"{row['epochs']} epoch(s), batch {row['batch_size']} | {row['data_mb']:.0f} MB "
                f"| {row['baseline_mb']:.0f} MB | {row['peak_mb']:.0f} MB "
                f"| {row['peak_minus_baseline_mb']:.0f} MB | {RSS_BUDGET_MB} MB "
                f"| {row['fit_s']:.1f} s |"
            )
        lines.append("")
    profile = report.get("profile", [])
    if profile:
        phases = (*PHASES, "rest")
        lines += [
            "| dtype | batch | version | s/epoch | " + " | ".join(phases) + " |",
            "|---|---:|---|---:|" + "---:|" * len(phases),
        ]
        for row in profile:
            cells = " | ".join(
                f"{row[p] * 1e3:.0f} ms ({row[p] / row['epoch_s']:.0%})" for p in phases
            )
            lines.append(
                f"| {row['dtype']} | {row['batch_size']} | {row['version']} "
                f"| {row['epoch_s']:.3f} | {cells} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2,000 rows, 1 epoch, 3 repeats, 200,000 rows for the memory part",
    )
    parser.add_argument("--data", choices=("mnist", "random"), default="mnist")
    parser.add_argument("--mnist", default=MNIST, help="path of t10k-images-idx3-ubyte.gz")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--dtype", nargs="+", default=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=None, help="limit BLAS and torch threads")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-mlp", action="store_true")
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["training", "transform", "memory"],
        choices=["training", "transform", "memory", "profile"],
    )
    parser.add_argument("--profile", action="store_true", help="add the per-phase profile part")
    parser.add_argument("--rss-rows", type=int, default=2_000_000)
    parser.add_argument("--rss-epochs", type=int, default=1)
    parser.add_argument("--before", metavar="DIR", help="a folder holding another skae/ to compare")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--rss-child", nargs=4, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rss-package", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        return rss_child(*args.rss_child, package=args.rss_package)
    global torch
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    if args.quick:
        args.rows, args.epochs, args.repeats = min(args.rows, 2000), 1, 3
        args.rss_rows = min(args.rss_rows, 200_000)
    if args.profile and "profile" not in args.parts:
        args.parts.append("profile")
    before = import_copy(args.before) if args.before else None

    limits = threadpool_limits(args.threads) if args.threads else contextlib.nullcontext()
    if args.threads and torch is not None:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, source = load_data(args)
    report = {
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "data": source,
        "shape": list(X.shape),
        "epochs": args.epochs,
        "repeats": args.repeats,
    }
    with limits:
        report["machine"] = machine()
        report["load_average_start"] = environment.load_average()
        print(
            f"data: {source}, {X.shape[0]:,} x {X.shape[1]}; {args.epochs} epoch(s) per run, "
            f"{args.repeats} repeats; torch: {'yes' if torch is not None else 'no'}"
        )
        print(f"machine: {json.dumps(report['machine'])}")
        parts = {
            "training": lambda: bench_training(X, args, before),
            "transform": lambda: bench_transform(X, args, before),
            "memory": lambda: bench_memory(args),
            "profile": lambda: bench_profile(X, args, before),
        }
        for part in ("profile", "training", "transform", "memory"):
            if part in args.parts:
                print(f"{part}:", flush=True)
                report[part] = parts[part]()
        report["load_average_end"] = environment.load_average()
    print()
    print(markdown(report))
    print(
        f"load average (1, 5, 15 min) at start {report['load_average_start']}, "
        f"at end {report['load_average_end']}"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
