"""AutoencoderTransformer: the scikit-learn estimator around the NumPy core.

This is the only module that imports scikit-learn's private helpers
(``_fit_context``, ``_param_validation``, ``_check_sample_weight``), so a
release that moves them breaks one place.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._activations import ACTIVATIONS
from ._version import __version__
from ._data import CHUNK_ROWS, chunks, load_rows, principal_axes, weighted_moments
from ._losses import LOSSES
from ._network import Network
from ._optimizers import SGD, Adam, lbfgs
from ._regularizers import corrupt, l1_code_penalty

__all__ = ["AutoencoderTransformer"]


def _is_stochastic(estimator):
    return estimator.solver in ("sgd", "adam")


def _numeric(check, *args, **kwargs):
    """Run a scikit-learn check, naming non-numeric input plainly."""
    try:
        return check(*args, **kwargs)
    except (ValueError, TypeError) as error:
        if "could not convert" in str(error) or "Unable to convert" in str(error):
            raise ValueError(
                f"X must hold numbers only; {error}. Encode text or categorical "
                "columns first (e.g. OneHotEncoder in a ColumnTransformer)."
            ) from None
        raise


def _finite(values, what):
    """Refuse to return non-finite results computed from finite input."""
    if not np.isfinite(values).all():
        raise ValueError(
            f"{what} overflowed: X holds values far beyond the scale of the data "
            "the autoencoder was fitted on, or too large to square in its dtype. "
            "Scale X (e.g. StandardScaler) before the autoencoder."
        )
    return values


def _head(buffers, n_rows):
    """The first ``n_rows`` rows of each batch buffer (a list of them, or one)."""
    return {
        name: [a[:n_rows] for a in b] if isinstance(b, list) else b[:n_rows]
        for name, b in buffers.items()
    }


def _check_layer_sizes(hidden_layer_sizes):
    if isinstance(hidden_layer_sizes, Integral):
        hidden_layer_sizes = (hidden_layer_sizes,)
    sizes = list(hidden_layer_sizes)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) for s in sizes):
        raise TypeError(
            f"hidden_layer_sizes must hold integers, got {hidden_layer_sizes!r}."
        )
    if any(s <= 0 for s in sizes):
        raise ValueError(
            f"hidden_layer_sizes must be > 0 (or empty), got {hidden_layer_sizes!r}."
        )
    return [int(s) for s in sizes]


class AutoencoderTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Nonlinear dimensionality reduction with an autoencoder.

    A drop-in for :class:`~sklearn.decomposition.PCA` when the data lie near a
    curved manifold. The network is an encoder ``n_features -> hidden_layer_sizes
    -> n_components`` and a mirrored decoder ``n_components ->
    reversed(hidden_layer_sizes) -> n_features``, trained to reconstruct its
    input. ``transform`` returns the code (the bottleneck layer, linear), and
    ``inverse_transform`` decodes a code back to feature space.

    With ``loss="squared_error"``, the data are centred by ``mean_`` and divided
    by the single number ``scale_`` (the root mean feature variance) inside the
    network, so raw data of any magnitude train well and the objective is, as
    for PCA, the plain mean squared error: with identity activations and
    ``hidden_layer_sizes=()`` the optimum spans PCA's subspace.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code. It may exceed ``n_features`` (an overcomplete code,
        useful with regularisation); then the autoencoder can learn the
        identity and the code is not a reduction.

    hidden_layer_sizes : array-like of int, default=(100,)
        Widths of the encoder's hidden layers, from the input towards the code;
        the decoder mirrors them. ``()`` gives a one-layer linear-bottleneck
        autoencoder.

    linear_path : bool, default=True
        Add a linear encoder and decoder beside the layers, initialised to
        PCA's solution, while the layers' own contribution to the code and to
        the reconstruction starts at zero. Training then starts exactly where
        PCA ends and the layers learn what PCA misses. ``False`` gives a plain
        autoencoder from a random start.

    tied_weights : bool, default=False
        Use the transpose of each encoder weight matrix as its mirror decoder
        weight (and of the linear path's encoder as its decoder): the network
        stores each matrix once, half the weights, which suits small data.
        Gradients from both uses of a matrix add up.

    noise : {"gaussian", "masking"} or None, default=None
        Corrupt the inputs during training while the loss is still measured
        against the clean input (a denoising autoencoder). ``"gaussian"`` adds
        normal noise of standard deviation ``noise_level * scale_``;
        ``"masking"`` sets each entry to 0 with probability ``noise_level``.
        The draws come from ``random_state``: fresh each batch for the
        stochastic solvers, one draw kept for the whole ``fit`` with
        ``"lbfgs"``, which needs a deterministic objective. The validation
        loss, ``transform`` and the scores see clean data.

    noise_level : float, default=0.1
        The noise's standard deviation in units of ``scale_`` (the data's root
        mean feature variance; 1 for binary cross-entropy), or the masking
        probability, in [0, 1]. Ignored when ``noise=None``.

    code_l1 : float, default=0.0
        Strength of an L1 penalty on the code (a sparse autoencoder): the
        objective and ``loss_curve_`` gain ``code_l1`` times the mean absolute
        code value, averaged over rows like the reconstruction loss. Untied,
        the decoder can undo the penalty by growing while the code shrinks;
        with ``tied_weights=True`` (or a larger ``alpha``) it cannot, and more
        code entries end near zero.

    activation : {"identity", "relu", "leaky_relu", "tanh", "logistic", "elu", \
            "softplus"}, default="relu"
        Activation of the hidden layers. The code layer is linear; the output
        layer's activation follows ``loss``.

    loss : {"squared_error", "binary_crossentropy"}, default="squared_error"
        Reconstruction loss. ``"binary_crossentropy"`` needs ``X`` in [0, 1],
        uses a logistic output computed from logits, and does not rescale ``X``.

    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        ``"adam"`` and ``"sgd"`` train on shuffled mini-batches; ``"lbfgs"``
        runs ``scipy.optimize.minimize(method="L-BFGS-B")`` on the full batch,
        which suits small data sets.

    alpha : float, default=1e-4
        Strength of the L2 penalty on the weights, ``alpha / 2 * ||W||^2``
        divided by the (weighted) number of samples in the batch, as in
        :class:`~sklearn.neural_network.MLPRegressor`.

    batch_size : int or "auto", default="auto"
        Rows per mini-batch for the stochastic solvers; ``"auto"`` is
        ``min(200, n_samples)``. Larger values are clipped to ``n_samples``.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step-size schedule of ``solver="sgd"``: ``"invscaling"`` divides
        ``learning_rate_init`` by ``(t + 1) ** power_t`` after ``t`` samples;
        ``"adaptive"`` divides the rate by 5 each time training stops improving.

    learning_rate_init : float, default=0.001
        Initial step size of the stochastic solvers.

    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).

    shuffle : bool, default=True
        Shuffle the rows before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the validation split.
        Pass an int for identical results across calls.

    tol : float, default=1e-4
        Training stops when the loss (or, with ``early_stopping``, the
        validation loss) has not improved by at least ``tol`` for
        ``n_iter_no_change`` consecutive epochs. For lbfgs, the gradient
        tolerance.

    verbose : bool, default=False
        Print one line per epoch.

    warm_start : bool, default=False
        Let ``fit`` continue from the current weights instead of starting anew.

    momentum : float, default=0.9
        Momentum of ``solver="sgd"``, in [0, 1].

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``solver="sgd"``.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when their loss stops
        improving, and keep the weights of the best validation loss.
        Stochastic solvers only.

    validation_fraction : float, default=0.1
        Share of the rows held out for ``early_stopping``, in (0, 1).

    beta_1 : float, default=0.9
        Decay of Adam's first-moment estimate, in [0, 1).

    beta_2 : float, default=0.999
        Decay of Adam's second-moment estimate, in [0, 1).

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before stopping.

    max_fun : int, default=15000
        Maximum number of loss evaluations of lbfgs.

    Attributes
    ----------
    coefs_ : list of ndarray
        Weight matrices, layer by layer, shape ``(fan_in, fan_out)``; views
        into the one flat parameter vector. They act on centred and scaled
        data (see ``mean_`` and ``scale_``).

    intercepts_ : list of ndarray
        Bias vectors, layer by layer.

    mean_ : ndarray of shape (n_features,)
        Per-feature (weighted) mean of the first training data, subtracted
        before encoding and added back after decoding (zero for
        ``loss="binary_crossentropy"``).

    scale_ : float
        Root mean per-feature variance of the first training data: the data
        are divided by it inside the network (1 for binary cross-entropy).

    loss_curve_ : list of float
        Training loss after each epoch (lbfgs: each iteration). For
        ``loss="squared_error"`` it is in units of ``scale_ ** 2``, i.e. the
        share of the data's variance the reconstruction misses, plus the
        penalty.

    validation_loss_curve_ : list of float or None
        Loss on the held-out rows after each epoch with ``early_stopping``,
        else None.

    best_loss_ : float
        The lowest loss watched for stopping: the validation loss with
        ``early_stopping``, the training loss otherwise.

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
    sklearn.decomposition.PCA : The linear method this generalises.
    sklearn.neural_network.MLPRegressor : A supervised network with the same
        solver options.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, hidden_layer_sizes=(32,),
    ...                             max_iter=20, random_state=0)
    >>> Z = ae.fit_transform(X)
    >>> Z.shape
    (1797, 8)
    >>> ae.inverse_transform(Z).shape
    (1797, 64)
    >>> ae.get_feature_names_out()[:2]
    array(['autoencodertransformer0', 'autoencodertransformer1'], dtype=object)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "linear_path": ["boolean"],
        "tied_weights": ["boolean"],
        "noise": [StrOptions({"gaussian", "masking"}), None],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "code_l1": [Interval(Real, 0, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions(set(LOSSES))],
        "solver": [StrOptions({"adam", "sgd", "lbfgs"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(100,),
        linear_path=True,
        tied_weights=False,
        noise=None,
        noise_level=0.1,
        code_l1=0.0,
        activation="relu",
        loss="squared_error",
        solver="adam",
        alpha=1e-4,
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
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.linear_path = linear_path
        self.tied_weights = tied_weights
        self.noise = noise
        self.noise_level = noise_level
        self.code_l1 = code_l1
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

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Train the autoencoder on ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input is read a batch at a time.
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in the loss.

        Returns
        -------
        self : AutoencoderTransformer
            The fitted estimator.
        """
        return self._fit(X, sample_weight, incremental=False)

    @available_if(_is_stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Run one epoch over ``X``, starting from the current weights.

        The first call sets ``mean_`` and ``scale_`` from its data; later calls
        keep them. Only for the stochastic solvers; ``early_stopping`` is
        ignored.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in the loss.

        Returns
        -------
        self : AutoencoderTransformer
            The updated estimator.
        """
        return self._fit(X, sample_weight, incremental=True)

    def _fit(self, X, sample_weight, incremental):
        before = copy.deepcopy(self.__dict__)
        try:
            # Values that underflow to zero (squared tiny gradients, saturated
            # units) are harmless here, even under np.errstate(all="raise").
            with np.errstate(under="ignore"):
                self._fit_or_raise(X, sample_weight, incremental)
        except BaseException:
            # A failed call leaves the estimator exactly as it was.
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def _fit_or_raise(self, X, sample_weight, incremental):
        sizes = _check_layer_sizes(self.hidden_layer_sizes)
        warm = hasattr(self, "_theta") and (incremental or self.warm_start)
        X = _numeric(
            validate_data,
            self,
            X,
            reset=not warm,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            ensure_min_samples=2 if self.early_stopping and not incremental else 1,
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if sample_weight.sum() <= 0:
                raise ValueError("sample_weight must have a positive sum.")
        if self.loss == "binary_crossentropy":
            low, high = (X.data.min(initial=0), X.data.max(initial=0)) if sp.issparse(X) else (X.min(), X.max())
            if low < 0 or high > 1:
                raise ValueError(
                    'loss="binary_crossentropy" needs X in [0, 1]; got values in '
                    f"[{low:g}, {high:g}]. Scale X (e.g. MinMaxScaler) or use "
                    'loss="squared_error".'
                )
        if warm and self._layout(sizes) != self._fitted_layout:
            *names, last = self._layout(sizes)
            raise ValueError(
                f"{', '.join(names)} and {last} cannot change on a warm "
                "start or partial_fit; refit with warm_start=False."
            )
        if not warm:
            self._initialize(X, sample_weight, sizes)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, sample_weight)
        else:
            self._fit_stochastic(X, sample_weight, incremental)

    def _initialize(self, X, sample_weight, sizes):
        self._rng = check_random_state(self.random_state)
        dtype = X.dtype
        n_features = X.shape[1]
        if self.loss == "squared_error":
            mean, scale = weighted_moments(X, sample_weight)
            self.mean_ = mean.astype(dtype)
            self.scale_ = scale if np.isfinite(scale) and scale > 0 else 1.0
        else:
            self.mean_ = np.zeros(n_features, dtype=dtype)
            self.scale_ = 1.0
        self._init_network(X, sample_weight, sizes)
        self._fitted_layout = self._layout(sizes)
        self._optimizer = None
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.validation_loss_curve_ = [] if self.early_stopping else None
        self.best_loss_ = np.inf

    def _layout(self, sizes):
        """The parameters that fix the layout of ``_theta``, by name."""
        return {
            "hidden_layer_sizes": tuple(sizes),
            "n_components": self.n_components,
            "linear_path": self.linear_path,
            "tied_weights": self.tied_weights,
        }

    def _init_network(self, X, sample_weight, sizes):
        """Build ``_network`` and its initial ``_theta`` for data like ``X``."""
        n_features = X.shape[1]
        layer_sizes = [n_features, *sizes, self.n_components, *sizes[::-1], n_features]
        activations = [self.activation] * len(sizes)
        activations = activations + ["identity"] + activations + ["identity"]
        self._network = Network(
            layer_sizes, activations, self.loss, tied=self.tied_weights,
            linear_path=self.linear_path,
        )
        self._theta = self._network.init(self._rng, X.dtype)
        if self.linear_path:
            self._start_from_pca(X, sample_weight)

    def _start_from_pca(self, X, sample_weight):
        """Linear path = PCA; the layers' last step into code and output = 0.

        With tied weights the last layer's matrix is the first's, which must
        stay random, and a zero step into the code would be a stationary
        point: the decoder would start at a constant, and PCA's residuals are
        uncorrelated with its codes, so no gradient would reach the layers.
        That step starts at 1% of its random initialisation instead, and the
        output bias cancels the constant the decoder's layers then add.
        """
        network, theta = self._network, self._theta
        axes = principal_axes(
            X, self.mean_.astype(np.float64), self.scale_, self.n_components,
            sample_weight, self._rng,
        )
        encoder, decoder = network.linear_weights(theta)
        encoder[...] = axes.T
        decoder[...] = axes
        params = network.parameters(theta)
        if not self.tied_weights:
            params[network.code_index - 1][0][...] = 0
            params[-1][0][...] = 0
        else:
            params[network.code_index - 1][0][...] *= 0.01
            zero_code = np.zeros((1, self.n_components), dtype=theta.dtype)
            params[-1][1][...] -= network.predict(theta, zero_code, network.code_index)[0]
        if self.loss == "binary_crossentropy":
            mean = np.clip(weighted_moments(X, sample_weight)[0], 1e-3, 1 - 1e-3)
            params[-1][1][...] += np.log(mean / (1 - mean))

    def _make_optimizer(self):
        n, dtype = self._theta.size, self._theta.dtype
        if self.solver == "adam":
            return Adam(n, dtype, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon)
        return SGD(
            n,
            dtype,
            self.learning_rate_init,
            self.learning_rate,
            self.power_t,
            self.momentum,
            self.nesterovs_momentum,
        )

    def _allocate(self, n_rows, dtype):
        """Batch buffers for up to ``n_rows`` rows, by name; allocated once per fit."""
        acts, deltas = self._network.allocate(n_rows, dtype)
        buffers = {"acts": acts, "deltas": deltas}
        if self.noise is not None:
            buffers["target"] = np.empty_like(acts[0])
            buffers["noise"] = np.empty_like(acts[0])
        if self.code_l1 > 0:
            buffers["code_grad"] = np.empty_like(acts[self._network.code_index])
        return buffers

    def _noise_source(self):
        """A Generator seeded from the random state for the training noise, or None."""
        if self.noise is None:
            return None
        if self.noise == "masking" and self.noise_level > 1:
            raise ValueError(
                'noise="masking" needs noise_level in [0, 1], a probability; got '
                f"{self.noise_level!r}."
            )
        return np.random.default_rng(self._rng.randint(np.iinfo(np.int32).max))

    def _load_batch(self, X, rows, sample_weight, total_weight, out):
        """Write the network's view of ``X[rows]`` into ``out``; return the rows' weights."""
        load_rows(X, rows, out)
        if self.loss == "squared_error":
            out -= self.mean_
            out *= 1.0 / self.scale_
        if sample_weight is None:
            return 1.0 / total_weight
        return sample_weight[rows] / total_weight

    def _batch_loss(
        self, theta, X, rows, sample_weight, total_weight, buffers, grad, rng=None, workspace=None
    ):
        """Loss of ``X[rows]`` normalised by ``total_weight``; its gradient into ``grad``.

        ``buffers`` (from :meth:`_allocate`) have exactly the batch's rows.
        ``rng`` (a ``numpy.random.Generator``) draws the input corruption; with
        None the input stays clean. ``workspace`` is the network's scratch
        (``Network.workspace``). The weight penalty is not included.
        """
        acts = buffers["acts"]
        row_weight = self._load_batch(X, rows, sample_weight, total_weight, acts[0])
        target = None
        if self.noise is not None and rng is not None:
            target = buffers["target"]
            target[...] = acts[0]
            zero = -self.mean_ / self.scale_  # raw 0 as the network sees it
            corrupt(acts[0], self.noise, self.noise_level, rng, buffers["noise"], zero)
        penalty = None
        if self.code_l1 > 0:
            penalty = l1_code_penalty(self.code_l1, row_weight, buffers["code_grad"])
        return self._network.loss_and_grad(
            theta, acts, buffers["deltas"], grad, row_weight, target, code_penalty=penalty,
            workspace=workspace,
        )

    def _dataset_loss(self, X, sample_weight, rows, buffers, capacity):
        """Weighted mean loss over clean ``X[rows]``, ``capacity`` rows at a time."""
        total = len(rows) if sample_weight is None else sample_weight[rows].sum()
        loss = 0.0
        for part in chunks(len(rows), capacity):
            loss += self._batch_loss(
                self._theta, X, rows[part], sample_weight, total,
                _head(buffers, part.stop - part.start), None,
            )
        return loss

    def _fit_stochastic(self, X, sample_weight, incremental):
        n_samples = X.shape[0]
        early_stopping = self.early_stopping and not incremental
        rng, network, theta = self._rng, self._network, self._theta
        if incremental and self._optimizer is not None:
            optimizer = self._optimizer
        else:
            optimizer = self._optimizer = self._make_optimizer()
        train = np.arange(n_samples)
        if early_stopping:
            n_val = int(np.ceil(self.validation_fraction * n_samples))
            if n_val >= n_samples:
                raise ValueError(
                    f"early_stopping with validation_fraction={self.validation_fraction} "
                    f"leaves no training rows out of {n_samples}."
                )
            permutation = rng.permutation(n_samples)
            val, train = np.sort(permutation[:n_val]), np.sort(permutation[n_val:])
        # The weights at the best epoch so far: restored by early stopping and
        # when training is interrupted.
        best_theta, best_epoch = theta.copy(), None
        if not incremental:
            self.best_loss_ = np.inf
        n_train = train.size
        if self.batch_size == "auto":
            batch_size = min(200, n_train)
        else:
            if self.batch_size > n_train and not incremental:
                warnings.warn(
                    f"batch_size={self.batch_size} is larger than the {n_train} "
                    "training rows; it is clipped to that.",
                    UserWarning,
                )
            batch_size = min(self.batch_size, n_train)
        buffers = self._allocate(batch_size, theta.dtype)
        noise_rng = self._noise_source()
        grad = np.empty_like(theta)
        workspace = network.workspace(batch_size, theta.dtype)
        no_improvement = 0
        converged = interrupted = False
        for _ in range(1 if incremental else self.max_iter):
            order = rng.permutation(train) if self.shuffle else train
            accumulated = 0.0
            try:
                for part in chunks(n_train, batch_size):
                    rows = order[part]
                    if self.shuffle:
                        rows.sort()  # in place, within this epoch's permutation
                    n = rows.size
                    total = n if sample_weight is None else sample_weight[rows].sum()
                    if total == 0:
                        continue
                    loss = self._batch_loss(
                        theta, X, rows, sample_weight, total, _head(buffers, n), grad,
                        noise_rng, workspace,
                    )
                    loss += network.penalty(theta, grad, self.alpha / total, workspace)
                    if not np.isfinite(loss):
                        raise self._diverged()
                    optimizer.step(theta, grad)
                    accumulated += loss * n
            except KeyboardInterrupt:
                if best_epoch is not None:
                    theta[...] = best_theta
                warnings.warn(
                    f"Training was interrupted during epoch {self.n_iter_ + 1}; the "
                    "estimator keeps the weights of its best epoch so far"
                    + (f" (epoch {best_epoch})." if best_epoch else " (none had ended: the current ones)."),
                    UserWarning,
                )
                interrupted = True
                break
            if not np.isfinite(theta).all():
                raise self._diverged()
            self.n_iter_ += 1
            self.t_ += n_train
            epoch_loss = accumulated / n_train
            self.loss_curve_.append(epoch_loss)
            optimizer.epoch_ends(self.t_)
            message = f"Iteration {self.n_iter_}, loss = {epoch_loss:.8f}"
            if incremental:
                self.best_loss_ = min(self.best_loss_, epoch_loss)
                if self.verbose:
                    print(message)
                continue
            if early_stopping:
                watched = self._dataset_loss(X, sample_weight, val, buffers, batch_size)
                self.validation_loss_curve_.append(watched)
                message += f", validation loss = {watched:.8f}"
            else:
                watched = epoch_loss
            if self.verbose:
                print(message)
            if watched > self.best_loss_ - self.tol:
                no_improvement += 1
            else:
                no_improvement = 0
            if watched < self.best_loss_:
                self.best_loss_ = watched
                best_theta[...] = theta
                best_epoch = self.n_iter_
            if no_improvement > self.n_iter_no_change:
                if optimizer.should_stop(self.verbose):
                    if self.verbose:
                        print(
                            f"Loss did not improve by tol={self.tol} for "
                            f"{self.n_iter_no_change} consecutive epochs. Stopping."
                        )
                    converged = True
                    break
                no_improvement = 0
        else:
            if not incremental and not converged:
                warnings.warn(
                    f"Stochastic optimizer: maximum iterations ({self.max_iter}) "
                    "reached and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                )
        if early_stopping and best_epoch is not None and not interrupted:
            theta[...] = best_theta

    def _fit_lbfgs(self, X, sample_weight):
        n_samples = X.shape[0]
        network, theta = self._network, self._theta
        total = n_samples if sample_weight is None else float(sample_weight.sum())
        chunk = min(n_samples, CHUNK_ROWS)
        buffers = self._allocate(chunk, theta.dtype)
        # L-BFGS needs a deterministic objective: one noise draw per chunk,
        # the same at every evaluation.
        noise_rng = self._noise_source()
        n_chunks = -(-n_samples // chunk)
        seeds = None if noise_rng is None else noise_rng.integers(2**62, size=n_chunks)
        grad_chunk = np.empty_like(theta)
        best = {"loss": np.inf, "theta": theta.astype(np.float64)}

        def loss_and_grad(x):
            theta[...] = x
            grad = np.zeros(theta.size)
            loss = 0.0
            for part in chunks(n_samples, chunk):
                rng = None if seeds is None else np.random.default_rng(seeds[part.start // chunk])
                loss += self._batch_loss(
                    theta, X, part, sample_weight, total,
                    _head(buffers, part.stop - part.start), grad_chunk, rng,
                )
                grad += grad_chunk
            loss += network.penalty(theta, grad, self.alpha / total)
            if loss < best["loss"]:
                best["loss"], best["theta"] = loss, x.copy()
            return loss, grad

        def callback(intermediate_result):
            self.loss_curve_.append(float(intermediate_result.fun))
            if self.verbose:
                print(f"Iteration {len(self.loss_curve_)}, loss = {intermediate_result.fun:.8f}")

        curve_start = len(self.loss_curve_)
        try:
            result = lbfgs(loss_and_grad, theta, self.max_iter, self.max_fun, self.tol, callback)
        except KeyboardInterrupt:
            warnings.warn(
                "Training was interrupted; the estimator keeps the best weights "
                "lbfgs had reached.",
                UserWarning,
            )
            result = None
        if result is None or not np.isfinite(result.fun):
            if not np.isfinite(best["loss"]):
                raise self._diverged()
            theta[...] = best["theta"]
        else:
            theta[...] = result.x
            if result.status != 0:
                warnings.warn(
                    f"lbfgs failed to converge after {result.nit} iterations "
                    f"(status={result.status}): {result.message}. Increase max_iter "
                    "or max_fun, or scale the data.",
                    ConvergenceWarning,
                )
        self.n_iter_ = len(self.loss_curve_) - curve_start
        self.best_loss_ = min(self.loss_curve_[curve_start:], default=best["loss"])

    def _diverged(self):
        return ValueError(
            "Training diverged: the loss became non-finite. The estimator was left "
            "as it was before this call. Use a smaller learning_rate_init (now "
            f"{self.learning_rate_init:g}) or scale the data (e.g. StandardScaler); "
            "note that partial_fit keeps the mean_ and scale_ of its first call's data."
        )

    # ------------------------------------------------------------ transform

    @property
    def coefs_(self):
        check_is_fitted(self, "_theta")
        return [W for W, _ in self._network.parameters(self._theta)]

    @property
    def intercepts_(self):
        check_is_fitted(self, "_theta")
        return [b for _, b in self._network.parameters(self._theta)]

    def _effective_theta(self, dtype, inputs=True, outputs=True):
        """Parameters that read raw ``X`` and/or write raw reconstructions.

        With tied weights one matrix serves both sides, so the encoder and the
        decoder each fold their own side into their own copy.
        """
        theta = self._theta.astype(dtype, copy=True)
        return self._network.fold_affine(
            theta, self.mean_.astype(dtype), self.scale_, inputs=inputs, outputs=outputs
        )

    def _check_X(self, X):
        check_is_fitted(self, "_theta")
        return _numeric(
            validate_data, self, X, reset=False, accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
        )

    @np.errstate(under="ignore")
    def _encode(self, X):
        theta = self._effective_theta(X.dtype, outputs=False)
        out = np.empty((X.shape[0], self.n_components), dtype=X.dtype)
        for rows in chunks(X.shape[0], CHUNK_ROWS):
            out[rows] = self._network.predict(theta, X[rows], 0, self._network.code_index)
        return out

    @np.errstate(under="ignore")
    def _decode(self, Z):
        theta = self._effective_theta(Z.dtype, inputs=False)
        raw = self._network.predict(theta, Z, self._network.code_index)
        if self.loss == "binary_crossentropy":
            expit(raw, out=raw)
        return raw

    def transform(self, X):
        """Encode ``X``: the code of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The codes, in the dtype of ``X`` (float32 stays float32).
        """
        return _finite(self._encode(self._check_X(X)), "transform")

    def inverse_transform(self, X):
        """Decode codes back to feature space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features)
            The decoder's output (in [0, 1] for binary cross-entropy).
        """
        check_is_fitted(self, "_theta")
        Z = _numeric(check_array, X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} features, but inverse_transform expects codes "
                f"with n_components={self.n_components} features."
            )
        out = np.empty((Z.shape[0], self.n_features_in_), dtype=Z.dtype)
        for rows in chunks(Z.shape[0], CHUNK_ROWS):
            out[rows] = self._decode(Z[rows])
        return _finite(out, "inverse_transform")

    def score_samples(self, X):
        """Negative mean squared reconstruction error of each row.

        Higher is better; low values flag rows the model reconstructs badly
        (an anomaly score).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-mean((x - inverse_transform(transform(x))) ** 2)`` per row, in
            float64 (the squares of float32 data may not fit in float32).
        """
        X = self._check_X(X)
        scores = np.empty(X.shape[0])
        for rows in chunks(X.shape[0], CHUNK_ROWS):
            block = X[rows]
            block = block.toarray() if sp.issparse(block) else block
            error = (self._decode(self._encode(block)) - block).astype(np.float64, copy=False)
            scores[rows] = -np.einsum("ij,ij->i", error, error) / X.shape[1]
        return _finite(scores, "score_samples")

    def score(self, X, y=None, sample_weight=None):
        """Mean of :meth:`score_samples`: higher is better.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the mean.

        Returns
        -------
        score : float
            The negative (weighted) mean squared reconstruction error.
        """
        scores = self.score_samples(X)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, scores[:, None])
        return float(np.average(scores, weights=sample_weight))

    def __getstate__(self):
        state = super().__getstate__()
        state["_skae_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_skae_version", "pre-0.1")
        if version != __version__:
            warnings.warn(
                f"This {type(self).__name__} was pickled with skae {version} and is "
                f"loaded with skae {__version__}; it may not work or give other "
                "results. Refit it, or load it with the version that saved it.",
                UserWarning,
            )
        super().__setstate__(state)

    @property
    def _n_features_out(self):
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
