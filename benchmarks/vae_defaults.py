"""Which of AutoencoderTransformer's tuned defaults suit VariationalAutoencoder?

The VAE's first defaults (``hidden_layer_sizes=(100,)``, ``alpha=1e-4``,
``tol=1e-4``, ``early_stopping=False``, called ``current`` below) came before
AutoencoderTransformer's were tuned (``(256, 128)``, ``0.01``, ``1e-3``,
``"auto"``). This script fits the VAE with those first defaults, the AE's tuned
set, and each change on its own, on the
fixed 80/20 splits of ``benchmarks/datasets.py``, for ``n_components`` 2 and 10
and a few seeds, and prints a markdown table. Usage (from the repository root)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=benchmarks \
        python benchmarks/vae_defaults.py [--datasets digits,mnist] [--seeds 0,1]
        [--configs current,hidden,alpha,stop,tuned] [--bce] [--quick]
        [--json PATH [--resume]] [--markdown PATH]
    python benchmarks/vae_defaults.py --tabulate RUN.json [RUN.json ...] [--markdown PATH]

Every configuration spells out all four parameters (``CURRENT`` updated by its
changes) instead of relying on the class defaults, so the comparison means the
same thing after the defaults change. ``--configs`` picks from ``current``,
``hidden`` (``(256, 128)`` only), ``alpha`` (``0.01`` only), ``stop`` (``tol=1e-3``
and ``early_stopping="auto"`` only), ``tuned`` (all four), and, not run by
default, ``hidden+stop`` and ``tuned-tol4`` (the tuned set with ``tol=1e-4``).
Only the public API of skae is used.

Per fit, on the held-out rows:

- ``score``: ``vae.score(X_test)``, the negative per-row objective at the
  posterior mean (reconstruction in the units of the scaled data, plus the KL
  term divided by ``n_features``); higher is better.
- ``kl``: the KL part of that objective, ``-score - mse / scale_**2`` (squared
  error only).
- ``mse``: mean squared error of ``inverse_transform(transform(X_test))`` in the
  units of ``X``.
- ``active``: latent dimensions whose posterior mean varies over the held-out
  rows (variance > 0.01); the others have collapsed to the prior.
- ``sample_nn``: for 500 rows of ``vae.sample()``, the mean over features of
  the squared distance to the nearest held-out row, relative to the data's
  variance: a rough check that generated rows look like data (lower is closer).
- fit time (wall clock; note the machine's load) and epochs (``n_iter_``; a
  ``*`` marks a fit that hit ``max_iter`` with a ConvergenceWarning).

The table shows the mean over the seeds and, after ``±``, half their range;
``--json`` keeps every fit.

``--bce`` adds MNIST fits with ``loss="binary_crossentropy"`` (for the
``--bce-configs``); their score is in other units than squared error's.
``--quick`` is a smoke run: digits only, one seed, ``max_iter=5``. ``PYTHONPATH``
must hold this folder (for ``datasets``); the full run is about 40 fits, most of
the time in MNIST's (a minute or more each on one thread).
"""

import argparse
import json
import os
import platform
import time
import warnings

import environment
import numpy as np
from datasets import load
from sklearn.exceptions import ConvergenceWarning

from skae import VariationalAutoencoder

CURRENT = {
    "hidden_layer_sizes": (100,),
    "alpha": 1e-4,
    "tol": 1e-4,
    "early_stopping": False,
}
STOP = {"tol": 1e-3, "early_stopping": "auto"}
CONFIGS = {
    "current": {},
    "hidden (256,128)": {"hidden_layer_sizes": (256, 128)},
    "alpha 0.01": {"alpha": 0.01},
    "tol 1e-3 + ES auto": STOP,
    "hidden + tol/ES": {"hidden_layer_sizes": (256, 128), **STOP},
    "AE tuned (all)": {"hidden_layer_sizes": (256, 128), "alpha": 0.01, **STOP},
    "tuned, tol 1e-4": {
        "hidden_layer_sizes": (256, 128),
        "alpha": 0.01,
        "tol": 1e-4,
        "early_stopping": "auto",
    },
}
SHORT = {
    "current": "current",
    "hidden": "hidden (256,128)",
    "alpha": "alpha 0.01",
    "stop": "tol 1e-3 + ES auto",
    "hidden+stop": "hidden + tol/ES",
    "tuned": "AE tuned (all)",
    "tuned-tol4": "tuned, tol 1e-4",
}
N_COMPONENTS = (2, 10)
N_SAMPLES = 500
ACTIVE_VARIANCE = 0.01


