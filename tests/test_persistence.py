"""Secure persistence with skops: every fitted configuration loads with TRUSTED_TYPES."""

import warnings

import numpy as np
import pytest

from skae import TRUSTED_TYPES, AutoencoderTransformer, VariationalAutoencoder

sio = pytest.importorskip("skops.io")

X = np.random.RandomState(0).uniform(size=(60, 5))

CONFIGURATIONS = {
    "default": AutoencoderTransformer(2),
    "sgd": AutoencoderTransformer(2, solver="sgd"),
    "lbfgs": AutoencoderTransformer(2, solver="lbfgs"),
    "tied, denoising, sparse": AutoencoderTransformer(
        2, tied_weights=True, noise="masking", code_l1=0.1
    ),
    "binary cross-entropy": AutoencoderTransformer(2, loss="binary_crossentropy"),
    "vae": VariationalAutoencoder(2),
}


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_skops_round_trip_with_the_trusted_types(name):
    estimator = CONFIGURATIONS[name].set_params(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X)
    data = sio.dumps(estimator)
    assert set(sio.get_untrusted_types(data=data)) <= set(TRUSTED_TYPES)
    loaded = sio.loads(data, trusted=TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.transform(X), estimator.transform(X))
    np.testing.assert_array_equal(loaded.score_samples(X), estimator.score_samples(X))
    if hasattr(estimator, "partial_fit"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded.partial_fit(X)  # a loaded model trains on
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data, trusted=[])


def test_trusted_types_name_only_the_package_own():
    assert all(name.startswith("skae.") for name in TRUSTED_TYPES)
