"""Every ``examples/plot_*.py`` runs headless in its quick mode and writes a PNG.

The scripts run in this process (``runpy``), so the imports of scikit-learn
and matplotlib are paid once, not once per example.
"""

import runpy
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

matplotlib = pytest.importorskip("matplotlib")

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


def test_examples_are_found():
    assert EXAMPLES, "no examples/plot_*.py found"


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_writes_a_png(script, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("SKAE_EXAMPLE_QUICK", "1")
    monkeypatch.setenv("SKAE_EXAMPLE_OUTPUT", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # anything written to the working directory lands here too
    try:
        # KMeans's OpenMP threads, like BLAS's, only contend on small data.
        with threadpool_limits(limits=1):
            runpy.run_path(str(script), run_name="__main__")
    finally:
        plt.close("all")
    pngs = list(tmp_path.glob("*.png"))
    assert pngs, f"{script.name} wrote no PNG"
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{png.name} is not a PNG"
        assert png.stat().st_size > 1000, f"{png.name} is nearly empty"
