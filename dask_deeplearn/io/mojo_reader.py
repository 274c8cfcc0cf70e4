"""Read an H2O-3 Deep Learning MOJO as a :class:`~dask_deeplearn.model.FittedModel`.

A MOJO is a zip (or its unpacked folder) holding ``model.ini`` (an ``[info]`` section of
``key = value`` lines, the ``[columns]`` in the model's input order with the response
last, and ``[domains]`` naming one file per categorical column), the level files
``domains/dNNN.txt`` (one level a line; quoted with ``""`` escapes when
``escape_domain_values = true``) and, written by H2O since 3.26, the model's details as
``experimental/modelDetails.json`` (its parameters, scoring history and metrics).

What H2O's own MOJO scorer (h2o-genmodel's ``DeeplearningMojoModel``) does with a row,
and so what an imported model does:

* inputs: categoricals first (one-hot blocks at ``cat_offsets``; a missing or unseen level
  is the block's last slot, the NA slot; with ``use_all_factor_levels = false`` the first
  level is all zeros), then numerics ``(x - norm_sub) * norm_mul``; a missing number is 0
  after that transform (the training mean when standardised, a raw 0 otherwise);
* ``weight_layer<l>`` holds layer ``l``'s weights row-major with one row per receiving
  unit (Maxout: two channels interleaved per input), ``bias_layer<l>`` its biases;
* hidden ``*WithDropout`` layers are scaled by ``1 - hidden_dropout_ratios[l]``; the
  output is a softmax (classification), linear (regression: ``out / norm_resp_mul +
  norm_resp_sub``, then the distribution's inverse link) or, for an autoencoder, the
  hidden activation (numerics unscaled back to their units);
* binomial labels are ``p1 >= default_threshold``; ``balance_classes`` probabilities are
  corrected by ``prior_class_distrib / model_class_distrib``.

Weights are float32 in the MOJO and here; biases are float64 in the MOJO and float32 here
(the network's buffers), which changes predictions only in the 7th significant digit at
most. The optimiser state (ADADELTA's running averages) is not in a MOJO: a model continued
from an imported MOJO starts it at 0. This module knows no estimator: the estimators'
``import_mojo`` wraps the value it returns.
"""

from __future__ import annotations

import json
import math
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..distributions import DISTRIBUTIONS
from ..exceptions import ModelFileError
from ..metrics._model_metrics import ModelMetrics
from ..model import FittedModel
from ..network import ModelState, NetworkSpec
from ..params import PARAMETERS, resolve_effective, validate_params
from ..preprocessing import DataInfo
from ..training.balance import MODEL_KEY, PRIOR_KEY

__all__ = ["read_mojo", "SUPPORTED_MOJO_VERSIONS"]

#: the Deep Learning MOJO versions H2O-3 writes and this reader reads (1.00 up to 3.10,
#: 1.10 since; the layout of the keys read here is the same in both)
SUPPORTED_MOJO_VERSIONS = ("1.00", "1.10")
#: H2O's model categories and the task each is here
_TASKS = {"Binomial": "classification", "Multinomial": "classification",
          "Regression": "regression", "AutoEncoder": "autoencoder"}
#: the largest member read (a zip's declared size is checked before it is decompressed)
_MAX_MEMBER_BYTES = 256 * 2**20
_INI = "model.ini"
#: ``model.ini`` values kept as written (an id; a version shown in errors as found)
_RAW_KEYS = ("uuid", "mojo_version", "h2o_version")
_DETAILS = "experimental/modelDetails.json"
#: H2O parameters that name frames, columns by role or places: never taken as parameters
_NOT_PARAMS = frozenset({"model_id", "checkpoint", "pretrained_autoencoder", "initial_weights",
                         "initial_biases", "export_checkpoints_dir", "custom_metric_func",
                         "weights_column", "offset_column", "fold_column", "ignored_columns"})


