"""``bench_clustering.py --panel`` and ``--ablations`` run small and feed the docs' tables."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_clustering.py"
PANEL = (
    "digits",
    "digits (float64)",
    "mnist10k",
    "loops",
    "shells",
    "roll_bands",
    "blobs",
    "tree",
    "moons",
    "circles",
    "topics",
    "digits_64x64",
    "mnist_56x56",
    "iris",
    "wine",
    "breast_cancer",
    "loops_20000",
    "tree_20000",
    "roll_bands_20000",
    "mnist_grown_30000",
    "mnist_grown_100000",
)


def make_tables():
    spec = importlib.util.spec_from_file_location("make_tables", ROOT / "docs" / "make_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_panel_quick(tmp_path, run_quick_benchmark):
    pytest.importorskip("matplotlib")
    out = run_quick_benchmark("bench_clustering.py", "--panel", "--out", str(tmp_path)).stdout
    assert "| data set | rows | skae NMI | UMAP NMI |" in out
    report = json.loads((tmp_path / "panel.json").read_text())
    assert report["complete"] and report["quick"] and report["seeds"] == [0]
    assert report["data_seed"] == 0 and report["umap_params"]["random_state"] is None
    assert report["git_commit"] and report["environment"]["cores"]
    assert len(report["load_average_start"]) == 3 and report["total_seconds"] > 0
    rows = report["rows"]
    assert [r["label"] for r in rows] == list(PANEL)
    with_umap = importlib.util.find_spec("umap") is not None
    for r in rows:
        assert r["n_rows"] >= {"iris": 150, "wine": 178}.get(r["dataset"], 300)
        assert r["n_features"] in (4, 13, 30, 64, 100, 784, 2000, 3136, 4096)
        assert 2 <= r["n_classes"] <= 10 and r["seed"] == 0
        assert 0 <= r["skae_nmi"] <= 1 and r["skae_fit_seconds"] > 0
        assert r["skae_epochs"] == 2
        if with_umap:
            assert 0 <= r["umap_nmi"] <= 1 and r["umap_fit_seconds"] > 0
            assert r["fit_time_ratio"] == pytest.approx(
                r["skae_fit_seconds"] / r["umap_fit_seconds"]
            )
    assert {r["dtype"] for r in rows if r["dataset"] == "digits"} == {"float32", "float64"}
    assert [r["from"] for r in report["scaling"]] == [
        "mnist10k",
        "mnist_grown_30000",
        "mnist_grown_100000",
    ]
    assert (tmp_path / "panel_scaling.png").read_bytes()[:4] == b"\x89PNG"

    text = make_tables().clustering_panel_table(report)
    assert "digits (float64)" in text and "--quick --panel" in text
    assert report["git_commit"] in text


def _bench_clustering(monkeypatch):
    """``bench_clustering`` imported in this process, with umap-learn hidden."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import bench_clustering

    monkeypatch.setattr(bench_clustering, "has_umap", lambda: False)
    return bench_clustering


def test_panel_n_components_sets_the_codes_not_the_clusters(tmp_path, monkeypatch):
    bench = _bench_clustering(monkeypatch)
    fitted = []
    make_model = bench.panel_autoencoder

    def recorded(k, seed, quick, **params):
        model = make_model(k, seed, quick, **params)
        fitted.append(model)
        return model

    monkeypatch.setattr(bench, "panel_autoencoder", recorded)
    argv = ["--panel", "--quick", "--n-components", "2", "--datasets", "iris,loops"]
    bench.main([*argv, "--out", str(tmp_path)])
    # the warm-up's tiny fit comes first, then one fit per set
    codes = [model.transform(np.zeros((1, model.n_features_in_))) for model in fitted[-2:]]
    assert [c.shape for c in codes] == [(1, 2), (1, 2)]
    report = json.loads((tmp_path / "panel.json").read_text())
    assert report["n_components"] == 2 and report["complete"]
    rows = report["rows"]
    assert [(r["dataset"], r["n_classes"]) for r in rows] == [("loops", 8), ("iris", 3)]
    assert all(r["n_components"] == 2 and 0 <= r["skae_nmi"] <= 1 for r in rows)
    text = make_tables().clustering_panel_table(report)
    assert "AutoencoderTransformer(n_components=2," in text
    assert "UMAP(n_components=2," in text and "n_components=k" not in text


