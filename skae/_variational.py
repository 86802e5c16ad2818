"""VariationalAutoencoder: a generative autoencoder with a smooth latent space.

It shares :class:`~skae._base.BaseAutoencoder`'s fitting, transforms and
glue with :class:`~skae.AutoencoderTransformer`; only the network and the
objective (:mod:`skae._variational_network`), the encoding and decoding, and
the scores differ.
"""

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder
from ._compat import Interval
from ._data import check_positive_int
from ._variational_network import VariationalNetwork, VariationalObjective

__all__ = ["VariationalAutoencoder"]


class VariationalAutoencoder(BaseAutoencoder):
    """Variational autoencoder: a Gaussian code that can generate new data.

    The encoder ``n_features -> hidden_layer_sizes -> 2 * n_components`` gives
    the mean and the log-variance of a Gaussian ``q(z | x)``; the decoder
    ``n_components -> reversed(hidden_layer_sizes) -> n_features`` maps a code
    back to the data. Training minimises, per feature, the reconstruction loss
    of a code drawn from ``q(z | x)`` (the reparameterisation trick) plus
    ``beta`` times the Kullback-Leibler divergence from ``q(z | x)`` to the
    prior ``N(0, I)``, which keeps the codes of the data spread like the prior,
    so that decoding codes drawn from it (:meth:`sample`) gives data-like rows.

    The data are centred and scaled as in
    :class:`~skae.AutoencoderTransformer`, and the solvers and training options
    are the same.

    Read more in the :ref:`User Guide <vae>`.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code (the latent space).

    hidden_layer_sizes : array-like of int, default=(256, 128)
        Widths of the encoder's hidden layers; the decoder mirrors them.

    beta : float, default=1.0
        Weight of the KL term. ``1`` is the evidence lower bound; larger values
        (a beta-VAE) give smoother, less detailed codes, ``0`` a plain
        autoencoder with noisy codes.

    activation : {"identity", "relu", "leaky_relu", "tanh", "logistic", "elu", \
            "softplus"}, default="relu"
        Activation of the hidden layers.

    loss : {"squared_error", "binary_crossentropy"}, default="squared_error"
        Reconstruction loss: a Gaussian decoder (of variance 1/2 in the units
        of the centred data divided by ``scale_``) or a Bernoulli one, which
        needs ``X`` in [0, 1].

    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        As in :class:`~skae.AutoencoderTransformer`. With ``"lbfgs"`` the
        reparameterisation noise is drawn once per ``fit`` and kept, as
        L-BFGS needs a deterministic objective.

    alpha : float, default=0.01
        Strength of the L2 penalty on the weights.

    batch_size : int or "auto", default="auto"
        Rows per mini-batch; ``"auto"`` is ``min(200, n_samples)``.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step-size schedule of ``solver="sgd"``.

    learning_rate_init : float, default=0.001
        Initial step size of the stochastic solvers.

    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.

    max_iter : int, default=200
        Maximum number of epochs (lbfgs: iterations).

    shuffle : bool, default=True
        Shuffle the rows before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling, the validation split and the
        reparameterisation noise.

    tol : float, default=1e-4
        Stopping tolerance, as in :class:`~skae.AutoencoderTransformer`,
        whose default (1e-3) is ten times larger: the KL term keeps trading
        against the reconstruction by less than 1e-3 per epoch long after the
        reconstruction alone would have settled, and stopping there left
        10-D codes of MNIST 7% worse (see :ref:`defaults`).

    verbose : bool, default=False
        Print one line per epoch.

    warm_start : bool, default=False
        Let ``fit`` continue from the current weights, training with the
        current parameters; ``hidden_layer_sizes``, ``n_components``,
        ``activation`` and ``loss`` cannot change then (a ``ValueError``).

    momentum : float, default=0.9
        Momentum of ``solver="sgd"``.

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``solver="sgd"``.

    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the rows, stop when their loss
        (taken at the posterior mean, so without noise) stops improving, and
        keep the weights of the best validation loss. ``"auto"`` turns it on
        for fits on 2,000 rows or more, as in :class:`AutoencoderTransformer`.

    validation_fraction : float, default=0.1
        Share of the rows held out for ``early_stopping``.

    beta_1 : float, default=0.9
        Decay of Adam's first-moment estimate.

    beta_2 : float, default=0.999
        Decay of Adam's second-moment estimate.

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before stopping.

    max_fun : int, default=15000
        Maximum number of loss evaluations of lbfgs.

    Attributes
    ----------
    coefs_ : list of ndarray
        Weight matrices: the encoder's layers, then the decoder's. The
        encoder's last one has ``2 * n_components`` columns, the mean's and
        then the log-variance's.

    intercepts_ : list of ndarray
        Bias vectors, in the same order.

    n_components_ : int
        Size of the code of the fitted network (``n_components`` as fitted).

    out_activation_ : {"identity", "logistic"}
        The decoder's output activation, set by the ``loss`` trained with.

    beta_ : float
        The weight of the KL term in the last fit; :meth:`score_samples` uses it.

    mean_ : ndarray of shape (n_features,)
        Per-feature mean of the first training data (zero for
        ``loss="binary_crossentropy"``).

    scale_ : float
        Root mean per-feature variance of the first training data (1 for
        binary cross-entropy).

    loss_curve_ : list of float
        The objective (with the weight penalty) after each epoch.

    validation_loss_curve_ : list of float or None
        Held-out objective after each epoch with ``early_stopping``.

    best_loss_ : float
        The lowest loss watched for stopping.

    n_iter_ : int
        Epochs run (lbfgs: iterations of the last fit).

    t_ : int
        Training samples seen by the stochastic solvers.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during ``fit``, when they are all strings.

    See Also
    --------
    AutoencoderTransformer : The deterministic autoencoder, with a linear path
        from PCA, tied weights, denoising and sparse codes.
    sklearn.mixture.GaussianMixture : Another density model that can sample.

    Notes
    -----
    The objective of a row is ``reconstruction(x, decoder(z)) + beta *
    KL(q(z | x) || N(0, I)) / n_features``, with the reconstruction a mean
    over features; with ``loss="binary_crossentropy"`` and ``beta=1`` this is
    the negative evidence lower bound divided by ``n_features``.

    There is no ``linear_path``: it starts the deterministic autoencoder at
    PCA's codes, but a VAE's code is a distribution whose spread the KL term
    sets, and PCA's noiseless codes, scaled by the data's variance, are no
    starting point for that. Tied weights do not fit either: the encoder's last
    layer has twice the decoder's first layer's width.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VariationalAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> vae = VariationalAutoencoder(n_components=2, hidden_layer_sizes=(32,),
    ...                              max_iter=10, random_state=0)
    >>> Z = vae.fit_transform(X)
    >>> Z.shape
    (1797, 2)
    >>> vae.sample(5, random_state=0).shape
    (5, 64)
    >>> bool(vae.score(X) < 0)
    True
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(256, 128),
        beta=1.0,
        activation="relu",
        loss="squared_error",
        solver="adam",
        alpha=0.01,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping="auto",
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.beta = beta
        self.activation = activation
        self.loss = loss
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    def _layout(self, sizes):
        """The parameters that fix the layout of ``theta`` and what it means, by name."""
        return {
            "hidden_layer_sizes": tuple(sizes),
            "n_components": self.n_components,
            "activation": self.activation,
            "loss": self.loss,
        }

    def _make_network(self, n_features, sizes):
        return VariationalNetwork(n_features, sizes, self.n_components, self.activation, self.loss)

    def _make_objective(self, network, loader):
        return VariationalObjective(network, loader, self.beta)

    def _commit(self, state, result, incremental):
        super()._commit(state, result, incremental)
        self.beta_ = float(self.beta)

    # --------------------------------------------------- encode and decode

    def _encoder_params(self, dtype):
        """The encoder's half of the parameters, folded to read raw ``X``."""
        network = self._network
        theta = network.halves(self._theta.astype(dtype, copy=True))[0]
        return network.encoder.fold_affine(
            theta, self.mean_.astype(dtype), self.scale_, outputs=False
        )

    def _decoder_params(self, dtype):
        """The decoder's half of the parameters, folded to write raw reconstructions."""
        network = self._network
        theta = network.halves(self._theta.astype(dtype, copy=True))[1]
        return network.decoder.fold_affine(
            theta, self.mean_.astype(dtype), self.scale_, inputs=False
        )

    def _posterior_rows(self, theta_encoder, X):
        """Mean and log-variance of ``q(z | x)`` for the rows of ``X``."""
        k = self.n_components_
        heads = self._network.encoder.predict(theta_encoder, X)
        return heads[:, :k], heads[:, k:]

    def _encode_rows(self, theta_encoder, X):
        return self._posterior_rows(theta_encoder, X)[0]

    def _decode_rows(self, theta_decoder, Z):
        return self._reconstruct(self._network.decoder.predict(theta_decoder, Z))

    def _score_rows(self, theta_encoder, theta_decoder, X):
        mean, log_var = (a.astype(np.float64) for a in self._posterior_rows(theta_encoder, X))
        raw = self._network.decoder.predict(theta_decoder, mean.astype(X.dtype))
        X = np.asarray(X, dtype=np.float64)
        # -log p(x | z) per feature, up to a constant: the loss the decoder was trained with
        reconstruction = self._network.loss.per_row(raw, X, self.scale_)
        kl = 0.5 * (mean**2 + np.exp(log_var) - 1 - log_var).sum(axis=1)
        return -(reconstruction + self.beta_ * kl / X.shape[1])

    def transform(self, X):
        """Encode ``X``: the mean of ``q(z | x)`` for each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The posterior means, in the dtype of ``X``.
        """
        return super().transform(X)

    def inverse_transform(self, X):
        """Decode codes: the decoder's mean for each code.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features)
            The decoder's mean (in [0, 1] for binary cross-entropy).
        """
        return super().inverse_transform(X)

    def score_samples(self, X):
        """Negative objective of each row, taken at the posterior mean.

        The reconstruction loss of decoding the mean of ``q(z | x)``, plus
        ``beta`` times the KL term divided by ``n_features``, in the units of
        ``loss_curve_``. No noise is drawn, so the score is deterministic.
        Higher is better; low values flag unusual rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The negative per-row objective, in float64.
        """
        return super().score_samples(X)

    def sample(self, n_samples=1, random_state=None):
        """Generate data: decode codes drawn from the prior ``N(0, I)``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the codes; None uses NumPy's global random state.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The decoder's mean at each code (no observation noise is added),
            in the dtype of the training data.
        """
        check_is_fitted(self, "_theta")
        n_samples = check_positive_int(n_samples, "n_samples")
        rng = check_random_state(random_state)
        codes = rng.standard_normal((n_samples, self.n_components_))
        return self.inverse_transform(codes.astype(self._theta.dtype))