class _Archive:
    """The members of a MOJO zip or folder, read with a size limit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        if path.is_dir():
            return
        if not path.exists():
            raise FileNotFoundError(f"No MOJO at {path}.")
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ModelFileError(f"{path} is not an H2O MOJO (not a zip file: {exc}).") from None

    def exists(self, name: str) -> bool:
        if self.zip is None:
            return (self.path / name).is_file()
        return name in self.zip.namelist()

    def read(self, name: str) -> bytes:
        if not self.exists(name):
            raise ModelFileError(f"{self.path} is not an H2O MOJO: it has no {name}.")
        size = (self.zip.getinfo(name).file_size if self.zip is not None
                else (self.path / name).stat().st_size)
        if size > _MAX_MEMBER_BYTES:
            raise ModelFileError(f"{self.path}: {name} declares {size} bytes, more than the "
                                 f"{_MAX_MEMBER_BYTES} a MOJO member may have.")
        if self.zip is None:
            return (self.path / name).read_bytes()
        with self.zip.open(name) as f:
            data = f.read(_MAX_MEMBER_BYTES + 1)
        if len(data) > _MAX_MEMBER_BYTES:
            raise ModelFileError(f"{self.path}: {name} is larger than it declares.")
        return data

    def text(self, name: str) -> str:
        try:
            return self.read(name).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelFileError(f"{self.path}: {name} is not UTF-8 text ({exc}).") from None

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


# ---------------------------------------------------------------------------- model.ini
def _value(raw: str) -> Any:
    """A ``model.ini`` value as H2O's ``ParseUtils.tryParse`` reads it."""
    s = raw.strip()
    if s == "null":
        return None
    if s in ("true", "false"):
        return s == "true"
    if s.startswith("[") and s.endswith("]"):
        inner = s[1:-1].strip()
        return [] if not inner else [_value(v) for v in inner.split(",")]
    for kind in (int, float):
        try:
            return kind(s)
        except ValueError:
            pass
    return s


def _parse_ini(text: str, where: Path) -> tuple[dict[str, Any], list[str], dict[int, str]]:
    """``[info]`` key-values, ``[columns]`` and ``[domains]`` (column index -> file spec)."""
    info: dict[str, Any] = {}
    columns: list[str] = []
    domains: dict[int, str] = {}
    section = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line in ("[info]", "[columns]", "[domains]"):
            section = line
        elif section == "[info]":
            key, _, value = line.partition("=")
            key = key.strip()
            info[key] = value.strip() if key in _RAW_KEYS else _value(value)
        elif section == "[columns]":
            columns.append(line)
        elif section == "[domains]":
            index, _, spec = line.partition(":")
            try:
                domains[int(index)] = spec.strip()
            except ValueError:
                raise ModelFileError(f"{where}: model.ini has a bad [domains] line {line!r}.") from None
    if info.get("n_columns") != len(columns):
        raise ModelFileError(f"{where}: model.ini lists {len(columns)} columns but says "
                             f"n_columns = {info.get('n_columns')!r}.")
    return info, columns, domains


def _levels(text: str, quoted: bool) -> list[str]:
    """The levels of one domain file (H2O's quoted format: ``""`` is a quote, a quoted
    level may hold line breaks)."""
    if not quoted:
        return text.splitlines()
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in "\r\n":
            i += 1
            continue
        if text[i] != '"':
            end = min([j for j in (text.find("\n", i), text.find("\r", i)) if j >= 0] or [n])
            out.append(text[i:end])
            i = end
            continue
        buf, i = [], i + 1
        while i < n:
            if text[i] == '"':
                if i + 1 < n and text[i + 1] == '"':
                    buf.append('"')
                    i += 2
                    continue
                i += 1
                break
            buf.append(text[i])
            i += 1
        out.append("".join(buf))
    return out


