"""skae: a scikit-learn compatible autoencoder on a NumPy backpropagation core."""

from ._autoencoder import AutoencoderTransformer
from ._streaming import fit_chunks
from ._variational import VariationalAutoencoder
from ._version import __version__

__all__ = ["AutoencoderTransformer", "VariationalAutoencoder", "fit_chunks", "__version__"]
