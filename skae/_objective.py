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
    indices (``rng`` a ``numpy.random.RandomState``): :func:`shuffled_batches`.
``batch_rows(batch_size)``
    The rows of the largest of those batches, which the buffers must hold.

Terms on the codes (the L1 penalty of :mod:`skae._regularizers`, the
neighbour-graph term of :mod:`skae._graph_term`) have their own small
interface: ``needs_rng``, ``allocate(n_rows, n_components, dtype)`` (a
:class:`~skae._data.RowBuffers` with a ``grad`` field), and
``value_and_grad(codes, rows, row_weight, buffers, rng)``, which returns the
term's value for the codes of the batch ``rows`` and writes its gradient with
respect to them into ``buffers.grad``.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ._data import RowBuffers, chunks, principal_axes
from ._regularizers import GaussianPool, corrupt

__all__ = [
    "AutoencoderBuffers",
    "AutoencoderObjective",
    "NetworkObjective",
    "Objective",
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

    def batch_rows(self, batch_size): ...


@dataclass(frozen=True)
class AutoencoderBuffers(RowBuffers):
    """A batch of :class:`AutoencoderObjective`.

    ``acts[0]`` is the batch as the network sees it; ``acts[i]`` and
    ``deltas[i]`` are layer ``i``'s output and its gradient; ``target`` keeps
    the clean batch when the input is corrupted, and ``noise`` the fresh draws
    (or ``noise_pool``, kept from batch to batch:
    :class:`~skae._regularizers.GaussianPool`), ``mask``
    the entries that masking noise replaces;
    ``code_terms`` holds the buffers of each term on the codes (its gradient
    in ``.grad``); ``workspace`` is the network's flat scratch.
    """

    acts: list
    deltas: list
    workspace: np.ndarray
    target: np.ndarray = None
    noise: np.ndarray = None
    noise_pool: "GaussianPool" = None
    mask: np.ndarray = None
    code_terms: list = None

    unsliced = ("workspace", "noise_pool")


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


class NetworkObjective:
    """What every objective over a network shares: the layout comes from the network.

    Parameters
    ----------
    network : object
        The parameter layout, with ``n_params``, ``decayed`` and
        ``parameters(theta)``.
    loader : RowLoader
        Turns rows of ``X`` into the network's view of them.
    """

    def __init__(self, network, loader):
        self.network = network
        self.loader = loader

    @property
    def n_params(self):
        return self.network.n_params

    @property
    def decayed(self):
        return self.network.decayed

    def parameters(self, theta):
        """``(W, b)`` views into ``theta``, layer by layer."""
        return self.network.parameters(theta)


class AutoencoderObjective(NetworkObjective):
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
    pool_noise : bool, default=False
        Take Gaussian noise from a :class:`~skae._regularizers.GaussianPool`
        instead of fresh draws: the small batches of the neighbour-graph
        term's training would otherwise spend much of their time drawing.
    pca_start : bool, default=True
        :meth:`init` starts the linear path at PCA's axes. False leaves the
        path's two maps at their random draw, for a caller that sets them
        itself (the neighbour-graph term's start at the layout), so that the
        principal axes are not computed for nothing.
    """

    def __init__(
        self,
        network,
        loader,
        *,
        noise=None,
        noise_level=0.0,
        code_terms=(),
        pool_noise=False,
        pca_start=True,
    ):
        super().__init__(network, loader)
        self.noise = noise
        self.noise_level = float(noise_level)
        self.code_terms = tuple(code_terms)
        self.pool_noise = bool(pool_noise)
        self.pca_start = bool(pca_start)

    @property
    def needs_rng(self):
        return self.noise is not None or any(term.needs_rng for term in self.code_terms)

    def init(self, X, sample_weight, rng):
        """A new parameter vector; a network with a linear path starts at PCA.

        The linear path's encoder and decoder are PCA's axes (with
        ``pca_start``) and the layers' last step into the code and into the
        output start at zero, so the network starts exactly at PCA's solution.
        With tied weights the last layer's matrix is the first's, which must
        stay random, and a zero step into the code would be a stationary point:
        the decoder would start at a constant, and PCA's residuals are
        uncorrelated with its codes, so no gradient would reach the layers.
        That step starts at 1% of its random initialisation instead, and the
        output bias cancels the constant the decoder's layers then add.
        """
        network = self.network
        theta = network.init(rng, X.dtype)
        if network.linear_path is None:
            return theta
        code, n_components = network.code_index, network.layer_sizes[network.code_index]
        if self.pca_start:
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
        bias = network.loss.initial_bias(X, sample_weight)
        if bias is not None:
            params[-1][1][...] += bias
        return theta

    def allocate(self, n_rows, dtype):
        acts, deltas = self.network.allocate(n_rows, dtype)
        code_width = acts[self.network.code_index].shape[1]
        corrupted = self.noise is not None
        pooled = self.noise == "gaussian" and self.pool_noise
        return AutoencoderBuffers(
            acts=acts,
            deltas=deltas,
            workspace=self.network.workspace(n_rows, dtype),
            target=np.empty_like(acts[0]) if corrupted else None,
            noise=np.empty_like(acts[0]) if corrupted and not pooled else None,
            noise_pool=GaussianPool(n_rows, acts[0].shape[1], dtype, self.noise_level)
            if pooled
            else None,
            mask=np.empty(acts[0].shape, dtype=bool) if self.noise == "masking" else None,
            code_terms=[term.allocate(n_rows, code_width, dtype) for term in self.code_terms],
        )

    def loss_and_grad(self, theta, X, rows, row_weight, buffers, grad=None, rng=None):
        acts = buffers.acts
        self.loader.load(X, rows, acts[0])
        target = None
        if self.noise is not None and rng is not None:
            target = buffers.target
            target[...] = acts[0]
            if buffers.noise_pool is not None:
                buffers.noise_pool.add_to(acts[0], rng)
            else:
                fill = self.loader.masked_value()
                corrupt(
                    acts[0], self.noise, self.noise_level, rng, buffers.noise, fill, buffers.mask
                )
        code_penalty = None
        if self.code_terms:

            def code_penalty(codes):
                return self._code_terms(codes, rows, row_weight, buffers.code_terms, rng)

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

    def _code_terms(self, codes, rows, row_weight, term_buffers, rng):
        """The sum of the terms on ``codes``, and of their gradients (in the first's buffer)."""
        value = 0.0
        for term, buffers in zip(self.code_terms, term_buffers):
            value += term.value_and_grad(codes, rows, row_weight, buffers, rng)
        total = term_buffers[0].grad
        for buffers in term_buffers[1:]:
            total += buffers.grad
        return value, total

    def batch_rows(self, batch_size):
        """Rows of the largest batch for a ``batch_size``."""
        return batch_size

    def batches(self, rows, batch_size, rng, shuffle):
        return shuffled_batches(rows, batch_size, rng, shuffle)
