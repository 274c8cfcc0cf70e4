"""N-fold cross-validation as H2O does it: fold assignment, CV models, holdout metrics.

Each CV model is the same estimator with ``nfolds=0`` trained on the other folds, with its
own held-out fold as validation frame (so its early stopping and best-model choice follow
held-out metrics, as in H2O). The main model then trains on every row; with early stopping
or a time limit it runs for the mean of the CV models' epochs instead (and
``stopping_rounds=0``). Cross-validation metrics are computed from the combined holdout
predictions (each row scored by the model that did not see it).

Works on pandas and on Dask frames: folds are assigned per partition with a partition-salted
seed (Random, Stratified) or from global row positions (Modulo), the fold filters are lazy,
and the holdout predictions are one ``map_partitions`` that scores each row with its fold's
model.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataError, InvalidParameterError
from ..metrics import merge_partials

__all__ = ["FOLD", "assign_folds", "cv_summary", "fold_predictions", "HoldoutScorer"]

#: the internal fold-id column added to the training frame during cross-validation
FOLD = "__fold__"


def _random_folds(n: int, nfolds: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed % 2**63).integers(0, nfolds, n)


def _stratified_folds(y: pd.Series, nfolds: int, seed: int) -> np.ndarray:
    """Within each class, a random order dealt round-robin to the folds."""
    rng = np.random.default_rng(seed % 2**63)
    out = np.zeros(len(y), dtype=np.int64)
    codes = pd.factorize(y, use_na_sentinel=True)[0]
    start = int(rng.integers(0, nfolds))
    for c in np.unique(codes):
        idx = np.flatnonzero(codes == c)
        rng.shuffle(idx)
        out[idx] = (np.arange(idx.size) + start) % nfolds
        start = (start + idx.size) % nfolds
    return out


def _partition_folds(part: pd.DataFrame, nfolds: int, how: str, seed: int, response: str | None,
                     offset: int, partition_info: dict | None = None) -> pd.Series:
    number = 0 if partition_info is None else int(partition_info.get("number", 0))
    salted = seed + 0x9E3779B1 * (number + 1)
    if how == "Modulo":
        folds = (np.arange(len(part), dtype=np.int64) + offset) % nfolds
    elif how == "Stratified" and response is not None and response in part.columns:
        folds = _stratified_folds(part[response], nfolds, salted)
    else:
        folds = _random_folds(len(part), nfolds, salted)
    return pd.Series(folds.astype(np.int64), index=part.index, name=FOLD)


def _fold_codes(values: pd.Series, column: str) -> tuple[pd.Series, list[Any]]:
    if values.isna().any():
        raise DataError(f"fold_column {column!r} has {int(values.isna().sum())} missing "
                        "value(s); every row needs a fold.")
    levels = sorted(pd.unique(values).tolist(), key=lambda v: (str(type(v)), v))
    return values.map({v: i for i, v in enumerate(levels)}).astype(np.int64), levels


def assign_folds(frame: Any, *, nfolds: int, fold_assignment: str, fold_column: str | None,
                 response: str | None, seed: int) -> tuple[Any, int, list[Any]]:
    """The frame with an added ``__fold__`` column, the number of folds and their labels.

    Parameters
    ----------
    frame : pandas.DataFrame or dask.dataframe.DataFrame
    nfolds : int
    fold_assignment : {"AUTO", "Random", "Modulo", "Stratified"}
        AUTO is Random (H2O). Stratified needs a classification response; on Dask it is
        stratified within each partition.
    fold_column : str or None
        Column whose distinct values are the folds (then ``nfolds`` is their number).
    response : str or None
    seed : int

    Returns
    -------
    frame, n_folds, fold_labels
    """
    is_dask = hasattr(frame, "map_partitions") and hasattr(frame, "npartitions")
    if fold_column is not None:
        if fold_column not in frame.columns:
            raise DataError(f"fold_column {fold_column!r} is not a column of the training "
                            f"frame (columns: {list(frame.columns)[:10]}).")
        col = frame[fold_column]
        if is_dask:
            levels = sorted(col.dropna().unique().compute().tolist(),
                            key=lambda v: (str(type(v)), v))
            if int(col.isna().sum().compute()):
                raise DataError(f"fold_column {fold_column!r} has missing values; every row "
                                "needs a fold.")
            mapping = {v: i for i, v in enumerate(levels)}
            folds = col.map(mapping, meta=(FOLD, "int64")).astype("int64")
        else:
            folds, levels = _fold_codes(col, fold_column)
        if len(levels) < 2:
            raise DataError(f"fold_column {fold_column!r} has {len(levels)} distinct value(s); "
                            "cross-validation needs at least 2 folds.")
        return frame.assign(**{FOLD: folds}), len(levels), levels
    how = "Random" if fold_assignment == "AUTO" else fold_assignment
    if how == "Stratified" and response is None:
        raise InvalidParameterError("fold_assignment='Stratified' needs a response column.")
    if is_dask:
        offsets = [0] * frame.npartitions
        if how == "Modulo":
            lengths = frame.map_partitions(len).compute().tolist()
            offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
        parts = []
        for i, part in enumerate(frame.to_delayed()):
            import dask

            parts.append(dask.delayed(_partition_folds)(
                part, nfolds, how, seed, response, offsets[i], {"number": i}))
        import dask.dataframe as dd

        folds = dd.from_delayed(parts, meta=pd.Series(dtype="int64", name=FOLD),
                                divisions=frame.divisions, verify_meta=False)
        return frame.assign(**{FOLD: folds}), nfolds, list(range(nfolds))
    folds = _partition_folds(frame, nfolds, how, seed, response, 0, {"number": 0})
    return frame.assign(**{FOLD: folds}), nfolds, list(range(nfolds))


class HoldoutScorer:
    """Scores each row with the CV model of its fold (what Dask workers receive).

    Parameters
    ----------
    scorers : list of Scorer
        One per fold, in fold order.
    """

    def __init__(self, scorers: Sequence[Any]) -> None:
        self.scorers = list(scorers)

    def _predict_pandas(self, frame: pd.DataFrame, kind: str) -> Any:
        folds = frame[FOLD].to_numpy()
        pieces = []
        for k, scorer in enumerate(self.scorers):
            rows = frame[folds == k]
            if len(rows):
                pieces.append(scorer.predict_pandas(rows.drop(columns=FOLD), kind))
        if not pieces:
            return self.scorers[0].meta(kind)
        return pd.concat(pieces).loc[frame.index] if frame.index.is_unique else \
            pd.concat(pieces)

    def _partial_pandas(self, frame: pd.DataFrame) -> Any:
        folds = frame[FOLD].to_numpy()
        parts = [s.partial(frame[folds == k].drop(columns=FOLD))
                 for k, s in enumerate(self.scorers) if (folds == k).any()]
        parts = [p for p in parts if p is not None]
        return merge_partials(parts) if parts else None


#: rows of H2O's "Cross-Validation Metrics Summary", by model category: H2O lists every
#: number-valued getter of the fold's validation metrics and of its confusion matrix (the
#: binomial one at the max-F1 threshold), sorted by name; ``aic`` and ``loglikelihood`` are
#: GLM's and NaN for Deep Learning, as H2O prints them
_SUMMARY = {
    "Binomial": ["accuracy", "aic", "auc", "err", "err_count", "f0point5", "f1", "f2",
                 "lift_top_group", "loglikelihood", "logloss", "max_per_class_error", "mcc",
                 "mean_per_class_accuracy", "mean_per_class_error", "mse", "pr_auc",
                 "precision", "r2", "recall", "rmse", "specificity"],
    "Multinomial": ["accuracy", "aic", "auc", "err", "err_count", "loglikelihood", "logloss",
                    "max_per_class_error", "mean_per_class_accuracy", "mean_per_class_error",
                    "mse", "pr_auc", "r2", "rmse"],
    "Regression": ["aic", "loglikelihood", "mae", "mean_residual_deviance", "mse", "r2",
                   "residual_deviance", "rmse", "rmsle"],
}


def _confusion_counts(m: Any) -> np.ndarray | None:
    """The (weighted) counts of a metrics' confusion matrix, rows actual (None if none)."""
    cm = getattr(m, "confusion_matrix", None)
    if cm is None:
        return None
    k = len(cm) - 1  # the last row is "Total"; the last two columns "Error" and "Rate"
    return cm.iloc[:k, :k].to_numpy(dtype=np.float64)


