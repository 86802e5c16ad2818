"""The variational objective: a Gaussian encoder and a decoder.

Pure NumPy. :class:`VariationalNetwork` is the layout: two
:class:`~skae._network.Network` objects over one flat parameter vector (the
encoder's block, then the decoder's). :class:`VariationalObjective` is an
objective in the sense of :mod:`skae._objective` over it: the encoder
maps ``x`` to the ``2 * k`` values ``[mean, log_variance]`` of ``q(z | x)``,
and the decoder maps a code ``z`` of width ``k`` to a reconstruction. The
objective of a row, per feature, is::

    reconstruction(x, decoder(z)) + beta * KL(q(z | x) || N(0, I)) / n_features

with ``z = mean + exp(log_variance / 2) * eps`` (the reparameterisation trick;
the caller draws ``eps``, or passes None for ``z = mean``). The reconstruction
loss is a mean over features, so dividing the KL by ``n_features`` keeps the
balance of the evidence lower bound: with ``loss="binary_crossentropy"`` and
``beta=1`` the objective is exactly the negative ELBO divided by
``n_features``; with ``"squared_error"`` it is that of a Gaussian decoder of
variance 1/2 in the units the network sees.
"""

from dataclasses import dataclass

import numpy as np

from ._data import RowBuffers
from ._losses import scale_rows, weighted_total
from ._network import Network
from ._objective import NetworkObjective, shuffled_batches

__all__ = ["VariationalBuffers", "VariationalNetwork", "VariationalObjective"]


@dataclass(frozen=True)
class VariationalBuffers(RowBuffers):
    """A batch of :class:`VariationalObjective`.

    ``encoder_acts[0]`` is the batch as the network sees it, ``decoder_acts[0]``
    the sampled code; ``eps`` holds the standard normal draws, ``std`` and
    ``kl`` per-entry scratch of the code's shape; ``workspace`` serves both
    networks' backward passes.
    """

    encoder_acts: list
    encoder_deltas: list
    decoder_acts: list
    decoder_deltas: list
    eps: np.ndarray
    std: np.ndarray
    kl: np.ndarray
    workspace: np.ndarray


class VariationalNetwork:
    """A Gaussian encoder and a decoder over one flat parameter vector: a VAE's layout.

    Parameters
    ----------
    n_features : int
        Width of the data.
    hidden_layer_sizes : sequence of int
        The encoder's hidden widths; the decoder mirrors them.
    n_components : int
        Width ``k`` of the code; the encoder's last layer has ``2 * k`` units.
    activation : str
        Activation of the hidden layers.
    loss : str
        Reconstruction loss, a key of ``LOSSES``; the decoder keeps its object.
    """

    def __init__(self, n_features, hidden_layer_sizes, n_components, activation, loss):
        hidden = [int(s) for s in hidden_layer_sizes]
        activations = [activation] * len(hidden) + ["identity"]
        self.n_components = int(n_components)
        self.n_features = int(n_features)
        self.encoder = Network([n_features, *hidden, 2 * self.n_components], activations)
        self.decoder = Network([self.n_components, *hidden[::-1], n_features], activations, loss)
        self.split = self.encoder.n_params
        self.n_params = self.split + self.decoder.n_params

    @property
    def loss(self):
        """The decoder's loss object."""
        return self.decoder.loss

    def halves(self, theta):
        """Views ``(encoder_theta, decoder_theta)`` into ``theta`` (or a gradient)."""
        return theta[: self.split], theta[self.split :]

    def init(self, rng, dtype=np.float64):
        """A new parameter vector: each half initialised as its ``Network`` does."""
        return np.concatenate([self.encoder.init(rng, dtype), self.decoder.init(rng, dtype)])

    def parameters(self, theta):
        """``(W, b)`` views of the encoder's layers, then the decoder's."""
        encoder, decoder = self.halves(theta)
        return self.encoder.parameters(encoder) + self.decoder.parameters(decoder)

    @property
    def decayed(self):
        """The slices of ``theta`` the L2 penalty covers: both halves' weights."""
        return (
            slice(0, self.encoder.n_weights),
            slice(self.split, self.split + self.decoder.n_weights),
        )


