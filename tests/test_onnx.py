"""ONNX export: convert with skl2onnx after ``import skae.onnx``, run with onnxruntime, compare.

onnxruntime's output must match ``transform`` (and ``inverse_transform``, and a
pipeline's ``predict``) to 1e-5 relative in float32 and 1e-10 in float64,
relative to the largest value of the output.
"""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")

from skl2onnx import to_onnx  # noqa: E402

import skae.onnx  # noqa: E402, F401  (registers the converters)
from skae import AutoencoderTransformer, VariationalAutoencoder  # noqa: E402

ACTIVATIONS = ("identity", "relu", "leaky_relu", "tanh", "logistic", "elu", "softplus")
RTOL = {np.float32: 1e-5, np.float64: 1e-10}
DTYPES = (np.float32, np.float64)


@pytest.fixture(scope="module")
def X():
    X, _ = load_digits(return_X_y=True)
    return X[:300]


def run(onx, X):
    """The outputs of the ONNX model on ``X``, by onnxruntime."""
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


def assert_close(actual, expected, rtol):
    """Equal to ``rtol`` relative to the largest entry of ``expected``, in its dtype."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


def check_transforms(model, X, dtype):
    """Encoder and decoder of a fitted model: onnxruntime against the model."""
    X = X.astype(dtype)
    codes = model.transform(X)
    assert_close(run(to_onnx(model, X[:1]), X)[0], codes, RTOL[dtype])
    decoder = to_onnx(model, codes[:1], options={"inverse_transform": True})
    assert_close(run(decoder, codes)[0], model.inverse_transform(codes), RTOL[dtype])


def fit(X, **params):
    defaults = {"n_components": 4, "hidden_layer_sizes": (32, 16), "max_iter": 5}
    return AutoencoderTransformer(**{**defaults, **params, "random_state": 0}).fit(X)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_converts(X, activation, dtype):
    check_transforms(fit(X, activation=activation), X, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize(
    "params",
    [
        {"tied_weights": True, "activation": "tanh"},
        {"linear_path": False},
        {"hidden_layer_sizes": ()},
        {"tied_weights": True, "hidden_layer_sizes": (), "linear_path": False},
        {"loss": "binary_crossentropy", "activation": "elu"},
        {"noise": "masking", "noise_level": 0.2, "code_l1": 0.1},
        {"n_neighbors": 5, "n_epochs": 2},  # with its Gaussian noise
    ],
    ids=["tied", "no-linear-path", "linear", "linear-tied", "bce", "denoising", "n_neighbors"],
)
def test_options_of_the_network_convert(X, params, dtype):
    data = X / 16.0 if params.get("loss") == "binary_crossentropy" else X
    check_transforms(fit(data, **params), data, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("activation", ["relu", "softplus"])
def test_variational_autoencoder_converts_to_its_posterior_means(X, activation, dtype):
    vae = VariationalAutoencoder(
        3, hidden_layer_sizes=(16,), activation=activation, max_iter=5, random_state=0
    ).fit(X)
    check_transforms(vae, X, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_clustering_pipeline_converts(X, dtype):
    X = X.astype(dtype)
    pipeline = make_pipeline(
        StandardScaler(),
        AutoencoderTransformer(4, hidden_layer_sizes=(16,), max_iter=5, random_state=0),
        KMeans(5, n_init=3, random_state=0),
    ).fit(X)
    labels, distances = run(to_onnx(pipeline, X[:1]), X)
    np.testing.assert_array_equal(labels, pipeline.predict(X))
    assert_close(distances, pipeline.transform(X), RTOL[dtype])


def test_the_decoder_of_a_pipeline_step_is_an_option(X):
    """The option reaches a step by its name, as skl2onnx's options do."""
    X = X.astype(np.float32)
    pipeline = make_pipeline(fit(X, n_components=3)).fit(X)
    codes = pipeline.transform(X)
    onx = to_onnx(pipeline, codes[:1], options={"autoencodertransformer__inverse_transform": True})
    assert_close(run(onx, codes)[0], pipeline.inverse_transform(codes), RTOL[np.float32])


def test_input_of_the_wrong_width_is_refused(X):
    ae = fit(X)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 4\): 4 columns of codes"):
        to_onnx(ae, X[:1], options={"inverse_transform": True})
    with pytest.raises(ValueError, match=r"shape \(n_samples, 64\): 64 features"):
        to_onnx(ae, X[:1, :10])


def test_integer_input_is_refused_with_a_hint(X):
    with pytest.raises(TypeError, match="float32 or float64"):
        to_onnx(fit(X), X[:1].astype(np.int64))