# ---------------------------------------------------------------------------- details
def _seconds(text: Any) -> float:
    """H2O's pretty-printed duration (``" 1 min  2.345 sec"``, ``"12 ms"``) in seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    units = {"ms": 1e-3, "sec": 1.0, "min": 60.0, "hr": 3600.0, "hour": 3600.0, "day": 86400.0}
    found = re.findall(r"([\d.]+)\s*(ms|sec|min|hours?|hr|days?)", str(text))
    if not found:
        return math.nan
    return sum(float(v) * units[u.rstrip("s") if u.startswith(("hour", "day")) else u]
               for v, u in found)


def _speed(text: Any) -> float:
    m = re.match(r"\s*([\d.]+)", str(text)) if text is not None else None
    return float(m.group(1)) if m else math.nan


def _history(details: dict[str, Any]) -> pd.DataFrame:
    """The scoring history H2O recorded, in the columns and types of ours."""
    table = (details.get("output") or {}).get("scoring_history") or {}
    names = [c.get("name") for c in table.get("columns", [])]
    data = table.get("data") or []
    cols = {name: values for name, values in zip(names, data) if name}
    if "epochs" not in cols:
        return pd.DataFrame({"epochs": [0.0], "iterations": [0], "samples": [0.0]})
    h = pd.DataFrame(cols)
    if "timestamp" in h:
        h["timestamp"] = pd.to_datetime(h["timestamp"], errors="coerce")
    if "duration" in h:
        h["duration"] = [_seconds(v) for v in h["duration"]]
    if "training_speed" in h:
        h["training_speed"] = [_speed(v) for v in h["training_speed"]]
    for c in h.columns:
        if c != "timestamp":
            h[c] = pd.to_numeric(h[c], errors="coerce")
    h["iterations"] = h["iterations"].fillna(0).astype(np.int64)
    return h


#: H2O's metric names in modelDetails.json -> ours
_METRICS = {"MSE": "mse", "RMSE": "rmse", "mae": "mae", "rmsle": "rmsle", "r2": "r2",
            "mean_residual_deviance": "mean_residual_deviance", "logloss": "logloss",
            "AUC": "auc", "pr_auc": "aucpr", "Gini": "gini", "nobs": "nobs",
            "mean_per_class_error": "mean_per_class_error"}


def _metrics(raw: Any, category: str, threshold: float | None) -> ModelMetrics | None:
    """The scalars of H2O's metrics of one frame (None when H2O recorded none)."""
    if not isinstance(raw, dict):
        return None
    values: dict[str, Any] = {}
    for h2o_name, name in _METRICS.items():
        v = raw.get(h2o_name)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            values[name] = v
    m = ModelMetrics(category, **values, max_f1_threshold=threshold)
    domain = raw.get("domain")
    m.domain = list(domain) if isinstance(domain, list) else None
    return m


def _column_name(spec: Any) -> Any:
    """A column named in H2O's parameters (a ``ColSpecifierV3`` object or a name)."""
    return spec.get("column_name") if isinstance(spec, dict) else spec


