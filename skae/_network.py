"""The NumPy core: parameter layout, initialisation, forward and backward.

All weights and biases live in one flat vector ``theta``. A layout table of
``(start, stop, shape)`` blocks says where each matrix and bias vector sits;
layers use views into ``theta`` through it, and the gradient uses the same
layout. Weights come first, then biases, so the L2 penalty is one operation on
``theta[:n_weights]``.

Nothing here keeps state between calls: the forward pass writes its
activations into buffers the caller owns and returns them, and the backward
pass takes them. This module imports nothing from scikit-learn.
"""

from typing import NamedTuple

import numpy as np

from ._activations import ACTIVATIONS, DERIVATIVES, HE_INIT
from ._losses import LOSSES


class Block(NamedTuple):
    """Where one array lives in the flat vector."""

    start: int
    stop: int
    shape: tuple

    def view(self, theta):
        return theta[self.start : self.stop].reshape(self.shape)


class Layer(NamedTuple):
    """One dense layer ``A_out = activation(A_in @ W + b)``.

    ``weight`` and ``bias`` index the network's blocks. With ``transpose``, the
    layer uses the transpose of its weight block (a tied decoder weight).
    """

    weight: int
    bias: int
    transpose: bool
    activation: str


class Network:
    """A stack of dense layers over one flat parameter vector.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from the input to the output, e.g. ``[64, 32, 8, 32, 64]``.
    activations : sequence of str
        One activation name per layer (``len(layer_sizes) - 1`` of them). The
        last layer's is not applied in training: ``loss`` folds it in.
    loss : str, default="squared_error"
        A key of ``LOSSES``.
    tied : bool, default=False
        Share each decoder weight with its mirror encoder weight (transposed).
        Needs a symmetric ``layer_sizes``.
    """

    def __init__(self, layer_sizes, activations, loss="squared_error", tied=False):
        self.loss = loss
        sizes = [int(s) for s in layer_sizes]
        n_layers = len(sizes) - 1
        if len(activations) != n_layers:
            raise ValueError("one activation per layer is needed")
        if tied and sizes != sizes[::-1]:
            raise ValueError("tied weights need a symmetric network")
        self.layer_sizes = tuple(sizes)
        self.blocks = []
        weight_of = []
        offset = 0
        for i in range(n_layers):
            mirror = n_layers - 1 - i
            if tied and mirror < i:
                weight_of.append((weight_of[mirror][0], True))
                continue
            shape = (sizes[i], sizes[i + 1])
            self.blocks.append(Block(offset, offset + shape[0] * shape[1], shape))
            weight_of.append((len(self.blocks) - 1, False))
            offset = self.blocks[-1].stop
        self.n_weights = offset
        self.layers = []
        for i in range(n_layers):
            self.blocks.append(Block(offset, offset + sizes[i + 1], (sizes[i + 1],)))
            offset += sizes[i + 1]
            weight, transpose = weight_of[i]
            self.layers.append(
                Layer(weight, len(self.blocks) - 1, transpose, activations[i])
            )
        self.n_params = offset

    def parameters(self, theta, start=0, stop=None):
        """``(W, b)`` views into ``theta`` for the layers ``start:stop``."""
        out = []
        for layer in self.layers[start:stop]:
            W = self.blocks[layer.weight].view(theta)
            out.append((W.T if layer.transpose else W, self.blocks[layer.bias].view(theta)))
        return out

    def init(self, rng, dtype=np.float64):
        """A new parameter vector: He init for rectifiers, Glorot otherwise."""
        theta = np.zeros(self.n_params, dtype=dtype)
        for i, layer in enumerate(self.layers):
            if layer.transpose:
                continue
            block = self.blocks[layer.weight]
            fan_in, fan_out = block.shape
            if layer.activation in HE_INIT:
                values = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=block.shape)
            else:
                bound = np.sqrt(6.0 / (fan_in + fan_out))
                values = rng.uniform(-bound, bound, size=block.shape)
            block.view(theta)[...] = values
        return theta

    def allocate(self, n_rows, dtype):
        """Activation and delta buffers for batches of up to ``n_rows`` rows.

        ``acts[0]`` is the input the caller fills; ``acts[i]`` is layer
        ``i``'s output. ``deltas[i]`` has the shape of ``acts[i]``.
        """
        acts = [np.empty((n_rows, s), dtype=dtype) for s in self.layer_sizes]
        deltas = [np.empty_like(a) for a in acts]
        return acts, deltas

    def forward(self, theta, acts, start=0, stop=None):
        """Run layers ``start:stop`` on ``acts[start]``, writing ``acts[i + 1]``.

        The last layer of the whole network writes its pre-activation (the loss
        folds the output activation into its gradient).
        """
        stop = len(self.layers) if stop is None else stop
        for i, (W, b) in enumerate(self.parameters(theta, start, stop), start):
            out = acts[i + 1]
            np.matmul(acts[i], W, out=out)
            out += b
            if i + 1 < len(self.layers):
                ACTIVATIONS[self.layers[i].activation](out)
        return acts

    def backward(self, theta, acts, deltas, grad, start=0, stop=None):
        """Backpropagate ``deltas[stop]`` through layers ``start:stop``.

        ``deltas[stop]`` holds the gradient with respect to that layer's
        pre-activation (for the output layer, what the loss wrote). Weight and
        bias gradients are written into ``grad`` (a tied weight used twice gets
        both contributions added); ``deltas[start]`` is filled too when
        ``start > 0``, so that a caller can go on into the layers below.
        """
        stop = len(self.layers) if stop is None else stop
        params = self.parameters(theta, start, stop)
        written = set()
        for i in range(stop - 1, start - 1, -1):
            layer = self.layers[i]
            W, _ = params[i - start]
            delta = deltas[i + 1]
            if i + 1 < len(self.layers):
                DERIVATIVES[layer.activation](acts[i + 1], delta)
            g = self.blocks[layer.weight].view(grad)
            lhs, rhs = (delta.T, acts[i]) if layer.transpose else (acts[i].T, delta)
            if layer.weight in written:
                g += lhs @ rhs
            else:
                np.matmul(lhs, rhs, out=g)
                written.add(layer.weight)
            np.sum(delta, axis=0, out=self.blocks[layer.bias].view(grad))
            if i > 0:
                np.matmul(delta, W.T, out=deltas[i])
        return grad

    def loss_and_grad(self, theta, acts, deltas, grad, row_weight, target=None):
        """Reconstruction loss of the batch in ``acts[0]``, its gradient into ``grad``.

        ``target`` defaults to the input itself. ``row_weight`` is a scalar or
        one weight per row, normalised over the data the loss averages. With
        ``grad=None`` only the loss is computed. The penalty is separate
        (:meth:`penalty`), so a caller can sum chunks of a large batch first.
        """
        self.forward(theta, acts)
        target = acts[0] if target is None else target
        loss = LOSSES[self.loss](acts[-1], target, row_weight, deltas[-1])
        if grad is not None:
            self.backward(theta, acts, deltas, grad)
        return loss

    def penalty(self, theta, grad, alpha):
        """Add ``alpha / 2 * ||W||^2`` to the objective: return it, add its gradient."""
        if alpha == 0:
            return 0.0
        weights = theta[: self.n_weights]
        grad[: self.n_weights] += alpha * weights
        return 0.5 * alpha * float(weights @ weights)

    def predict(self, theta, X, start=0, stop=None):
        """Run layers ``start:stop`` on ``X``, allocating only their outputs.

        Used for ``transform`` and ``inverse_transform``: it keeps nothing.
        ``X`` may be a SciPy sparse matrix for the first layer. The output is
        the pre-activation for the network's last layer.
        """
        stop = len(self.layers) if stop is None else stop
        A = X
        for i, (W, b) in enumerate(self.parameters(theta, start, stop), start):
            A = A @ W
            A += b
            if i + 1 < len(self.layers):
                ACTIVATIONS[self.layers[i].activation](A)
        return np.asarray(A)
