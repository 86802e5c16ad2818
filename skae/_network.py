"""The NumPy core: parameter layout, initialisation, forward and backward.

All weights and biases live in one flat vector ``theta``. A layout table of
``(start, stop, shape)`` blocks says where each matrix and bias vector sits;
layers use views into ``theta`` through it, and the gradient uses the same
layout. Weights come first, then biases, so the L2 penalty covers one slice,
``theta[:n_weights]`` (:attr:`Network.decayed`).

Nothing here keeps state between calls: the forward pass writes its
activations into buffers the caller owns and returns them, and the backward
pass takes them. Temporaries go to buffers the caller owns too (the ``deltas``
in the forward pass, a flat ``workspace`` in the backward pass), so a training
step allocates no array. This module imports nothing
from scikit-learn.
"""

from typing import NamedTuple

import numpy as np

from ._activations import ACTIVATIONS, DERIVATIVES, HE_INIT
from ._losses import LOSSES


def _view(work, shape):
    """The start of the flat buffer ``work`` as an array of ``shape``."""
    return work[: shape[0] * shape[1]].reshape(shape)


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
    transpose: bool
    activation: str
    bias: int


class Network:
    """A stack of dense layers over one flat parameter vector.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from the input to the output, e.g. ``[64, 32, 8, 32, 64]``. The
        code is the middle entry.
    activations : sequence of str
        One activation name per layer (``len(layer_sizes) - 1`` of them). The
        last layer's is not applied in training: ``loss`` folds it in.
    loss : str or loss object, default="squared_error"
        A key of ``LOSSES``, or one of its values (:mod:`skae._losses`); kept
        as the object in ``self.loss``.
    tied : bool, default=False
        Share each decoder weight with its mirror encoder weight (transposed).
        Needs a symmetric ``layer_sizes``.
    linear_path : bool, default=False
        Add a linear map from the input to the code's pre-activation and one
        from the code to the output's, beside the layers (weights only: the
        layers' biases serve both). With ``tied``, the second is the first's
        transpose.
    """

    def __init__(
        self, layer_sizes, activations, loss="squared_error", tied=False, linear_path=False
    ):
        self.loss = LOSSES[loss] if isinstance(loss, str) else loss
        sizes = [int(s) for s in layer_sizes]
        n_layers = len(sizes) - 1
        if len(activations) != n_layers:
            raise ValueError("one activation per layer is needed")
        if (tied or linear_path) and sizes != sizes[::-1]:
            raise ValueError("tied weights and a linear path need a symmetric network")
        self.layer_sizes = tuple(sizes)
        self.code_index = n_layers // 2  # acts[code_index] is the code
        self.blocks = []

        def new_block(shape):
            start = self.blocks[-1].stop if self.blocks else 0
            self.blocks.append(Block(start, start + int(np.prod(shape)), tuple(shape)))
            return len(self.blocks) - 1

        weight_of = []
        for i in range(n_layers):
            mirror = n_layers - 1 - i
            if tied and mirror < i:
                weight_of.append((weight_of[mirror][0], True))
            else:
                weight_of.append((new_block((sizes[i], sizes[i + 1])), False))
        self.linear_path = None
        if linear_path:
            encoder = new_block((sizes[0], sizes[self.code_index]))
            decoder = (
                (encoder, True) if tied else (new_block((sizes[self.code_index], sizes[0])), False)
            )
            self.linear_path = ((encoder, False), decoder)
        self.n_weights = self.blocks[-1].stop
        self.layers = [
            Layer(*weight_of[i], activations[i], bias=new_block((sizes[i + 1],)))
            for i in range(n_layers)
        ]
        self.n_params = self.blocks[-1].stop

    def _weight(self, theta, ref):
        block, transpose = ref
        W = self.blocks[block].view(theta)
        return W.T if transpose else W

    def parameters(self, theta, start=0, stop=None):
        """``(W, b)`` views into ``theta`` for the layers ``start:stop``."""
        return [
            (
                self._weight(theta, (layer.weight, layer.transpose)),
                self.blocks[layer.bias].view(theta),
            )
            for layer in self.layers[start:stop]
        ]

    def linear_weights(self, theta):
        """Views ``(E, D)`` of the linear path (input->code, code->output), or None."""
        if self.linear_path is None:
            return None
        return tuple(self._weight(theta, ref) for ref in self.linear_path)

    def init(self, rng, dtype=np.float64):
        """A new parameter vector: He init for rectifiers, Glorot otherwise.

        Biases and the linear path start at zero.
        """
        theta = np.zeros(self.n_params, dtype=dtype)
        for layer in self.layers:
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

    def fold_affine(self, theta, mean, scale, inputs=True, outputs=True):
        """Make ``theta`` read ``X`` and write reconstructions in raw units.

        Training sees ``(X - mean) / scale``; folding that into the weights
        and biases of the first layer (and the linear path) and undoing it in
        the last lets ``predict`` take raw, even sparse, ``X`` without a copy.
        ``theta`` is changed in place; pass a copy. ``inputs=False`` or
        ``outputs=False`` folds one side only: a tied weight serves both sides,
        so a tied network needs one copy folded for encoding and one for
        decoding.
        """
        last = len(self.layers) - 1
        readers = [(self.parameters(theta, 0, 1)[0])] if inputs else []
        writers = [(self.parameters(theta, last)[0])] if outputs else []
        if self.linear_path is not None:
            E, D = self.linear_weights(theta)
            if inputs:
                readers.append(
                    (E, self.parameters(theta, self.code_index - 1, self.code_index)[0][1])
                )
            if outputs:
                writers.append((D, None))
        for W, b in readers:
            W /= scale
            b -= mean @ W
        for W, b in writers:
            W *= scale
            if b is not None:
                b *= scale
                b += mean
        return theta

    def allocate(self, n_rows, dtype):
        """Activation and delta buffers for batches of up to ``n_rows`` rows.

        ``acts[0]`` is the input the caller fills; ``acts[i]`` is layer
        ``i``'s output. ``deltas[i]`` has the shape of ``acts[i]``.
        """
        acts = [np.empty((n_rows, s), dtype=dtype) for s in self.layer_sizes]
        deltas = [np.empty_like(a) for a in acts]
        return acts, deltas

    def workspace(self, n_rows, dtype):
        """A flat scratch buffer for :meth:`backward`.

        It holds the widest layer's activations for ``n_rows`` rows (the
        activation derivatives, the linear path's share of a delta), and with
        tied weights the largest weight block (a shared block's second
        gradient contribution).
        """
        size = n_rows * max(self.layer_sizes)
        if any(layer.transpose for layer in self.layers) or (
            self.linear_path is not None and self.linear_path[1][1]
        ):
            size = max(size, max(block.stop - block.start for block in self.blocks))
        return np.empty(size, dtype=dtype)

    def forward(self, theta, acts, start=0, stop=None, scratch=None):
        """Run layers ``start:stop`` on ``acts[start]``, writing ``acts[i + 1]``.

        The last layer of the whole network writes its pre-activation (the loss
        folds the output activation into its gradient). ``scratch`` (the
        ``deltas`` buffers, which the backward pass overwrites anyway) holds
        the linear path's products and the activations' temporaries; without
        it they are allocated.
        """
        stop = len(self.layers) if stop is None else stop
        last, code = len(self.layers) - 1, self.code_index
        path = self.linear_weights(theta)
        for i, (W, b) in enumerate(self.parameters(theta, start, stop), start):
            out = acts[i + 1]
            np.matmul(acts[i], W, out=out)
            if path is not None and i in (code - 1, last):
                source, P = (acts[0], path[0]) if i == code - 1 else (acts[code], path[1])
                out += source @ P if scratch is None else np.matmul(source, P, out=scratch[i + 1])
            out += b
            if i < last:
                ACTIVATIONS[self.layers[i].activation](
                    out, None if scratch is None else scratch[i + 1]
                )
        return acts

    def _weight_grad(self, grad, ref, inputs, delta, written, work):
        """Write (or, for a tied block's second use, add) ``inputs.T @ delta``."""
        block, transpose = ref
        g = self.blocks[block].view(grad)
        lhs, rhs = (delta.T, inputs) if transpose else (inputs.T, delta)
        if block in written:
            g += np.matmul(lhs, rhs, out=_view(work, g.shape))
        else:
            np.matmul(lhs, rhs, out=g)
            written.add(block)

    def backward(
        self,
        theta,
        acts,
        deltas,
        grad,
        start=0,
        stop=None,
        code_grad=None,
        input_delta=False,
        workspace=None,
    ):
        """Backpropagate ``deltas[stop]`` through layers ``start:stop``.

        ``deltas[stop]`` holds the gradient with respect to that layer's
        pre-activation (for the output layer, what the loss wrote). Weight and
        bias gradients are written into ``grad`` (a tied weight used twice gets
        both contributions added); ``deltas[start]`` is filled too when
        ``start > 0`` or ``input_delta`` (the gradient with respect to the
        input), so that a caller can go on into the layers below.
        ``code_grad``, if given, is the gradient of a penalty on the code
        activations, added to ``deltas[code_index]`` when the pass reaches it.
        ``workspace`` (from :meth:`workspace`) holds the temporaries; without
        it one is allocated.
        """
        stop = len(self.layers) if stop is None else stop
        last, code = len(self.layers) - 1, self.code_index
        path = self.linear_weights(theta)
        params = self.parameters(theta, start, stop)
        written = set()
        work = self.workspace(len(acts[0]), acts[0].dtype) if workspace is None else workspace
        for i in range(stop - 1, start - 1, -1):
            layer = self.layers[i]
            W, _ = params[i - start]
            delta = deltas[i + 1]
            if i < last:
                DERIVATIVES[layer.activation](acts[i + 1], delta, _view(work, delta.shape))
            self._weight_grad(grad, (layer.weight, layer.transpose), acts[i], delta, written, work)
            np.sum(delta, axis=0, out=self.blocks[layer.bias].view(grad))
            if path is not None and i == last:
                self._weight_grad(grad, self.linear_path[1], acts[code], delta, written, work)
            if path is not None and i == code - 1:
                self._weight_grad(grad, self.linear_path[0], acts[0], delta, written, work)
            if i > 0 or input_delta:
                np.matmul(delta, W.T, out=deltas[i])
                if path is not None and i == code:
                    deltas[i] += np.matmul(
                        deltas[last + 1], path[1].T, out=_view(work, deltas[i].shape)
                    )
                if code_grad is not None and i == code:
                    deltas[i] += code_grad
        if input_delta and start == 0 and path is not None:
            deltas[0] += deltas[code] @ path[0].T  # the linear path's share
        return grad

    def loss_and_grad(
        self,
        theta,
        acts,
        deltas,
        grad,
        row_weight,
        target=None,
        code_penalty=None,
        input_delta=False,
        workspace=None,
    ):
        """Reconstruction loss of the batch in ``acts[0]``, its gradient into ``grad``.

        ``target`` defaults to the input itself. ``row_weight`` is a scalar or
        one weight per row, normalised over the data the loss averages. With
        ``grad=None`` only the loss is computed. The L2 penalty is separate
        (``skae._optimizers.l2_penalty``), so a caller can sum chunks of a large
        batch first.
        ``code_penalty(code)``, if given, returns ``(value, gradient)`` of a
        term on the code activations, both added in. ``input_delta`` also
        writes the gradient with respect to the input into ``deltas[0]``.
        ``workspace`` is passed on to :meth:`backward`.
        """
        self.forward(theta, acts, scratch=deltas)
        target = acts[0] if target is None else target
        loss = self.loss.value_and_delta(acts[-1], target, row_weight, deltas[-1])
        code_grad = None
        if code_penalty is not None:
            value, code_grad = code_penalty(acts[self.code_index])
            loss += value
        if grad is not None:
            self.backward(
                theta,
                acts,
                deltas,
                grad,
                code_grad=code_grad,
                input_delta=input_delta,
                workspace=workspace,
            )
        return loss

    @property
    def decayed(self):
        """The slices of ``theta`` the L2 penalty covers: the weights."""
        return (slice(0, self.n_weights),)

    def predict(self, theta, X, start=0, stop=None):
        """Run layers ``start:stop`` on ``X``, allocating only their outputs.

        Used for ``transform`` and ``inverse_transform``: it keeps nothing.
        ``X`` may be a SciPy sparse matrix for the first layer. The output is
        the pre-activation for the network's last layer. ``start`` is 0 or
        the code's index when the network has a linear path.
        """
        stop = len(self.layers) if stop is None else stop
        last, code = len(self.layers) - 1, self.code_index
        path = self.linear_weights(theta)
        A = X
        for i, (W, b) in enumerate(self.parameters(theta, start, stop), start):
            if i == code:
                code_value = A
            Z = A @ W
            if path is not None and i == code - 1:
                Z += X @ path[0]
            if path is not None and i == last:
                Z += code_value @ path[1]
            Z += b
            if i < last:
                ACTIVATIONS[self.layers[i].activation](Z)
            A = Z
        return np.asarray(A)
