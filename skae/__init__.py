"""skae: a scikit-learn compatible autoencoder on a NumPy backpropagation core."""

from ._autoencoder import AutoencoderTransformer

__version__ = "0.1.0"

__all__ = ["AutoencoderTransformer", "__version__"]
