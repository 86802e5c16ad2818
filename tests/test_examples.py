"""Every ``examples/plot_*.py`` runs headless in its quick mode.

The scripts run in this process (``runpy``), so the imports of scikit-learn
and matplotlib are paid once, not once per example. Each must save its figure
into ``SKAE_EXAMPLE_OUTPUT`` and write nothing into the working directory; each
starts with the titled docstring the documentation's gallery needs.
"""

import ast
import runpy
import warnings
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

matplotlib = pytest.importorskip("matplotlib")

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


def test_examples_are_found():
    assert EXAMPLES, "no examples/plot_*.py found"


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_has_a_gallery_title(script):
    docstring = ast.get_docstring(ast.parse(script.read_text()), clean=False)
    assert docstring, f"{script.name} has no module docstring"
    lines = docstring.strip("\n").splitlines()
    assert len(lines) >= 2 and set(lines[1]) == {"="}, f"{script.name}: no '====' title"
    assert len(lines[1]) >= len(lines[0]), f"{script.name}: title underline too short"


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_saves_a_png_only_where_asked(script, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    output = tmp_path / "output"
    monkeypatch.setenv("SKAE_EXAMPLE_QUICK", "1")
    monkeypatch.setenv("SKAE_EXAMPLE_OUTPUT", str(output))
    monkeypatch.chdir(tmp_path)  # anything written to the working directory lands here
    try:
        # KMeans's OpenMP threads, like BLAS's, only contend on small data.
        with threadpool_limits(limits=1), warnings.catch_warnings():
            # plt.show() under Agg has nothing to show.
            warnings.filterwarnings("ignore", message=".*non-interactive.*")
            runpy.run_path(str(script), run_name="__main__")
    finally:
        plt.close("all")
    pngs = list(output.glob("*.png"))
    assert pngs, f"{script.name} wrote no PNG"
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{png.name} is not a PNG"
        assert png.stat().st_size > 1000, f"{png.name} is nearly empty"
    stray = [p.name for p in tmp_path.iterdir() if p != output]
    assert not stray, f"{script.name} wrote {stray} into the working directory"
