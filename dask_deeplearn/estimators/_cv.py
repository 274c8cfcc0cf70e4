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

__all__ = ["FOLD", "assign_folds", "cv_summary", "HoldoutScorer"]

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


#: metrics of H2O's "Cross-Validation Metrics Summary", by model category
_SUMMARY = {
    "Binomial": ["accuracy", "auc", "err", "logloss", "mean_per_class_error", "mse", "pr_auc",
                 "r2", "rmse"],
    "Multinomial": ["accuracy", "err", "logloss", "mean_per_class_error", "mse", "r2", "rmse"],
    "Regression": ["mae", "mean_residual_deviance", "mse", "r2", "rmse", "rmsle"],
}


def _summary_value(m: Any, name: str) -> float:
    if name == "accuracy":
        e = m.classification_error
        return float("nan") if e is None else 1.0 - e
    if name == "err":
        e = m.classification_error
        return float("nan") if e is None else float(e)
    v = getattr(m, "aucpr" if name == "pr_auc" else name, None)
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
        Index: metric names; columns ``mean``, ``sd`` (sample SD over folds) and
        ``cv_1_valid`` ... ``cv_<k>_valid``.
    """
    names = _SUMMARY.get(fold_metrics[0].category, ["mse", "rmse"])
    values = np.array([[_summary_value(m, n) for m in fold_metrics] for n in names])
    table = pd.DataFrame(values, index=names,
                         columns=[f"cv_{k + 1}_valid" for k in range(len(fold_metrics))])
    table.insert(0, "sd", values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.nan)
    table.insert(0, "mean", values.mean(axis=1))
    return table
