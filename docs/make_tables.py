"""Write the documentation's tables from the committed benchmark results.

Run from anywhere (the documentation build also runs it)::

    python docs/make_tables.py

It reads the JSON files under ``docs/results/``, each written by the command
named beside its table, and writes one reStructuredText file per table into
``docs/generated/``, which the pages ``.. include::``, and the benchmark and clustering tables of
``README.md`` (between its ``compare-table`` and ``clustering-table`` markers). No number in those
tables is typed by hand:

=======================================  ==========================================================
results file                             written by
=======================================  ==========================================================
``results/compare/results.json``         ``python benchmarks/compare.py --out docs/results/compare``
``results/variants.json``                ``python docs/measure_variants.py``
``results/model_selection/<set>.json``   ``python benchmarks/bench_model_selection.py``
                                         ``--out docs/results/model_selection``
``results/tuning/<run>.json``            the ``compare.py`` command of each run, listed on
                                         ``docs/user_guide/defaults.rst``
``results/speed.json``                   ``python benchmarks/bench_speed.py --threads 1``
                                         ``--repeats 3 --json docs/results/speed.json``
``results/stream.json``                  ``python benchmarks/bench_stream.py``
                                         ``--json docs/results/stream.json``
``results/clustering/clustering.json``   ``python benchmarks/bench_clustering.py``
                                         ``--out docs/results/clustering``
``results/clustering/panel.json``        ``python benchmarks/bench_clustering.py --panel``
                                         ``--out docs/results/clustering``
``results/clustering/ablations.json``    ``python benchmarks/bench_clustering.py --ablations``
                                         ``--out docs/results/clustering``
``results/clustering/layouts.json``      ``python benchmarks/bench_clustering.py --layouts``
                                         ``--out docs/results/clustering``
``results/clustering/spread/``           the ``--panel`` command above on eleven sets, seeds 0 to 4,
                                         ``--out docs/results/clustering/spread`` (``panel.json``)
``results/clustering/panel_2d/``         the ``--panel`` command with ``--n-components 2`` on
                                         13 sets, ``--out docs/results/clustering/panel_2d``
``results/clustering/held_out/``         the ``--panel`` and ``--ablations`` commands with
                                         ``--held-out --out docs/results/clustering/held_out``
``results/clustering/held_out/spread/``  the held-out ``--panel`` command on the three sets of
                                         groups, seeds 0 to 4,
                                         ``--out docs/results/clustering/held_out/spread``
``results/clustering/transform.json``    ``python benchmarks/bench_transform.py``
                                         ``--out docs/results/clustering``
=======================================  ==========================================================

A results file that is missing gives a note naming the command that writes it
instead of a table, so the site still builds.
"""

import argparse
import json
import statistics
from pathlib import Path

DOCS = Path(__file__).resolve().parent
RESULTS = DOCS / "results"
GENERATED = DOCS / "generated"

DATASETS = ("digits", "mnist", "patches", "manifold")
LABELS = {
    "pca": "PCA",
    "ae": "AutoencoderTransformer",
    "mlp": "MLPRegressor X->X",
    "kpca": "KernelPCA",
    "raw": "raw features",
}
# The runs of "How the defaults were chosen", in the order of the page.
TUNING_RUNS = ("first-defaults", "no-early-stopping", "early-stopping-everywhere-digits")
# The sets of the two-dimensional panel (its command below).
PANEL_2D_SETS = (
    "digits",
    "mnist10k",
    "loops",
    "shells",
    "roll_bands",
    "blobs",
    "tree",
    "moons",
    "circles",
    "topics",
    "iris",
    "wine",
    "breast_cancer",
)
COMMANDS = {
    "compare": "python benchmarks/compare.py --out docs/results/compare",
    "variants": "python docs/measure_variants.py",
    "speed": "python benchmarks/bench_speed.py --threads 1 --repeats 3 "
    "--json docs/results/speed.json",
    "stream": "python benchmarks/bench_stream.py --json docs/results/stream.json",
    "tuning": "python benchmarks/tuning_runs.py --only RUN",  # see docs/user_guide/defaults.rst
    "clustering": "python benchmarks/bench_clustering.py --out docs/results/clustering",
    "clustering_panel": "python benchmarks/bench_clustering.py --panel "
    "--out docs/results/clustering",
    "clustering_ablations": "python benchmarks/bench_clustering.py --ablations "
    "--out docs/results/clustering",
    "clustering_scale": "python benchmarks/bench_scale.py --rows 1000000 "
    "--out docs/results/clustering",
    "clustering_transform": "python benchmarks/bench_transform.py --out docs/results/clustering",
    "clustering_shared_neighbors": "python benchmarks/bench_shared_neighbors.py "
    "--out docs/results/clustering",
    "clustering_layouts": "python benchmarks/bench_clustering.py --layouts "
    "--out docs/results/clustering",
    "clustering_panel_2d": "python benchmarks/bench_clustering.py --panel --n-components 2 "
    "--datasets " + ",".join(PANEL_2D_SETS) + " --out docs/results/clustering/panel_2d",
    "clustering_held_out": "python benchmarks/bench_clustering.py --panel --held-out "
    "--out docs/results/clustering/held_out",
    "clustering_held_out_ablations": "python benchmarks/bench_clustering.py --ablations "
    "--held-out --out docs/results/clustering/held_out",
    "clustering_spread": "python benchmarks/bench_clustering.py --panel --seeds 0,1,2,3,4 "
    "--datasets digits,mnist10k,loops,blobs,tree,iris,wine,breast_cancer,"
    "loops_20000,tree_20000,roll_bands_20000 --out docs/results/clustering/spread",
    "clustering_held_out_spread": "python benchmarks/bench_clustering.py --panel --held-out "
    "--seeds 0,1,2,3,4 --datasets nested_blobs,grouped_clusters,uneven_groups "
    "--out docs/results/clustering/held_out/spread",
}
CLUSTER_METHODS = ("raw", "pca", "ae", "ae_nn", "umap")


# ------------------------------------------------------------------ helpers


def table(header, rows, align=None, title=None, widths=None):
    """A ``list-table`` directive; ``align`` is one "l"/"r" per column."""
    lines = [f".. list-table:: {title}" if title else ".. list-table::", "   :header-rows: 1"]
    lines.append("   :class: skae-table")
    if widths:
        lines.append(f"   :widths: {' '.join(str(w) for w in widths)}")
    lines.append("")
    for row in [header, *rows]:
        cells = ["" if cell is None else str(cell) for cell in row]
        lines.append(f"   * - {cells[0] or ' '}")
        lines.extend(f"     - {cell or ' '}" for cell in cells[1:])
    return "\n".join(lines) + "\n"


def missing(kind, path):
    return (
        ".. note::\n\n"
        f"   ``{path.relative_to(DOCS)}`` is not in this checkout, so its table is not shown. "
        f"``{COMMANDS[kind]}`` writes it; ``python docs/make_tables.py`` then builds "
        "the table.\n"
    )


def fmt(value, spec):
    return "" if value is None else format(value, spec)


def load(path):
    with open(path) as f:
        return json.load(f)


def write(name, text):
    GENERATED.mkdir(parents=True, exist_ok=True)
    path = GENERATED / f"{name}.rst"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


# ------------------------------------------------------------- compare.py


