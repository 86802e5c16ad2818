"""The objective interface: what a model gives training, and the autoencoder's.

Training (:mod:`skae._training`) knows nothing of a model but this interface.
An objective is one object that owns the model's parameter layout and the
data's preprocessing, and offers:

``n_params``
    The length of the flat parameter vector ``theta``.
``decayed``
    A tuple of slices of ``theta``: the parameters the L2 penalty covers (the
    weights, not the biases).
``needs_rng``
    Whether a training batch draws random numbers (input corruption, the
    reparameterisation noise, negative samples). Training then passes a
    ``numpy.random.Generator`` to :meth:`loss_and_grad`.
``init(X, sample_weight, rng)``
    A new parameter vector of ``X``'s dtype (``rng`` a
    ``numpy.random.RandomState``). It may look at the data (a PCA start).
``allocate(n_rows, dtype)``
    The buffers of a batch of up to ``n_rows`` rows, a :class:`RowBuffers`:
    allocated once per fit, owned by the caller, and cut to a smaller batch by
    :meth:`RowBuffers.head`.
``loss_and_grad(theta, X, rows, row_weight, buffers, grad=None, rng=None)``
    The objective of the batch ``X[rows]``, without the L2 penalty, with its
    gradient written into ``grad`` (a vector like ``theta``; None: the value
    only). ``row_weight`` is a scalar or one weight per row, normalised so
    that the batches of the data sum to its weighted mean; ``rng=None`` means
    no noise (validation, scores).
``batches(rows, batch_size, rng, shuffle)``
    The batches of an epoch over the training ``rows``, as arrays of row
    indices; :func:`shuffled_batches` unless a term on the codes needs
    batches of its own (pairs of neighbours).

Terms on the codes (the L1 penalty of :mod:`skae._regularizers`, the
neighbour-graph term of :mod:`skae._neighbors`) have their own small
interface: ``needs_rng``, ``value_and_grad(codes, row_weight, out, rng)``,
which returns the term's value for a batch's codes and writes its gradient
with respect to them into ``out``, and optionally ``batches``.
"""

from dataclasses import dataclass, fields, replace
from typing import Protocol

import numpy as np

from ._data import chunks, principal_axes, weighted_moments
from ._regularizers import corrupt

__all__ = [
    "AutoencoderBuffers",
    "AutoencoderObjective",
    "Objective",
    "RowBuffers",
    "shuffled_batches",
]


class Objective(Protocol):
    """What a model gives training; see the module's docstring."""

    n_params: int
    decayed: tuple
    needs_rng: bool

    def init(self, X, sample_weight, rng): ...

    def allocate(self, n_rows, dtype): ...

    def loss_and_grad(self, theta, X, rows, row_weight, buffers, grad=None, rng=None): ...

    def batches(self, rows, batch_size, rng, shuffle): ...


@dataclass(frozen=True)
class RowBuffers:
    """Arrays for one batch, rows first: ``head(n)`` cuts every one to ``n`` rows.

    A field holds an array, a list of arrays, another :class:`RowBuffers` or
    None. Fields named in ``unsliced`` (scratch space that is not per row) are
    passed on whole.
    """

    unsliced = ("workspace",)

    def head(self, n_rows):
        """The same buffers for a batch of ``n_rows`` rows (views, no copy)."""
        changes = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in self.unsliced or value is None:
                continue
            if isinstance(value, RowBuffers):
                changes[field.name] = value.head(n_rows)
            elif isinstance(value, list):
                changes[field.name] = [a[:n_rows] for a in value]
            else:
                changes[field.name] = value[:n_rows]
        return replace(self, **changes)


@dataclass(frozen=True)
class AutoencoderBuffers(RowBuffers):
    """A batch of :class:`AutoencoderObjective`.

    ``acts[0]`` is the batch as the network sees it; ``acts[i]`` and
    ``deltas[i]`` are layer ``i``'s output and its gradient; ``target`` keeps
    the clean batch when the input is corrupted; ``code_grads`` holds one
    gradient buffer per term on the codes; ``workspace`` is the network's flat
    scratch.
    """

    acts: list
    deltas: list
    workspace: np.ndarray
    target: np.ndarray = None
    noise: np.ndarray = None
    code_grads: list = None


def shuffled_batches(rows, batch_size, rng, shuffle):
    """An epoch over ``rows``: ``batch_size`` rows at a time, in a random order.

    With ``shuffle``, the rows are permuted by ``rng`` and each batch is then
    sorted (gathering rows in order reads memory forwards).
    """
    order = rng.permutation(rows) if shuffle else rows
    for part in chunks(order.size, batch_size):
        batch = order[part]
        if shuffle:
            batch.sort()  # in place, within this epoch's permutation
        yield batch


