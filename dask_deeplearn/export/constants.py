"""The scoring constants of a fitted model: one table both exporters render.

:class:`ScoringConstants` gathers, once, everything a standalone scorer embeds: the input
layout (columns, categorical domains and one-hot offsets, encoded inputs), normalisation,
the network, the output names, the link, the label threshold and rule, the offset column
and the class-prior correction. The Python and the Java exporters only write it out, so
they cannot disagree on what they score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model import FittedModel
from ..kernels import activations as _activations
from ..distributions import LOG_LINK

__all__ = ["ACTIVATIONS", "NUM_KINDS", "CATEGORIES", "ScoringConstants"]

#: activation name -> the code the network spec uses (``NetworkSpec.act``)
ACTIVATIONS = {name: act.code for name, act in _activations.ACTIVATIONS.items()}
#: activation code -> name
ACTIVATION_NAMES = {code: name for name, code in ACTIVATIONS.items()}

#: encoded numeric input kind (``DataInfo.num_sources``) -> code in the generated scorers
NUM_KINDS = {"numeric": 0, "label": 1, "eigen": 2, "binary": 3}

#: task -> output-layer kind of its network
OUTPUT_LAYERS = {"classification": "softmax", "regression": "linear",
                 "autoencoder": "autoencoder"}

#: H2O's model categories (``MODEL_CATEGORY`` of a POJO)
CATEGORIES = ("Binomial", "Multinomial", "Regression", "AutoEncoder")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True, eq=False)
class ScoringConstants:
    """Everything a standalone scorer of a fitted model embeds.

    Attributes
    ----------
    estimator : str
        Class name of the estimator that trained the model.
    task : {"classification", "regression", "autoencoder"}
    category : {"Binomial", "Multinomial", "Regression", "AutoEncoder"}
    distribution : str
    columns : list
        Input columns the model reads, in the order it expects them.
    domains : list of (list or None)
        Per input column its training levels (categorical and label-encoded columns),
        None for a numeric column.
    response_column : str or None
    offset_column : str or None
        The offset column predictions add (never for an autoencoder).
    classes : list or None
        Class labels (plain Python values) in probability-column order.
    class_names : list of str or None
        The class labels as strings (the probability columns).
    output_names : list of str
        Columns of the prediction frame: ``predict`` and one probability column per
        class, ``predict`` alone for a regressor, ``reconstr_<input>`` per expanded input
        for an autoencoder.
    threshold : float or None
        A binomial model's label threshold on p(class 1) (H2O's max-F1), else None.
    label_rule : {"threshold", "argmax"} or None
        How a binomial model labels a row (None unless classification).
    log_link : bool
        Predictions are ``exp`` of the network output (Poisson, Gamma, Tweedie).
    prior, model_dist : ndarray or None
        Original and balanced class frequencies of a ``balance_classes`` model: its
        probabilities are multiplied by ``prior / model_dist`` and renormalised.
    response_mean, response_sd : float or None
        A standardised regression response (predictions are ``out * sd + mean``).
    input_names : list of str
        Names of the expanded network inputs.
    n_inputs, num_start : int
        Number of network inputs; index of the first numeric input.
    categorical_encoding : str
    use_all_factor_levels : bool
    hash_slots : ndarray or None
        Input slot of each (column, level) pair with ``max_categorical_features`` hashing.
    max_categorical_features : int
    cat_columns : list
    cat_raw_levels, cat_level_map : dict
        Per one-hot column its raw levels and the map raw level -> level index.
    cat_offsets : ndarray of int
        First input of each one-hot column, then the end.
    num_sources : list of (str, Any, int)
        Per numeric input its kind, source column and argument (bit, eigen slot).
    encoded_levels, eigen_vectors : dict
    num_mul, num_sub, num_fill : ndarray
        Normalisation (``(x - sub) * mul``) and the value of a missing input.
    units, k, act, dropout, w_off, b_off : sequences
        The network spec (``act``: codes of :data:`ACTIVATIONS`).
    activation : str
        The hidden-layer activation as the user named it.
    W, B : ndarray, float32
        Flat weights and biases.
    """

    estimator: str
    task: str
    category: str
    distribution: str
    columns: list[Any]
    domains: list[list[Any] | None]
    response_column: str | None
    offset_column: str | None
    classes: list[Any] | None
    class_names: list[str] | None
    output_names: list[str]
    threshold: float | None
    label_rule: str | None
    log_link: bool
    prior: np.ndarray | None
    model_dist: np.ndarray | None
    response_mean: float | None
    response_sd: float | None
    input_names: list[str]
    n_inputs: int
    num_start: int
    categorical_encoding: str
    use_all_factor_levels: bool
    hash_slots: np.ndarray | None
    max_categorical_features: int
    cat_columns: list[Any]
    cat_raw_levels: dict[Any, list[Any]]
    cat_level_map: dict[Any, np.ndarray]
    cat_offsets: np.ndarray
    num_sources: list[tuple[str, Any, int]]
    encoded_levels: dict[Any, list[Any]]
    eigen_vectors: dict[Any, np.ndarray]
    num_mul: np.ndarray
    num_sub: np.ndarray
    num_fill: np.ndarray
    units: list[int]
    k: list[int]
    act: list[int]
    activation: str
    output_layer: str
    dropout: np.ndarray
    w_off: list[int]
    b_off: list[int]
    W: np.ndarray
    B: np.ndarray

    @property
    def act_names(self) -> list[str]:
        """The activation of each layer by name (:data:`ACTIVATIONS`)."""
        return [ACTIVATION_NAMES[a] for a in self.act]

    @property
    def hashing(self) -> bool:
        return self.hash_slots is not None

    @property
    def n_weights(self) -> int:
        return int(self.W.shape[0])

    @property
    def n_biases(self) -> int:
        return int(self.B.shape[0])

    @classmethod
    def from_fitted(cls, model: FittedModel) -> "ScoringConstants":
        """The table of ``model`` (a classifier, regressor or autoencoder).

        Parameters
        ----------
        model : FittedModel

        Returns
        -------
        ScoringConstants
        """
        info = model.data_info
        spec = model.state.spec
        task = model.task
        classification = task == "classification"
        input_names = [str(n) for n in info.input_names]
        if classification:
            classes = [_plain(c) for c in model.classes]
            class_names = [str(c) for c in model.classes]
            output_names = ["predict", *class_names]
            category = "Binomial" if len(classes) == 2 else "Multinomial"
        else:
            classes = class_names = None
            # an autoencoder predicts the reconstruction of every expanded input
            output_names = ([f"reconstr_{n}" for n in input_names] if task == "autoencoder"
                            else ["predict"])
            category = "AutoEncoder" if task == "autoencoder" else "Regression"
        domains: list[list[Any] | None] = []
        cat_set = set(info.cat_columns)
        for c in info.used_columns:
            if c in cat_set:
                domains.append(list(info.cat_raw_levels[c]))
            elif c in info.encoded_levels:
                domains.append(list(info.encoded_levels[c]))
            else:
                domains.append(None)
        hashing = bool(info.hashing)
        offsets = np.asarray(info.cat_offsets, dtype=np.int64)
        correction = model.class_priors
        regression = task == "regression"
        standardised = regression and info.response_mean is not None
        return cls(
            estimator=model.estimator, task=task, category=category,
            distribution=str(model.distribution), columns=list(info.used_columns),
            domains=domains, response_column=info.response,
            offset_column=model.offset_column, classes=classes, class_names=class_names,
            output_names=output_names,
            threshold=model.threshold if model.binomial else None,
            label_rule=model.label_rule if classification else None,
            log_link=regression and model.distribution in LOG_LINK,
            prior=None if correction is None else correction[0],
            model_dist=None if correction is None else correction[1],
            response_mean=float(info.response_mean) if standardised else None,
            response_sd=float(info.response_sd) if standardised else None,
            input_names=input_names, n_inputs=int(info.n_inputs),
            num_start=int(info.max_categorical_features) if hashing else int(offsets[-1]),
            categorical_encoding=info.categorical_encoding,
            use_all_factor_levels=bool(info.use_all_factor_levels),
            hash_slots=np.asarray(info.hash_slots, dtype=np.int64) if hashing else None,
            max_categorical_features=int(info.max_categorical_features),
            cat_columns=list(info.cat_columns),
            cat_raw_levels={c: list(info.cat_raw_levels[c]) for c in info.cat_columns},
            cat_level_map={c: np.asarray(info.cat_level_map[c], dtype=np.int64)
                           for c in info.cat_columns},
            cat_offsets=offsets,
            num_sources=[(k, s, int(a)) for k, s, a in info.num_sources],
            encoded_levels={c: list(v) for c, v in info.encoded_levels.items()},
            eigen_vectors={c: np.asarray(v, dtype=np.float64)
                           for c, v in info.eigen_vectors.items()},
            num_mul=np.asarray(info.num_mul, dtype=np.float64),
            num_sub=np.asarray(info.num_sub, dtype=np.float64),
            num_fill=np.asarray(info.num_fill, dtype=np.float64),
            units=[int(u) for u in spec.units], k=[int(v) for v in spec.k],
            act=[int(a) for a in spec.act], activation=spec.activation,
            output_layer=spec.output, dropout=np.asarray(spec.dropout, dtype=np.float64),
            w_off=[int(v) for v in spec.w_off], b_off=[int(v) for v in spec.b_off],
            W=np.asarray(model.state.W, dtype=np.float32).reshape(-1),
            B=np.asarray(model.state.B, dtype=np.float32).reshape(-1),
        )
