"""AutoencoderTransformer: nonlinear dimensionality reduction, PCA's drop-in.

The estimator's own parts: its parameters, its network (with the PCA start
of its linear path and tied weights), the objective it trains
(:class:`~skae._objective.AutoencoderObjective`: input corruption, the code's
L1 penalty and, with ``n_neighbors``, the term of :mod:`skae._graph_term`
towards the layout (:mod:`skae._graph_layout`) of the graph of
:mod:`skae._neighbors`), its training
plan, and encoding and decoding. Fitting lives in :mod:`skae._fitting`, the
transforms and the scikit-learn glue in :mod:`skae._base`.
"""

from numbers import Integral, Real

import numpy as np

from ._base import BaseAutoencoder
from ._compat import Interval, StrOptions, _openmp_effective_n_threads
from ._data import pca_projection, principal_axes, weighted_moments
from ._fitting import TrainingPlan
from ._graph_layout import find_ab_params
from ._graph_term import (
    LEARNING_RATE,
    LayoutTargetTerm,
    default_batch_size,
    default_epochs,
    layout_targets,
    linear_start,
)
from ._neighbors import GRAPH_COMPONENTS
from ._network import Network
from ._objective import AutoencoderObjective
from ._regularizers import L1CodePenalty
from ._training import StoppingRule

__all__ = ["AutoencoderTransformer"]

START_COMPONENTS = 100  # principal components the linear start maps to the layout