def _h2o_params(details: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Our parameters among H2O's actual values, and the column roles H2O recorded."""
    params: dict[str, Any] = {}
    roles: dict[str, Any] = {}
    for p in details.get("parameters") or []:
        name, value = p.get("name"), p.get("actual_value")
        if name in ("weights_column", "offset_column", "fold_column", "response_column"):
            roles[name] = _column_name(value)
        elif name == "model_id" and isinstance(value, dict):
            roles["model_id"] = value.get("name")
        elif name in PARAMETERS and name not in _NOT_PARAMS and value is not None:
            params[name] = value
    return params, roles


# ---------------------------------------------------------------------------- the model
def _check_kind(info: dict[str, Any], where: Path) -> str:
    algo = info.get("algo")
    if algo != "deeplearning":
        raise ModelFileError(
            f"{where} is a MOJO of algorithm {algo!r} ({info.get('algorithm', '?')}); "
            "import_mojo reads H2O-3 Deep Learning MOJOs only (algo = deeplearning).")
    version = info.get("mojo_version")
    try:
        known = f"{float(version):.2f}" in SUPPORTED_MOJO_VERSIONS
    except (TypeError, ValueError):
        known = False
    if not known:
        raise ModelFileError(
            f"{where} is a Deep Learning MOJO of version {version!r} (written by H2O "
            f"{info.get('h2o_version', '?')}); this version of dask_deeplearn reads MOJO "
            f"versions {', '.join(SUPPORTED_MOJO_VERSIONS)}.")
    category = info.get("category")
    if category not in _TASKS:
        raise ModelFileError(f"{where}: model category {category!r} is not supported; "
                             f"supported: {sorted(_TASKS)}.")
    encoding = info.get("_genmodel_encoding", "AUTO")
    if encoding not in ("AUTO", "OneHotInternal") or info.get("_n_orig_names") is not None:
        raise ModelFileError(
            f"{where}: categorical_encoding {encoding!r} (a frame re-encoded before the "
            "network) is not supported; supported: the network's own one-hot encoding "
            "(AUTO / OneHotInternal).")
    if info.get("distribution") not in DISTRIBUTIONS:
        raise ModelFileError(f"{where}: distribution {info.get('distribution')!r} is not "
                             f"supported; supported: {sorted(DISTRIBUTIONS)}.")
    return _TASKS[category]


def _floats(info: dict[str, Any], key: str, where: Path, n: int | None = None) -> np.ndarray:
    v = info.get(key)
    a = np.asarray([] if v is None else v, dtype=np.float64)
    if a.ndim != 1 or (n is not None and a.size != n) or not np.isfinite(a).all():
        raise ModelFileError(f"{where}: model.ini key {key!r} holds {a.size} values"
                             + (f" where {n} finite numbers are needed." if n is not None
                                else "; finite numbers are needed."))
    return a


def _state(info: dict[str, Any], spec: NetworkSpec, where: Path,
           processed: int, sparse: bool) -> ModelState:
    """Weights and biases in our layout (Maxout channels moved before the inputs)."""
    W = np.empty(spec.n_weights, dtype=np.float32)
    B = np.empty(spec.n_biases, dtype=np.float32)
    for l in range(spec.n_layers):
        rows, cols, k = spec.units[l + 1], spec.units[l], int(spec.k[l])
        w = _floats(info, f"weight_layer{l}", where, rows * cols * k).astype(np.float32)
        b = _floats(info, f"bias_layer{l}", where, rows * k)
        W[spec.w_off[l]:spec.w_off[l + 1]] = w.reshape(rows, cols, k).transpose(0, 2, 1).ravel()
        B[spec.b_off[l]:spec.b_off[l + 1]] = b
    aa = np.zeros(spec.n_biases if sparse else 0, dtype=np.float32)
    return ModelState(spec=spec, W=W, B=B, OW=np.zeros((2, spec.n_weights), np.float32),
                      OB=np.zeros((2, spec.n_biases), np.float32), processed=processed, AA=aa)


def _data_info(info: dict[str, Any], columns: list[str], domains: dict[int, list[str]],
               task: str, params: dict[str, Any], roles: dict[str, Any], n_rows: int,
               where: Path) -> DataInfo:
    n_cats, n_nums = int(info["cats"]), int(info["nums"])
    predictors = columns[:-1] if info.get("supervised") else list(columns)
    if len(predictors) != n_cats + n_nums or any(i not in domains for i in range(n_cats)):
        raise ModelFileError(f"{where}: model.ini has {len(predictors)} predictors for "
                             f"cats = {n_cats} and nums = {n_nums}.")
    all_levels = bool(info["use_all_factor_levels"])
    cats, nums = predictors[:n_cats], predictors[n_cats:]
    offsets = np.asarray(info.get("cat_offsets") or [0], dtype=np.int64)
    widths = [len(domains[i]) + (0 if all_levels else -1) + 1 for i in range(n_cats)]
    if offsets.tolist() != np.concatenate([[0], np.cumsum(widths)]).astype(int).tolist():
        raise ModelFileError(f"{where}: cat_offsets {offsets.tolist()} do not fit the "
                             f"domains' sizes {[len(domains[i]) for i in range(n_cats)]}.")
    mul = _floats(info, "norm_mul", where)
    standardized = mul.size > 0
    mul = mul if standardized else np.ones(n_nums)
    sub = _floats(info, "norm_sub", where, n_nums) if standardized else np.zeros(n_nums)
    if mul.size != n_nums:
        raise ModelFileError(f"{where}: norm_mul has {mul.size} values for {n_nums} numerics.")
    resp_mul, resp_sub = info.get("norm_resp_mul"), info.get("norm_resp_sub")
    names = []
    for i, c in enumerate(cats):
        names += [f"{c}.{lev}" for lev in (domains[i] if all_levels else domains[i][1:])]
        names.append(f"{c}.missing(NA)")
    names += nums
    classes = domains.get(len(columns) - 1) if task == "classification" else None
    prior = info.get("prior_class_distrib")
    counts = (np.rint(np.asarray(prior, dtype=np.float64) * n_rows).astype(np.int64)
              if classes is not None and prior is not None else None)
    return DataInfo(
        task=task, response=columns[-1] if info.get("supervised") else None,
        classes=None if classes is None else list(classes), class_counts=counts,
        weights_column=roles.get("weights_column"), offset_column=None, n_rows=int(n_rows),
        standardize=standardized, sparse=False,
        ignore_const_cols=bool(params.get("ignore_const_cols", True)),
        missing_values_handling="MeanImputation" if info.get("mean_imputation") else "Skip",
        use_all_factor_levels=all_levels, categorical_encoding="OneHotInternal",
        max_categorical_features=int(params.get("max_categorical_features", 2147483647)),
        distribution=str(info["distribution"]), seed=int(params.get("seed", 0)) % 2**63,
        feature_names=list(predictors), used_columns=list(predictors), ignored={},
        cat_columns=list(cats), cat_levels={c: list(domains[i]) for i, c in enumerate(cats)},
        cat_raw_levels={c: list(domains[i]) for i, c in enumerate(cats)},
        cat_level_map={c: np.arange(len(domains[i]), dtype=np.int64) for i, c in enumerate(cats)},
        cat_offsets=offsets, cat_na_seen={c: True for c in cats},
        num_columns=list(nums), num_sources=[("numeric", c, 0) for c in nums],
        encoded_levels={}, eigen_vectors={},
        # a MOJO records the scaling, not the moments: without standardisation the mean
        # and SD stored are those of the identity transform (0 and 1); a missing number
        # becomes 0 after the transform, as in H2O's MOJO scorer
        num_mean=sub.copy(), num_sd=1.0 / mul,
        num_mul=mul, num_sub=sub, num_fill=sub.copy(),
        transform_type=("NONE" if not standardized else
                        "NORMALIZE" if task == "autoencoder" else "STANDARDIZE"),
        response_mean=None if resp_sub is None else float(resp_sub[0]),
        response_sd=None if resp_mul is None else 1.0 / float(resp_mul[0]),
        response_min=None, hashing=False, hash_slots=np.zeros(0, np.int64),
        input_names=names, n_inputs=len(names))


def read_mojo(path: str | os.PathLike, *, estimator: str = "DeepLearningEstimator") -> FittedModel:
    """Read an H2O-3 Deep Learning MOJO as a fitted model.

    Parameters
    ----------
    path : str or PathLike
        The MOJO zip H2O wrote (``model.download_mojo()``), or its unpacked folder.
    estimator : str, default="DeepLearningEstimator"
        The estimator class name the model records.

    Returns
    -------
    FittedModel
        Predicting as H2O's MOJO scorer does. Its parameters are the values H2O recorded
        in the MOJO's model details (H2O's resolved values), else those that ``model.ini``
        implies (``hidden``, ``activation``, ``distribution``, ``standardize``, ...) with
        our defaults for the rest; ``epochs``, ``iterations`` and the samples trained are
        the last row of H2O's scoring history (0 when the MOJO has none).

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``.
    ModelFileError
        Not a MOJO, a MOJO of another algorithm, of an unsupported MOJO version, model
        category, distribution, activation or categorical encoding, or one whose
        ``model.ini`` does not fit together.
    """
    where = Path(path)
    archive = _Archive(where)
    try:
        info, columns, domain_specs = _parse_ini(archive.text(_INI), where)
        task = _check_kind(info, where)
        quoted = bool(info.get("escape_domain_values", False))
        domains = {}
        for index, spec in domain_specs.items():
            count, _, name = spec.partition(" ")
            levels = _levels(archive.text(f"domains/{name}"), quoted)
            if not count.isdigit() or len(levels) != int(count):
                raise ModelFileError(f"{where}: domains/{name} holds {len(levels)} levels; "
                                     f"model.ini says {count}.")
            domains[index] = levels
        details: dict[str, Any] = {}
        if archive.exists(_DETAILS):
            try:
                details = json.loads(archive.text(_DETAILS))
            except json.JSONDecodeError as exc:
                raise ModelFileError(f"{where}: {_DETAILS} is not valid JSON ({exc}).") from None
        return _build(info, columns, domains, details, task, where, estimator)
    finally:
        archive.close()


def _build(info: dict[str, Any], columns: list[str], domains: dict[int, list[str]],
           details: dict[str, Any], task: str, where: Path, estimator: str) -> FittedModel:
    h2o_params, roles = _h2o_params(details)
    if roles.get("offset_column"):
        raise ModelFileError(f"{where}: the model uses offset_column "
                             f"{roles['offset_column']!r}, which H2O's Deep Learning MOJO "
                             "scorer ignores; models with an offset column are not supported.")
    units = [int(u) for u in info.get("neural_network_sizes") or []]
    activation = str(info.get("activation"))
    ratios = [float(r) for r in (info.get("hidden_dropout_ratios") or [])][:len(units) - 2]
    ini_params = {"hidden": units[1:-1], "activation": activation,
                  "distribution": info["distribution"],
                  "use_all_factor_levels": bool(info["use_all_factor_levels"]),
                  "standardize": bool(info.get("norm_mul")),
                  "missing_values_handling": ("MeanImputation" if info.get("mean_imputation")
                                              else "Skip"),
                  "mini_batch_size": int(info.get("mini_batch_size") or 1),
                  "balance_classes": bool(info.get("balance_classes")),
                  "autoencoder": task == "autoencoder"}
    if activation.endswith("WithDropout"):
        ini_params["hidden_dropout_ratios"] = ratios
    raw = {**h2o_params, **ini_params, "model_id": roles.get("model_id") or None}
    if roles.get("weights_column"):
        raw["weights_column"] = roles["weights_column"]
    owner = estimator
    events = [f"imported from the H2O {info.get('h2o_version', '?')} MOJO {where}"]
    try:
        try:
            user = validate_params(raw, owner)
        except (ValueError, TypeError) as exc:
            # H2O's recorded values are informative only: keep what model.ini says
            events.append(f"H2O's recorded parameters were not taken ({exc})")
            user = validate_params({k: v for k, v in raw.items() if k not in h2o_params
                                    or k in ini_params}, owner)
        n_classes = len(domains[len(columns) - 1]) if task == "classification" else None
        eff = resolve_effective(user, owner=owner, task=task, n_classes=n_classes)
        spec = NetworkSpec(units=tuple(units), activation=activation,
                           output={"classification": "softmax", "regression": "linear"}.get(
                               task, "autoencoder"),
                           hidden_dropout_ratios=tuple(eff["hidden_dropout_ratios"]
                                                       or (0.0,) * (len(units) - 2)),
                           input_dropout_ratio=float(eff["input_dropout_ratio"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelFileError(f"{where}: this MOJO's network or parameters are not supported "
                             f"here ({exc}).") from None
    history = _history(details)
    last = history.iloc[-1]
    epochs = float(last.get("epochs", 0.0)) if np.isfinite(last.get("epochs", np.nan)) else 0.0
    samples = float(last.get("samples", np.nan))
    processed = int(samples) if np.isfinite(samples) else 0
    n_rows = int(round(processed / epochs)) if epochs > 0 else 0
    data_info = _data_info(info, columns, domains, task, h2o_params, roles, n_rows, where)
    if units[0] != data_info.n_inputs:
        raise ModelFileError(f"{where}: the network has {units[0]} inputs but the columns "
                             f"expand to {data_info.n_inputs}.")
    if info.get("balance_classes") and info.get("model_class_distrib") is not None:
        eff = {**eff, PRIOR_KEY: list(info["prior_class_distrib"]),
               MODEL_KEY: list(info["model_class_distrib"])}
    category = str(info["category"])
    threshold = float(info["default_threshold"]) if category == "Binomial" else None
    output = details.get("output") or {}
    train_m = _metrics(output.get("training_metrics"), category, threshold)
    valid_m = _metrics(output.get("validation_metrics"), category, threshold)
    if train_m is None and threshold is not None:
        train_m = ModelMetrics(category, max_f1_threshold=threshold)
    state = _state(info, spec, where, processed, float(eff.get("sparsity_beta", 0.0)) > 0)
    return FittedModel(
        estimator=estimator, user_params=user, state=state, data_info=data_info, params=eff,
        task=task, distribution=str(info["distribution"]),
        classes=None if data_info.classes is None else np.asarray(data_info.classes),
        label_rule="threshold", scoring_history=history, training_metrics=train_m,
        validation_metrics=valid_m, stop_reason="imported from an H2O MOJO",
        iterations=int(last.get("iterations", 0)), epochs=epochs,
        run_time=float(output.get("run_time") or 0.0) / 1000.0,
        events=events,
        seed=int(user.get("seed") if user.get("seed") is not None else 0), nthreads=1,
        backend="mojo", response_column=data_info.response, had_names=True,
        n_raw_features=None)