def sample_nn(vae, X_test, seed):
    """Mean squared distance (per feature, over the data's variance) of samples to X_test."""
    S = vae.sample(N_SAMPLES, random_state=seed)
    # ||s - x||^2 = ||s||^2 - 2 s.x + ||x||^2, the minimum over the rows x
    d2 = (S**2).sum(1)[:, None] - 2.0 * S @ X_test.T + (X_test**2).sum(1)[None, :]
    nearest = np.maximum(d2.min(axis=1), 0.0)
    return float(nearest.mean() / X_test.shape[1] / X_test.var(axis=0).mean())


def run_one(data, n_components, config, params, seed, loss, max_iter):
    vae = VariationalAutoencoder(
        n_components, **{**CURRENT, **params}, loss=loss, max_iter=max_iter, random_state=seed
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        vae.fit(data.X_train)
        seconds = time.perf_counter() - start
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    X_test = data.X_test
    Z = vae.transform(X_test)
    mse = float(((vae.inverse_transform(Z) - X_test) ** 2).mean())
    score = vae.score(X_test)
    kl = -score - mse / vae.scale_**2 if loss == "squared_error" else None
    return {
        "dataset": data.name,
        "loss": loss,
        "n_components": n_components,
        "config": config,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
        "seed": seed,
        "score": score,
        "kl": kl,
        "mse": mse,
        "active": int((Z.var(axis=0) > ACTIVE_VARIANCE).sum()),
        "sample_nn": sample_nn(vae, X_test, seed),
        "fit_seconds": seconds,
        "n_iter": int(vae.n_iter_),
        "converged": converged,
        "early_stopping_used": vae.validation_loss_curve_ is not None,
        "final_train_loss": float(vae.loss_curve_[-1]),
        "load_after": environment.load_average(),
    }


def fmt(values, digits, signed=False):
    """Mean of the seeds, with half their range when there are several."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    mean = float(np.mean(values))
    text = f"{mean:+.{digits}f}" if signed else f"{mean:.{digits}f}"
    if len(values) > 1:
        text += f" ±{(max(values) - min(values)) / 2:.{digits}f}"
    return text


def order(item):
    """Sort key of a table line: data set, loss, k, then the configs in CONFIGS order."""
    name, loss, k, config = item[0]
    return name, loss != "squared_error", k, list(CONFIGS).index(config)


def table(rows):
    """A markdown table: one line per (dataset, loss, n_components, config), seeds averaged."""
    lines = [
        "| data | loss | k | config | score ↑ | KL/n_feat | test MSE ↓ | MSE vs current "
        "| active dims | sample NN ↓ | fit s | epochs | seeds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups = {}
    for row in rows:
        key = (row["dataset"], row["loss"], row["n_components"], row["config"])
        groups.setdefault(key, []).append(row)
    for (name, loss, k, config), group in sorted(groups.items(), key=order):
        base = groups.get((name, loss, k, "current"))
        relative = "-"
        if base:
            ratio = np.mean([r["mse"] for r in group]) / np.mean([r["mse"] for r in base])
            relative = f"{100 * (ratio - 1):+.1f}%"
        epochs = "/".join(str(r["n_iter"]) + ("" if r["converged"] else "*") for r in group)
        lines.append(
            f"| {name} | {'sq' if loss == 'squared_error' else 'bce'} | {k} | {config} "
            f"| {fmt([r['score'] for r in group], 4, signed=True)} "
            f"| {fmt([r['kl'] for r in group], 4)} "
            f"| {fmt([r['mse'] for r in group], 4)} | {relative} "
            f"| {fmt([r['active'] for r in group], 1)} "
            f"| {fmt([r['sample_nn'] for r in group], 3)} "
            f"| {fmt([r['fit_seconds'] for r in group], 1)} | {epochs} | {len(group)} |"
        )
    return "\n".join(lines)


def parse_list(text, kind=str):
    return [kind(item) for item in text.split(",") if item]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="digits,mnist", help="comma-separated names")
    parser.add_argument("--seeds", default="0,1", help="comma-separated random_state values")
    parser.add_argument(
        "--n-components", default=",".join(map(str, N_COMPONENTS)), help="comma-separated"
    )
    parser.add_argument(
        "--configs",
        default="current,hidden,alpha,stop,tuned",
        help=f"comma-separated, of: {', '.join(SHORT)}",
    )
    parser.add_argument(
        "--bce", action="store_true", help='add MNIST fits with loss="binary_crossentropy"'
    )
    parser.add_argument("--bce-configs", default="current,tuned", help="configs of the --bce fits")
    parser.add_argument("--bce-seeds", default="0", help="seeds of the --bce fits")
    parser.add_argument("--max-iter", type=int, default=200, help="epochs cap (the default 200)")
    parser.add_argument("--quick", action="store_true", help="smoke run: digits, seed 0, 5 epochs")
    parser.add_argument("--json", metavar="PATH", help="write every row (and the setup) here")
    parser.add_argument(
        "--resume", action="store_true", help="keep the rows already in --json; skip their fits"
    )
    parser.add_argument(
        "--tabulate",
        nargs="+",
        metavar="JSON",
        help="fit nothing: merge the rows of these --json files (e.g. one run per seed)",
    )
    parser.add_argument("--markdown", metavar="PATH", help="also write the table here")
    args = parser.parse_args()

    if args.tabulate:
        rows = []
        for path in args.tabulate:
            with open(path) as f:
                rows += json.load(f)["rows"]
        text = table(rows)
        print(text)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"setup": {"merged": args.tabulate}, "rows": rows}, f, indent=1)
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(text + "\n")
        return

    datasets = parse_list(args.datasets)
    seeds = parse_list(args.seeds, int)
    sizes = parse_list(args.n_components, int)
    configs = [SHORT[c] for c in parse_list(args.configs)]
    max_iter = args.max_iter
    if args.quick:
        datasets, seeds, max_iter = ["digits"], seeds[:1], 5
    # Seeds outermost, so that an interrupted run has whole seeds.
    jobs = [
        (name, "squared_error", k, config, seed)
        for seed in seeds
        for name in datasets
        for k in sizes
        for config in configs
    ]
    if args.bce and not args.quick:
        jobs += [
            ("mnist", "binary_crossentropy", k, SHORT[c], seed)
            for seed in parse_list(args.bce_seeds, int)
            for k in sizes
            for c in parse_list(args.bce_configs)
        ]

    setup = {
        "argv": vars(args),
        "max_iter": max_iter,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "cpus": os.cpu_count(),
        "load_before": environment.load_average(),
        "current_defaults": {k: list(v) if isinstance(v, tuple) else v for k, v in CURRENT.items()},
    }
    print(f"load average before: {setup['load_before']}", flush=True)
    loaded, rows = {}, []
    if args.resume and args.json and os.path.exists(args.json):
        with open(args.json) as f:
            rows = json.load(f)["rows"]
    done = {(r["dataset"], r["loss"], r["n_components"], r["config"], r["seed"]) for r in rows}
    for name, loss, k, config, seed in jobs:
        if (name, loss, k, config, seed) in done:
            continue
        if name not in loaded:
            loaded[name] = load(name)
        row = run_one(loaded[name], k, config, CONFIGS[config], seed, loss, max_iter)
        rows.append(row)
        print(
            f"{name} {loss} k={k} {config!r} seed={seed}: score={row['score']:+.4f} "
            f"mse={row['mse']:.4f} {row['fit_seconds']:.1f}s {row['n_iter']} epochs",
            flush=True,
        )
        if args.json:  # after every fit, so an interrupted run keeps its rows
            with open(args.json, "w") as f:
                json.dump({"setup": setup, "rows": rows}, f, indent=1)
    setup["load_after"] = environment.load_average()
    print(f"load average after: {setup['load_after']}\n")
    text = table(rows)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"setup": setup, "rows": rows}, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