def test_held_out_panel_runs_its_own_sets(tmp_path, monkeypatch):
    bench = _bench_clustering(monkeypatch)
    argv = ["--panel", "--held-out", "--quick", "--datasets", "helices,binary_profiles"]
    bench.main([*argv, "--out", str(tmp_path)])
    report = json.loads((tmp_path / "panel.json").read_text())
    assert report["mode"] == "held_out" and report["complete"]
    rows = report["rows"]
    assert [(r["label"], r["n_features"]) for r in rows] == [
        ("helices", 60),
        ("binary_profiles", 1500),
        ("binary_profiles (float64)", 1500),
    ]
    assert [r["n_classes"] for r in rows] == [3, 8, 8]
    assert all(0 <= r["skae_nmi"] <= 1 and "umap_nmi" not in r for r in rows)
    assert report["scaling"] == [] and not (tmp_path / "panel_scaling.png").exists()
    assert "--held-out" in make_tables().clustering_panel_table(report)

    argv = ["--ablations", "--held-out", "--quick", "--datasets", "nested_blobs"]
    bench.main([*argv, "--out", str(tmp_path)])
    report = json.loads((tmp_path / "ablations.json").read_text())
    assert report["mode"] == "ablations_held_out"
    assert {r["dataset"] for r in report["rows"]} == {"nested_blobs"}
    assert [r["variant"] for r in report["rows"]] == [v for v, _ in bench.ABLATIONS]
    assert "nested_blobs" in make_tables().clustering_ablations_table(report)


def test_held_out_sets_are_fixed_by_their_seed_and_unlike_the_panel(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import held_out
    import panel

    assert not set(held_out.HELD_OUT) & set(panel.PANEL)
    for name, load in held_out.HELD_OUT.items():
        X, y = load(0)
        assert X.dtype == np.float32 and y.dtype == np.int64 and X.shape[0] == y.shape[0]
        assert np.isfinite(X).all() and np.unique(y).size >= 3, name
        np.testing.assert_array_equal(load(0)[0], X)
        assert not np.array_equal(load(1)[0], X), name
    assert held_out.s_curve_bands()[0].shape[1] == 3
    assert set(np.unique(held_out.binary_profiles()[0])) == {0.0, 1.0}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--ablations", "--n-components", "2"], "--n-components goes with --panel"),
        (["--panel", "--n-components", "0"], "--n-components must be at least 1, got 0"),
        (["--layouts", "--held-out"], "--held-out goes with --panel or --ablations"),
    ],
)
def test_panel_n_components_is_checked(monkeypatch, capsys, tmp_path, argv, message):
    bench = _bench_clustering(monkeypatch)
    with pytest.raises(SystemExit):
        bench.main([*argv, "--out", str(tmp_path)])
    assert message in capsys.readouterr().err


def test_spread_table_gives_means_ranges_and_differences():
    environment = {"cores": 2, "python": "3.11", "skae": "0.1"}
    rows = [
        {
            "label": "loops",
            "n_rows": 6000,
            "skae_nmi": skae,
            "umap_nmi": umap,
            "fit_time_ratio": ratio,
            "load_1min_skae": 1.0,
            "load_1min_umap": 1.2,
        }
        for skae, umap, ratio in ((0.70, 0.80, 1.0), (0.72, 0.78, 3.0), (0.74, 0.79, 2.0))
    ] + [
        {
            "label": "digits",
            "n_rows": 1797,
            "skae_nmi": skae,
            "umap_nmi": umap,
            "fit_time_ratio": 0.5,
            "load_1min_skae": 1.0,
            "load_1min_umap": 1.0,
        }
        for skae, umap in ((0.9061, 0.9062), (0.9050, 0.9051), (0.9040, 0.9041))
    ]
    report = {
        "seeds": [0, 1, 2],
        "rows": rows,
        "environment": environment,
        "total_seconds": 300.0,
        "command": "python benchmarks/bench_clustering.py --panel --seeds 0,1,2",
        "git_commit": "abc1234",
        "load_average_start": [0.5, 0.5, 0.5],
        "load_average_end": [1.5, 1.5, 1.5],
    }
    text = make_tables().clustering_spread_table(report)
    loops = text.split("   * - loops\n")[1].split("   * - digits\n")[0].splitlines()
    assert [cell.strip() for cell in loops] == [
        "- 6,000",
        "- 0.720 (0.700-0.740)",
        "- 0.790 (0.780-0.800)",
        "- -0.070",
        "- 2.00",
    ]
    assert "- 0.000\n" in text.split("   * - digits\n")[1]
    assert "seeds 0 to 2" in text and "UMAP NMI, 3 runs" in text
    assert "--panel --seeds 0,1,2" in text and "abc1234" in text
    report["seeds"] = [0, 2, 5]
    for r in rows[:3]:
        r["umap_nmi"] = 0.79
    text = make_tables().clustering_spread_table(report)
    assert "seeds 0/2/5" in text
    assert "     - 0.790\n" in text  # no range where the runs agree