class VariationalObjective(NetworkObjective):
    """The variational objective of a :class:`VariationalNetwork`.

    Parameters
    ----------
    network : VariationalNetwork
        The layout of the parameters.
    loader : RowLoader
        Turns rows of ``X`` into the network's view of them.
    beta : float, default=1.0
        Weight of the KL term.
    """

    needs_rng = True  # the reparameterisation noise

    def __init__(self, network, loader, beta=1.0):
        super().__init__(network, loader)
        self.beta = float(beta)

    def init(self, X, sample_weight, rng):
        """A new parameter vector (:meth:`VariationalNetwork.init`).

        The output starts at the bias the loss asks for (with binary
        cross-entropy, the logits of the feature means).
        """
        network = self.network
        theta = network.init(rng, X.dtype)
        bias = network.loss.initial_bias(X, sample_weight)
        if bias is not None:
            network.decoder.parameters(network.halves(theta)[1])[-1][1][...] = bias
        return theta

    def allocate(self, n_rows, dtype):
        network = self.network
        encoder_acts, encoder_deltas = network.encoder.allocate(n_rows, dtype)
        decoder_acts, decoder_deltas = network.decoder.allocate(n_rows, dtype)
        k = network.n_components
        workspace = max(
            (net.workspace(n_rows, dtype) for net in (network.encoder, network.decoder)),
            key=lambda work: work.size,
        )
        return VariationalBuffers(
            encoder_acts=encoder_acts,
            encoder_deltas=encoder_deltas,
            decoder_acts=decoder_acts,
            decoder_deltas=decoder_deltas,
            eps=np.empty((n_rows, k), dtype=dtype),
            std=np.empty((n_rows, k), dtype=dtype),
            kl=np.empty((n_rows, k), dtype=dtype),
            workspace=workspace,
        )

    def batch_rows(self, batch_size):
        return batch_size

    def batches(self, rows, batch_size, rng, shuffle):
        return shuffled_batches(rows, batch_size, rng, shuffle)

    def loss_and_grad(self, theta, X, rows, row_weight, buffers, grad=None, rng=None):
        """The objective of ``X[rows]``; its gradient into ``grad``.

        ``rng`` draws the reparameterisation noise; with None the code is the
        posterior mean (no sampling).
        """
        network = self.network
        acts, deltas = buffers.encoder_acts, buffers.encoder_deltas
        x = self.loader.load(X, rows, acts[0])
        eps = None
        if rng is not None:
            eps = buffers.eps
            rng.standard_normal(out=eps, dtype=eps.dtype)
        k = network.n_components
        theta_encoder, theta_decoder = network.halves(theta)
        network.encoder.forward(theta_encoder, acts)
        mean, log_var = acts[-1][:, :k], acts[-1][:, k:]
        std, kl = buffers.std, buffers.kl
        np.multiply(log_var, 0.5, out=std)
        np.exp(std, out=std)
        # KL(N(mean, std^2) || N(0, 1)) per entry: (mean^2 + std^2 - 1 - log_var) / 2
        z = buffers.decoder_acts[0]
        np.multiply(mean, mean, out=kl)
        kl += np.multiply(std, std, out=z)  # z is scratch until the code is drawn
        kl -= 1
        kl -= log_var
        kl_value = weighted_total(0.5 * kl.sum(axis=1), row_weight)
        if eps is None:
            z[...] = mean
        else:
            np.multiply(std, eps, out=z)
            z += mean
        factor = self.beta / network.n_features
        grads = (None, None) if grad is None else network.halves(grad)
        reconstruction = network.decoder.loss_and_grad(
            theta_decoder,
            buffers.decoder_acts,
            buffers.decoder_deltas,
            grads[1],
            row_weight,
            target=x,
            input_delta=grad is not None,
            workspace=buffers.workspace,
        )
        if grad is not None:
            d_z = buffers.decoder_deltas[0]
            d_mean, d_log_var = deltas[-1][:, :k], deltas[-1][:, k:]
            # d KL / d mean = mean; d KL / d log_var = (std^2 - 1) / 2
            np.multiply(mean, factor, out=d_mean)
            np.multiply(std, std, out=d_log_var)
            d_log_var -= 1
            d_log_var *= 0.5 * factor
            scale_rows(d_mean, row_weight)
            scale_rows(d_log_var, row_weight)
            d_mean += d_z
            if eps is not None:
                # z = mean + exp(log_var / 2) * eps: dz / dlog_var = std * eps / 2
                np.multiply(d_z, std, out=kl)
                kl *= eps
                kl *= 0.5
                d_log_var += kl
            workspace = buffers.workspace
            network.encoder.backward(theta_encoder, acts, deltas, grads[0], workspace=workspace)
        return reconstruction + factor * kl_value
