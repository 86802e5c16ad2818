"""Conversion to ONNX with skl2onnx: importing this module registers the converters.

After ``import skae.onnx``, :func:`skl2onnx.to_onnx` converts a fitted
:class:`~skae.AutoencoderTransformer` or :class:`~skae.VariationalAutoencoder`
on its own or inside a pipeline, as it converts
:class:`~sklearn.decomposition.PCA`. The ONNX model computes ``transform``:
the codes, or for the variational autoencoder the posterior means. It reads
only the fitted state, so what was used in training alone (``noise``,
``n_neighbors`` and the rest) does not matter. The input's type chooses the
precision: float32 rows give a float32 model, float64 rows a float64 model.

The converter option ``inverse_transform=True`` converts the decoder instead:
the model then reads codes of ``n_components_`` columns and computes
``inverse_transform``. Like any skl2onnx option, it reaches a pipeline's step
by the step's name (``autoencodertransformer__inverse_transform``); that step
then reads codes, so it must be the pipeline's first.

In float64, onnxruntime (1.32) has no kernel for the ``LeakyRelu``, ``Elu``
and ``Softplus`` operators, so for float64 input those activations are
written with elementary operators (``Max``, ``Exp``, ``Log``, ...) that it has.
See :ref:`deploying` in the user guide.

This module needs the optional ``onnx`` extra (skl2onnx and onnxruntime).

Examples
--------
>>> import numpy as np
>>> from onnxruntime import InferenceSession
>>> from skl2onnx import to_onnx
>>> import skae.onnx  # registers the converters
>>> from skae import AutoencoderTransformer
>>> X = np.random.RandomState(0).normal(size=(100, 6)).astype(np.float32)
>>> ae = AutoencoderTransformer(2, hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X)
>>> onx = to_onnx(ae, X[:1])
>>> session = InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
>>> codes = session.run(None, {session.get_inputs()[0].name: X})[0]
>>> codes.shape, codes.dtype
((100, 2), dtype('float32'))
>>> bool(np.allclose(codes, ae.transform(X), rtol=1e-5, atol=1e-5))
True

The decoder, reading codes:

>>> Z = ae.transform(X)
>>> decoder = to_onnx(ae, Z[:1], options={"inverse_transform": True})
>>> session = InferenceSession(decoder.SerializeToString(), providers=["CPUExecutionProvider"])
>>> session.run(None, {session.get_inputs()[0].name: Z})[0].shape
(100, 6)
"""

import numpy as np

try:
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.common.utils import check_input_and_output_numbers
    from skl2onnx.proto import onnx_proto
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "skae.onnx needs skl2onnx and onnxruntime, the optional 'onnx' extra: "
        'pip install ".[onnx]" from a clone of skae (or pip install skl2onnx onnxruntime).'
    ) from error

from ._activations import LEAKY_SLOPE
from ._autoencoder import AutoencoderTransformer
from ._variational import VariationalAutoencoder

__all__ = []  # importing the module is its whole interface

OPTIONS = {"inverse_transform": [False, True]}


def _inverse(operator):
    """Whether the ``inverse_transform`` option asks for the decoder."""
    options = operator.scope_inst.get_options(operator.raw_operator, {"inverse_transform": False})
    return bool(options["inverse_transform"])


