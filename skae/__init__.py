"""skae: a scikit-learn compatible autoencoder on a NumPy backpropagation core."""

from ._autoencoder import AutoencoderTransformer
from ._persistence import TRUSTED_TYPES
from ._scoring import trustworthiness_stability_scorer
from ._streaming import fit_chunks
from ._variational import VariationalAutoencoder
from ._version import __version__

__all__ = [
    "TRUSTED_TYPES",
    "AutoencoderTransformer",
    "VariationalAutoencoder",
    "fit_chunks",
    "trustworthiness_stability_scorer",
    "__version__",
]