def _confusion_value(cm: np.ndarray, name: str) -> float:
    """H2O's ``ConfusionMatrix`` getters (precision ... specificity: binomial only)."""
    rows = cm.sum(axis=1)
    right = float(np.trace(cm))
    total = float(cm.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        class_err = np.where(rows == 0, 0.0, (rows - np.diag(cm)) / np.where(rows == 0, 1, rows))
        if name == "accuracy":
            return right / total
        if name == "err":
            return 1.0 - right / total
        if name == "err_count":
            return total - right
        if name == "max_per_class_error":
            return float(class_err.max())
        if name == "mean_per_class_accuracy":
            return 1.0 - float(class_err.mean())
        (tn, fp), (fn, tp) = cm
        precision, recall = tp / (tp + fp), tp / (tp + fn)

        def f_beta(beta: float) -> float:
            return float((1 + beta**2) * precision * recall / (beta**2 * precision + recall))

        return float({
            "precision": precision, "recall": recall, "specificity": tn / (tn + fp),
            "f1": f_beta(1.0), "f2": f_beta(2.0), "f0point5": f_beta(0.5),
            "mcc": (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)),
        }[name])


_FROM_CONFUSION = {"accuracy", "err", "err_count", "f0point5", "f1", "f2",
                   "max_per_class_error", "mcc", "mean_per_class_accuracy", "precision",
                   "recall", "specificity"}


