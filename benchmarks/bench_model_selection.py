"""Which label-free score ranks a clustering pipeline's settings as the labels would?

Run from the repository root::

    python benchmarks/bench_model_selection.py --out docs/results/model_selection

``GridSearchCV(make_pipeline(AutoencoderTransformer(n_neighbors=15), KMeans(10)),
grid)`` over ``n_components``, ``hidden_layer_sizes`` and ``neighbor_weight``
on MNIST (``--rows`` of its 10,000 images, divided by 255) and the digits
(divided by 16), with ``--cv`` shuffled folds per ``--seeds`` value. On each
held-out fold it records every candidate score (none sees the labels) and the
NMI of the pipeline's clusters against the labels. Per data set and seed, the
Spearman correlation over the grid between each candidate's mean score and
the mean NMI says how well the candidate would rank the settings, and the NMI
of the setting it ranks first says what choosing by it would give.

The candidates:

- ``kmeans``: the pipeline's own ``score``, KMeans' negative inertia (what
  ``GridSearchCV`` uses without ``scoring``);
- ``reconstruction``: the negative mean squared error of
  ``inverse_transform(transform(X))`` of the steps before the clusterer;
- ``trustworthiness_5``, ``trustworthiness_15``:
  :func:`sklearn.manifold.trustworthiness` of the codes with respect to ``X``,
  with 5 and 15 neighbours;
- ``stability``: the adjusted Rand index between the pipeline's clusters of
  the held-out rows and those of a clone of its clusterer fitted on the
  held-out codes (do the clusters of one fold come back on another?);
- ``silhouette``: the silhouette of the held-out codes under the pipeline's
  clusters;
- combinations of trustworthiness (15 neighbours) and stability: their mean,
  which is :func:`skae.trustworthiness_stability_scorer`, and their product,
  computed from the folds' values.

Each data set's results go to ``<out>/<data set>.json``, rewritten after each
seed; a run that is stopped and started again with the same settings goes on
with the seeds not yet in the file (``--force`` starts afresh). The fits are
deterministic: the folds, the autoencoder and KMeans are seeded by the seed.
The run is shortened on purpose (``--rows`` images of MNIST, ``--n-epochs``
epochs of the network towards the graph's layout, three folds): the question is how settings
rank, not how good the best one gets. ``--quick`` is a small run for the tests.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import make_scorer, normalized_mutual_info_score, silhouette_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import datasets  # noqa: E402
import environment  # noqa: E402

from skae import AutoencoderTransformer, trustworthiness_stability_scorer  # noqa: E402
from skae._scoring import _cluster_stability, _code_trustworthiness  # noqa: E402

DATASETS = ("mnist", "digits")
N_NEIGHBORS = 15
STEP = "autoencodertransformer"
GRID = {
    "n_components": [2, 4, 8, 16],
    "hidden_layer_sizes": [(), (64,), (256, 128)],
    "neighbor_weight": [0.0, 0.1, 1.0],
}
QUICK_GRID = {"n_components": [2, 4], "hidden_layer_sizes": [(8,)], "neighbor_weight": [0.0, 1.0]}
QUICK_ROWS = 300


# ------------------------------------------------------------- candidates


def _codes(pipeline, X):
    """The codes: ``X`` through every step but the last (the clusterer)."""
    return pipeline[:-1].transform(X)


def kmeans_score(pipeline, X, y=None):
    return pipeline.score(X)


def reconstruction_score(pipeline, X, y=None):
    reducer = pipeline[:-1]
    error = reducer.inverse_transform(reducer.transform(X)) - X
    return -float(np.mean(error**2))


def trustworthiness_scorer(n_neighbors):
    def score(pipeline, X, y=None):
        return _code_trustworthiness(X, _codes(pipeline, X), n_neighbors, MAX_SAMPLES)

    return score


def stability_score(pipeline, X, y=None):
    return _cluster_stability(pipeline[-1], _codes(pipeline, X))


def silhouette(pipeline, X, y=None):
    codes = _codes(pipeline, X)
    return float(silhouette_score(codes, pipeline[-1].predict(codes)))


# The two halves of skae's scorer are candidates of their own; the scorer is
# their mean, and their product is computed from the folds' values.
SCORERS = {
    "nmi": make_scorer(normalized_mutual_info_score),  # the labels' verdict, not a candidate
    "kmeans": kmeans_score,
    "reconstruction": reconstruction_score,
    "trustworthiness_5": trustworthiness_scorer(5),
    "trustworthiness_15": trustworthiness_scorer(15),
    "stability": stability_score,
    "silhouette": silhouette,
    "mean(trustworthiness_15, stability)": trustworthiness_stability_scorer,
}
COMBINATIONS = {
    "trustworthiness_15 * stability": ("trustworthiness_15", "stability", np.multiply),
}
# Held-out folds stay below the scorer's max_samples: the trustworthiness sees every row.
MAX_SAMPLES = 2000


# ------------------------------------------------------------------ a run


def load(name, rows, quick):
    """The rows and labels of a data set (MNIST / 255, digits / 16)."""
    if name == "mnist":
        X, y = datasets.read_mnist()
        X, y = (X[:QUICK_ROWS], y[:QUICK_ROWS]) if quick else (X, y)
        if rows < len(X):
            keep = np.sort(np.random.RandomState(0).permutation(len(X))[:rows])
            X, y = X[keep], y[keep]
    elif name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        X, y = (X[:QUICK_ROWS], y[:QUICK_ROWS]) if quick else (X, y)
    else:
        raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}")
    return X, y


def pipeline(seed, n_epochs, n_clusters):
    return make_pipeline(
        AutoencoderTransformer(n_neighbors=N_NEIGHBORS, n_epochs=n_epochs, random_state=seed),
        KMeans(n_clusters, random_state=seed),
    )


def search(X, y, seed, args):
    """Every candidate's and the NMI's score on every held-out fold of every setting."""
    grid = {f"{STEP}__{name}": values for name, values in args.grid.items()}
    search = GridSearchCV(
        pipeline(seed, args.n_epochs, len(np.unique(y))),
        grid,
        scoring=SCORERS,
        refit=False,
        cv=KFold(args.cv, shuffle=True, random_state=seed),
        n_jobs=args.n_jobs,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    results = search.cv_results_
    scores = {
        name: [
            [float(results[f"split{i}_test_{name}"][j]) for i in range(args.cv)]
            for j in range(len(results["params"]))
        ]
        for name in SCORERS
    }
    for name, (a, b, combine) in COMBINATIONS.items():
        scores[name] = np.asarray(combine(np.array(scores[a]), np.array(scores[b]))).tolist()
    params = [
        {key.removeprefix(f"{STEP}__"): value for key, value in p.items()}
        for p in results["params"]
    ]
    return {
        "params": params,
        "fold_scores": scores,
        "fit_seconds": results["mean_fit_time"].tolist(),
    }


def summarize(run):
    """Per candidate: Spearman's rho with the NMI over the grid, and the NMI of its choice."""
    means = {name: np.mean(values, axis=1) for name, values in run["fold_scores"].items()}
    nmi = means.pop("nmi")
    summary = {"best_nmi": float(nmi.max())}
    for name, values in means.items():
        rho = spearmanr(values, nmi).statistic
        summary[name] = {"spearman": float(rho), "nmi_of_choice": float(nmi[np.argmax(values)])}
    return summary