class AutoencoderTransformer(BaseAutoencoder):
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

    Read more in the :ref:`User Guide <how-it-works>`.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code. Unlike :class:`~sklearn.decomposition.PCA`, which
        keeps every component when ``n_components`` is not given, the
        autoencoder needs a size and defaults to 2 (a map to look at): set it
        when you swap PCA out. It may exceed ``n_features`` (an overcomplete
        code, useful with regularisation); then the autoencoder can learn the
        identity and the code is not a reduction.

    hidden_layer_sizes : array-like of int, default=(256, 128)
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
        stores each matrix once, half the weights. Gradients from both uses
        of a matrix add up. See :ref:`tied-weights` for what it changes.

    noise : {"gaussian", "masking", "auto"} or None, default="auto"
        Corrupt the inputs during training while the loss is still measured
        against the clean input (a denoising autoencoder). ``"gaussian"`` adds
        normal noise of standard deviation ``noise_level * scale_``;
        ``"masking"`` sets each entry to 0 with probability ``noise_level``.
        ``"auto"`` is ``None`` without ``n_neighbors`` and ``"gaussian"`` with
        it: the noise keeps new rows' codes in the clusters the training rows
        form (see :ref:`clustering`).
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

    n_neighbors : int or None, default=None
        Keep the data's neighbourhoods in the codes, for clustering and
        visualisation. ``None`` trains on the reconstruction alone. An integer
        ``k`` >= 2 trains in two stages. First UMAP's fuzzy
        ``k``-nearest-neighbour graph of the training rows is built (as in
        umap-learn, a row counts as its own first neighbour: each row is
        linked to its ``k - 1`` nearest others), measured on their top 30
        principal components (on all the features for sparse ``X``, such as
        tf-idf rows, whose top components keep little of the distances;
        there, of three times as many nearest, the ``k - 1`` that share
        most of them),
        and laid out in ``n_components`` dimensions as
        umap-learn lays it out (a spectral start, then 500 epochs up to 10,000
        rows, fewer beyond, down to umap-learn's 200 from 62,500 rows up;
        from 8,000 rows up the epochs run on as many
        threads as scikit-learn's OpenMP code, see ``OMP_NUM_THREADS`` and
        threadpoolctl, and give the same layout on any number). Parts of the
        graph that nothing links, which the layout leaves far apart, are
        moved closer, as far as keeps each two apart. Then the network
        learns that layout: the loss adds ``neighbor_weight`` times
        the mean squared distance of each row's code to its position in the
        layout, which new rows then reach through the encoder. The network's
        linear path starts at the least-squares map from the rows' top
        principal components to the layout, and training runs ``n_epochs``
        epochs with the step size decaying linearly to zero, on inputs with
        Gaussian noise (``noise="auto"``); ``max_iter``, ``tol``,
        ``n_iter_no_change`` and ``early_stopping`` do not apply, and there is
        no ``partial_fit``. ``sample_weight`` weighs the rows' reconstruction;
        the graph treats the rows alike, leaving out those of zero weight.
        ``transform`` and ``inverse_transform`` are unchanged. See
        :ref:`clustering`.

    neighbor_weight : float, default=0.5
        Weight of the distance to the layout (a mean over rows and code
        dimensions, the layout scaled to a root mean square of 3) against the
        reconstruction loss (a mean over rows and features). Larger values
        follow the layout more closely, at some cost in reconstruction.

    min_dist : float, default=0.0
        How tightly the layout may pack neighbours, as in umap-learn (whose
        default, 0.1, spreads clusters more; 0 suits clustering).

    spread : float, default=1.0
        The scale of the layout's similarity curve, as in umap-learn.

    negative_sample_rate : int, default=5
        Non-neighbours pushed away per edge in the layout, as in umap-learn.

    n_epochs : int or None, default=None
        Epochs of the network's training with ``n_neighbors``. ``None``: as
        many as make about 782 batches of the automatic ``batch_size``, a
        batch of all the rows counting as a full one, and at least 5. Up to
        1,024 features that is about 200,000 row samples: 782 epochs up to
        256 rows, 20 for 10,000 rows, 5 from 40,000 rows up. Wider rows come
        in smaller batches, as many of them, so the network's work does not
        grow with the features.

    neighbors_algorithm : {"auto", "brute", "kd_tree", "ball_tree", "nndescent"}, \
            default="auto"
        How the nearest neighbours are found: exactly by
        :class:`~sklearn.neighbors.NearestNeighbors` with that algorithm, or
        approximately by pynndescent (``"nndescent"``, the optional
        ``pynndescent`` extra). ``"auto"`` is exact (``"brute"``) up to 100,000
        training rows and pynndescent above, when it is installed. Sparse
        ``X`` is searched as it is, where scikit-learn's trees fall back to
        ``"brute"`` (with a warning).

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

    alpha : float, default=0.01
        Strength of the L2 penalty on the weights, ``alpha / 2 * ||W||^2``
        divided by the (weighted) number of samples in the batch, as in
        :class:`~sklearn.neural_network.MLPRegressor`.

    batch_size : int or "auto", default="auto"
        Rows per mini-batch for the stochastic solvers; ``"auto"`` is
        ``min(200, n_samples)``. Larger values are clipped to ``n_samples``.
        With ``n_neighbors``, ``"auto"`` is 256 rows, or fewer for rows of
        more than 1,024 features: a batch holds about 262,144 values (131
        rows of 2,000 features, 64 of 4,096, at least 16 rows).

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step-size schedule of ``solver="sgd"``: ``"invscaling"`` divides
        ``learning_rate_init`` by ``(t + 1) ** power_t`` after ``t`` samples;
        ``"adaptive"`` divides the rate by 5 each time training stops improving.

    learning_rate_init : float or "auto", default="auto"
        Initial step size of the stochastic solvers. ``"auto"`` is 0.001, and
        0.003 with ``n_neighbors``, whose step then decays linearly to zero.

    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).

    shuffle : bool, default=True
        Shuffle the rows before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the validation split.
        Pass an int for identical results across calls.

    tol : float, default=1e-3
        Training stops when the loss (or, with ``early_stopping``, the
        validation loss) has not improved by at least ``tol`` for
        ``n_iter_no_change`` consecutive epochs; with
        ``loss="squared_error"`` the loss is a share of the data's variance,
        so the default asks each epoch to gain 0.1% of it. For lbfgs, the
        gradient tolerance.

    verbose : bool or int, default=False
        Print one line per epoch. With ``n_neighbors``, also each step before
        the network trains, as it starts: the principal components, the
        neighbours, the fuzzy graph, the layout's start and every tenth of its
        epochs (every epoch for ``verbose >= 2``), the graph's unlinked parts
        if any, and the network's planned epochs.

    warm_start : bool, default=False
        Let ``fit`` continue from the current weights instead of starting anew,
        training with the current parameters. ``hidden_layer_sizes``,
        ``n_components``, ``linear_path``, ``tied_weights``, ``activation`` and
        ``loss`` fix what the weights mean: a warm fit (or ``partial_fit``)
        that changes one of them raises a ``ValueError``.

    momentum : float, default=0.9
        Momentum of ``solver="sgd"``, in [0, 1].

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``solver="sgd"``.

    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the rows, stop when their loss stops
        improving, and keep the weights of the best validation loss.
        Stochastic solvers only, not in :meth:`partial_fit`. ``"auto"`` turns
        it on when ``fit`` gets at least 2,000 rows (:ref:`defaults` shows
        why).

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

    n_components_ : int
        Size of the code of the fitted network (``n_components`` as fitted).

    out_activation_ : {"identity", "logistic"}
        The decoder's output activation, set by the ``loss`` trained with.

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
        Loss on the held-out rows after each epoch when early stopping was on,
        else None.

    best_loss_ : float
        The lowest loss watched for stopping: the validation loss when early
        stopping was on, the training loss otherwise.

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
        **BaseAutoencoder._parameter_constraints,
        "linear_path": ["boolean"],
        "tied_weights": ["boolean"],
        "noise": [StrOptions({"gaussian", "masking", "auto"}), None],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "code_l1": [Interval(Real, 0, None, closed="left")],
        "n_neighbors": [Interval(Integral, 2, None, closed="left"), None],
        "neighbor_weight": [Interval(Real, 0, None, closed="left")],
        "min_dist": [Interval(Real, 0, None, closed="left")],
        "spread": [Interval(Real, 0, None, closed="neither")],
        "negative_sample_rate": [Interval(Integral, 0, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left"), None],
        "neighbors_algorithm": [StrOptions({"auto", "brute", "kd_tree", "ball_tree", "nndescent"})],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(256, 128),
        linear_path=True,
        tied_weights=False,
        noise="auto",
        noise_level=0.1,
        code_l1=0.0,
        n_neighbors=None,
        neighbor_weight=0.5,
        min_dist=0.0,
        spread=1.0,
        negative_sample_rate=5,
        n_epochs=None,
        neighbors_algorithm="auto",
        activation="relu",
        loss="squared_error",
        solver="adam",
        alpha=0.01,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init="auto",
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-3,
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
        self.linear_path = linear_path
        self.tied_weights = tied_weights
        self.noise = noise
        self.noise_level = noise_level
        self.code_l1 = code_l1
        self.n_neighbors = n_neighbors
        self.neighbor_weight = neighbor_weight
        self.min_dist = min_dist
        self.spread = spread
        self.negative_sample_rate = negative_sample_rate
        self.n_epochs = n_epochs
        self.neighbors_algorithm = neighbors_algorithm
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
            "linear_path": self.linear_path,
            "tied_weights": self.tied_weights,
            "activation": self.activation,
            "loss": self.loss,
        }

    def _check_options(self, incremental):
        if self.noise == "masking" and self.noise_level > 1:
            raise ValueError(
                'noise="masking" needs noise_level in [0, 1], a probability; got '
                f"{self.noise_level!r}."
            )
        if self.n_neighbors is None:
            return
        if self.solver == "lbfgs":
            raise ValueError(
                'n_neighbors needs a stochastic solver ("adam" or "sgd"): the network '
                'learns the graph\'s layout in mini-batches; got solver="lbfgs".'
            )
        if not self.min_dist < 3 * self.spread:
            raise ValueError(
                f"min_dist must be smaller than 3 * spread = {3 * self.spread:g}; got "
                f"min_dist={self.min_dist!r}."
            )

    def _learning_rate_init(self):
        """``learning_rate_init``, with "auto" resolved: larger with the graph term."""
        if self.learning_rate_init == "auto":
            return 0.001 if self.n_neighbors is None else LEARNING_RATE
        return self.learning_rate_init

    def _noise(self):
        """``noise``, with "auto" resolved."""
        if self.noise == "auto":
            return None if self.n_neighbors is None else "gaussian"
        return self.noise

    def _make_network(self, n_features, sizes):
        layer_sizes = [n_features, *sizes, self.n_components, *sizes[::-1], n_features]
        activations = [self.activation] * len(sizes)
        activations = activations + ["identity"] + activations + ["identity"]
        return Network(
            layer_sizes,
            activations,
            self.loss,
            tied=self.tied_weights,
            linear_path=self.linear_path,
        )

    def _make_objective(self, network, loader, code_terms=()):
        """The objective of the current parameters (and, with the graph, its term)."""
        l1 = [L1CodePenalty(self.code_l1)] if self.code_l1 > 0 else []
        return AutoencoderObjective(
            network,
            loader,
            noise=self._noise(),
            noise_level=self.noise_level,
            code_terms=[*l1, *code_terms],
            pool_noise=bool(code_terms),
            pca_start=not self._starts_at_layout(),
        )

    def _starts_at_layout(self):
        """A fresh network's linear path starts at the map to the graph's layout, not PCA."""
        return self.n_neighbors is not None and self.linear_path and not self.tied_weights

    def _training_plan(self, state, X, sample_weight, incremental):
        """With ``n_neighbors``: learn a UMAP layout of the rows' neighbour graph.

        Three steps. The graph is built on the rows' top (at most 30)
        principal components, in the network's scaling (rows of zero weight
        left out); it is laid out as umap-learn lays it out; the network then
        trains on the reconstruction plus ``neighbor_weight`` times the mean
        squared distance of the codes to the layout (centred, root mean square
        ``CODE_RMS``). A fresh network with a linear path starts with that
        path at the least-squares map from the rows' top principal components
        to the layout. Training runs ``n_epochs`` epochs with the step size
        decaying linearly to zero.
        """
        if self.n_neighbors is None:
            return super()._training_plan(state, X, sample_weight, incremental)
        rows = np.arange(X.shape[0])
        if sample_weight is not None:
            rows = rows[sample_weight > 0]
        if self.n_neighbors >= rows.size:
            plural = "s" if rows.size != 1 else ""
            raise ValueError(
                f"n_neighbors={self.n_neighbors} needs more training rows than that; "
                f"got {rows.size} sample{plural}."
            )
        n_components = state.network.layer_sizes[state.network.code_index]
        start = state.fresh and self._starts_at_layout()
        n_axes = min(START_COMPONENTS if start else GRAPH_COMPONENTS, X.shape[1])
        loader = state.loader()
        mean, scale = state.mean, state.scale
        if not state.network.loss.standardizes:
            mean, scale = weighted_moments(X, sample_weight)
        a, b = find_ab_params(self.spread, self.min_dist)
        targets, projection, axes = layout_targets(
            X,
            rows,
            np.asarray(mean, dtype=np.float64),
            scale,
            n_axes=n_axes,
            n_components=n_components,
            n_neighbors=self.n_neighbors,
            algorithm=self.neighbors_algorithm,
            a=a,
            b=b,
            negative_sample_rate=self.negative_sample_rate,
            rng=state.rng,
            sample_weight=sample_weight,
            dtype=state.theta.dtype,
            verbose=self.verbose,
            n_threads=_openmp_effective_n_threads(),
        )
        if start:
            if not state.network.loss.standardizes:
                mean = np.zeros(X.shape[1]) if loader.mean is None else loader.mean
                axes = principal_axes(
                    X, mean.astype(np.float64), loader.scale, n_axes, state.rng, sample_weight
                )
                projection = pca_projection(X, rows, mean, loader.scale, axes)
            linear_start(state.network, state.theta, projection, axes, targets[rows])
        term = LayoutTargetTerm(targets, self.neighbor_weight)
        n_features = X.shape[1]
        auto = self.batch_size == "auto"
        batch_size = min(default_batch_size(n_features) if auto else self.batch_size, rows.size)
        if self.n_epochs is None:
            n_epochs = default_epochs(rows.size, n_features)
        else:
            n_epochs = self.n_epochs
        if self.verbose:
            print(
                f"Network: {n_epochs} epochs of batches of {batch_size} rows towards the layout",
                flush=True,
            )
        return TrainingPlan(
            self._make_objective(state.network, loader, [term]),
            rows,
            None,
            StoppingRule(n_epochs, anneal=True),
            batch_size,
            self._learning_rate_init(),
        )

    def _folded(self, dtype, inputs, outputs):
        """Parameters that read raw ``X`` and/or write raw reconstructions.

        With tied weights one matrix serves both sides, so the encoder and the
        decoder each fold their own side into their own copy.
        """
        theta = self._theta.astype(dtype, copy=True)
        return self._network.fold_affine(
            theta, self.mean_.astype(dtype), self.scale_, inputs=inputs, outputs=outputs
        )

    def _encoder_params(self, dtype):
        return self._folded(dtype, inputs=True, outputs=False)

    def _decoder_params(self, dtype):
        return self._folded(dtype, inputs=False, outputs=True)

    @np.errstate(under="ignore")
    def _encode_rows(self, theta, X):
        network = self._network
        return network.predict(theta, X, 0, network.code_index)

    @np.errstate(under="ignore")
    def _decode_rows(self, theta, Z):
        network = self._network
        return self._reconstruct(network.predict(theta, Z, network.code_index))
