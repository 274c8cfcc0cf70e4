"""The fit plan: everything decided before training, written once for both backends.

:func:`plan_fit` (a new model, or a checkpoint continued on data it re-describes) and
:func:`plan_continue` (a checkpoint continued on an in-memory block, checked against the
checkpoint's preprocessing plan) build a frozen :class:`FitPlan`: the fitted
:class:`~dask_deeplearn.preprocessing.DataInfo`, the resolved effective parameters (never
changed afterwards), the initial network state, the class-balancing ratios and priors, and
what a checkpoint restart carries over. The in-process and the Dask backends only place the
data and execute the plan; the rules they share (balancing with redraws, thread counts,
scoring-sample fractions, the "no rows left" error) are here.

Nothing here takes an estimator: a model that is continued is passed as a
:class:`Checkpoint` value.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataError, InvalidParameterError
from ..memory import check_network_memory
from ..network import ModelState, NetworkSpec, init_state
from ..params import CHECKPOINT_MODIFIABLE, PARAMETERS, resolve_effective
from ..preprocessing import DataInfo
from ..preprocessing.options import PreprocessingOptions
from ..weights import apply_initial_weights, transfer_pretrained
from .balance import MODEL_KEY, PRIOR_KEY, sampling_ratios

__all__ = ["Checkpoint", "FitPlan", "balance_seed", "balanced_with_redraws", "check_checkpoint",
           "no_rows_error", "plan_continue", "plan_fit", "sample_fraction", "thread_count"]

#: the cross-validation parameters (their defaults mean "no cross-validation")
CV_PARAMS = ("nfolds", "fold_column", "fold_assignment")
#: salt of the class-balancing draws (the same in process and on Dask workers)
_BALANCE_SALT = 0x580FF13
#: how often a balancing draw that left a class empty is redrawn (as H2O)
_BALANCE_DRAWS = 10


@dataclass(frozen=True)
class Checkpoint:
    """What a fit needs of the model it continues (H2O's checkpoint restart).

    Parameters
    ----------
    state : ModelState
        The checkpoint's weights and optimiser state.
    data_info : DataInfo
        Its preprocessing plan (the new fit keeps it: the weights were learned on it).
    params : mapping
        Its parameter values as given by the user (compared with the new fit's).
    history : pandas.DataFrame
        Its scoring history (continued by the new fit).
    n_iter : int
        Iterations it ran.
    epochs : float
        Epochs it trained.
    distribution : str
        Its resolved distribution.
    task : str
    has_validation : bool
        Whether it was trained with a validation frame.
    """

    state: ModelState
    data_info: DataInfo
    params: Mapping[str, Any]
    history: pd.DataFrame
    n_iter: int
    epochs: float
    distribution: str
    task: str
    has_validation: bool


@dataclass(frozen=True)
class FitPlan:
    """A planned fit: what both backends execute.

    Attributes
    ----------
    info : DataInfo
        The preprocessing plan (the checkpoint's when continuing).
    params : dict
        Resolved effective parameters, with the class priors of a balanced fit and, when
        continuing, the checkpoint's distribution. Not changed after planning.
    state : ModelState
        The initial model (the checkpoint's, with the restart's dropout ratios).
    seed : int
        Resolved model seed.
    balance : ndarray or None
        Per-class sampling ratios of ``balance_classes`` (None when off).
    checkpoint : Checkpoint or None
        The model this fit continues.
    more_passes : float or None
        A continued fit's passes over its data (``partial_fit``, warm start) instead of a
        total ``epochs``.
    """

    info: DataInfo
    params: dict[str, Any]
    state: ModelState
    seed: int
    balance: np.ndarray | None = None
    checkpoint: Checkpoint | None = None
    more_passes: float | None = None

    @property
    def task(self) -> str:
        """``"classification"``, ``"regression"`` or ``"autoencoder"``."""
        return self.info.task

    @property
    def n_classes(self) -> int | None:
        """Number of classes of a classifier (None otherwise)."""
        return len(self.info.classes) if self.info.task == "classification" else None

    @property
    def iterations_done(self) -> int:
        """Iterations of the checkpoint this fit continues (0 for a new model)."""
        return 0 if self.checkpoint is None else int(self.checkpoint.n_iter)

    @property
    def history(self) -> pd.DataFrame | None:
        """Scoring history this fit continues (None for a new model)."""
        return None if self.checkpoint is None else self.checkpoint.history

    def epochs(self, n_rows: int) -> float:
        """The epochs target of the loop for ``n_rows`` trainable rows.

        ``params["epochs"]``, except for a continued fit with ``more_passes``: a whole
        number of samples on top of the checkpoint's (an exact float target for the loop).
        """
        if self.checkpoint is None or self.more_passes is None:
            return float(self.params["epochs"])
        n = max(1, int(n_rows))
        return (self.checkpoint.state.processed + max(1, round(self.more_passes * n))) / n

    def run_params(self, *, n_rows: int, model_class_distribution: list[float] | None = None,
                   **executed: Any) -> dict[str, Any]:
        """The effective parameters as executed: a new dict, the plan's is left alone.

        Parameters
        ----------
        n_rows : int
            Trainable rows (sets ``epochs`` of a ``more_passes`` fit).
        model_class_distribution : list of float, optional
            Class frequencies of the balanced training data.
        **executed
            Parameters a backend decided (``replicate_training_data``).
        """
        out = dict(self.params)
        if model_class_distribution is not None:
            out[MODEL_KEY] = model_class_distribution
        if self.checkpoint is not None and self.more_passes is not None:
            out["epochs"] = self.epochs(n_rows)
        out.update(executed)
        return out

    def local_threads(self, available: int) -> int:
        """Hogwild threads of an in-process fit with ``available`` cores."""
        return thread_count(self.params, available, cap=False)


# ---------------------------------------------------------------------------- shared rules
def thread_count(params: Mapping[str, Any], available: int, *, cap: bool) -> int:
    """Hogwild threads for ``nthreads`` on a place with ``available`` threads.

    ``reproducible`` trains single-threaded; ``nthreads=-1`` (or 0) takes ``available``.
    A Dask worker (``cap=True``) runs at most its own thread count; in this process a
    given ``nthreads`` is used as given.
    """
    if params["reproducible"]:
        return 1
    n = int(params["nthreads"])
    if cap:
        return available if n <= 0 else min(n, available)
    return available if n == -1 else n


def sample_fraction(n_samples: int, n_rows: int) -> float:
    """Bernoulli fraction of a scoring sample of about ``n_samples`` of ``n_rows`` rows.

    1.0 (every row) when ``n_samples`` is 0 or not smaller than ``n_rows``.
    """
    return 1.0 if n_samples <= 0 or n_samples >= n_rows else n_samples / n_rows


def no_rows_error(params: Mapping[str, Any], weights_column: str | None) -> DataError:
    """The error of a training frame with no trainable row left."""
    skip = params["missing_values_handling"] == "Skip"
    return DataError(
        "No rows left in the training frame after removing rows with a missing "
        f"response{', missing values (missing_values_handling=Skip)' if skip else ''}"
        f"{' or zero weights' if weights_column else ''}."
    )


def balance_seed(seed: int, attempt: int, block: int = 0) -> int:
    """Seed of one block's class-balancing draw (``attempt``: the redraw number)."""
    return seed + _BALANCE_SALT + attempt + 7919 * block


def balanced_with_redraws(draw: Callable[[int], tuple[Any, np.ndarray]],
                          ratios: np.ndarray) -> tuple[Any, np.ndarray]:
    """Balance by class, redrawing while a class with a positive ratio came out empty.

    Parameters
    ----------
    draw : callable
        ``draw(attempt) -> (balanced data, rows per class)``.
    ratios : ndarray
        Per-class sampling ratios.

    Returns
    -------
    (balanced data, rows per class of it)
        The last draw (after at most 10, as H2O).
    """
    for attempt in range(_BALANCE_DRAWS):
        out, counts = draw(attempt)
        if not np.any((counts == 0) & (ratios > 0)):
            break
    return out, counts


def _balance(info: DataInfo, params: dict[str, Any]) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Class sampling ratios of ``balance_classes`` (None when off), and the params with the
    original class priors recorded."""
    if not params["balance_classes"] or info.task != "classification":
        return None, params
    counts = np.asarray(info.class_counts, dtype=np.float64)
    ratios = sampling_ratios(counts, factors=params["class_sampling_factors"],
                             max_after_balance_size=float(params["max_after_balance_size"]))
    return ratios, {**params, PRIOR_KEY: (counts / counts.sum()).tolist()}


# ---------------------------------------------------------------------------- planning
def plan_fit(frame: Any, response: str | None, params: Mapping[str, Any], *, owner: str,
             task: str, classes: Sequence[Any] | None, features: Sequence[str] | None,
             weights_column: str | None, seed: int, n_nodes: int,
             checkpoint: Checkpoint | None = None, more_passes: float | None = None,
             pretrained: ModelState | None = None, available_cores: int = 1,
             scheduler: Any = None) -> FitPlan:
    """Fit the preprocessing, resolve the parameters, initialise (or continue) the network.

    Parameters
    ----------
    frame : pandas or dask DataFrame
    response : str or None
    params : mapping
        Validated user parameters.
    owner : str
        Estimator name for messages.
    task : str
    classes : sequence, optional
    features : sequence of str, optional
    weights_column : str, optional
    seed : int
        Resolved seed.
    n_nodes : int
        Nodes the fit trains on (1 in process).
    checkpoint : Checkpoint, optional
        The model continued: its preprocessing plan and state are kept after checking the
        frame against them.
    more_passes : float, optional
        See :attr:`FitPlan.more_passes`.
    pretrained : ModelState, optional
        ``pretrained_autoencoder``'s state (its weights seed the hidden layers).
    available_cores : int, default=1
        Cores of this process (memory check of the Hogwild copies).
    scheduler : distributed.Client, optional
        Runs the statistics pass on Dask.

    Returns
    -------
    FitPlan
    """
    info = DataInfo.fit(
        frame,
        response=response,
        features=features,
        ignored_columns=params["ignored_columns"],
        weights_column=weights_column,
        offset_column=params["offset_column"],
        task=task,
        classes=classes,
        options=PreprocessingOptions.from_params(params, seed=seed, owner=owner),
        scheduler=scheduler,
    )
    n_classes = len(info.classes) if info.task == "classification" else None
    eff = resolve_effective(params, owner=owner, task=info.task, n_classes=n_classes,
                            response_min=info.response_min, n_nodes=n_nodes)
    hidden = tuple(eff["hidden"])
    ratios = eff["hidden_dropout_ratios"] or (0.0,) * len(hidden)
    n_out = info.n_inputs if info.task == "autoencoder" else (n_classes or 1)
    spec = NetworkSpec(
        units=(info.n_inputs, *hidden, n_out),
        activation=eff["activation"],
        output={"classification": "softmax", "autoencoder": "autoencoder"}.get(
            info.task, "linear"),
        hidden_dropout_ratios=tuple(ratios),
        input_dropout_ratio=float(eff["input_dropout_ratio"]),
    )
    check_network_memory(spec, hidden, mini_batch_size=int(eff["mini_batch_size"]),
                         nthreads=available_cores, client=scheduler)
    state = init_state(
        spec,
        seed=seed,
        initial_weight_distribution=eff["initial_weight_distribution"],
        initial_weight_scale=float(eff["initial_weight_scale"]),
    )
    if eff["autoencoder"] and float(eff["sparsity_beta"]) > 0:
        state.AA = np.zeros(spec.n_biases, np.float32)
    if pretrained is not None and eff["checkpoint"] is None:
        state = transfer_pretrained(state, pretrained)
    if eff["initial_weights"] is not None or eff["initial_biases"] is not None:
        state = apply_initial_weights(state, info, eff["initial_weights"], eff["initial_biases"])
    if checkpoint is not None:
        _check_same_data(checkpoint.data_info, info)
        # keep the checkpoint's preprocessing plan (the weights were learned on its scaling
        # and its input layout) and its resolved distribution (a chunk may hold 2 classes)
        eff = {**eff, "distribution": checkpoint.distribution}
        info, state = _restarted(checkpoint, checkpoint.data_info, eff)
    balance, eff = _balance(info, eff)
    return FitPlan(info=info, params=eff, state=state, seed=seed, balance=balance,
                   checkpoint=checkpoint, more_passes=more_passes)


def plan_continue(frame: pd.DataFrame, response: str | None, params: Mapping[str, Any], *,
                  owner: str, checkpoint: Checkpoint, features: Sequence[str] | None,
                  weights_column: str | None, seed: int,
                  more_passes: float | None = None) -> FitPlan:
    """Plan a continued fit on an in-memory block, against the checkpoint's plan.

    The in-memory counterpart of :func:`plan_fit` with a checkpoint: no statistics pass
    over the new rows (they keep the checkpoint's scaling), and a block with a single
    class, constant columns or one row is fine.

    Raises
    ------
    DataError
        Predictor columns missing or added, categorical levels or class labels the
        checkpoint never saw.
    """
    from ..preprocessing.encodings import LevelLookup

    old = checkpoint.data_info
    roles = {response, weights_column, params["offset_column"], old.weights_column,
             old.offset_column, *(params["ignored_columns"] or ())}
    present = set(frame.columns)
    missing = [c for c in old.feature_names if c not in present]
    known = set(old.feature_names)
    candidates = list(frame.columns) if features is None else list(features)
    extra = [c for c in candidates if c not in known and c not in roles]
    problems = []
    if missing or extra:
        problems.append(f"columns differ (missing {missing}, new {extra})")
    for c in old.cat_columns:
        if c not in present or c not in old.cat_raw_levels:
            continue
        codes, na = LevelLookup(old.cat_raw_levels[c]).codes(frame[c])
        bad = (codes < 0) & ~na
        if bad.any():
            unseen = pd.unique(frame[c][bad].astype(object).to_numpy())[:10].tolist()
            problems.append(f"categorical column {c!r} has levels {unseen} that the "
                            f"checkpoint's domain {list(old.cat_raw_levels[c])[:10]} lacks")
    if old.classes is not None and response is not None and response in present:
        codes, na = LevelLookup(old.classes).codes(frame[response])
        bad = (codes < 0) & ~na
        if bad.any():
            unseen = pd.unique(frame[response][bad].astype(object).to_numpy())[:10].tolist()
            problems.append(
                f"y has {int(bad.sum())} row(s) with labels {unseen} that are not among "
                f"the model's classes {list(old.classes)} (for partial_fit, pass every "
                "label in classes= on the first call)")
    if problems:
        raise DataError("The training frame does not match the checkpoint's: "
                        + "; ".join(problems) + ".")
    n_classes = len(old.classes) if old.task == "classification" else None
    eff = resolve_effective(params, owner=owner, task=old.task, n_classes=n_classes,
                            response_min=old.response_min, n_nodes=1)
    eff = {**eff, "distribution": checkpoint.distribution}
    info, state = _restarted(checkpoint, old, eff)
    balance, eff = _balance(info, eff)
    return FitPlan(info=info, params=eff, state=state, seed=seed, balance=balance,
                   checkpoint=checkpoint, more_passes=more_passes)


def _check_same_data(old: DataInfo, info: DataInfo) -> None:
    """The frame described by ``info`` must fit the checkpoint's plan ``old``."""
    problems = []
    if list(old.feature_names) != list(info.feature_names):
        missing = [c for c in old.feature_names if c not in info.feature_names]
        extra = [c for c in info.feature_names if c not in old.feature_names]
        problems.append(f"columns differ (missing {missing}, new {extra})")
    for c in old.cat_columns:
        # a chunk may lack levels; a level the checkpoint never saw cannot be learned
        unseen = [v for v in info.cat_levels.get(c, []) if v not in set(old.cat_levels[c])]
        if unseen:
            problems.append(f"categorical column {c!r} has levels {unseen[:10]} that the "
                            f"checkpoint's domain {list(old.cat_levels[c])[:10]} lacks")
    if old.classes is not None and not set(info.classes or []) <= set(old.classes):
        problems.append(f"response classes {info.classes} are not among {old.classes}")
    if problems:
        raise DataError("The training frame does not match the checkpoint's: "
                        + "; ".join(problems) + ".")


def _restarted(ckpt: Checkpoint, info: DataInfo,
               eff: Mapping[str, Any]) -> tuple[DataInfo, ModelState]:
    """The checkpoint's plan and state with the restart's modifiable settings applied.

    The weights, optimiser state and input layout are the checkpoint's; the dropout
    ratios (which the kernels and the scorer read from the network spec) and the
    missing-value handling (which the preprocessing plan applies) are the new fit's.
    """
    state = ckpt.state.copy()
    ratios = eff["hidden_dropout_ratios"] or (0.0,) * len(state.spec.hidden_dropout_ratios)
    state.spec = dataclasses.replace(state.spec, hidden_dropout_ratios=tuple(ratios),
                                     input_dropout_ratio=float(eff["input_dropout_ratio"]))
    if info.missing_values_handling != eff["missing_values_handling"]:
        info = dataclasses.replace(info, missing_values_handling=eff["missing_values_handling"])
    return info, state


# ---------------------------------------------------------------------------- checkpoints
def _normalised(v: Any) -> Any:
    """Parameter value for comparisons (tuples/arrays as lists, numbers as float)."""
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_normalised(x) for x in v]
    if isinstance(v, (bool, np.bool_)) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    return v


def check_checkpoint(params: Mapping[str, Any], ckpt: Checkpoint, *, owner: str,
                     has_valid: bool, incremental: bool = False,
                     stacklevel: int = 2) -> None:
    """Refuse a restart that changes what H2O does not let change; warn about no-ops.

    Parameters
    ----------
    params : mapping
        The new fit's validated parameters.
    ckpt : Checkpoint
    owner : str
    has_valid : bool
        Whether the new fit has a validation frame (must match the checkpoint's).
    incremental : bool, default=False
        A fit continued for more passes (``partial_fit``, warm start): ``epochs`` need not
        exceed the checkpoint's.
    stacklevel : int, default=2
        Of the warning about parameters without effect.

    Raises
    ------
    InvalidParameterError
        A non-modifiable parameter changed, ``epochs`` is not above the checkpoint's, or
        the validation frame is given on one side only.
    """
    old = ckpt.params
    changed = []
    for name, value in params.items():
        if name in CHECKPOINT_MODIFIABLE or name == "checkpoint":
            continue
        if name in CV_PARAMS and value == PARAMETERS[name].default:
            # the main model of a cross-validated fit continues without folds (its
            # cross-validation models and metrics are not continued)
            continue
        before = old.get(name, PARAMETERS[name].default)
        if name == "distribution" and "AUTO" in (str(before), str(value)):
            # H2O compares the values as given, so AUTO against its resolved value would
            # fail: compare resolved distributions instead
            before, value = ckpt.distribution, ckpt.distribution if value == "AUTO" else value
        if _normalised(before) != _normalised(value):
            changed.append(f"{name} ({before!r} -> {value!r})")
    if changed:
        raise InvalidParameterError(
            "Cannot change these parameters when continuing from a checkpoint: "
            + ", ".join(changed) + ". Only the parameters listed as modifiable may "
            "change (epochs, l1, l2, stopping_*, score_*, mini_batch_size, ...)."
        )
    ignored = [f"{n}={params[n]!r}" for n in ("initial_weight_distribution",
                                              "initial_weight_scale")
               if _normalised(params[n]) != _normalised(old.get(n, PARAMETERS[n].default))]
    if params["pretrained_autoencoder"] not in (None, old.get("pretrained_autoencoder")):
        ignored.append("pretrained_autoencoder")
    if ignored:
        warnings.warn(
            f"{owner}: {', '.join(ignored)} has no effect when continuing from a "
            "checkpoint: training continues from the checkpoint's weights (as in H2O).",
            UserWarning, stacklevel=stacklevel + 1)
    if not incremental and float(params["epochs"]) <= float(ckpt.epochs):
        raise InvalidParameterError(
            f"epochs={params['epochs']!r} must be greater than the {ckpt.epochs:.4g} "
            "epochs the checkpoint already trained: with a checkpoint, epochs is the "
            "total, not an increment."
        )
    if has_valid != ckpt.has_validation:
        raise InvalidParameterError(
            "The checkpoint was trained " + ("with" if not has_valid else "without")
            + " a validation frame; continue it " + ("with" if not has_valid else "without")
            + " one too (H2O requires the same)."
        )