def test_sized_sets_grow_the_same_structure(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import numpy as np
    import panel

    X, y = panel.load("loops_6000")
    X_panel, y_panel = panel.load("loops")
    np.testing.assert_array_equal(X, X_panel)
    np.testing.assert_array_equal(y, y_panel)
    for name, rows, classes in (("loops", 800, 8), ("tree", 700, 7), ("roll_bands", 800, 5)):
        X, y = panel.load(f"{name}_{rows}")
        assert X.shape == (rows, 100) and X.dtype == np.float32
        assert np.unique(y).size == classes
    with pytest.raises(ValueError, match="no sized variant of 'shells'"):
        panel.load("shells_20000")


def test_ablations_quick(tmp_path, run_quick_benchmark):
    out = run_quick_benchmark("bench_clustering.py", "--ablations", "--out", str(tmp_path)).stdout
    assert "| data set | variant | NMI |" in out
    report = json.loads((tmp_path / "ablations.json").read_text())
    assert report["seed"] == 0 and report["quick"]
    rows = {(r["dataset"], r["variant"]): r for r in report["rows"]}
    variants = (
        "default",
        "neighbor_weight=0.25",
        "neighbor_weight=1.0",
        "linear_path=False",
        "n_epochs x2",
        "parts as laid out",
    )
    names = ("mnist10k", "digits", "loops", "roll_bands", "blobs", "tree")
    assert {r["dataset"] for r in report["rows"]} == set(names)
    for name in names:
        assert rows[(name, "pca")]["mse_vs_pca"] == 1.0
        for variant in variants:
            r = rows[(name, variant)]
            assert r["mse_vs_pca"] > 0 and r["n_train"] + r["n_test"] == r["n_rows"]
            for key in ("nmi", "nmi_train", "nmi_new"):
                assert 0 <= r[key] <= 1
        layout = rows[(name, "layout")]
        assert 0 <= layout["nmi"] <= 1 and 0 <= layout["nmi_train"] <= 1
        assert "mse_vs_pca" not in layout and "nmi_new" not in layout
    assert rows[("digits", "neighbor_weight=1.0")]["params"] == {"neighbor_weight": 1.0}
    assert rows[("digits", "n_epochs x2")]["epochs"] == 2  # --quick's n_epochs wins

    text = make_tables().clustering_ablations_table(report)
    assert "linear_path=False" in text and "--quick --ablations" in text


def test_ablation_doubles_the_network_epochs_for_the_rows_it_fits(monkeypatch):
    bench = _bench_clustering(monkeypatch)
    from skae._graph_term import default_epochs

    params = {"n_epochs": bench.TWICE_THE_EPOCHS, "neighbor_weight": 1.0}
    for shape in ((1797, 64), (8000, 784), (300, 4096)):
        X = np.zeros(shape, dtype=np.float32)
        twice = 2 * default_epochs(*shape)
        assert bench.network_epochs(params, X) == {"n_epochs": twice, "neighbor_weight": 1.0}
    assert bench.network_epochs({"linear_path": False}, X) == {"linear_path": False}


def test_transform_quick(tmp_path, run_quick_benchmark):
    out = run_quick_benchmark("bench_transform.py", "--out", str(tmp_path)).stdout
    assert "| data set | threads | skae rows/s | UMAP rows/s | ratio |" in out
    report = json.loads((tmp_path / "transform.json").read_text())
    assert report["quick"] and report["repeats"] == 1 and report["git_commit"]
    rows = report["rows"]
    assert {r["dataset"] for r in rows} == {"mnist", "digits"}
    assert {r["threads"] for r in rows} >= {1}
    with_umap = importlib.util.find_spec("umap") is not None
    for r in rows:
        assert r["n_test"] == 300 and r["skae_rows_per_second"] > 0
        if with_umap:
            assert r["ratio"] == pytest.approx(
                r["skae_rows_per_second"] / r["umap_rows_per_second"]
            )
    text = make_tables().clustering_transform_table(report)
    assert "bench_transform.py --quick" in text and report["git_commit"] in text


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scale_report_and_figure(tmp_path):
    pytest.importorskip("matplotlib")
    bench_scale = load_script("bench_scale")
    run = {"load_before": [1.0, 1.0, 1.0], "commit": "abc1234"}
    report = {
        "machine": {"cores": 2},
        "runs": [
            {**run, "method": "skae", "rows": 10_000, "status": "done", "fit_seconds": 8.0,
             "nmi": 0.83, "peak_rss_gb": 1.0, "load_after": [1.0, 1.0, 1.0]},
            {**run, "method": "skae", "rows": 100_000, "status": "done", "fit_seconds": 50.0,
             "nmi": 0.84, "peak_rss_gb": 2.0, "load_after": [1.0, 1.0, 1.0]},
            {**run, "method": "umap", "rows": 10_000, "status": "done", "fit_seconds": 6.0,
             "nmi": 0.82, "peak_rss_gb": 1.0, "load_after": [1.0, 1.0, 1.0]},
            {**run, "method": "umap", "rows": 100_000, "status": "timeout",
             "timeout_seconds": 60.0},
        ],
    }  # fmt: skip
    path = bench_scale.scale_figure(report, tmp_path)
    assert path == tmp_path / "scale.png" and path.read_bytes()[:4] == b"\x89PNG"
    text = make_tables().clustering_scale_table(report)
    assert "not done in 1 min (stopped)" in text and "0.840" in text and "``abc1234``" in text


def test_scale_progress_lines_carry_the_seconds():
    import io

    bench_scale = load_script("bench_scale")
    stream = io.StringIO()
    stamped = bench_scale._Stamped(stream, start=0.0)
    stamped.write("Principal components: 100 of 784 features\nNeighbours: ")
    stamped.write("14 of each\n")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[") and lines[0].endswith(
        "] Principal components: 100 of 784 features"
    )
    assert lines[1].endswith("] Neighbours: 14 of each") and lines[1].count("[") == 1


def test_layouts_quick(tmp_path, run_quick_benchmark):
    pytest.importorskip("umap")
    out = run_quick_benchmark("bench_clustering.py", "--layouts", "--out", str(tmp_path)).stdout
    assert "| data set | graph on | the spectral start | skae's epochs (edge mini-batches" in out
    report = json.loads((tmp_path / "layouts.json").read_text())
    assert report["quick"] and report["seeds"] == [0]
    sets = ["digits", "mnist10k", "loops", "roll_bands", "tree", "loops_20000", "tree_20000"]
    assert [(r["dataset"], r["graph"]) for r in report["rows"]] == [
        (name, graph) for name in sets for graph in ("components", "features")
    ]
    for r in report["rows"]:
        assert r["n_rows"] == 300 and r["n_epochs"] == r["umap_n_epochs"] == 500
        assert 0 <= r["start_nmi"] <= 1
        for method in ("start", "skae", "skae_long", "umap"):
            assert 0 < r[f"{method}_within"] < 1
        for method in ("skae", "skae_long", "umap"):
            assert 0 <= r[f"{method}_nmi"] <= 1 and r[f"{method}_seconds"] > 0
            # the epochs draw the classes together: less of the variance is within them
            assert r[f"{method}_within"] < r["start_within"]
    text = make_tables().clustering_layouts_table(report)
    assert "--quick --layouts" in text and "3 times as many" in text
    assert "     - the spectral start\n" in text
    assert "(skae's and umap-learn's: digits 500 and 500;" in text
    assert "share of their variance within the classes" in text


def test_shared_neighbors_quick(tmp_path, run_quick_benchmark):
    out = run_quick_benchmark("bench_shared_neighbors.py", "--out", str(tmp_path)).stdout
    assert "topics: x1 purity" in out
    report = json.loads((tmp_path / "shared_neighbors.json").read_text())
    assert report["quick"] and report["candidates"] == [1, 3] and report["git_commit"]
    (row,) = report["rows"]
    assert row["dataset"] == "topics" and row["n_rows"] == 600
    for multiple in (1, 3):
        assert 0 < row[f"purity_{multiple}"] <= 1 and 0 <= row[f"nmi_{multiple}"] <= 1
        assert row[f"fit_seconds_{multiple}"] > 0
    # the ranking keeps, of more candidates, neighbours of the row's own topic more often
    assert row["purity_3"] > row["purity_1"]
    text = make_tables().clustering_shared_neighbors_table(report)
    assert "x3 (default)" in text and "bench_shared_neighbors.py --quick" in text
    assert report["git_commit"] in text


def test_parts_as_laid_out_turns_the_packing_off_and_back_on(monkeypatch):
    from skae import AutoencoderTransformer

    bench = _bench_clustering(monkeypatch)
    rng = np.random.default_rng(0)
    centres = np.repeat(rng.normal(scale=20.0, size=(3, 5)), 100, axis=0)
    X = centres + rng.normal(size=(300, 5))  # three far-apart parts of the graph

    def codes():
        model = AutoencoderTransformer(n_components=2, n_neighbors=5, n_epochs=2, random_state=0)
        return model.fit_transform(X)

    default = codes()
    with bench.parts_as_laid_out():
        unpacked = codes()
    assert not np.allclose(unpacked, default)
    np.testing.assert_array_equal(codes(), default)
