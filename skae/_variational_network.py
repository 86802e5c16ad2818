"""The variational autoencoder's core: a Gaussian encoder and a decoder.

Pure NumPy, built from two :class:`~skae._network.Network` objects over one
flat parameter vector (the encoder's block, then the decoder's): the encoder
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

import numpy as np

from ._network import Network
from ._regularizers import _per_row


class VariationalNetwork:
    """A Gaussian encoder and a decoder over one flat parameter vector.

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
        Reconstruction loss, a key of ``LOSSES``.
    """

    def __init__(self, n_features, hidden_layer_sizes, n_components, activation, loss):
        hidden = [int(s) for s in hidden_layer_sizes]
        activations = [activation] * len(hidden) + ["identity"]
        self.n_components = int(n_components)
        self.n_features = int(n_features)
        self.loss = loss
        self.encoder = Network([n_features, *hidden, 2 * self.n_components], activations)
        self.decoder = Network([self.n_components, *hidden[::-1], n_features], activations, loss)
        self.split = self.encoder.n_params
        self.n_params = self.split + self.decoder.n_params

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

    def penalty(self, theta, grad, alpha, workspace=None):
        """Add ``alpha / 2 * ||W||^2`` over both halves: return it, add its gradient."""
        return sum(
            net.penalty(t, g, alpha, workspace)
            for net, t, g in zip(
                (self.encoder, self.decoder), self.halves(theta), self.halves(grad)
            )
        )

    def workspace(self, n_rows, dtype):
        """A flat scratch buffer that serves both halves (see ``Network.workspace``)."""
        return max(
            (net.workspace(n_rows, dtype) for net in (self.encoder, self.decoder)),
            key=lambda work: work.size,
        )

    def allocate(self, n_rows, dtype):
        """Buffers for batches of up to ``n_rows`` rows, by name.

        ``buffers["encoder_acts"][0]`` is the input the caller fills;
        ``buffers["eps"]`` is where a caller may draw the noise.
        """
        encoder_acts, encoder_deltas = self.encoder.allocate(n_rows, dtype)
        decoder_acts, decoder_deltas = self.decoder.allocate(n_rows, dtype)
        k = self.n_components
        return {
            "encoder_acts": encoder_acts,
            "encoder_deltas": encoder_deltas,
            "decoder_acts": decoder_acts,
            "decoder_deltas": decoder_deltas,
            "eps": np.empty((n_rows, k), dtype=dtype),
            "std": np.empty((n_rows, k), dtype=dtype),
            "kl": np.empty((n_rows, k), dtype=dtype),
        }

    def loss_and_grad(self, theta, buffers, grad, row_weight, beta, eps=None, workspace=None):
        """The objective of the batch in ``buffers["encoder_acts"][0]``; its gradient into ``grad``.

        ``eps`` holds standard normal draws of shape ``(n_rows, k)``, or is
        None for ``z = mean`` (no sampling). ``row_weight`` is a scalar or one
        weight per row, normalised over the data. With ``grad=None`` only the
        objective is computed. The weight penalty is separate (:meth:`penalty`).
        ``workspace`` (from :meth:`workspace`) is scratch for both halves.
        """
        k = self.n_components
        theta_encoder, theta_decoder = self.halves(theta)
        acts, deltas = buffers["encoder_acts"], buffers["encoder_deltas"]
        x = acts[0]
        self.encoder.forward(theta_encoder, acts)
        mean, log_var = acts[-1][:, :k], acts[-1][:, k:]
        std, kl = buffers["std"], buffers["kl"]
        np.multiply(log_var, 0.5, out=std)
        np.exp(std, out=std)
        z = buffers["decoder_acts"][0]
        if eps is None:
            z[...] = mean
        else:
            np.multiply(std, eps, out=z)
            z += mean
        # KL(N(mean, std^2) || N(0, 1)) per entry: (mean^2 + std^2 - 1 - log_var) / 2
        np.multiply(mean, mean, out=kl)
        kl += std * std
        kl -= 1
        kl -= log_var
        per_row = 0.5 * kl.sum(axis=1)
        factor = beta / self.n_features
        if np.ndim(row_weight) == 0:
            kl_value = float(per_row.sum()) * float(row_weight)
        else:
            kl_value = float(per_row @ row_weight)
        grads = (None, None) if grad is None else self.halves(grad)
        reconstruction = self.decoder.loss_and_grad(
            theta_decoder,
            buffers["decoder_acts"],
            buffers["decoder_deltas"],
            grads[1],
            row_weight,
            target=x,
            input_delta=grad is not None,
            workspace=workspace,
        )
        if grad is not None:
            d_z = buffers["decoder_deltas"][0]
            d_mean, d_log_var = deltas[-1][:, :k], deltas[-1][:, k:]
            # d KL / d mean = mean; d KL / d log_var = (std^2 - 1) / 2
            np.multiply(mean, factor, out=d_mean)
            np.multiply(std, std, out=d_log_var)
            d_log_var -= 1
            d_log_var *= 0.5 * factor
            _per_row(d_mean, row_weight)
            _per_row(d_log_var, row_weight)
            d_mean += d_z
            if eps is not None:
                # z = mean + exp(log_var / 2) * eps: dz / dlog_var = std * eps / 2
                np.multiply(d_z, std, out=kl)
                kl *= eps
                kl *= 0.5
                d_log_var += kl
            self.encoder.backward(theta_encoder, acts, deltas, grads[0], workspace=workspace)
        return reconstruction + factor * kl_value