def _shape_calculator(operator):
    """The output: one row of codes (or, for the decoder, of features) per input row."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    model = operator.raw_operator
    input_type = operator.inputs[0].type
    if not isinstance(input_type, (FloatTensorType, DoubleTensorType)):
        raise TypeError(
            f"{type(model).__name__} converts for float or double input, got "
            f"{type(input_type).__name__}; pass X[:1] as float32 or float64 to to_onnx."
        )
    n_in, n_out = model.n_features_in_, model.n_components_
    what = "features"
    if _inverse(operator):
        n_in, n_out, what = n_out, n_in, "columns of codes (inverse_transform=True)"
    shape = input_type.shape
    if len(shape) != 2 or (isinstance(shape[1], int) and shape[1] != n_in):
        raise ValueError(
            f"{type(model).__name__} expects input of shape (n_samples, {n_in}): {n_in} "
            f"{what}; got shape {shape}."
        )
    operator.outputs[0].type = type(input_type)([shape[0], n_out])


class _Graph:
    """Writes the nodes and initializers of one converted estimator, in one dtype."""

    def __init__(self, scope, container, dtype):
        self.scope, self.container, self.dtype = scope, container, dtype
        self.proto = (
            onnx_proto.TensorProto.DOUBLE if dtype == np.float64 else (onnx_proto.TensorProto.FLOAT)
        )

    def constant(self, values, name="weight"):
        values = np.asarray(values, dtype=self.dtype)
        unique = self.scope.get_unique_variable_name(name)
        self.container.add_initializer(unique, self.proto, list(values.shape), values.ravel())
        return unique

    def node(self, op_type, inputs, output=None, **attrs):
        output = output or self.scope.get_unique_variable_name(op_type.lower())
        name = self.scope.get_unique_operator_name(op_type)
        self.container.add_node(op_type, inputs, output, name=name, **attrs)
        return output

    def affine(self, A, W, b=None):
        out = self.node("MatMul", [A, self.constant(W)])
        return out if b is None else self.node("Add", [out, self.constant(b, "bias")])

    def activation(self, name, Z):
        """``Z`` through the activation ``name`` of :mod:`skae._activations`."""
        if name == "identity":
            return Z
        if name in _NATIVE:
            op_type, attrs = _NATIVE[name]
            return self.node(op_type, [Z], **attrs)
        if self.dtype == np.float32:
            op_type, attrs = _NATIVE_FLOAT[name]
            return self.node(op_type, [Z], **attrs)
        return _ELEMENTARY[name](self, Z)


def _leaky_relu(graph, Z):
    return graph.node("Max", [Z, graph.node("Mul", [Z, graph.constant(LEAKY_SLOPE, "slope")])])


def _elu(graph, Z):
    """``max(x, 0) + exp(min(x, 0)) - 1``."""
    zero, one = graph.constant(0.0, "zero"), graph.constant(1.0, "one")
    negative = graph.node("Sub", [graph.node("Exp", [graph.node("Min", [Z, zero])]), one])
    return graph.node("Add", [graph.node("Relu", [Z]), negative])


def _softplus(graph, Z):
    """``max(x, 0) + log(1 + exp(-|x|))``, which overflows nowhere."""
    one = graph.constant(1.0, "one")
    tail = graph.node("Exp", [graph.node("Neg", [graph.node("Abs", [Z])])])
    return graph.node(
        "Add", [graph.node("Relu", [Z]), graph.node("Log", [graph.node("Add", [tail, one])])]
    )


# onnxruntime runs these in float and double, these in float only; the others
# are written from elementary operators in double.
_NATIVE = {"relu": ("Relu", {}), "tanh": ("Tanh", {}), "logistic": ("Sigmoid", {})}
_NATIVE_FLOAT = {
    "leaky_relu": ("LeakyRelu", {"alpha": LEAKY_SLOPE}),
    "elu": ("Elu", {"alpha": 1.0}),
    "softplus": ("Softplus", {}),
}
_ELEMENTARY = {"leaky_relu": _leaky_relu, "elu": _elu, "softplus": _softplus}


def _layers(graph, network, theta, X, start=0, stop=None, head=None):
    """The ONNX twin of :meth:`skae._network.Network.predict` of layers ``start:stop``.

    ``head`` keeps the first ``head`` outputs of the network's last layer.
    """
    layers = network.parameters(theta, start, stop)
    last, code = len(network.layers) - 1, network.code_index
    path = network.linear_weights(theta)
    A = X
    for i, (W, b) in enumerate(layers, start):
        if i == code:
            code_value = A
        if i == last and head is not None:
            W, b = W[:, :head], b[:head]
        Z = graph.affine(A, W)
        if path is not None and i == code - 1:
            Z = graph.node("Add", [Z, graph.affine(X, path[0])])
        if path is not None and i == last:
            Z = graph.node("Add", [Z, graph.affine(code_value, path[1])])
        Z = graph.node("Add", [Z, graph.constant(b, "bias")])
        if i < last:
            Z = graph.activation(network.layers[i].activation, Z)
        A = Z
    return A


def _converter(encode, decode):
    """A converter from functions writing the encoder's and the decoder's layers."""

    def convert(scope, operator, container):
        model = operator.raw_operator
        dtype = np.float64 if isinstance(operator.inputs[0].type, DoubleTensorType) else np.float32
        graph = _Graph(scope, container, dtype)
        source = operator.inputs[0].full_name
        if _inverse(operator):
            raw = decode(graph, model, source)
            out = graph.activation(model.out_activation_, raw)
        else:
            out = encode(graph, model, source)
        graph.node("Identity", [out], operator.outputs[0].full_name)

    return convert


def _encode_autoencoder(graph, model, X):
    network = model._network
    return _layers(graph, network, model._encoder_params(graph.dtype), X, 0, network.code_index)


def _decode_autoencoder(graph, model, Z):
    network = model._network
    return _layers(graph, network, model._decoder_params(graph.dtype), Z, network.code_index)


def _encode_variational(graph, model, X):
    encoder = model._network.encoder
    return _layers(graph, encoder, model._encoder_params(graph.dtype), X, head=model.n_components_)


def _decode_variational(graph, model, Z):
    return _layers(graph, model._network.decoder, model._decoder_params(graph.dtype), Z)


update_registered_converter(
    AutoencoderTransformer,
    "SkaeAutoencoderTransformer",
    _shape_calculator,
    _converter(_encode_autoencoder, _decode_autoencoder),
    options=OPTIONS,
)
update_registered_converter(
    VariationalAutoencoder,
    "SkaeVariationalAutoencoder",
    _shape_calculator,
    _converter(_encode_variational, _decode_variational),
    options=OPTIONS,
)
