"""The light scoring object sent to Dask workers (numpy and pandas only).

A :class:`Scorer` holds what predicting needs (preprocessing plan, weights, output rule)
and nothing of training: unpickling it on a worker imports neither scikit-learn nor Numba,
so a fresh worker starts scoring in a fraction of a second. The estimators delegate their
prediction methods to it, so there is one scoring code path.

Predictions (``raw`` and the kinds "proba", "label", "value", "h2o") go through the fused
first layer of :mod:`dask_deeplearn.fast_scoring` (no dense one-hot ``X``) where it is
exactly the dense computation (``DataInfo.transform_X`` then ``network.forward``) up to
float64 summation order; elsewhere (hashing, autoencoders, deep features, offsets next to
a response or weights column) the dense path runs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import DataError
from .fast_scoring import fused_network, scoring_offset
from .memory import dense_scoring_rows
from .model import FittedModel, check_stable
from .network import ModelState
from .network import hidden_activations
from .training.balance import class_correction, correct_probabilities
from .distributions import LOG_LINK
from .training.scoring import predict_block, reconstruction_errors, score_block

__all__ = ["Scorer"]

#: outputs that are frames of named float columns rather than predictions
_FRAME_KINDS = ("reconstruction", "anomaly", "anomaly_per_feature")


def _deepfeatures_layer(kind: str) -> int:
    return int(kind.split("-", 1)[1])


@dataclass
class Scorer:
    """Everything needed to score a pandas frame with a fitted model.

    Attributes
    ----------
    data_info : DataInfo
    state : ModelState
        Weights and biases (the optimiser state is dropped).
    task : {"classification", "regression", "autoencoder"}
    distribution : str
    params : dict
        Effective parameters (offset column, metric options).
    classes : ndarray or None
    threshold : float
        Binomial label threshold (H2O's max-F1: the model's ``threshold_``).
    label_rule : {"threshold", "argmax"}, default="threshold"
        How binomial labels are chosen: ``p1 >= threshold`` (H2O's
        ``DeepLearningEstimator``) or the arg-max of the probabilities, the first class
        on a tie (the scikit-learn estimators). Multinomial labels are always the arg-max.
    """

    data_info: Any
    state: ModelState
    task: str
    distribution: str
    params: dict[str, Any]
    classes: np.ndarray | None
    threshold: float
    label_rule: str = "threshold"

    #: score through the fused first layer where it applies (False: always the dense
    #: ``transform_X`` + ``forward`` path; the tests compare the two)
    fast = True
    #: per-instance caches, rebuilt on first use after unpickling (never shipped)
    _CACHES = ("_fused_net", "_label_array")

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in self._CACHES}

    @classmethod
    def from_fitted(cls, model: FittedModel) -> "Scorer":
        """The scorer of a fitted model (an unstable model is refused, as H2O does).

        Raises
        ------
        UnstableModelError
            The weights are not finite or have grown beyond a stable network's.
        """
        check_stable(model, "predict with")
        light = dataclasses.replace(model.state, OW=np.zeros((2, 0), np.float32),
                                    OB=np.zeros((2, 0), np.float32))
        classification = model.task == "classification"
        return cls(model.data_info, light, model.task, model.distribution, dict(model.params),
                   np.asarray(model.classes) if classification else None,
                   model.threshold if classification else 0.5, model.label_rule)

    # ------------------------------------------------------------------ arrays
    def raw(self, frame: pd.DataFrame) -> np.ndarray:
        """Probabilities ``(n, K)`` or predictions ``(n,)`` of a pandas frame."""
        return np.ascontiguousarray(self._raw(frame))

    def _raw(self, frame: pd.DataFrame) -> np.ndarray:
        """:meth:`raw`, possibly as a column-major array (columns contiguous)."""
        out = self._fast_raw(frame)
        return self._dense_raw(frame) if out is None else out

    def _fused(self) -> Any:
        """The model's ``fast_scoring.FusedNetwork``, or None (built once, then cached)."""
        net = self.__dict__.get("_fused_net")
        if net is None:
            net = False
            if self.task in ("classification", "regression"):
                net = fused_network(self.data_info, self.state) or False
            self.__dict__["_fused_net"] = net
        return net or None

    def _fast_raw(self, frame: pd.DataFrame) -> np.ndarray | None:
        """:meth:`raw` through the fused first layer, or None where the dense path runs.

        The network output is ``fast_scoring.FusedNetwork.forward``; what follows is
        ``training.scoring.predict_block`` after its ``forward``.
        """
        if not self.fast or len(frame) == 0:
            return None
        net = self._fused()
        if net is None:
            return None
        info = self.data_info
        offset = None
        if self.params.get("offset_column") is not None:
            offset = scoring_offset(info, frame)
            if offset is None:
                return None
        elif info.offset_column is not None:
            return None
        cat_codes, num_values = info.scoring_inputs(frame)
        out = net.forward(cat_codes, num_values, offset).T  # (n, n_outputs), column-major
        if self.task == "classification":
            correction = class_correction(self.params)
            if correction is not None:
                out = correct_probabilities(out, *correction)
            return out
        pred = out[:, 0]
        if info.response_mean is not None:
            pred = pred * info.response_sd + info.response_mean
        if self.distribution in LOG_LINK:
            pred = np.minimum(np.exp(pred), 1e19)
        return pred

    def _dense_raw(self, frame: pd.DataFrame) -> np.ndarray:
        """:meth:`raw` through the dense inputs ``X`` (``transform_X``) and ``forward``."""
        info = self.data_info
        if self.params.get("offset_column") is not None:
            block = info.transform(frame, training=False)
            X, offset = block.X, block.offset
        else:
            X, offset = info.transform_X(frame), None
        return predict_block(self.state, X, offset, task=self.task,
                             distribution=self.distribution,
                             response_mean=info.response_mean, response_sd=info.response_sd,
                             class_correction=class_correction(self.params))

    def label_index(self, proba: np.ndarray) -> np.ndarray:
        """Class index per row: binomial ``p1 >= threshold`` (``label_rule="threshold"``),
        else the arg-max (the first class on a tie)."""
        if proba.shape[1] == 2 and self.label_rule == "threshold":
            return (proba[:, 1] >= self.threshold).astype(np.int64)
        return proba.argmax(axis=1)

    def labels(self, proba: np.ndarray) -> np.ndarray:
        """Class labels of probabilities (a numpy array of the labels' dtype)."""
        return self.classes[self.label_index(proba)]

    def _string_labels(self) -> bool:
        return all(isinstance(c, str) for c in self.classes.tolist())

    def _label_values(self) -> Any:
        """String class labels as a pandas array of the dtype ``astype(str)`` gives them
        (pandas' default string dtype), built once."""
        values = self.__dict__.get("_label_array")
        if values is None:
            labels = [str(c) for c in self.classes.tolist()]
            dtype = pd.Series(pd.Categorical.from_codes([0], categories=labels)).astype(str).dtype
            values = pd.array(labels, dtype=dtype)
            self.__dict__["_label_array"] = values
        return values

    def _label_series(self, proba: np.ndarray, index: pd.Index) -> pd.Series:
        idx = self.label_index(proba)
        if self._string_labels():
            # string labels: one take of the labels' string array, the dtype of
            # ``astype(str)`` (a numpy unicode array converted row by row costs ~8 % of a
            # scoring partition, a categorical's ``astype(str)`` ~10 %)
            return pd.Series(self._label_values().take(idx), index=index, name="predict")
        return pd.Series(self.classes[idx], index=index, name="predict")

    def reconstruction(self, X: np.ndarray) -> np.ndarray:
        """An autoencoder's reconstruction of transformed inputs, numerics in original units.

        One-hot outputs stay raw activations and numeric outputs are un-normalised
        (``out / mul + sub``), as H2O's ``predict`` of an autoencoder: categorical
        reconstructions stay activations so they can be read as level scores.
        """
        out, _ = reconstruction_errors(self.state, X)
        info = self.data_info
        start = int(info.num_start)
        if out.shape[1] > start and len(info.num_mul):
            out[:, start:] = out[:, start:] / info.num_mul + info.num_sub
        return out

    def deepfeatures(self, X: np.ndarray, layer: int) -> np.ndarray:
        """Scoring-mode activations of hidden layer ``layer`` (0-based), float64.

        Rows go through the network in chunks (:func:`~dask_deeplearn.memory.dense_scoring_rows`),
        each computed as in one pass."""
        spec = self.state.spec
        n = X.shape[0]
        step = dense_scoring_rows(spec, n)
        if step >= n:
            return hidden_activations(spec, self.state.W, self.state.B, X, dtype=np.float64)[layer]
        W = np.asarray(self.state.W, dtype=np.float64)
        B = np.asarray(self.state.B, dtype=np.float64)
        out = np.empty((n, spec.units[layer + 1]), dtype=np.float64)
        for r0 in range(0, n, step):
            out[r0:r0 + step] = hidden_activations(spec, W, B, X[r0:r0 + step],
                                                   dtype=np.float64)[layer]
        return out

    def _columns(self, kind: str) -> list[str]:
        names = [str(n) for n in self.data_info.input_names]
        if kind == "reconstruction":
            return [f"reconstr_{n}" for n in names]
        if kind == "anomaly":
            return ["Reconstruction.MSE"]
        if kind == "anomaly_per_feature":
            return [f"reconstr_{n}.SE" for n in names]
        layer = _deepfeatures_layer(kind)
        return [f"DF.L{layer + 1}.C{j + 1}" for j in range(self.state.spec.units[layer + 1])]

    def _frame_output(self, frame: pd.DataFrame, kind: str) -> pd.DataFrame:
        """The autoencoder and deep-feature outputs (``kind`` as in :meth:`predict_pandas`)."""
        X = self.data_info.transform_X(frame)
        if kind == "reconstruction":
            values = self.reconstruction(X)
        elif kind in ("anomaly", "anomaly_per_feature"):
            _, se = reconstruction_errors(self.state, X)
            values = se.mean(axis=1, keepdims=True) if kind == "anomaly" else se
        else:
            values = self.deepfeatures(X, _deepfeatures_layer(kind))
        return pd.DataFrame(values, index=frame.index, columns=self._columns(kind))

    # ------------------------------------------------------------------ pandas
    def proba_columns(self) -> list[str]:
        """Probability column names: the class labels as strings."""
        return [str(c) for c in self.classes]

    def predict_pandas(self, frame: pd.DataFrame, kind: str) -> Any:
        """Predictions of one pandas frame, indexed like it.

        ``kind``: ``"proba"`` (DataFrame, one column per class), ``"label"`` (Series of
        class labels), ``"value"`` (Series of regression predictions) or ``"h2o"`` (H2O's
        prediction frame); for autoencoders ``"reconstruction"``, ``"anomaly"`` and
        ``"anomaly_per_feature"``; for any model ``"deepfeatures-<layer>"``.
        """
        if len(frame) == 0:
            return self.meta(kind)
        if kind in _FRAME_KINDS or kind.startswith("deepfeatures-"):
            return self._frame_output(frame, kind)
        raw = self._raw(frame)
        if kind == "proba":
            return pd.DataFrame(np.asarray(raw, np.float64), index=frame.index,
                                columns=self.proba_columns())
        if kind == "label":
            return self._label_series(raw, frame.index)
        if kind == "value":
            return pd.Series(np.asarray(raw, np.float64), index=frame.index, name="predict")
        if self.task == "regression":
            return pd.DataFrame({"predict": np.asarray(raw, np.float64)}, index=frame.index)
        out = pd.DataFrame({"predict": self._label_series(raw, frame.index)})
        for j, c in enumerate(self.proba_columns()):
            out[c] = np.asarray(raw[:, j], np.float64)
        return out

    def _label_meta(self) -> pd.Series:
        if self._string_labels():
            return pd.Series(np.asarray([], dtype=object), name="predict").astype(str)
        return pd.Series(np.asarray([], dtype=self.classes.dtype), name="predict")

    def meta(self, kind: str) -> Any:
        """Empty output of :meth:`predict_pandas` (the ``meta`` of lazy Dask predictions)."""
        if kind in _FRAME_KINDS or kind.startswith("deepfeatures-"):
            return pd.DataFrame({c: pd.Series(dtype="float64") for c in self._columns(kind)})
        if kind == "proba":
            return pd.DataFrame({c: pd.Series(dtype="float64") for c in self.proba_columns()})
        if kind == "label":
            return self._label_meta()
        if kind == "value" or self.task == "regression":
            empty = pd.Series(dtype="float64", name="predict")
            return empty if kind == "value" else empty.to_frame()
        out = pd.DataFrame({"predict": self._label_meta()})
        for c in self.proba_columns():
            out[c] = pd.Series(dtype="float64")
        return out

    def partial(self, frame: pd.DataFrame) -> Any:
        """Metric partial of one pandas frame holding the response (None when empty)."""
        info = self.data_info
        block = info.transform(frame, training=False)
        if block.y is None and self.task != "autoencoder":
            raise DataError(f"The frame has no response column {info.response!r} to score against.")
        if block.n_rows == 0:
            return None
        actual = None
        if self.task == "regression":
            # the response in full precision (the block holds it as float32)
            actual = pd.to_numeric(frame[info.response]).to_numpy(np.float64)[block.index]
        return score_block(self.state, block, data_info=info, task=self.task,
                           distribution=self.distribution, params=self.params, actual=actual)

    # the names the Dask tasks call (an estimator offers the same two)
    def _predict_pandas(self, frame: pd.DataFrame, kind: str) -> Any:
        return self.predict_pandas(frame, kind)

    def _partial_pandas(self, frame: pd.DataFrame) -> Any:
        return self.partial(frame)
