"""The parameter table: every H2O Deep Learning parameter once, in H2O's order.

Each :class:`Param` holds the H2O default, the constraint of its allowed values, a
one-sentence description and whether it may change at a checkpoint restart.  The
signatures and docstrings of the estimators and the README's parameter table are generated
from :data:`PARAMETERS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..distributions import DISTRIBUTIONS
from ._constraints import (
    AnyObject,
    Boolean,
    CallableOrNone,
    Constraint,
    FloatSequence,
    IntSequence,
    Interval,
    ModelId,
    NoneValue,
    Options,
    StrList,
    StrOrNone,
    union,
)


@dataclass(frozen=True)
class Param:
    """One parameter of H2O Deep Learning.

    Parameters
    ----------
    name : str
        Parameter name (H2O's snake_case spelling).
    default : object
        H2O's default (immutable: tuples, not lists).
    constraint : Constraint
        Allowed values.
    doc : str
        One-sentence numpydoc description, with the H2O default and the scikit-learn
        equivalent where there is one.
    checkpoint_modifiable : bool
        Whether it may change when training resumes from a checkpoint (H2O's
        ``cp_modifiable`` list).
    """

    name: str
    default: Any
    constraint: Constraint
    doc: str
    checkpoint_modifiable: bool


_FLOAT_MAX = 3.4028235e38
_INT_MAX = 2147483647
_NONNEG = Interval(float, 0, None, closed="left")
_UNIT = Interval(float, 0, 1, closed="both")

_ACTIVATIONS = ("Tanh", "TanhWithDropout", "Rectifier", "RectifierWithDropout", "Maxout",
                "MaxoutWithDropout")
_DISTRIBUTIONS = ("AUTO", *DISTRIBUTIONS)
_DL_UNSUPPORTED = "is an H2O distribution that Deep Learning does not support."
_STOPPING_METRICS = ("AUTO", "deviance", "logloss", "MSE", "RMSE", "MAE", "RMSLE", "AUC",
                     "AUCPR", "lift_top_group", "misclassification", "mean_per_class_error",
                     "custom", "custom_increasing")

_TABLE: tuple[Param, ...] = (
    Param("activation", "Rectifier",
          Options(*_ACTIVATIONS, rejected={
              "ExpRectifier": "exists in H2O's Java code but is not exposed by H2O's API; "
                              "use 'Rectifier' or 'Tanh'.",
              "ExpRectifierWithDropout": "exists in H2O's Java code but is not exposed by "
                                         "H2O's API; use 'RectifierWithDropout'."}),
          "Activation function of the hidden layers, the ``*WithDropout`` variants adding "
          "hidden-layer dropout (H2O default 'Rectifier'; scikit-learn ``activation='relu'``).",
          False),
    Param("hidden", (200, 200), IntSequence(min=1),
          "Sizes of the hidden layers, empty for a network without hidden layer "
          "(H2O default (200, 200); scikit-learn ``hidden_layer_sizes``).", False),
    Param("epochs", 10.0, _NONNEG,
          "Number of passes over the training data, possibly fractional and counting the "
          "epochs of a checkpoint too (H2O default 10; scikit-learn ``max_iter``).", True),
    Param("train_samples_per_iteration", -2, Interval(int, -2, None),
          "Rows trained on, over all workers, between two model averagings: 0 is one epoch, "
          "-1 all available data, -2 auto-tuned, N >= 1 exactly N (H2O default -2).", True),
    Param("target_ratio_comm_to_comp", 0.05, _NONNEG,
          "Target ratio of communication to computation time for the auto-tuning of "
          "``train_samples_per_iteration=-2`` on several workers (H2O default 0.05).", True),
    Param("seed", -1, Interval(int, -(2**63), 2**63 - 1),
          "Seed of weight initialisation, dropout and row sampling, -1 drawing a random "
          "seed at fit time (H2O default -1; scikit-learn ``random_state``).", True),
    Param("adaptive_rate", True, Boolean(),
          "Use the ADADELTA adaptive learning rate instead of ``rate`` and momentum "
          "(H2O default True; scikit-learn ``solver='adam'`` rather than ``'sgd'``).", False),
    Param("rho", 0.99, _UNIT,
          "ADADELTA decay factor of the running averages, used when ``adaptive_rate=True`` "
          "(H2O default 0.99).", False),
    Param("epsilon", 1e-8, _NONNEG,
          "ADADELTA smoothing term, used when ``adaptive_rate=True`` "
          "(H2O default 1e-8; scikit-learn Adam ``epsilon``).", False),
    Param("rate", 0.005, _NONNEG,
          "Learning rate when ``adaptive_rate=False`` "
          "(H2O default 0.005; scikit-learn ``learning_rate_init``).", False),
    Param("rate_annealing", 1e-6, _NONNEG,
          "Annealing of the manual learning rate, ``rate / (1 + rate_annealing * samples)`` "
          "(H2O default 1e-6; scikit-learn ``learning_rate='invscaling'``).", False),
    Param("rate_decay", 1.0, _NONNEG,
          "Factor of the manual learning rate from one layer to the next, "
          "``rate * rate_decay**(layer - 1)`` (H2O default 1.0).", False),
    Param("momentum_start", 0.0, _UNIT,
          "Momentum at the start of training when ``adaptive_rate=False`` "
          "(H2O default 0; scikit-learn ``momentum``).", False),
    Param("momentum_ramp", 1e6, _NONNEG,
          "Number of training samples over which the momentum goes from ``momentum_start`` "
          "to ``momentum_stable`` (H2O default 1e6).", False),
    Param("momentum_stable", 0.0, _UNIT,
          "Momentum reached after ``momentum_ramp`` samples when ``adaptive_rate=False`` "
          "(H2O default 0).", False),
    Param("nesterov_accelerated_gradient", True, Boolean(),
          "Use Nesterov's accelerated gradient with the momentum when "
          "``adaptive_rate=False`` (H2O default True; scikit-learn ``nesterovs_momentum``).",
          False),
    Param("input_dropout_ratio", 0.0, Interval(float, 0, 1, closed="left"),
          "Fraction of the input features dropped for each training row, in [0, 1) "
          "(H2O default 0).", True),
    Param("hidden_dropout_ratios", None,
          union(NoneValue(), FloatSequence(0, 1, closed="left")),
          "Dropout ratio of each hidden layer, one value in [0, 1) per layer and only with "
          "a ``*WithDropout`` activation, None meaning 0.5 per layer (H2O default None).",
          True),
    Param("l1", 0.0, _NONNEG, "L1 penalty on the weights (H2O default 0).", True),
    Param("l2", 0.0, _NONNEG,
          "L2 penalty on the weights (H2O default 0; scikit-learn MLP ``alpha``).", True),
    Param("max_w2", _FLOAT_MAX, Interval(float, 0, math.inf, closed="right"),
          "Upper bound of the sum of squared incoming weights of each neuron "
          "(H2O default 3.4028235e38, i.e. no constraint).", True),
    Param("initial_weight_distribution", "UniformAdaptive",
          Options("UniformAdaptive", "Uniform", "Normal"),
          "Distribution of the initial weights, 'UniformAdaptive' scaling by the layer "
          "sizes (H2O default 'UniformAdaptive').", True),
    Param("initial_weight_scale", 1.0, Interval(float, 0, None, closed="neither"),
          "Half-width ('Uniform') or standard deviation ('Normal') of the initial weights "
          "(H2O default 1.0).", True),
    Param("initial_weights", None, AnyObject(),
          "Initial weight matrices, one per layer (an entry may be None), instead of random "
          "ones (H2O default None).", True),
    Param("initial_biases", None, AnyObject(),
          "Initial bias vectors, one per layer (an entry may be None), instead of the "
          "default ones (H2O default None).", True),
    Param("loss", "Automatic",
          Options("Automatic", "Quadratic", "CrossEntropy", "Huber", "Absolute", "Quantile",
                  rejected={"ModifiedHuber": "is not supported yet (H2O refuses it too)."}),
          "Loss function, 'Automatic' choosing it from the distribution "
          "(H2O default 'Automatic'; scikit-learn ``loss``).", True),
    Param("distribution", "AUTO",
          Options(*_DISTRIBUTIONS, rejected={
              "quasibinomial": _DL_UNSUPPORTED, "modified_huber": _DL_UNSUPPORTED,
              "ordinal": _DL_UNSUPPORTED, "custom": _DL_UNSUPPORTED,
              "fractionalbinomial": _DL_UNSUPPORTED, "negativebinomial": _DL_UNSUPPORTED}),
          "Distribution of the response, which sets the output link and gradient, 'AUTO' "
          "choosing it from the task and ``loss`` (H2O default 'AUTO').", False),
    Param("quantile_alpha", 0.5, _UNIT,
          "Quantile estimated by ``distribution='quantile'``, in [0, 1] "
          "(H2O default 0.5; scikit-learn ``QuantileRegressor(quantile=...)``).", False),
    Param("tweedie_power", 1.5, Interval(float, 1, 2, closed="neither"),
          "Tweedie variance power for ``distribution='tweedie'``, in (1, 2) "
          "(H2O default 1.5; scikit-learn ``TweedieRegressor(power=...)``).", False),
    Param("huber_alpha", 0.9, _UNIT,
          "Quantile of the absolute residuals that sets the Huber threshold for "
          "``distribution='huber'``, in [0, 1] (H2O default 0.9; scikit-learn "
          "``GradientBoostingRegressor(alpha=...)``).", False),
    Param("score_interval", 5.0, _NONNEG,
          "Shortest time in seconds between two scoring events (H2O default 5).", True),
    Param("score_training_samples", 10000, Interval(int, 0, None),
          "Number of training rows sampled for scoring, 0 for all (H2O default 10000).",
          True),
    Param("score_validation_samples", 0, Interval(int, 0, None),
          "Number of validation rows sampled for scoring, 0 for all (H2O default 0).", True),
    Param("score_duty_cycle", 0.1, _UNIT,
          "Largest fraction of the wall-clock time spent scoring, in [0, 1] "
          "(H2O default 0.1).", True),
    Param("score_each_iteration", False, Boolean(),
          "Score after every iteration, whatever ``score_interval`` says "
          "(H2O default False).", True),
    Param("classification_stop", 0.0, Interval(float, -1, 1),
          "Stop once the training classification error is at or below this value, -1 "
          "disabling it (H2O default 0).", True),
    Param("regression_stop", 1e-6, Interval(float, -1, None, closed="left"),
          "Stop once the training MSE is at or below this value, -1 disabling it "
          "(H2O default 1e-6).", True),
    Param("stopping_rounds", 5, Interval(int, 0, None),
          "Stop when the moving average of ``stopping_metric`` over this many scoring "
          "events stops improving, 0 disabling it (H2O default 5; scikit-learn "
          "``n_iter_no_change``).", True),
    Param("stopping_metric", "AUTO", Options(*_STOPPING_METRICS),
          "Metric for early stopping, 'AUTO' meaning logloss for classification, deviance "
          "for regression and MSE for autoencoders (H2O default 'AUTO').", True),
    Param("stopping_tolerance", 0.0, _NONNEG,
          "Smallest relative improvement of ``stopping_metric`` that counts as progress "
          "(H2O default 0; scikit-learn ``tol``).", True),
    Param("max_runtime_secs", 0.0, _NONNEG,
          "Limit of the training time in seconds, 0 for none (H2O default 0).", True),
    Param("score_validation_sampling", "Uniform", Options("Uniform", "Stratified"),
          "How validation rows are sampled for scoring when "
          "``score_validation_samples > 0``: 'Stratified' (classification with "
          "``balance_classes=True``, as in H2O) keeps every class's proportion and scores "
          "every class (H2O default 'Uniform').", True),
    Param("overwrite_with_best_model", True, Boolean(),
          "Return the model with the best ``stopping_metric`` seen during training rather "
          "than the last one (H2O default True).", True),
    Param("use_all_factor_levels", True, Boolean(),
          "Encode every level of a categorical column instead of dropping the first "
          "(H2O default True; scikit-learn ``OneHotEncoder(drop=None)``).", False),
    Param("standardize", True, Boolean(),
          "Standardise numeric inputs (and a numeric response) to mean 0 and variance 1 "
          "(H2O default True; scikit-learn ``StandardScaler``).", False),
    Param("missing_values_handling", "MeanImputation", Options("MeanImputation", "Skip"),
          "Replace a missing numeric value by the column mean, or skip rows with a missing "
          "value (H2O default 'MeanImputation'; scikit-learn ``SimpleImputer``).", True),
    Param("fast_mode", True, Boolean(),
          "Skip the updates of weights whose input or gradient is exactly zero, a minor "
          "approximation (H2O default True).", True),
    Param("force_load_balance", True, Boolean(),
          "Split small training data into more blocks so that every core trains "
          "(H2O default True). On Dask without replication, a worker that joins "
          "mid-fit gets an even share of the rows (only that share moves) and trains "
          "from the next iteration; with this and replicate_training_data both off it "
          "stays idle.", True),
    Param("replicate_training_data", True, Boolean(),
          "Give every worker a full copy of the training data when it fits "
          "(H2O default True); on Dask a worker that joins mid-fit gets a copy too and "
          "trains from the next iteration.", True),
    Param("single_node_mode", False, Boolean(),
          "Train on a single worker only, e.g. to fine-tune after a multi-worker run "
          "(H2O default False).", True),
    Param("shuffle_training_data", False, Boolean(),
          "Shuffle the training rows within each block (H2O default False; scikit-learn "
          "``shuffle``).", True),
    Param("reproducible", False, Boolean(),
          "Train on one thread in one block so that a fixed ``seed`` gives the same model, "
          "which is slow (H2O default False).", True),
    Param("variable_importances", True, Boolean(),
          "Compute Gedeon variable importances at each scoring event (H2O default True).",
          True),
    Param("diagnostics", True, Boolean(),
          "Deprecated and ignored, diagnostics are always computed (H2O default True).", True),
    Param("quiet_mode", False, Boolean(),
          "Show no progress bar (H2O default False; in H2O: less output).", True),
    Param("verbose", False, Boolean(),
          "Print each scoring-history row on standard output as training goes, instead of "
          "the progress bar in a terminal (H2O default False; scikit-learn ``verbose``).",
          True),
    Param("autoencoder", False, Boolean(),
          "Train an autoencoder that reconstructs its inputs instead of predicting a "
          "response (H2O default False).", False),
    Param("pretrained_autoencoder", None, AnyObject(),
          "A trained autoencoder whose weights initialise the matching layers: the model, "
          "its model id or the path of a saved one (H2O default None).", True),
    Param("sparse", False, Boolean(),
          "Treat the inputs as sparse: scale numeric columns without centring them "
          "(H2O default False).", False),
    Param("col_major", False, Boolean(),
          "Deprecated column-major input weights; True is refused (H2O default False).",
          False),
    Param("average_activation", 0.0, Interval(float, None, None),
          "Target average activation of the hidden units of a sparse autoencoder "
          "(H2O default 0).", True),
    Param("sparsity_beta", 0.0, Interval(float, None, None),
          "Weight of the sparsity penalty of a sparse autoencoder (H2O default 0).", False),
    Param("max_categorical_features", _INT_MAX, Interval(int, 1, _INT_MAX),
          "Largest one-hot width of the categorical inputs before the hashing trick "
          "applies (H2O default 2147483647).", False),
    Param("export_weights_and_biases", False, Boolean(),
          "Keep the weights and biases as frames in the fitted model (H2O default False).",
          True),
    Param("mini_batch_size", 1, Interval(int, 1, None),
          "Rows per gradient update, 1 being H2O's online SGD "
          "(H2O default 1; scikit-learn ``batch_size``).", True),
    Param("elastic_averaging", False, Boolean(),
          "Use elastic averaging of the workers' models instead of plain averaging "
          "(H2O default False; only several workers have models to average).", True),
    Param("elastic_averaging_moving_rate", 0.9, _UNIT,
          "Moving rate of the consensus model in elastic averaging, in [0, 1] "
          "(H2O default 0.9).", True),
    Param("elastic_averaging_regularization", 1e-3, _NONNEG,
          "Strength of the pull of each worker's model towards the consensus in elastic "
          "averaging (H2O default 1e-3).", True),
    Param("balance_classes", False, Boolean(),
          "Over/under-sample the classes of the training data to balance them "
          "(H2O default False; scikit-learn ``class_weight='balanced'``).", False),
    Param("class_sampling_factors", None,
          union(NoneValue(), FloatSequence(0, None, closed="neither")),
          "Sampling factor of each class in sorted order, used with "
          "``balance_classes=True`` (H2O default None, computed).", False),
    Param("max_after_balance_size", 5.0, Interval(float, 0, None, closed="neither"),
          "Largest size of the balanced training data relative to the original "
          "(H2O default 5.0).", False),
    Param("max_confusion_matrix_size", 20, Interval(int, 0, None),
          "Deprecated: largest number of classes for which a confusion matrix is shown "
          "(H2O default 20).", True),
    Param("max_hit_ratio_k", 10, Interval(int, 0, None),
          "Largest k of the top-k hit ratios of a multi-class model, 0 disabling them "
          "(H2O default 10).", True),
    Param("ignore_const_cols", True, Boolean(),
          "Drop constant training columns (H2O default True; scikit-learn "
          "``VarianceThreshold``).", False),
    Param("categorical_encoding", "AUTO",
          Options("AUTO", "OneHotInternal", "Binary", "Eigen", "LabelEncoder",
                  "SortByResponse", "EnumLimited", rejected={
                      "Enum": "is not supported by Deep Learning (H2O refuses it too); "
                              "use 'AUTO' (one-hot) or 'LabelEncoder'.",
                      "OneHotExplicit": "is not supported by Deep Learning (H2O refuses it "
                                        "too); use 'AUTO', which one-hot encodes internally."}),
          "Encoding of categorical columns, 'AUTO' meaning 'OneHotInternal' "
          "(H2O default 'AUTO').", False),
    Param("nfolds", 0, Interval(int, 0, None),
          "Number of cross-validation folds, 0 for none (H2O default 0; scikit-learn "
          "``cv``).", False),
    Param("fold_assignment", "AUTO", Options("AUTO", "Random", "Modulo", "Stratified"),
          "How rows are assigned to folds when ``nfolds > 0`` and no ``fold_column`` "
          "(H2O default 'AUTO', i.e. 'Random').", False),
    Param("fold_column", None, StrOrNone(),
          "Column holding each row's cross-validation fold (H2O default None).", False),
    Param("keep_cross_validation_models", True, Boolean(),
          "Keep the cross-validation models (H2O default True).", True),
    Param("keep_cross_validation_predictions", False, Boolean(),
          "Keep the cross-validation predictions (H2O default False).", True),
    Param("keep_cross_validation_fold_assignment", False, Boolean(),
          "Keep the cross-validation fold assignment (H2O default False).", True),
    Param("auc_type", "AUTO",
          Options("AUTO", "NONE", "MACRO_OVR", "WEIGHTED_OVR", "MACRO_OVO", "WEIGHTED_OVO"),
          "Averaging of the multinomial AUC, 'AUTO' computing none (H2O default 'AUTO'; "
          "scikit-learn ``roc_auc_score(multi_class=..., average=...)``).", True),
    Param("checkpoint", None, AnyObject(),
          "A saved model of the same kind whose training this fit continues "
          "(H2O default None; scikit-learn ``warm_start``). A fitted model, the id of a "
          "model of this process (``dask_deeplearn.ls()``; an id is looked up before a "
          "path) or the path of a saved one; ``epochs`` is then the total.", True),
    Param("export_checkpoints_dir", None, StrOrNone(),
          "Directory to which a model file ``<model_id>_iteration<N>.zip`` is written at "
          "each scoring event, created when missing; earlier files are never replaced "
          "(H2O default None). A Dask fit that loses its cluster also writes the model it "
          "keeps, as ``<model_id>_iteration<N>_interrupted.zip``.", True),
    Param("model_id", None, ModelId(),
          "Name of the model, also the name of its files (``<model_id>.zip`` when saved "
          "into a folder, ``<model_id>_iteration<N>.zip`` checkpoints); when None the fit "
          "generates H2O's ``DeepLearning_model_python_<session>_<n>``, read as the fitted "
          "``model_id_`` while ``get_params`` keeps None (H2O default None, a generated "
          "name).", True),
    Param("weights_column", None, StrOrNone(),
          "Column of per-row observation weights (H2O default None; scikit-learn "
          "``sample_weight``).", False),
    Param("offset_column", None, StrOrNone(),
          "Column of per-row offsets added in link space, regression only "
          "(H2O default None).", False),
    Param("ignored_columns", None, union(NoneValue(), StrList()),
          "Columns of the frame that are not used as inputs (H2O default None).", False),
    Param("custom_metric_func", None, CallableOrNone(),
          "A custom metric ``func(actual, predicted, weight) -> float`` computed at each "
          "scoring event and shown in the history as ``*_custom`` (H2O default None; "
          "scikit-learn ``scoring``).", True),
    Param("h2o_compat", False, Boolean(),
          "Reproduce H2O quirks that are fixed by default, e.g. reset "
          "``mini_batch_size`` to 1 (not an H2O parameter; default False).", False),
    Param("backend", "auto", Options("auto", "local", "dask"),
          "Where iterations run: 'local' threads in this process, 'dask' workers, or "
          "'auto': Dask for Dask collections or when a default ``distributed.Client`` "
          "exists, else local (not an H2O parameter; default 'auto').", True),
    Param("warm_start", False, Boolean(),
          "scikit-learn's ``warm_start``: a second ``fit`` of a fitted estimator continues "
          "its model for ``epochs`` more epochs (H2O's checkpoint restart; not an H2O "
          "parameter; default False).", True),
    Param("scheduler_address", None, StrOrNone(),
          "Address of a running Dask scheduler to train on (``'tcp://host:8786'``); None "
          "uses the client passed to ``fit``, the default client, or an embedded "
          "LocalCluster (not an H2O parameter; default None).", True),
    Param("nthreads", -1, Interval(int, -1, None),
          "Hogwild threads per node (H2O's ``-nthreads``): -1 uses every core the process "
          "may run on; ``reproducible=True`` forces 1 (not an H2O parameter; default -1).",
          True),
)

PARAMETERS: dict[str, Param] = {p.name: p for p in _TABLE}
"""Every parameter, in H2O's order, keyed by name."""

CHECKPOINT_MODIFIABLE: frozenset[str] = frozenset(
    p.name for p in _TABLE if p.checkpoint_modifiable
)
"""Names of the parameters that may change when training resumes from a checkpoint."""

_MANUAL_RATE = ("rate", "rate_annealing", "rate_decay", "momentum_start", "momentum_ramp",
                "momentum_stable")
_DROPOUT_ACTIVATIONS = ("TanhWithDropout", "RectifierWithDropout", "MaxoutWithDropout")


def default_params() -> dict[str, Any]:
    """Return a new dict of every parameter's default value.

    Returns
    -------
    dict of str to object
        Name to H2O default, in table order.

    Examples
    --------
    >>> d = default_params()
    >>> d["hidden"], d["epochs"], d["stopping_rounds"]
    ((200, 200), 10.0, 5)
    """
    return {p.name: p.default for p in _TABLE}
