"""Sphinx configuration of the skae documentation.

Build from the repository root (it needs no network)::

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build documents the checkout it lives in (the repository root is put first
on ``sys.path``), regenerates the tables from ``docs/results/`` with
``docs/make_tables.py`` and runs ``examples/plot_*.py`` in their quick mode
(``SKAE_EXAMPLE_QUICK=1``); set ``SKAE_EXAMPLE_QUICK=0`` to render the gallery
from full-length runs.
"""

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))

# The gallery runs the examples in their small, fast mode unless told otherwise.
os.environ.setdefault("SKAE_EXAMPLE_QUICK", "1")
# Headless rendering; the examples call plt.show(), which the scraper captures.
os.environ.setdefault("MPLBACKEND", "Agg")

# Small matrices train faster on one BLAS thread than on threads that contend
# for a shared machine's cores; this holds for the examples run by the gallery.
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(limits=1)

import make_tables  # noqa: E402

import skae  # noqa: E402

make_tables.main(["--no-readme"])


def _check_api_page():
    """Fail the build when a public name of ``skae.__all__`` is not on the API page."""
    text = (DOCS / "api.rst").read_text()
    missing = [name for name in skae.__all__ if name != "__version__" and name not in text]
    if missing:
        raise RuntimeError(f"docs/api.rst does not list {missing}; add them to its autosummary")


_check_api_page()

# -- Project -----------------------------------------------------------------

project = "skae"
author = "skae developers"
copyright = "skae developers"
release = skae.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served from the built site, not from a CDN
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "generated/*.rst",  # included by the pages, not pages of their own
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
    "auto_examples/*.pickle",
    "results",
]
default_role = "literal"
nitpicky = False

autosummary_generate = True
autodoc_default_options = {}
autodoc_typehints = "none"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False


def _escape_shape_names(app, what, name, obj, options, lines):
    """Keep ``(n_features_in_,)`` in a type description from reading as a link target.

    reStructuredText takes a word ending in ``_`` for a reference; scikit-learn
    style writes fitted attributes such as ``n_features_in_`` inside
    ``of shape (...)``, so their last underscore is escaped there.
    """
    for i, line in enumerate(lines):
        if "shape (" in line:
            lines[i] = re.sub(r"(\w)_(?=[,)])", r"\1\\_", line)


def setup(app):
    # Before numpydoc (priority 500) reads the docstring.
    app.connect("autodoc-process-docstring", _escape_shape_names, priority=400)


# -- Gallery -----------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "doc_module": ("skae",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skae": None},
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_memory": False,
    "remove_config_comments": True,
    "min_reported_time": 5,
    "write_computation_times": False,  # its page loads scripts from a CDN
}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skae {release}"
html_static_path = ["_static"]
html_css_files = ["skae.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "api": []}
html_show_sourcelink = False
