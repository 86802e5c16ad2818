"""The main job, ``benchmarks/compare.py``, and the clustering benchmark run end to end, small."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
COMPARE = Path(__file__).resolve().parents[1] / "benchmarks" / "compare.py"


def run(*args):
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(COMPARE), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_compare_writes_table_json_and_figures(tmp_path):
    params = json.dumps({"hidden_layer_sizes": [8], "max_iter": 3})
    out = run(
        "--datasets",
        "digits,manifold",
        "--sizes",
        "2,8",
        "--kpca-rows",
        "200",
        "--n-jobs",
        "1",
        "--ae-params",
        params,
        "--out",
        str(tmp_path),
    )
    assert "| data set | k | method | held-out MSE | MSE / PCA |" in out
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["ae_params_set"] == {"hidden_layer_sizes": [8], "max_iter": 3}
    rows = report["results"]
    for dataset in ("digits", "manifold"):
        for k in (2, 8):
            methods = {
                r["method"]: r for r in rows if r["dataset"] == dataset and r["n_components"] == k
            }
            assert set(methods) == {"pca", "ae", "mlp", "kpca"}
            assert methods["pca"]["mse_vs_pca"] == 1.0
            assert methods["ae"]["n_iter"] == 3
            assert methods["kpca"]["n_train"] == 200
            for row in methods.values():
                assert row["mse"] > 0 and row["rows_per_second"] > 0
    # KMeans scores for the labelled data set only, with the raw baseline.
    assert {r["method"] for r in rows if "nmi" in r and r["dataset"] == "digits"} == {
        "raw",
        "pca",
        "ae",
        "mlp",
        "kpca",
    }
    assert not any("nmi" in r for r in rows if r["dataset"] == "manifold")
    for name in ("mse_vs_components", "reconstructions_digits", "codes_2d"):
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"

    summary = run("--summarize", str(tmp_path))
    assert f"| {tmp_path.name} | `{json.dumps(report['ae_params_set'])}` |" in summary


def test_bench_kernels_prints_one_row_per_kernel_pair():
    script = COMPARE.parent / "bench_kernels.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            *("--repeats", "2", "--rows", "16"),
            *("--layout-rows", "300,1200", "--layout-epochs", "2", "--threads", "3"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    prefixes = ("| relu", "| sum of squares", "| layout steps to rows", "| layout epoch")
    rows = [line for line in done.stdout.splitlines() if line.startswith(prefixes)]
    assert len(rows) == 2 * 6 + 2 + 2 * 2
    assert "3 threads (1 used)" in rows[-1]  # fewer rows than MIN_ROWS_PER_THREAD a thread
    for row in rows:  # kernel, A, A's time, B, B's time, A / B: the numbers parse
        cells = [cell.strip() for cell in row.strip("| ").split("|")]
        assert len(cells) == 6
        [float(cells[i]) for i in (2, 4, 5)]


def test_bench_clustering_quick(tmp_path, run_quick_benchmark):
    # one job, in this process: worker processes would each compile umap-learn's code again
    argv = ("--seeds", "0", "--n-jobs", "1", "--out", str(tmp_path))
    out = run_quick_benchmark("bench_clustering.py", *argv).stdout
    assert "| data set | codes | NMI | ARI |" in out
    report = json.loads((tmp_path / "clustering.json").read_text())
    assert {"raw", "pca", "ae", "ae_nn"} <= {r["method"] for r in report["rows"]}
    assert (tmp_path / "clustering_codes_2d.png").read_bytes()[:4] == b"\x89PNG"