def settings(args, name, X):
    return {
        "dataset": name,
        "rows": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "grid": args.grid,
        "cv": args.cv,
        "n_epochs": args.n_epochs,
        "n_neighbors": N_NEIGHBORS,
        "quick": args.quick,
    }


def run_dataset(name, args, log):
    X, y = load(name, args.rows, args.quick)
    path = args.out / f"{name}.json"
    setup = json.loads(json.dumps(settings(args, name, X)))  # tuples as JSON has them
    report = None
    if path.exists() and not args.force:
        report = json.loads(path.read_text())
        if report["settings"] != setup:
            log(f"{name}: {path} has other settings; starting afresh (as with --force)")
            report = None
    if report is None:
        report = {"settings": setup, "runs": {}}
    for seed in args.seeds:
        if str(seed) in report["runs"]:
            log(f"{name}: seed {seed} is already in {path}")
            continue
        log(f"{name}: seed {seed}, {X.shape[0]} rows ...")
        started, load_start = time.perf_counter(), environment.load_average()
        commit = environment.git_commit()  # the code that runs, not the code at the end
        with threadpool_limits(limits=1):
            run = search(X, y, seed, args)
        run["summary"] = summarize(run)
        run["seconds"] = time.perf_counter() - started
        run["load_average"] = [load_start, environment.load_average()]
        report["runs"][str(seed)] = run
        report.update(
            command=" ".join(["python", "benchmarks/bench_model_selection.py", *args.argv]),
            git_commit=commit,
            machine=environment.machine(),
        )
        path.write_text(json.dumps(report, indent=1) + "\n")
        log(f"{name}: seed {seed} done in {run['seconds']:.0f} s; wrote {path}")
    return report


def markdown(reports):
    """One row per candidate: Spearman's rho per data set and seed, and the NMI of its choice."""
    lines = ["| score | " + " | ".join(reports) + " |", "|---|" + "---:|" * len(reports)]
    candidates = [n for n in [*SCORERS, *COMBINATIONS] if n != "nmi"]
    for candidate in candidates:
        cells = []
        for report in reports.values():
            runs = report["runs"].values()
            rho = " / ".join(f"{r['summary'][candidate]['spearman']:+.2f}" for r in runs)
            pick = " / ".join(f"{r['summary'][candidate]['nmi_of_choice']:.2f}" for r in runs)
            cells.append(f"{rho} (NMI {pick})")
        lines.append(f"| {candidate} | " + " | ".join(cells) + " |")
    best = [
        " / ".join(f"{r['summary']['best_nmi']:.2f}" for r in rep["runs"].values())
        for rep in reports.values()
    ]
    lines.append("| best NMI of the grid | " + " | ".join(best) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/model_selection", help="output directory")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated")
    parser.add_argument("--seeds", default="0,1", help="comma-separated ints")
    parser.add_argument("--rows", type=int, default=3000, help="MNIST rows (a fixed subset)")
    parser.add_argument("--n-epochs", type=int, default=10, help="the network's n_epochs")
    parser.add_argument("--cv", type=int, default=3, help="folds")
    parser.add_argument("--n-jobs", type=int, default=1, help="GridSearchCV's n_jobs")
    parser.add_argument("--force", action="store_true", help="ignore existing results")
    parser.add_argument("--quick", action="store_true", help="a small run for the tests")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    args.grid = QUICK_GRID if args.quick else GRID
    if args.quick:
        args.n_epochs = min(args.n_epochs, 2)
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    args.out = Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    names = [n for n in args.datasets.split(",") if n]
    reports = {name: run_dataset(name, args, log) for name in names}
    print(markdown(reports))


if __name__ == "__main__":
    main()
