"""Secure loading with skops: the package's types, for ``skops.io.loads``.

A fitted estimator holds, besides NumPy arrays, a few objects of the package
(its network layout with its loss, and its optimizer). ``skops.io`` loads only types it
is told to trust; :data:`TRUSTED_TYPES` names exactly the package's own, so a
user need not list them by hand and no other type is let through.

Examples
--------
>>> import numpy as np
>>> import skops.io as sio
>>> from skae import TRUSTED_TYPES, AutoencoderTransformer
>>> X = np.random.RandomState(0).normal(size=(50, 4))
>>> ae = AutoencoderTransformer(2, hidden_layer_sizes=(3,), max_iter=5, random_state=0)
>>> ae = ae.fit(X)
>>> loaded = sio.loads(sio.dumps(ae), trusted=TRUSTED_TYPES)
>>> bool(np.array_equal(loaded.transform(X), ae.transform(X)))
True
"""

from ._autoencoder import AutoencoderTransformer
from ._losses import BinaryCrossEntropy, SquaredError
from ._network import Block, Layer, Network
from ._optimizers import SGD, Adam
from ._variational import VariationalAutoencoder
from ._variational_network import VariationalNetwork

_TYPES = (
    AutoencoderTransformer,
    VariationalAutoencoder,
    Network,
    VariationalNetwork,
    Block,
    Layer,
    SquaredError,
    BinaryCrossEntropy,
    Adam,
    SGD,
)

# The types of skae that a fitted estimator holds, as ``skops.io`` names them:
# pass them as ``trusted=`` to ``skops.io.load`` or ``skops.io.loads``. A list
# has no docstring of its own (autodoc would show ``list``'s), so the API page
# documents it with a ``.. data::`` directive.
TRUSTED_TYPES = sorted(f"{t.__module__}.{t.__qualname__}" for t in _TYPES)