class AutoencoderObjective:
    """The reconstruction objective of :class:`~skae.AutoencoderTransformer`.

    Parameters
    ----------
    network : :class:`~skae._network.Network`
        The autoencoder's layers over one flat parameter vector.
    loader : RowLoader
        Turns rows of ``X`` into the network's view of them.
    noise : {"gaussian", "masking"} or None, default=None
        Input corruption while training (a denoising autoencoder).
    noise_level : float, default=0.0
        Standard deviation (in the network's units, those of ``loader``'s
        output) or masking probability.
    code_terms : sequence, default=()
        Terms on the codes, each added to the reconstruction loss.
    """

    def __init__(self, network, loader, *, noise=None, noise_level=0.0, code_terms=()):
        self.network = network
        self.loader = loader
        self.noise = noise
        self.noise_level = float(noise_level)
        self.code_terms = tuple(code_terms)

    @property
    def n_params(self):
        return self.network.n_params

    @property
    def decayed(self):
        return self.network.decayed

    @property
    def needs_rng(self):
        return self.noise is not None or any(term.needs_rng for term in self.code_terms)

    def parameters(self, theta):
        """``(W, b)`` views into ``theta``, layer by layer."""
        return self.network.parameters(theta)

    def init(self, X, sample_weight, rng):
        """A new parameter vector; a network with a linear path starts at PCA.

        The linear path's encoder and decoder are PCA's axes and the layers'
        last step into the code and into the output start at zero, so the
        network starts exactly at PCA's solution. With tied weights the last
        layer's matrix is the first's, which must stay random, and a zero step
        into the code would be a stationary point: the decoder would start at
        a constant, and PCA's residuals are uncorrelated with its codes, so no
        gradient would reach the layers. That step starts at 1% of its random
        initialisation instead, and the output bias cancels the constant the
        decoder's layers then add.
        """
        network = self.network
        theta = network.init(rng, X.dtype)
        if network.linear_path is None:
            return theta
        code, n_components = network.code_index, network.layer_sizes[network.code_index]
        mean = np.zeros(X.shape[1]) if self.loader.mean is None else self.loader.mean
        axes = principal_axes(
            X, mean.astype(np.float64), self.loader.scale, n_components, rng, sample_weight
        )
        encoder, decoder = network.linear_weights(theta)
        encoder[...] = axes.T
        decoder[...] = axes
        params = network.parameters(theta)
        tied = network.layers[-1].transpose
        if not tied:
            params[code - 1][0][...] = 0
            params[-1][0][...] = 0
        else:
            params[code - 1][0][...] *= 0.01
            zero_code = np.zeros((1, n_components), dtype=theta.dtype)
            params[-1][1][...] -= network.predict(theta, zero_code, code)[0]
        if network.loss == "binary_crossentropy":
            # Start the output at the data's mean: logits of the feature means.
            means = np.clip(weighted_moments(X, sample_weight)[0], 1e-3, 1 - 1e-3)
            params[-1][1][...] += np.log(means / (1 - means))
        return theta

    def allocate(self, n_rows, dtype):
        acts, deltas = self.network.allocate(n_rows, dtype)
        code_width = acts[self.network.code_index].shape[1]
        corrupted = self.noise is not None
        return AutoencoderBuffers(
            acts=acts,
            deltas=deltas,
            workspace=self.network.workspace(n_rows, dtype),
            target=np.empty_like(acts[0]) if corrupted else None,
            noise=np.empty_like(acts[0]) if corrupted else None,
            code_grads=[np.empty((n_rows, code_width), dtype) for _ in self.code_terms],
        )

    def loss_and_grad(self, theta, X, rows, row_weight, buffers, grad=None, rng=None):
        acts = buffers.acts
        self.loader.load(X, rows, acts[0])
        target = None
        if self.noise is not None and rng is not None:
            target = buffers.target
            target[...] = acts[0]
            fill = self.loader.masked_value()
            corrupt(acts[0], self.noise, self.noise_level, rng, buffers.noise, fill)
        code_penalty = None
        if self.code_terms:

            def code_penalty(codes):
                return self._code_terms(codes, row_weight, buffers.code_grads, rng)

        return self.network.loss_and_grad(
            theta,
            acts,
            buffers.deltas,
            grad,
            row_weight,
            target,
            code_penalty=code_penalty,
            workspace=buffers.workspace,
        )

    def _code_terms(self, codes, row_weight, outs, rng):
        """The sum of the terms on ``codes`` and of their gradients (into ``outs[0]``)."""
        value = 0.0
        for term, out in zip(self.code_terms, outs):
            value += term.value_and_grad(codes, row_weight, out, rng)
        for out in outs[1:]:
            outs[0] += out
        return value, outs[0]

    def batches(self, rows, batch_size, rng, shuffle):
        for term in self.code_terms:
            if hasattr(term, "batches"):
                return term.batches(rows, batch_size, rng, shuffle)
        return shuffled_batches(rows, batch_size, rng, shuffle)
