"""The Python blocks of the README and of the docs pages that promise them run as written.

Each document's blocks run in order in one namespace, as a reader would paste
them. A block that needs a large file or a long run gets a substitution listed
in ``SUBSTITUTIONS`` with its reason; each substitution must find its text, so
a changed block fails here instead of being skipped.
"""

import importlib.util
import re
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]

# document -> [(text in a block, what the test runs instead, why)]
SUBSTITUTIONS = {
    "README.md": [
        (
            "shape=(10_000_000, 64)",
            "shape=(2_000, 64)",
            "a memmap of 2,000 rows, written by the test, stands for the 10 million",
        ),
        (
            "AutoencoderTransformer(n_components=10, n_neighbors=15, random_state=0)",
            "AutoencoderTransformer(n_components=10, n_neighbors=15, n_epochs=2, random_state=0)",
            "two epochs over the graph's edges, not a full training run",
        ),
    ],
}
DOCUMENTS = ["README.md", "data/mnist10k/README.md", "docs/user_guide/deploying.rst"]


def markdown_blocks(text):
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def rst_blocks(text):
    """The bodies of ``.. code-block:: python`` directives, dedented."""
    blocks = []
    for match in re.finditer(r"^\.\. code-block:: python\n((?:[ \t]*\n|   .*\n)+)", text, re.M):
        blocks.append(textwrap.dedent(match.group(1)))
    return blocks


def blocks_of(document):
    text = (ROOT / document).read_text()
    blocks = markdown_blocks(text) if document.endswith(".md") else rst_blocks(text)
    source = "\n# ---\n".join(blocks)
    for old, new, _ in SUBSTITUTIONS.get(document, []):
        assert source.count(old) == 1, f"{document}: the text to substitute, {old!r}, is gone"
        source = source.replace(old, new)
    return blocks, source


@pytest.mark.parametrize("document", DOCUMENTS)
def test_python_blocks_run(document, tmp_path, monkeypatch):
    blocks, source = blocks_of(document)
    assert blocks, f"{document} has no python block"
    if document == "README.md":
        np.random.RandomState(0).normal(size=(2_000, 64)).astype(np.float32).tofile(
            tmp_path / "X.f32"
        )
    # The blocks read files by paths from the repository's root and write into
    # the working directory: the MNIST reader runs from the root, the others in
    # a fresh folder.
    monkeypatch.chdir(ROOT if document.startswith("data/") else tmp_path)
    namespace = {"__name__": "__main__"}
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        exec(compile(source, document, "exec"), namespace)
    if document.startswith("data/"):
        spec = importlib.util.spec_from_file_location("datasets", ROOT / "benchmarks/datasets.py")
        datasets = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(datasets)
        X, y = datasets.read_mnist()
        np.testing.assert_array_equal(namespace["X"], X)  # the same floats in [0, 1]
        np.testing.assert_array_equal(namespace["y"], y)
    if document.endswith("deploying.rst"):
        pipeline, X32 = namespace["pipeline"], namespace["X32"]
        assert np.mean(namespace["labels"] == pipeline.predict(namespace["X"])) > 0.99
        np.testing.assert_allclose(namespace["scores"], namespace["ae"].score_samples(X32), 1e-4)
