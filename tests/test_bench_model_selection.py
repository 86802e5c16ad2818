"""``benchmarks/bench_model_selection.py`` runs small, resumes, and feeds the docs' table."""

import importlib.util
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_model_selection.py"


def test_quick_run_writes_one_file_per_data_set_and_resumes(tmp_path, run_quick_benchmark):
    run_quick_benchmark(
        "bench_model_selection.py", "--datasets", "digits", "--seeds", "0", "--out", str(tmp_path)
    )
    report = json.loads((tmp_path / "digits.json").read_text())
    (seed,) = report["runs"].values()
    n_settings = len(seed["params"])
    assert n_settings == 4 and report["settings"]["quick"]
    scores = seed["fold_scores"]
    assert "nmi" in scores and "mean(trustworthiness_15, stability)" in scores
    for values in scores.values():
        assert np.shape(values) == (n_settings, report["settings"]["cv"])
    # The shipped scorer is the mean of its two halves, fold by fold.
    halves = (np.array(scores["trustworthiness_15"]) + np.array(scores["stability"])) / 2
    np.testing.assert_allclose(scores["mean(trustworthiness_15, stability)"], halves)
    summary = seed["summary"]
    assert -1 <= summary["kmeans"]["spearman"] <= 1
    assert summary["best_nmi"] >= summary["kmeans"]["nmi_of_choice"]

    # A second run with another seed keeps the first seed's results and adds its own.
    done = run_quick_benchmark(
        "bench_model_selection.py", "--datasets", "digits", "--seeds", "0,1", "--out", str(tmp_path)
    )
    assert "seed 0 is already in" in done.stderr
    again = json.loads((tmp_path / "digits.json").read_text())
    assert list(again["runs"]) == ["0", "1"] and again["runs"]["0"] == seed

    spec = importlib.util.spec_from_file_location("make_tables", ROOT / "docs" / "make_tables.py")
    make_tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_tables)
    tables = make_tables.model_selection_tables({"digits": again})
    assert "digits: Spearman's rho" in tables["model_selection_table"]
    assert "``n_epochs=2``" in tables["model_selection_run"]