def _summary_value(m: Any, name: str) -> float:
    if name in _FROM_CONFUSION:
        cm = _confusion_counts(m)
        return float("nan") if cm is None or cm.size == 0 else _confusion_value(cm, name)
    attr = {"pr_auc": "aucpr", "residual_deviance": "mean_residual_deviance"}.get(name, name)
    v = getattr(m, attr, None)
    return float("nan") if v is None else float(v)


def cv_summary(fold_metrics: Sequence[Any]) -> pd.DataFrame:
    """H2O's "Cross-Validation Metrics Summary": mean, sd and each fold's value per metric.

    Parameters
    ----------
    fold_metrics : sequence of ModelMetrics
        Each fold model's metrics on its held-out fold.

    Returns
    -------
    pandas.DataFrame
        Index: H2O's metric names (binomial: ``accuracy``, ``aic``, ``auc``, ``err``,
        ``err_count``, ``f0point5``, ``f1``, ``f2``, ``lift_top_group``,
        ``loglikelihood``, ``logloss``, ``max_per_class_error``, ``mcc``,
        ``mean_per_class_accuracy``, ``mean_per_class_error``, ``mse``, ``pr_auc``,
        ``precision``, ``r2``, ``recall``, ``rmse``, ``specificity``; the confusion-matrix
        ones at the fold's max-F1 threshold; multinomial: those that do not need two
        classes; regression: ``aic``, ``loglikelihood``, ``mae``,
        ``mean_residual_deviance``, ``mse``, ``r2``, ``residual_deviance``, ``rmse``,
        ``rmsle``); columns ``mean``, ``sd`` (sample SD over folds) and ``cv_1_valid``
        ... ``cv_<k>_valid``.
    """
    names = _SUMMARY.get(fold_metrics[0].category, ["mse", "rmse"])
    values = np.array([[_summary_value(m, n) for m in fold_metrics] for n in names])
    table = pd.DataFrame(values, index=names,
                         columns=[f"cv_{k + 1}_valid" for k in range(len(fold_metrics))])
    table.insert(0, "sd", values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.nan)
    table.insert(0, "mean", values.mean(axis=1))
    return table


def _keep_fold(part: pd.DataFrame, k: int, first_label: Any) -> pd.DataFrame:
    """The predictions of the rows of fold ``k``; H2O's 0 fill-in on the other rows."""
    mine = part[FOLD].to_numpy() == k
    out = part.drop(columns=FOLD).copy()
    for col in out.columns:
        values = out[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            # a label column's 0 is its first level, as in H2O's filled-in frames
            out[col] = values.where(mine, values.cat.categories[0])
        elif col == "predict" and first_label is not None:
            out[col] = values.where(mine, first_label)
        else:
            out[col] = values.where(mine, 0)
    return out


def fold_predictions(holdout: Any, folds: Any, n_folds: int,
                     first_label: Any = None) -> list[Any]:
    """H2O's ``cross_validation_predictions()``: one frame per fold model.

    Each frame has every training row: the predictions of fold ``k``'s model on the rows
    of fold ``k`` and 0 on the other rows (a categorical label column: its first level),
    so the frames add up to the combined holdout predictions.

    Parameters
    ----------
    holdout : pandas.DataFrame or dask.dataframe.DataFrame
        The combined holdout predictions.
    folds : pandas.Series or dask.dataframe.Series
        The 0-based fold of each row, aligned with ``holdout``.
    n_folds : int
    first_label : object, optional
        A classifier's first class: the fill-in of its ``predict`` column.

    Returns
    -------
    list of pandas.DataFrame or dask.dataframe.DataFrame
        Lazy for Dask input.
    """
    if hasattr(holdout, "map_partitions"):
        framed = holdout.assign(**{FOLD: folds})
        return [framed.map_partitions(_keep_fold, k, first_label, meta=holdout._meta)
                for k in range(n_folds)]
    framed = holdout.assign(**{FOLD: np.asarray(folds)})
    return [_keep_fold(framed, k, first_label) for k in range(n_folds)]