def compare_tables(report):
    """The benchmark against PCA: MSE ratios, clustering, every measurement, the run."""
    results = report["results"]
    sizes = report["sizes"]
    names = [n for n in DATASETS if any(r["dataset"] == n for r in results)]
    out = {}

    def cell(name, method, k, key, spec):
        for r in results:
            if (r["dataset"], r["method"], r["n_components"]) == (name, method, k):
                return fmt(r.get(key), spec)
        return ""

    # MSE / PCA's, best of each column in bold.
    rows = []
    for name in names:
        methods = [
            m
            for m in ("ae", "mlp", "kpca")
            if any(r["dataset"] == name and r["method"] == m for r in results)
        ]
        best = {}
        for k in sizes:
            ratios = {
                r["method"]: r["mse_vs_pca"]
                for r in results
                if r["dataset"] == name and r["n_components"] == k and "mse_vs_pca" in r
            }
            best[k] = min(ratios, key=ratios.get) if ratios else None
        for method in methods:
            cells = []
            for k in sizes:
                text = cell(name, method, k, "mse_vs_pca", ".3f")
                cells.append(f"**{text}**" if text and best[k] == method else text)
            rows.append([name, LABELS[method], *cells])
    out["compare_ratios"] = table(
        ["data set", "method", *(f"k={k}" for k in sizes)],
        rows,
        widths=[12, 26, *([10] * len(sizes))],
    )

    # Clustering of the held-out codes.
    rows = []
    for name in names:
        raw = [r for r in results if r["dataset"] == name and r["method"] == "raw"]
        if not raw:
            continue
        rows.append(
            [
                name,
                f"raw features ({raw[0]['n_components']}-D)",
                *[fmt(raw[0]["nmi"], ".3f") for _ in sizes],
            ]
        )
        for method in ("pca", "ae", "mlp", "kpca"):
            cells = [cell(name, method, k, "nmi", ".3f") for k in sizes]
            if any(cells):
                rows.append([name, LABELS[method], *cells])
    out["compare_clustering"] = table(
        ["data set", "codes", *(f"NMI, k={k}" for k in sizes)],
        rows,
        widths=[12, 26, *([10] * len(sizes))],
    )

    # Every measurement.
    rows = []
    for r in results:
        if r["method"] == "raw":
            continue
        method = LABELS[r["method"]]
        if r["method"] == "kpca":
            method += f" ({r['n_train']} rows)"
        elif r["method"] in ("mlp", "ae") and "n_iter" in r:
            method += f" ({r['n_iter']} epochs)"
        rows.append(
            [
                r["dataset"],
                r["n_components"],
                method,
                fmt(r.get("mse"), ".4g"),
                fmt(r.get("mse_vs_pca"), ".3f"),
                fmt(r.get("explained_variance"), ".3f"),
                fmt(r.get("fit_seconds"), ".2f"),
                fmt(r.get("rows_per_second"), ",.0f"),
                fmt(r.get("nmi"), ".3f"),
                fmt(r.get("ari"), ".3f"),
            ]
        )
    out["compare_all"] = table(
        [
            "data set",
            "k",
            "method",
            "held-out MSE",
            "MSE / PCA",
            "explained variance",
            "fit (s)",
            "transform (rows/s)",
            "NMI",
            "ARI",
        ],
        rows,
    )

    out["compare_summary"] = compare_summary(results, names)

    # The run itself.
    env = report["environment"]
    params = report["autoencoder_params"]
    out["compare_run"] = (
        f"This run: ``{report['command']}``, {report['total_seconds']:.0f} s in all, "
        f"{report['n_jobs']} jobs at a time with {report['blas_threads_per_job']} BLAS "
        f"thread(s) each, on {env['cpu_count']} cores (skae {env['skae']}, Python "
        f"{env['python']}, NumPy {env['numpy']}). The autoencoder ran with its defaults: "
        f"``hidden_layer_sizes={tuple(params['hidden_layer_sizes'])}``, "
        f"``alpha={params['alpha']}``, ``tol={params['tol']}``, "
        f"``early_stopping={params['early_stopping']!r}``.\n"
    )
    return out


def _span(values, spec, unit=""):
    values = [v for v in values if v is not None]
    low, high = min(values), max(values)
    if format(low, spec) == format(high, spec):
        return f"{low:{spec}}{unit}"
    return f"{low:{spec}}-{high:{spec}}{unit}"


def compare_summary(results, names):
    """The run's main findings, as bullets computed from its rows."""

    def rows(method, dataset=None):
        return [
            r
            for r in results
            if r["method"] == method and (dataset is None or r["dataset"] == dataset)
        ]

    lines = []
    for name in names:
        ae = rows("ae", name)
        if not ae:
            continue
        ratios = [r["mse_vs_pca"] for r in ae]
        epochs = [r.get("n_iter") for r in ae]
        lines.append(
            f"- **{name}**: the autoencoder's held-out MSE is {_span(ratios, '.3f')} times "
            f"PCA's over k = {', '.join(str(r['n_components']) for r in ae)} "
            f"(training stopped after {_span(epochs, 'd')} epochs)."
        )
    mnist8 = {r["method"]: r for r in results if r["dataset"] == "mnist" and r["n_components"] == 8}
    if "ae" in mnist8 and "pca" in mnist8:
        lines.append(
            f"- On MNIST at k=8 the autoencoder keeps {mnist8['ae']['explained_variance']:.0%} "
            f"of the held-out variance, PCA {mnist8['pca']['explained_variance']:.0%} (the "
            "reconstructions figure below)."
        )
    pca, ae = rows("pca"), rows("ae")
    if pca and ae:
        pca_fit = _span([r["fit_seconds"] for r in pca], ".2f", " s")
        ae_fit = _span([r["fit_seconds"] for r in ae], ".1f", " s")
        mnist_fits = [r["fit_seconds"] for r in ae if r["dataset"] == "mnist"]
        if mnist_fits:
            ae_fit += f" (MNIST: {_span(mnist_fits, '.0f', ' s')})"
        ae_speed = _span([r["rows_per_second"] / 1e3 for r in ae], ",.0f")
        pca_speed = _span([r["rows_per_second"] / 1e6 for r in pca], ".2f")
        lines.append(
            f"- **Cost**: PCA fitted in {pca_fit}, the autoencoder in {ae_fit}. Its "
            f"transform ran at {ae_speed} thousand rows/s, PCA's at {pca_speed} million."
        )
    mlp = rows("mlp")
    if mlp:
        worse = [r for r in mlp if r["mse_vs_pca"] > 1]
        worst = max(mlp, key=lambda r: r["mse_vs_pca"])
        lines.append(
            f"- **MLPRegressor X->X** is worse than PCA in {len(worse)} of {len(mlp)} cells, "
            f"at worst {worst['mse_vs_pca']:.1f} times PCA's MSE ({worst['dataset']}, "
            f"k={worst['n_components']})."
        )
    kpca = rows("kpca")
    if kpca:
        better = sorted({r["dataset"] for r in kpca if r["mse_vs_pca"] < 1})
        lines.append(
            f"- **KernelPCA** beats PCA's MSE in {sum(r['mse_vs_pca'] < 1 for r in kpca)} of "
            f"{len(kpca)} cells ({', '.join(better) or 'none'})."
        )
    for name in names:
        raw = rows("raw", name)
        if not raw or not rows("ae", name):
            continue
        lines.append(
            f"- **Clustering {name}** (KMeans on the held-out codes, NMI): autoencoder "
            f"{_span([r['nmi'] for r in rows('ae', name)], '.3f')}, PCA "
            f"{_span([r['nmi'] for r in rows('pca', name)], '.3f')}, raw features "
            f"{raw[0]['nmi']:.3f}."
        )
    return "\n".join(lines) + "\n"


