"""skae: a scikit-learn compatible autoencoder on a NumPy backpropagation core."""

from ._autoencoder import AutoencoderTransformer
from ._variational import VariationalAutoencoder
from ._version import __version__

__all__ = ["AutoencoderTransformer", "VariationalAutoencoder", "__version__"]
