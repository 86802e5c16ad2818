"""The runs behind the README's "How the defaults were chosen".

Each run is ``benchmarks/compare.py`` (on every data set, or on the MNIST
split only) with some AutoencoderTransformer parameters changed
(``--ae-params``); two run at a time, each job on one BLAS thread as in the
main job. About 25 minutes on 2 cores; fit times are those of two runs sharing
the machine::

    python benchmarks/tuning_runs.py [--out results/tuning] [--only NAME ...]

It ends with ``compare.py --summarize`` over every run: the held-out and
training-rows MSE relative to PCA's, fit times, epochs and, for the clustering
runs, the NMI of KMeans(10) on 10-D codes of all 10,000 images.
"""

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPARE = [
    sys.executable,
    str(ROOT / "benchmarks" / "compare.py"),
    "--datasets",
    "mnist",
    "--no-figures",
]
NO_STOP = {"early_stopping": False}
LR = {"learning_rate_init": 0.002}
PATIENT = {"early_stopping": True, "tol": 1e-4}


def mse_run(sizes, params, train_rows=None):
    options = ["--methods", "pca,ae", "--sizes", sizes, "--ae-params", json.dumps(params)]
    return options + (["--train-rows", str(train_rows)] if train_rows else [])


def nmi_run(params):
    # The clustering job fits AutoencoderTransformer(10) on all 10,000 images;
    # the size job beside it only fits PCA(2).
    return ["--methods", "pca", "--sizes", "2", "--clustering", "--ae-params", json.dumps(params)]


def all_data(options):
    return options + ["--datasets", "digits,mnist,patches,manifold"]


RUNS = {
    # Every data set: the steps from the first defaults to today's.
    "first-defaults": all_data(
        mse_run("2,8,16,32", {"hidden_layer_sizes": [100], "alpha": 1e-4, "tol": 1e-4, **NO_STOP})
    ),
    "no-early-stopping": all_data(mse_run("2,8,16,32", NO_STOP)),
    "early-stopping-everywhere": all_data(mse_run("2,8,16,32", {"early_stopping": True})),
    "defaults": all_data(mse_run("2,8,16,32", {})),
    "elu-lr-2e-3-everywhere": all_data(mse_run("2,8,16,32", {**LR, "activation": "elu"})),
    # MNIST only.
    "lr-2e-3": mse_run("8", {**NO_STOP, **LR}),
    "tol-1e-4": mse_run("8", {**NO_STOP, "tol": 1e-4}),
    "alpha-0.1": mse_run("8", {**NO_STOP, **LR, "alpha": 0.1}),
    "no-linear-path": mse_run("8", {**NO_STOP, **LR, "linear_path": False}),
    "gaussian-0.3": mse_run("8", {**NO_STOP, **LR, "noise": "gaussian", "noise_level": 0.3}),
    "gaussian-0.6-patient": mse_run(
        "8", {**PATIENT, **LR, "noise": "gaussian", "noise_level": 0.6}
    ),
    "masking-0.2-patient": mse_run("8", {**PATIENT, **LR, "noise": "masking", "noise_level": 0.2}),
    "elu": mse_run("8", {**NO_STOP, **LR, "activation": "elu"}),
    "elu-gaussian-0.3": mse_run(
        "8", {**NO_STOP, **LR, "activation": "elu", "noise": "gaussian", "noise_level": 0.3}
    ),
    "batch-64": mse_run("8", {**NO_STOP, "batch_size": 64}),
    "batch-512": mse_run("8", {**NO_STOP, "batch_size": 512, "learning_rate_init": 0.003}),
    "512-256-128-patient": mse_run("8", {**PATIENT, "hidden_layer_sizes": [512, 256, 128]}),
    "tied": mse_run("8", {**NO_STOP, "tied_weights": True}),
    "rows-2000": mse_run("8", NO_STOP, train_rows=2000),
    "rows-4000": mse_run("8", NO_STOP, train_rows=4000),
    **{
        f"epochs-{n:03d}": mse_run("2", {**NO_STOP, "tol": 0, "max_iter": n})
        for n in (20, 40, 60, 80, 100, 120)
    },
    "nmi-defaults": nmi_run({}),
    "nmi-seed-1": nmi_run({"random_state": 1}),
    "nmi-no-linear-path": nmi_run({"linear_path": False}),
    "nmi-no-linear-path-seed-1": nmi_run({"linear_path": False, "random_state": 1}),
    "nmi-no-linear-path-gaussian-0.5": nmi_run(
        {"linear_path": False, "noise": "gaussian", "noise_level": 0.5}
    ),
    "nmi-512-128-100-epochs": nmi_run(
        {"hidden_layer_sizes": [512, 128], **NO_STOP, "tol": 0, "max_iter": 100}
    ),
}


def run(name, options, out):
    folder = out / name
    with open(out / f"{name}.log", "w") as log:
        subprocess.run(
            [*COMPARE, "--out", str(folder), *options],
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    print(f"done: {name}", file=sys.stderr, flush=True)
    return folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/tuning")
    parser.add_argument("--only", nargs="+", choices=sorted(RUNS), metavar="NAME")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = args.only or list(RUNS)
    with ThreadPoolExecutor(2) as pool:
        folders = list(pool.map(lambda name: run(name, RUNS[name], out), names))
    subprocess.run([*COMPARE[:2], "--summarize", *map(str, folders)], check=True)


if __name__ == "__main__":
    main()