README_START = "<!-- compare-table: written by docs/make_tables.py from docs/results/compare -->"
README_END = "<!-- /compare-table -->"


def readme_table(report):
    """The README's benchmark table: the autoencoder's held-out MSE / PCA's, in markdown."""
    results = report["results"]
    sizes = report["sizes"]
    lines = [
        "| data set | " + " | ".join(f"k={k}" for k in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for name in DATASETS:
        ratios = {
            r["n_components"]: r["mse_vs_pca"]
            for r in results
            if r["dataset"] == name and r["method"] == "ae"
        }
        if ratios:
            cells = " | ".join(fmt(ratios.get(k), ".3f") for k in sizes)
            lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def update_readme(report, start=README_START, end=README_END, make=readme_table):
    """Replace the table between two of the README's markers; return whether it changed."""
    path = DOCS.parent / "README.md"
    text = path.read_text()
    if start not in text or end not in text:
        return False
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{start}\n{make(report)}\n{end}{tail}"
    if new != text:
        path.write_text(new)
        return True
    return False


# ------------------------------------------------------------- bench_clustering.py


def _cluster_groups(report):
    """(data set, method) -> that method's rows, one per seed, in the run's order."""
    groups = {}
    for r in report["rows"]:
        groups.setdefault((r["dataset"], r["method"]), []).append(r)
    return groups


def _per_seed(rows, key, spec):
    """The seeds' values joined by " / " (one value when the method ran once)."""
    values = [r.get(key) for r in rows]
    if all(v is None for v in values):
        return ""
    return " / ".join(fmt(v, spec) for v in values)


def _mean(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return sum(values) / len(values) if values else None


def _loads(values):
    return ", ".join(f"{v:.2f}" for v in values)


def clustering_tables(report):
    """The clustering benchmark: its table, the run, findings, the figure."""
    groups = _cluster_groups(report)
    seeds = ", ".join(str(s) for s in report["seeds"])
    out = {}
    rows = []
    for (name, _), rs in groups.items():
        rows.append(
            [
                name,
                rs[0]["label"],
                _per_seed(rs, "nmi", ".3f"),
                _per_seed(rs, "ari", ".3f"),
                _per_seed(rs, "fit_seconds", ".1f"),
                _per_seed(rs, "fit_cpu_seconds", ".1f"),
                _per_seed(rs, "rows_per_second", ",.0f"),
                _per_seed(rs, "mse", ".4f"),
                _per_seed(rs, "mse_vs_pca", ".3f"),
                _per_seed(rs, "nmi_new_minus_train", "+.3f"),
            ]
        )
    out["clustering_table"] = table(
        [
            "data set",
            "codes",
            "NMI",
            "ARI",
            "fit, wall (s)",
            "fit, CPU (s)",
            "transform (rows/s)",
            "held-out MSE",
            "MSE / PCA's",
            "new rows' NMI - training rows'",
        ],
        rows,
        widths=[8, 22, 10, 10, 8, 8, 10, 9, 8, 10],
    )

    env = report["environment"]
    versions = ", ".join(
        f"{name} {env[name]}"
        for name in ("skae", "numpy", "scikit-learn", "umap-learn", "pynndescent")
        if name in env
    )
    skipped = "".join(f" Left out: {note}." for note in report.get("skipped", []))
    out["clustering_run"] = (
        f"This run: ``{report['command']}``"
        + (f" at commit ``{report['git_commit']}``" if report.get("git_commit") else "")
        + f", {report['total_seconds']:.0f} s in all, "
        f"{report['n_jobs']} jobs at a time with {report['blas_threads_per_job']} BLAS "
        f"thread(s) each, on {env['cpu_count']} cores ({env.get('cpu') or 'CPU unknown'}; "
        f"Python {env['python']}, {versions}). Seeds (``random_state``) {seeds} for the "
        "autoencoders and UMAP, one value per seed in each cell. The machine was shared: "
        f"load average (1, 5, 15 min) {_loads(report['load_average_start'])} at the start, "
        f"{_loads(report['load_average_end'])} at the end, so the times are slower than an idle "
        f"machine's; the scores do not depend on the load.{skipped}\n"
    )

    def get(name, method):
        return groups.get((name, method), [])

    lines = []
    for name in ("mnist", "digits"):
        nn, ae, pca, raw, umap = (get(name, m) for m in ("ae_nn", "ae", "pca", "raw", "umap"))
        if not nn:
            continue
        parts = [f"- **{name}**: NMI {_per_seed(nn, 'nmi', '.3f')} with ``n_neighbors=15``"]
        parts.append(f", {_per_seed(ae, 'nmi', '.3f')} without" if ae else "")
        parts.append(f", PCA {_per_seed(pca, 'nmi', '.3f')}" if pca else "")
        parts.append(f", raw pixels {_per_seed(raw, 'nmi', '.3f')}" if raw else "")
        parts.append(f", UMAP {_per_seed(umap, 'nmi', '.3f')}" if umap else "")
        parts.append(". ")
        if nn[0].get("mse_vs_pca") is not None:
            parts.append(
                f"Held-out MSE {_per_seed(nn, 'mse_vs_pca', '.2f')} times PCA's with the term"
            )
            if ae:
                parts.append(f", {_per_seed(ae, 'mse_vs_pca', '.2f')} without")
            parts.append(". ")
        if ae and umap:
            parts.append(
                f"The fit took {_mean(nn, 'fit_cpu_seconds'):.0f} s of CPU with the term, "
                f"{_mean(ae, 'fit_cpu_seconds'):.0f} s without, UMAP's "
                f"{_mean(umap, 'fit_cpu_seconds'):.0f} s (means over the seeds). New rows were "
                f"transformed "
                f"{_mean(nn, 'rows_per_second') / _mean(umap, 'rows_per_second'):,.0f} times "
                "as fast as by UMAP."
            )
        lines.append("".join(parts))
    out["clustering_summary"] = "\n".join(lines) + "\n" if lines else ""

    figure = RESULTS / "clustering" / "clustering_codes_2d.png"
    if figure.exists():
        panels = ", ".join(r["label"] for r in report.get("codes_2d", []))
        out["clustering_figure"] = (
            ".. figure:: ../results/clustering/clustering_codes_2d.png\n"
            "   :target: ../_images/clustering_codes_2d.png\n"
            "   :alt: 2-D codes of all MNIST images, coloured by digit, for PCA, the "
            "autoencoder without and with n_neighbors=15, and UMAP\n\n"
            "   ``clustering_codes_2d.png``: the 2-D codes of every MNIST image from a fit "
            f"on all of them ({panels}; ``random_state=0``), coloured by digit. The NMI in "
            "each title is KMeans(10) on those 2-D codes.\n"
        )
    else:
        out["clustering_figure"] = ""
    return out


README_CLUSTER_START = (
    "<!-- clustering-table: written by docs/make_tables.py from docs/results/clustering -->"
)
README_CLUSTER_END = "<!-- /clustering-table -->"


def readme_clustering_table(report):
    """The README's clustering table: MNIST, NMI / ARI / fit / MSE against PCA's, in markdown."""
    groups = _cluster_groups(report)
    lines = [
        "| MNIST, 10-D codes | NMI | ARI | fit, CPU (s) | held-out MSE / PCA's |",
        "|---|---:|---:|---:|---:|",
    ]
    for method in CLUSTER_METHODS:
        rs = groups.get(("mnist", method))
        if rs:
            lines.append(
                f"| {rs[0]['label']} | {_per_seed(rs, 'nmi', '.3f')} | "
                f"{_per_seed(rs, 'ari', '.3f')} | {_per_seed(rs, 'fit_cpu_seconds', '.0f')} | "
                f"{_per_seed(rs, 'mse_vs_pca', '.2f')} |"
            )
    return "\n".join(lines)


# ------------------------------------------------ bench_clustering.py --panel, --ablations


def _run_line(report, loads=()):
    """The command, the commit, the machine and its load: one paragraph."""
    env = report["environment"]
    versions = ", ".join(
        f"{name} {env[name]}"
        for name in ("skae", "numpy", "scikit-learn", "umap-learn", "pynndescent")
        if name in env
    )
    pools = sorted(
        {f"{p['internal_api']} {p['num_threads']}" for p in env.get("blas") or [] if p},
    )
    threads = f"threads: {', '.join(pools)}; " if pools else ""
    seconds = report["total_seconds"]
    took = f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"
    loads = [v for v in loads if v is not None]
    during = f", {_span(loads, '.1f')} just before the timed fits" if loads else ""
    return (
        f"This run: ``{report['command']}``"
        + (f" at commit ``{report['git_commit']}``" if report.get("git_commit") else "")
        + f", {took} in all, one fit at a time on {env['cores']} cores "
        f"({env.get('cpu') or 'CPU unknown'}; {threads}Python {env['python']}, {versions}). "
        "The machine is shared with other work: its 1-minute load, the run's own threads "
        f"included, was {report['load_average_start'][0]:.1f} at the start, "
        f"{report['load_average_end'][0]:.1f} at the end{during}; above 2 the times are "
        "slower than an idle machine's. The scores do not depend on the load."
    )


def _by_label(rows):
    """The panel's rows grouped by the set's label, in the order of the run."""
    groups = {}
    for r in rows:
        groups.setdefault(r["label"], []).append(r)
    return groups


def clustering_panel_table(report):
    """The panel: per set, the NMI and fit time of each seed, skae beside UMAP."""
    rows = []
    for label, rs in _by_label(report["rows"]).items():
        rows.append(
            [
                label,
                f"{rs[0]['n_rows']:,}",
                _per_seed(rs, "skae_nmi", ".3f").replace(" / ", SEED_JOIN),
                _per_seed(rs, "umap_nmi", ".3f").replace(" / ", SEED_JOIN),
                _per_seed(rs, "skae_fit_seconds", ".1f").replace(" / ", SEED_JOIN),
                _per_seed(rs, "umap_fit_seconds", ".1f").replace(" / ", SEED_JOIN),
                _per_seed(rs, "fit_time_ratio", ".2f").replace(" / ", SEED_JOIN),
            ]
        )
    seeds = "/".join(str(s) for s in report["seeds"])
    text = table(
        [
            "data set",
            "rows",
            f"skae NMI, seeds {seeds}",
            f"UMAP NMI, runs {seeds}",
            "skae fit (s)",
            "UMAP fit (s)",
            "skae / UMAP fit time",
        ],
        rows,
        widths=[18, 10, 14, 14, 12, 12, 12],
    )
    loads = [r.get(key) for r in report["rows"] for key in ("load_1min_skae", "load_1min_umap")]
    dim = report.get("n_components") or "k"
    text += (
        "\n"
        + _run_line(report, loads)
        + " KMeans(k, n_init=10, random_state=0) on the codes of the fitted rows, k the "
        "number of classes, scored by NMI against the labels. skae: "
        f"``AutoencoderTransformer(n_components={dim}, n_neighbors=15, random_state=seed)``, "
        "its wall time of ``fit``. UMAP: "
        f"``umap.UMAP(n_components={dim}, n_neighbors=15, min_dist=0.0)``; "
        f"{report.get('umap_timing') or 'not run.'} {report['data_seed_note']}\n"
    )
    sweep = report.get("scaling", [])
    if len(sweep) > 1:  # a sweep needs two sizes
        text += "\n" + table(
            ["MNIST grown, seed 0", "skae NMI", "UMAP NMI", "skae fit (s)", "UMAP fit (s)"],
            [
                [
                    f"{r['n_rows']:,} rows",
                    fmt(r.get("skae_nmi"), ".3f"),
                    fmt(r.get("umap_nmi"), ".3f"),
                    fmt(r.get("skae_fit_seconds"), ".1f"),
                    fmt(r.get("umap_fit_seconds"), ".1f"),
                ]
                for r in sweep
            ],
        )
    return text


def clustering_panel_figure():
    if not (RESULTS / "clustering" / "panel_scaling.png").exists():
        return ""
    return (
        ".. figure:: ../results/clustering/panel_scaling.png\n"
        "   :target: ../_images/panel_scaling.png\n"
        "   :alt: NMI and fit time against the rows of MNIST grown (10,000, 30,000 and "
        "100,000), for the autoencoder with n_neighbors=15 and for UMAP\n\n"
        "   ``panel_scaling.png``: MNIST grown by shifted, noisy copies of its images, seed 0: "
        "the NMI of KMeans(10) on the codes (left) and the fit time (right, log scale) against "
        "the rows.\n"
    )


def clustering_scale_figure():
    if not (RESULTS / "clustering" / "scale.png").exists():
        return ""
    return (
        ".. figure:: ../results/clustering/scale.png\n"
        "   :target: ../_images/scale.png\n"
        "   :alt: NMI and fit time against the rows of MNIST grown, from 10,000 to "
        "1,000,000, for the autoencoder with n_neighbors=15 and for UMAP\n\n"
        "   ``scale.png``: the runs of the table above, the NMI of KMeans(10) on the codes "
        "(left) and the fit time (right, log scale) against the rows; a triangle marks a fit "
        "stopped before it was done.\n"
    )


def _mean_range(values):
    """``mean (lowest-highest)`` of NMI values; the mean alone where they all agree."""
    low, high = f"{min(values):.3f}", f"{max(values):.3f}"
    return f"{statistics.mean(values):.3f}" + (f" ({low}-{high})" if low != high else "")


def _difference(value):
    """A signed difference to three decimals; below half a thousandth, 0.000."""
    return "0.000" if abs(value) < 0.0005 else f"{value:+.3f}"


def clustering_spread_table(report):
    """The panel repeated: per set, skae's seeds and UMAP's runs as a mean and a range."""
    rows = []
    for label, rs in _by_label(report["rows"]).items():
        skae = [r["skae_nmi"] for r in rs]
        umap = [r["umap_nmi"] for r in rs if r.get("umap_nmi") is not None]
        rows.append(
            [
                label,
                f"{rs[0]['n_rows']:,}",
                _mean_range(skae),
                _mean_range(umap) if umap else "",
                _difference(statistics.mean(skae) - statistics.mean(umap)) if umap else "",
                f"{statistics.median(r['fit_time_ratio'] for r in rs):.2f}" if umap else "",
            ]
        )
    n = len(report["seeds"])
    first, last = report["seeds"][0], report["seeds"][-1]
    consecutive = report["seeds"] == list(range(first, last + 1))
    seeds = f"{first} to {last}" if consecutive else "/".join(map(str, report["seeds"]))
    text = table(
        [
            "data set",
            "rows",
            f"skae NMI, seeds {seeds}",
            f"UMAP NMI, {n} runs",
            "difference of the means",
            "median skae / UMAP fit time",
        ],
        rows,
        widths=[18, 10, 18, 18, 12, 12],
    )
    loads = [r.get(key) for r in report["rows"] for key in ("load_1min_skae", "load_1min_umap")]
    return (
        f"{text}\n{_run_line(report, loads)} The panel's fits and scoring, {n} times per set: "
        "skae with ``random_state`` set to each seed, UMAP not seeded (so parallel), one run "
        "beside each of skae's fits. Mean NMI (lowest-highest; the mean alone where all runs "
        "agree).\n"
    )


def clustering_layouts_table(report):
    """The layout epochs of skae and umap-learn on the same graphs: NMI over the seeds."""
    methods = list(report["methods"])
    rows = []
    for key in dict.fromkeys((r["dataset"], r["graph"]) for r in report["rows"]):
        rs = [r for r in report["rows"] if (r["dataset"], r["graph"]) == key]
        cells = [_mean_range([r[f"{m}_nmi"] for r in rs]) for m in ("start", *methods)]
        seconds = " / ".join(
            f"{statistics.median(r[f'{m}_seconds'] for r in rs):.1f}" for m in methods
        )
        rows.append([key[0], f"{rs[0]['n_rows']:,}", report["graphs"][key[1]], *cells, seconds])
    seeds = "/".join(str(s) for s in report["seeds"])
    text = table(
        [
            "data set",
            "rows",
            "graph on",
            "the spectral start",
            *(report["methods"][m] for m in methods),
            "median seconds of the three epochs columns (in that order)",
        ],
        rows,
    )
    epochs = {}
    for r in report["rows"]:
        epochs.setdefault(r["dataset"], (r["n_epochs"], r.get("umap_n_epochs", r["n_epochs"])))
    counts = "; ".join(f"{name} {ours} and {theirs}" for name, (ours, theirs) in epochs.items())
    note = (
        f"Mean NMI of KMeans(k, n_init=10, random_state=0) on each layout over seeds {seeds} "
        "(lowest-highest). skae's and umap-learn's epochs each run their default number for "
        f"the rows (skae's and umap-learn's: {counts}), except the column "
        f'"{report["methods"]["skae_long"]}", {report["epochs_factor"]} times as many of '
        "skae's. "
    )
    run = _run_line(report).replace("one fit at a time", "one layout at a time")
    text = f"{text}\n{note}{report['layout_note']} {run}\n"
    if all("start_within" in r for r in report["rows"]):
        text += "\n" + clustering_layouts_within_table(report)
    return text


def clustering_layouts_within_table(report):
    """The layouts' within-class share of variance, mean over the seeds."""
    methods = list(report["methods"])
    rows = []
    for key in dict.fromkeys((r["dataset"], r["graph"]) for r in report["rows"]):
        rs = [r for r in report["rows"] if (r["dataset"], r["graph"]) == key]
        cells = [
            f"{statistics.mean(r[f'{m}_within'] for r in rs):.3f}" for m in ("start", *methods)
        ]
        rows.append([key[0], report["graphs"][key[1]], *cells])
    text = table(
        [
            "data set",
            "graph on",
            "the spectral start",
            *(report["methods"][m] for m in methods),
        ],
        rows,
    )
    return (
        f"{text}\nThe same layouts' share of their variance within the classes ("
        f"{report['within_class_share']}; mean over the seeds): the lower, the tighter and "
        "further apart the classes' clusters.\n"
    )


def clustering_ablations_table(report):
    """The ablations: each part of the training left out or changed, on each set."""
    rows = [
        [
            r["dataset"],
            r["label"],
            fmt(r["nmi"], ".3f"),
            fmt(r["fit_seconds"], ".1f"),
            fmt(r.get("mse_vs_pca"), ".3f") or "-",
            fmt(r.get("nmi_train"), ".3f"),
            fmt(r.get("nmi_new"), ".3f") or "-",
        ]
        for r in report["rows"]
    ]
    text = table(
        [
            "data set",
            "variant",
            "NMI, all rows",
            "fit (s)",
            "held-out MSE / PCA's",
            "NMI, training rows (80%)",
            "NMI, new rows (20%)",
        ],
        rows,
        widths=[10, 30, 10, 8, 12, 14, 14],
    )
    loads = [r.get("load_1min") for r in report["rows"]]
    return (
        text
        + "\n"
        + _run_line(report, loads)
        + f" Seed (``random_state``) {report['seed']}, float32 input. The first NMI is "
        "KMeans(k, n_init=10, random_state=0) on the codes of a fit on all rows; the others "
        "come from a fit on a fixed 80% of the rows: KMeans fitted on their codes, then asked "
        "for the clusters of the held-out rows' codes. The fit time of the layout alone is its "
        f"graph and its layout. {report['layout_note']}\n"
    )


# --------------------------------------------------------- measure_variants


def variants_tables(report):
    out = {}
    d = report["denoising"]
    out["variants_denoising"] = table(
        [
            "reconstructing",
            "from clean test digits",
            f"from noisy test digits (sigma={d['sigma']})",
        ],
        [[r["model"], fmt(r["clean"], ".4f"), fmt(r["noisy"], ".4f")] for r in d["rows"]],
        widths=[40, 25, 25],
    )
    t = report["tied"]
    out["variants_tied"] = table(
        ["model", "weights", f"test MSE ({t['n_test']:,} digits)"],
        [[r["model"], fmt(r["weights"], ","), fmt(r["test_mse"], ".4f")] for r in t["rows"]],
        widths=[50, 20, 25],
    )
    out["variants_sparse"] = table(
        ["code_l1", "code entries under 5% of their row's largest", "reconstruction MSE"],
        [
            [fmt(r["code_l1"], "g"), fmt(r["small_share"], ".2f"), fmt(r["mse"], ".4f")]
            for r in report["sparse"]["rows"]
        ],
        widths=[15, 45, 25],
    )
    return out


# ------------------------------------------------------------ tuning runs


def tuning_tables(reports):
    """One row per run: the autoencoder's held-out MSE / PCA's on each data set."""
    rows = []
    for name, report in reports:
        ae = [r for r in report["results"] if r["method"] == "ae"]
        cells = []
        for dataset in DATASETS:
            ratios = sorted(
                (r["n_components"], r["mse_vs_pca"]) for r in ae if r["dataset"] == dataset
            )
            cells.append(" / ".join(f"{v:.3f}" for _, v in ratios) or "")
        worst = max(ae, key=lambda r: r["mse_vs_pca"])
        mnist_epochs = [
            str(r.get("n_iter", ""))
            for r in sorted(ae, key=lambda r: r["n_components"])
            if r["dataset"] == "mnist"
        ]
        rows.append(
            [
                f"``{name}``",
                *cells,
                f"{worst['mse_vs_pca']:.3f} ({worst['dataset']}, k={worst['n_components']})",
                " / ".join(mnist_epochs),
            ]
        )
    sizes = "/".join(str(k) for k in reports[0][1]["sizes"]) if reports else ""
    return table(
        [
            "run",
            *(f"{d}, k={sizes}" for d in DATASETS),
            "worst",
            "MNIST epochs",
        ],
        rows,
    )


def tuning_mnist_table(reports):
    """MNIST, per run: held-out and training-rows MSE / PCA's, and epochs, by k."""
    rows = []
    for name, report in reports:
        by_k = {}
        for r in report["results"]:
            if r["dataset"] == "mnist" and r["method"] in ("ae", "pca"):
                by_k.setdefault(r["n_components"], {})[r["method"]] = r
        if not by_k:
            continue
        ks = sorted(k for k in by_k if {"ae", "pca"} <= set(by_k[k]))
        held = [by_k[k]["ae"]["mse_vs_pca"] for k in ks]
        train = [by_k[k]["ae"]["mse_train"] / by_k[k]["pca"]["mse_train"] for k in ks]
        epochs = [str(by_k[k]["ae"].get("n_iter", "")) for k in ks]
        rows.append(
            [
                f"``{name}``",
                " / ".join(f"{v:.3f}" for v in held),
                " / ".join(f"{v:.3f}" for v in train),
                " / ".join(epochs),
            ]
        )
    sizes = "/".join(str(k) for k in reports[0][1]["sizes"]) if reports else ""
    return table(
        [
            "run",
            f"held-out MSE / PCA's, k={sizes}",
            f"training rows MSE / PCA's, k={sizes}",
            "epochs",
        ],
        rows,
    )


# ------------------------------------------------------------ bench_speed.py


def speed_tables(report):
    out = {}
    machine = report.get("machine", {})
    blas = ", ".join(
        f"{b.get('internal_api')} {b.get('version')} ({b.get('architecture')})"
        for b in machine.get("blas", [])
    )
    out["speed_run"] = (
        f"This run: ``{report['command']}`` on {report['data']} "
        f"({report['shape'][0]:,} x {report['shape'][1]}), {report['epochs']} epoch(s) per "
        f"timed run, {report['repeats']} repeats; {machine.get('cpu', '?')}, "
        f"{machine.get('cores', '?')} cores, Python {machine.get('python', '?')}, NumPy "
        f"{machine.get('numpy', '?')}, scikit-learn {machine.get('scikit-learn', '?')}, "
        f"PyTorch {machine.get('torch') or 'not installed'}; BLAS: {blas or '?'}. Load "
        f"average (1, 5, 15 min) {report.get('load_average_start')} at the start, "
        f"{report.get('load_average_end')} at the end.\n"
    )
    train = report.get("training", [])
    if train:
        rows = []
        for r in train:
            if r["contender"] == "roofline+path":
                continue
            spread = f"{min(r['epoch_s_all']):.3f}-{max(r['epoch_s_all']):.3f}"
            rows.append(
                [
                    r["dtype"],
                    r["batch_size"],
                    r["contender"],
                    f"{r['epoch_s']:.3f} ({spread})",
                    f"{r['roofline_fraction']:.0%}",
                    fmt(r.get("vs_MLPRegressor"), ".2f") + ("x" if "vs_MLPRegressor" in r else ""),
                    fmt(r.get("vs_torch"), ".2f") + ("x" if "vs_torch" in r else ""),
                ]
            )
        out["speed_training"] = table(
            [
                "dtype",
                "batch",
                "contender",
                "s/epoch: median (min-max)",
                "roofline fraction",
                "time vs MLPRegressor",
                "time vs torch",
            ],
            rows,
        )
    transform = report.get("transform", [])
    if transform:
        rows = []
        for r in transform:
            rows_n = r["rows_per_s"] * statistics.median(r["seconds_all"])
            spread = f"{rows_n / max(r['seconds_all']):,.0f}-{rows_n / min(r['seconds_all']):,.0f}"
            rows.append(
                [
                    r["dtype"],
                    r["contender"],
                    f"{r['rows_per_s']:,.0f} ({spread})",
                    f"{r['roofline_fraction']:.0%}",
                    f"{r['vs_PCA']:.1f}x",
                ]
            )
        out["speed_transform"] = table(
            ["dtype", "transform", "rows/s: median (min-max)", "roofline fraction", "time vs PCA"],
            rows,
        )
    memory = report.get("memory", [])
    if memory:
        out["speed_memory"] = table(
            [
                "version",
                "fit on",
                "data",
                "resident before fit",
                "peak during fit",
                "peak - before",
                "fit time",
            ],
            [
                [
                    r["version"],
                    f"{r['rows']:,} x {r['features']} float32, {r['epochs']} epoch(s), "
                    f"batch {r['batch_size']}",
                    f"{r['data_mb']:.0f} MB",
                    f"{r['baseline_mb']:.0f} MB",
                    f"{r['peak_mb']:.0f} MB",
                    f"{r['peak_minus_baseline_mb']:.0f} MB",
                    f"{r['fit_s']:.1f} s",
                ]
                for r in memory
            ],
        )
    profile = report.get("profile", [])
    if profile:
        phases = [k for k in profile[0] if k not in ("dtype", "batch_size", "version", "epoch_s")]
        out["speed_profile"] = (
            "Where the time goes\n"
            "===================\n\n"
            "``--profile`` wraps the core's functions with timers during one warm-started fit "
            "(per epoch, ``linear_path=False``):\n\n"
        ) + table(
            ["dtype", "batch", "version", "s/epoch", *(p.replace("_", " ") for p in phases)],
            [
                [
                    r["dtype"],
                    r["batch_size"],
                    r["version"],
                    f"{r['epoch_s']:.3f}",
                    *(f"{r[p] * 1e3:.0f} ms ({r[p] / r['epoch_s']:.0%})" for p in phases),
                ]
                for r in profile
            ],
        )
    for part in ("training", "transform", "memory"):
        out.setdefault(
            f"speed_{part}",
            f".. note::\n\n   This run of ``bench_speed.py`` left out its {part} part.\n",
        )
    out.setdefault("speed_profile", "")
    return out


# ----------------------------------------------------------- bench_stream.py


def stream_tables(report):
    out = {}
    s = report["stream"]
    machine = report.get("machine", {})
    out["stream_run"] = (
        f"This run: {machine.get('cpus', '?')} CPUs, Python {machine.get('python', '?')}, "
        f"NumPy {machine.get('numpy', '?')}; load average {machine.get('load_before')} "
        f"before, {machine.get('load_after')} after.\n"
    )
    out["stream_memmap"] = table(
        [
            f"streaming {s['rows']:,} x {s['features']} float32 ({s['file_gb']} GB) "
            f"through fit_chunks, {s['epochs']} epoch(s)",
            "value",
        ],
        [
            [
                "chunk_size / batch_size",
                f"{s['chunk_size']:,} rows / {s['batch_size']} rows "
                f"({s['partial_fit_calls']} partial_fit calls)",
            ],
            ["training time", f"{s['train_s']} s"],
            ["throughput", f"{s['rows_per_s']:,} rows/s"],
            ["RssAnon before training", f"{s['rss_anon_before_mb']} MB"],
            [
                "peak RssAnon during training (sampled)",
                f"{s['peak_rss_anon_mb']} MB (limit {s['rss_anon_limit_mb']} MB)",
            ],
            ["peak RssFile (the memmap's pages in the page cache)", f"{s['peak_rss_file_mb']} MB"],
            [
                "VmHWM (anonymous + file-backed, reset before training)",
                fmt(s["vm_hwm_mb"], "") + " MB",
            ],
            [
                "explained variance on 100,000 rows: autoencoder (8 codes) vs PCA (8)",
                f"{s['explained_variance_autoencoder']} vs {s['explained_variance_pca']}",
            ],
        ],
        widths=[60, 40],
    )
    g = report["grid_search"]
    if "skipped" in g:
        out["stream_grid"] = f".. note::\n\n   This run skipped the grid search: {g['skipped']}.\n"
    else:

        def times(key):
            return ", ".join(str(t) for t in g[key])

        out["stream_grid"] = table(
            [
                f"GridSearchCV, {g['candidates']} candidates x 3 folds, {g['rows']:,} x "
                f"{g['features']} {g['dtype']}, max_iter={g['max_iter']}",
                f"median wall time ({g['repeats']} runs)",
            ],
            [
                [
                    f"n_jobs=1, BLAS on its default {g['blas_threads_default']} threads",
                    f"{g['n_jobs_1_median_s']} s ({times('n_jobs_1_times_s')})",
                ],
                [
                    "n_jobs=1, BLAS on 1 thread",
                    f"{g['n_jobs_1_blas_1_median_s']} s ({times('n_jobs_1_blas_1_times_s')})",
                ],
                [
                    f"n_jobs=-1, dask backend, {g['cluster']}",
                    f"{g['dask_median_s']} s ({times('dask_times_s')})",
                ],
            ],
            widths=[65, 35],
        )
        identical = (
            "identical to" if g["dask_scores_identical_to_blas_1_run"] else "not identical to"
        )
        out["stream_grid_scores"] = (
            f"Cluster start-up took {g['cluster_startup_s']} s and is not included. The "
            f"cluster's ``mean_test_score`` was {identical} the one-BLAS-thread local run's "
            f"(largest difference {g['max_abs_score_difference_vs_blas_1_run']:.2g}) and "
            f"differed from the default-threaded local run's by at most "
            f"{g['max_abs_score_difference_vs_n_jobs_1']:.2g}. Best parameters: "
            + ", ".join(f"``{k}={v}``" for k, v in g["best_params"].items())
            + ".\n"
        )
    out.setdefault("stream_grid_scores", "")
    return out


# -------------------------------------------------------------------- main


def clustering_scale_table(report):
    """The neighbour-graph term on a million rows, beside UMAP: time, memory, NMI."""
    rows = []
    for r in sorted(report["runs"], key=lambda r: (r["rows"], r["method"])):
        method = (
            "AutoencoderTransformer(10, n_neighbors=15)"
            if r["method"] == "skae"
            else "umap-learn UMAP(10)"
        )
        if r["status"] == "done":
            cells = [
                f"{r['fit_seconds'] / 60:.0f} min"
                if r["fit_seconds"] >= 120
                else f"{r['fit_seconds']:.1f} s",
                f"{r['peak_rss_gb']:.1f} GB",
                f"{r['nmi']:.3f}",
            ]
        elif r["status"] == "timeout":
            cells = [f"not done in {r['timeout_seconds'] / 60:.0f} min (stopped)", "", ""]
        else:
            cells = ["failed", "", ""]
        loads = f"{r['load_before'][0]:.1f} / {r['load_after'][0]:.1f}" if "load_after" in r else ""
        rows.append([f"{r['rows']:,}", method, *cells, loads, f"``{r['commit']}``"])
    return table(
        ["rows", "method", "fit", "peak memory", "NMI", "1-min load before / after", "commit"],
        rows,
    ) + (
        "\nThe fit's wall time; the peak resident memory of its process, the data "
        "(3.1 GB at a million rows) included; KMeans(10) fitted on at most 100,000 of the "
        "codes and applied to all. The machine's 1-minute load just before and after each "
        "fit is shown: above 2, other work shared its 2 cores.\n" + _scale_phases(report)
    )


# The autoencoder's phases: each starts at the first progress line holding its marker.
SCALE_PHASES = (
    ("principal components", "Principal components:"),
    ("neighbour graph", "Neighbours:"),
    ("spectral start", "Graph layout: spectral start"),
    ("layout epochs", " epochs over "),
    ("network epochs", "Network:"),
)


def _scale_phases(report):
    """Where the autoencoder's fit time goes, from its time-stamped progress report."""
    rows = []
    for r in sorted(report["runs"], key=lambda r: r["rows"]):
        if r["method"] != "skae" or r["status"] != "done":
            continue
        starts = {}
        for line in r.get("log", "").splitlines():
            stamp, _, text = line.partition(" s] ")
            for name, marker in SCALE_PHASES:
                if marker in text and name not in starts and stamp.startswith("["):
                    starts[name] = float(stamp.strip("[ "))
        if len(starts) < len(SCALE_PHASES):
            continue  # a run from before the progress report carried its times
        times = [starts[name] for name, _ in SCALE_PHASES] + [r["fit_seconds"]]
        cells = [f"{end - begin:.0f} s" for begin, end in zip(times, times[1:])]
        rows.append([f"{r['rows']:,}", *cells, f"{r['fit_seconds']:.0f} s"])
    if not rows:
        return ""
    return (
        "\nWhere the autoencoder's fit time goes, from its progress report (``verbose=1``), "
        "each phase from the first line it prints to the next phase's:\n\n"
        + table(["rows", *(name for name, _ in SCALE_PHASES), "fit"], rows)
    )


def clustering_transform_table(report):
    """New rows' codes: the autoencoder's transform beside UMAP's, in rows per second."""
    rows = [
        [
            r["dataset"],
            f"{r['n_test']:,}",
            str(r["threads"]),
            f"{r['skae_rows_per_second']:,.0f}",
            fmt(r.get("umap_rows_per_second"), ",.0f"),
            fmt(r.get("ratio"), ".0f"),
            fmt(r.get("load_1min"), ".1f"),
        ]
        for r in report["rows"]
    ]
    header = ["data set", "new rows", "threads", "skae rows/s", "UMAP rows/s", "ratio"]
    return (
        table([*header, "1-min load"], rows)
        + f"\nMedians of {report['repeats']} measurements per method, taken in turns, "
        f"with the load just after them. This run: ``{report['command']}`` at commit "
        f"``{report['git_commit']}``, on {report['environment']['cores']} cores; 1-minute "
        f"load {report['load_average_start'][0]:.1f} at the start, "
        f"{report['load_average_end'][0]:.1f} at the end.\n"
    )


def clustering_shared_neighbors_table(report):
    """Sparse rows: NMI and neighbour purity for each multiple of candidates, beside UMAP."""
    multiples = report["candidates"]
    rows = [
        [
            r["dataset"],
            f"{r['n_rows']:,}",
            str(r["n_classes"]),
            *(f"{r[f'nmi_{m}']:.3f} ({r[f'purity_{m}']:.3f})" for m in multiples),
            fmt(r.get("umap_nmi"), ".3f"),
        ]
        for r in report["rows"]
    ]
    header = [
        "data set",
        "rows",
        "topics",
        *(f"x{m}" + (" (default)" if m == report["default"] else "") for m in multiples),
        "UMAP",
    ]
    return (
        table(header, rows)
        + "\nEach cell: KMeans NMI on the codes of ``AutoencoderTransformer(n_components=k, "
        f"n_neighbors=15, random_state={report['seed']})``, and in brackets the share of "
        "kept neighbours of the row's own topic, when each row searches that multiple of "
        "its 14 neighbours and keeps the 14 sharing most of them (x1: the nearest alone). "
        f"This run: ``{report['command']}`` at commit ``{report['git_commit']}``, "
        f"{report['total_seconds'] / 60:.0f} min on {report['environment']['cores']} cores; "
        f"1-minute load {report['load_average_start'][0]:.1f} at the start, "
        f"{report['load_average_end'][0]:.1f} at the end.\n"
    )


# --------------------------------------------------------- model selection

MODEL_SELECTION_COMMAND = (
    "python benchmarks/bench_model_selection.py --out docs/results/model_selection"
)
MODEL_SELECTION_DATASETS = ("mnist", "digits")
MODEL_SELECTION_LABELS = {
    "kmeans": "KMeans' score (the default)",
    "reconstruction": "reconstruction",
    "trustworthiness_5": "trustworthiness, 5 neighbours",
    "trustworthiness_15": "trustworthiness, 15 neighbours",
    "stability": "stability of the clusters",
    "silhouette": "silhouette",
    "trustworthiness_15 * stability": "trustworthiness (15) x stability",
    "mean(trustworthiness_15, stability)": "**their mean: the scorer**",
}
# One value per seed; no-break spaces keep a cell's values on one line.
SEED_JOIN = "\u00a0/\u00a0"


def model_selection_tables(reports):
    """Each candidate score's Spearman correlation with the NMI, and the NMI of its choice.

    ``reports`` maps a data set to the JSON of ``benchmarks/bench_model_selection.py``.
    """
    names = [n for n in MODEL_SELECTION_DATASETS if n in reports]
    if not names:
        note = (
            ".. note::\n\n   ``results/model_selection/`` is not in this checkout, so its "
            f"table is not shown. ``{MODEL_SELECTION_COMMAND}`` writes it; "
            "``python docs/make_tables.py`` then builds the table.\n"
        )
        return {"model_selection_table": note, "model_selection_run": ""}

    def seeds(name, candidate, key, spec):
        runs = reports[name]["runs"].values()
        return SEED_JOIN.join(format(run["summary"][candidate][key], spec) for run in runs)

    header = ["score"]
    for name in names:
        header += [f"{name}: Spearman's rho", f"{name}: NMI of its choice"]
    rows = []
    for candidate, label in MODEL_SELECTION_LABELS.items():
        row = [label]
        for name in names:
            row += [
                seeds(name, candidate, "spearman", "+.2f"),
                seeds(name, candidate, "nmi_of_choice", ".2f"),
            ]
        rows.append(row)
    best = ["best NMI of the grid"]
    for name in names:
        runs = reports[name]["runs"].values()
        best += ["", SEED_JOIN.join(format(run["summary"]["best_nmi"], ".2f") for run in runs)]
    rows.append(best)
    widths = [28] + [18, 18] * len(names)
    lines = []
    for name in names:
        report = reports[name]
        setup = report["settings"]
        grid = "; ".join(
            f"``{k}`` " + ", ".join(str(tuple(v) if isinstance(v, list) else v) for v in values)
            for k, values in setup["grid"].items()
        )
        runs = report["runs"]
        loads = [run["load_average"][0][0] for run in runs.values() if run.get("load_average")]
        lines.append(
            f"- **{name}**: {setup['rows']:,} rows of {setup['n_features']} features, "
            f"{setup['cv']} shuffled folds, ``n_neighbors={setup['n_neighbors']}``, "
            f"``n_epochs={setup['n_epochs']}``; the grid {grid} "
            f"({len(next(iter(runs.values()))['params'])} settings); seeds "
            f"{', '.join(runs)}; commit ``{report['git_commit']}``"
            + (
                f", 1-minute load {', '.join(f'{v:.1f}' for v in loads)} at the starts"
                if loads
                else ""
            )
            + "."
        )
    return {
        "model_selection_table": table(header, rows, widths=widths),
        "model_selection_run": "\n".join(lines) + "\n",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--no-readme",
        action="store_true",
        help="leave README.md's tables alone (the docs build passes this)",
    )
    args = parser.parse_args(argv)
    written = []

    def emit(tables):
        for name, text in tables.items():
            written.append(write(name, text))

    selection = RESULTS / "model_selection"
    emit(
        model_selection_tables(
            {p.stem: load(p) for p in sorted(selection.glob("*.json")) if p.is_file()}
        )
    )

    path = RESULTS / "compare" / "results.json"
    if path.exists():
        emit(compare_tables(load(path)))
        if not args.no_readme and update_readme(load(path)):
            print("updated the benchmark table of README.md")
    else:
        note = missing("compare", path)
        emit(
            dict.fromkeys(
                ("compare_ratios", "compare_clustering", "compare_all", "compare_summary"), note
            )
        )
        emit({"compare_run": ""})

    path = RESULTS / "variants.json"
    if path.exists():
        emit(variants_tables(load(path)))
    else:
        emit(
            dict.fromkeys(
                ("variants_denoising", "variants_tied", "variants_sparse"),
                missing("variants", path),
            )
        )

    tuning = RESULTS / "tuning"
    reports = [
        (run, load(tuning / f"{run}.json"))
        for run in TUNING_RUNS
        if (tuning / f"{run}.json").exists()
    ]
    main_run = RESULTS / "compare" / "results.json"
    if main_run.exists():
        reports.append(("defaults", load(main_run)))
    if reports:
        emit({"tuning_steps": tuning_tables(reports), "tuning_mnist": tuning_mnist_table(reports)})
    else:
        note = missing("tuning", tuning / "RUN.json")
        emit({"tuning_steps": note, "tuning_mnist": note})

    path = RESULTS / "clustering" / "scale.json"
    emit(
        {
            "clustering_scale": clustering_scale_table(load(path))
            if path.exists()
            else missing("clustering_scale", path),
            "clustering_scale_figure": clustering_scale_figure(),
        }
    )

    path = RESULTS / "speed.json"
    if path.exists():
        emit(speed_tables(load(path)))
    else:
        note = missing("speed", path)
        emit(dict.fromkeys(("speed_training", "speed_transform", "speed_memory"), note))
        emit({"speed_run": "", "speed_profile": ""})

    path = RESULTS / "stream.json"
    if path.exists():
        emit(stream_tables(load(path)))
    else:
        emit(
            {
                "stream_memmap": missing("stream", path),
                "stream_run": "",
                "stream_grid": "",
                "stream_grid_scores": "",
            }
        )

    path = RESULTS / "clustering" / "clustering.json"
    if path.exists():
        emit(clustering_tables(load(path)))
        if not args.no_readme and update_readme(
            load(path), README_CLUSTER_START, README_CLUSTER_END, readme_clustering_table
        ):
            print("updated the clustering table of README.md")
    else:
        emit({"clustering_table": missing("clustering", path)})
        emit(dict.fromkeys(("clustering_run", "clustering_summary", "clustering_figure"), ""))

    path = RESULTS / "clustering" / "panel.json"
    if path.exists():
        emit({"clustering_panel": clustering_panel_table(load(path))})
    else:
        emit({"clustering_panel": missing("clustering_panel", path)})
    emit({"clustering_panel_figure": clustering_panel_figure()})

    # One table from one results file each, or a note naming the command that writes it.
    single_tables = (
        (
            "clustering_shared_neighbors",
            "clustering/shared_neighbors.json",
            clustering_shared_neighbors_table,
        ),
        ("clustering_transform", "clustering/transform.json", clustering_transform_table),
        ("clustering_panel_2d", "clustering/panel_2d/panel.json", clustering_panel_table),
        ("clustering_held_out", "clustering/held_out/panel.json", clustering_panel_table),
        (
            "clustering_held_out_ablations",
            "clustering/held_out/ablations.json",
            clustering_ablations_table,
        ),
        ("clustering_spread", "clustering/spread/panel.json", clustering_spread_table),
        (
            "clustering_held_out_spread",
            "clustering/held_out/spread/panel.json",
            clustering_spread_table,
        ),
        ("clustering_layouts", "clustering/layouts.json", clustering_layouts_table),
        ("clustering_ablations", "clustering/ablations.json", clustering_ablations_table),
    )
    for name, relative, make_table in single_tables:
        path = RESULTS / relative
        emit({name: make_table(load(path)) if path.exists() else missing(name, path)})

    for path in written:
        print(f"wrote {path.relative_to(DOCS.parent)}")


if __name__ == "__main__":
    main()
