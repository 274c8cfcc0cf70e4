"""Export a fitted model as one standalone ``.py`` scorer that needs only numpy.

:func:`export_python` writes a Python module that reproduces
``model._predict_pandas(frame, "h2o")`` (the estimators' prediction frame) or, for an
autoencoder, ``model.predict`` (the reconstruction) and ``model.anomaly``, without
pandas, scipy or ``dask_deeplearn``:

* the preprocessing of :class:`~dask_deeplearn.preprocessing.DataInfo` at scoring time
  (level matching as :class:`~dask_deeplearn.preprocessing.encodings.LevelLookup` does it,
  one-hot blocks with their NA slot, ``use_all_factor_levels=False`` reference levels,
  SortByResponse / EnumLimited level maps, Binary, Eigen and LabelEncoder columns, the
  ``max_categorical_features`` hashing trick, mean imputation and the numeric transform
  ``(x - sub) * mul`` rounded to float32);
* the scoring-mode forward pass of :func:`dask_deeplearn.network.forward` in float64
  (Tanh, Rectifier, Maxout, hidden dropout scaled by ``1 - ratio``, softmax, linear or
  autoencoder output), offsets in link space, response de-standardisation and the log
  link;
* labels as the estimator the scorer came from gives them: binomial ``p1 >= threshold``
  (H2O's max-F1 threshold) for a ``DeepLearningEstimator``, the arg-max of the
  probabilities (first class on a tie) for the scikit-learn estimators
  (``LABEL_RULE``); multinomial argmax;
* autoencoders (semantics §12): the reconstruction with numeric outputs un-normalised
  (``out / mul + sub``) and one-hot outputs left as raw activations, as
  :meth:`Scorer.reconstruction <dask_deeplearn.scorer.Scorer.reconstruction>`; the
  reconstruction MSE per row over the expanded, normalised inputs, as
  :func:`~dask_deeplearn.training.scoring.reconstruction_errors`.

The generated module has ``predict(rows)``, ``predict_proba(rows)`` (classifiers),
``anomaly(rows, per_feature=False)`` (autoencoders), the constants ``COLUMNS``,
``CLASSES``, ``DOMAINS``, ``OUTPUT_COLUMNS`` (and a few more), and runs as a script:
``python scorer.py < in.csv > out.csv`` (the columns ``OUTPUT_COLUMNS``: ``predict`` and
the class probabilities, or an autoencoder's ``reconstr_<input>`` columns).

The weights are embedded as base64 of little-endian float32 bytes (about 1.4 bytes of
file per weight), decoded once at import with :func:`numpy.frombuffer`.
"""

from __future__ import annotations

import base64
import math
import pathlib
from typing import Any

import numpy as np

from ..exceptions import NotFittedError
from . import check_stable
from ..network import ACT_LINEAR, ACT_MAXOUT, ACT_RECTIFIER, ACT_SOFTMAX, ACT_TANH
from ..training.balance import class_correction

__all__ = ["export_python"]

#: activation codes of :mod:`dask_deeplearn.network` -> names used in the generated file
_ACT_NAMES = {
    ACT_TANH: "tanh",
    ACT_RECTIFIER: "rectifier",
    ACT_MAXOUT: "maxout",
    ACT_LINEAR: "linear",
    ACT_SOFTMAX: "softmax",
}


# --------------------------------------------------------------------------- literals


def _lit(value: Any) -> str:
    """Python source for ``value`` that evaluates back to an equal object of the same type.

    Parameters
    ----------
    value : None, bool, int, float, str, tuple, list or numpy scalar

    Returns
    -------
    str

    Raises
    ------
    NotImplementedError
        For values that cannot be written as Python source without extra imports
        (timestamps, intervals, arbitrary objects).
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(value)
        return f"float({str(value)!r})"
    if isinstance(value, tuple):
        inner = ", ".join(_lit(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    raise NotImplementedError(
        f"export_python cannot embed a value of type {type(value).__name__} ({value!r}) in "
        "the generated module: column names, levels and class labels must be None, bool, "
        "int, float, str or tuples of these."
    )


def _floats(values: Any) -> str:
    """A 1-d float array as a list literal (exact: ``repr`` round-trips doubles)."""
    return _lit([float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)])


def _b64(data: bytes) -> str:
    """Triple-quoted base64 literal, wrapped at 76 characters per line.

    ``base64.b64decode`` discards the newlines (non-alphabet characters) when decoding.
    """
    text = base64.b64encode(data).decode("ascii")
    lines = [text[i : i + 76] for i in range(0, len(text), 76)] or [""]
    return '"""\n' + "\n".join(lines) + '\n"""'


# --------------------------------------------------------------------------- runtime

_RUNTIME = r'''

# ----------------------------------------------------------------------------- runtime

_W = np.frombuffer(_base64.b64decode(_W_B64), dtype="<f4").astype(np.float64)
_B = np.frombuffer(_base64.b64decode(_B_B64), dtype="<f4").astype(np.float64)
del _W_B64, _B_B64
if _HASH_SLOTS_B64 is not None:
    _HASH_SLOTS = np.frombuffer(_base64.b64decode(_HASH_SLOTS_B64), dtype="<i4").astype(np.int64)
else:
    _HASH_SLOTS = None
del _HASH_SLOTS_B64
_NUM_MUL = np.asarray(_NUM_MUL, dtype=np.float64)
_NUM_SUB = np.asarray(_NUM_SUB, dtype=np.float64)
_NUM_FILL = np.asarray(_NUM_FILL, dtype=np.float64)
_CLASSES_ARRAY = None if CLASSES is None else np.asarray(CLASSES)
_NA_TYPES = ("NAType", "NaTType")


def _is_missing(value):
    """None, NaN (any float) and pandas' NA / NaT are missing values."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    return type(value).__name__ in _NA_TYPES


def _scalar(value):
    """numpy scalar -> Python scalar (as ``dask_deeplearn`` compares levels)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _level_key(value):
    """String key of a level: integral floats are written as integers (2.0 -> "2")."""
    if isinstance(value, float) and _math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


class _Lookup:
    """Value -> level index: exact match first, then by :func:`_level_key`."""

    def __init__(self, levels):
        self.exact = {}
        self.by_key = {}
        for i, level in enumerate(levels):
            self.exact.setdefault((type(level) is bool, level), i)
            self.by_key.setdefault(_level_key(level), i)

    def index_of(self, value, parse_numbers=False):
        try:
            i = self.exact.get((type(value) is bool, value))
        except TypeError:  # unhashable
            i = None
        if i is not None:
            return i
        i = self.by_key.get(_level_key(value), -1)
        if i < 0 and parse_numbers and isinstance(value, str):
            # CSV cells are text: "2.0" matches level 2 as a parsed number would
            try:
                number = float(value)
            except ValueError:
                return -1
            i = self.by_key.get(_level_key(number), -1)
        return i

    def codes(self, values, parse_numbers=False):
        """Level index of every value (-1: missing or unseen)."""
        out = np.empty(len(values), dtype=np.int64)
        memo = {}
        for r, value in enumerate(values):
            value = _scalar(value)
            if _is_missing(value):
                out[r] = -1
                continue
            try:
                key = (type(value), value)
                code = memo.get(key)
            except TypeError:
                key, code = None, None
            if code is None:
                code = self.index_of(value, parse_numbers)
                if key is not None:
                    memo[key] = code
            out[r] = code
        return out


def _column(rows, name):
    """``rows[name]`` as a 1-d array (falls back to ``str(name)``)."""
    try:
        values = rows[name]
    except (KeyError, IndexError, TypeError):
        if isinstance(name, str):
            raise KeyError(name) from None
        try:
            values = rows[str(name)]
        except (KeyError, IndexError, TypeError):
            raise KeyError(name) from None
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"Column {name!r} must be a 1-d sequence; got shape {arr.shape}.")
    return arr


def _read_columns(rows):
    """Every column of COLUMNS as a 1-d array (ValueError naming the missing ones)."""
    cols = {}
    absent = []
    for name in COLUMNS:
        try:
            cols[name] = _column(rows, name)
        except KeyError:
            absent.append(name)
    if absent:
        raise ValueError(
            "Missing required column(s): " + ", ".join(repr(c) for c in absent) + "."
        )
    lengths = {len(v) for v in cols.values()}
    if len(lengths) > 1:
        raise ValueError(f"Columns have different lengths: {sorted(lengths)}.")
    n = lengths.pop() if lengths else 0
    return cols, n


def _to_float(values, name):
    """A numeric column as float64 (missing -> NaN); ValueError for text that is not a number."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    out = np.empty(len(arr), dtype=np.float64)
    for r, value in enumerate(arr):
        value = _scalar(value)
        if isinstance(value, (bytes, bytearray)):
            value = value.decode()
        if _is_missing(value):
            out[r] = np.nan
            continue
        try:
            if isinstance(value, str):
                text = value.strip()
                if "_" in text:  # float() accepts "1_0", pandas does not
                    raise ValueError(text)
                out[r] = float(text) if text else np.nan
            else:
                out[r] = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"Column {name!r} must be numeric; got the value {value!r} in row {r}."
            ) from None
    return out


def _inputs(rows, parse_numbers=False):
    """The float32 network inputs (and the offsets, or None) of ``rows``."""
    cols, n = _read_columns(rows)
    X = np.zeros((n, _N_INPUTS), dtype=np.float32)
    r = np.arange(n)
    for name, levels, level_map, start, width in _CATS:
        raw = _Lookup(levels).codes(cols[name], parse_numbers)
        if level_map is None:
            code = raw
        elif len(level_map):
            lmap = np.asarray(level_map, dtype=np.int64)
            code = np.where(raw >= 0, lmap[np.where(raw >= 0, raw, 0)], -1)
        else:
            code = np.full(n, -1, dtype=np.int64)
        na_slot = width - 1
        if _USE_ALL_FACTOR_LEVELS:
            slot = np.where(code >= 0, code, na_slot)
        else:  # level 0 is the all-zeros reference
            slot = np.where(code >= 0, code - 1, na_slot)
        active = slot >= 0
        idx = slot[active] + start
        if _HASH_SLOTS is not None:
            X[r[active], _HASH_SLOTS[idx]] += 1.0
        else:
            X[r[active], idx] = 1.0
    if _NUM:
        encoded = {}
        values = []
        infinite = []
        for kind, src, arg in _NUM:
            if kind == "numeric":
                v = _to_float(cols[src], src)
                n_inf = int(np.isinf(v).sum())
                if n_inf:
                    infinite.append(f"{src!r} ({n_inf} rows)")
                values.append(v)
                continue
            if src not in encoded:
                encoded[src] = _Lookup(_ENCODED_LEVELS[src]).codes(cols[src], parse_numbers)
            code = encoded[src]
            ok = code >= 0
            safe = np.where(ok, code, 0)
            if kind == "label":
                v = np.where(ok, code.astype(np.float64), np.nan)
            elif kind == "eigen":
                vec = np.asarray(_EIGEN_VECTORS[src], dtype=np.float64)
                v = np.where(ok, vec[safe] if vec.size else np.nan, np.nan)
            else:  # binary: level index + 1, bit ``arg``; missing / unseen -> 0
                v = np.where(ok, ((safe + 1) >> arg) & 1, 0).astype(np.float64)
            values.append(v)
        if infinite:
            raise ValueError("Infinite values in numeric column(s): " + ", ".join(infinite) + ".")
        V = np.stack(values)
        mul = _NUM_MUL[:, None]
        sub = _NUM_SUB[:, None]
        T = (V - sub) * mul
        nan = np.isnan(V)
        if nan.any():
            fill = np.broadcast_to((_NUM_FILL[:, None] - sub) * mul, T.shape)
            T[nan] = fill[nan]
        X[:, _NUM_START:] = T.T
    offset = None
    if OFFSET_COLUMN is not None:
        try:
            o = _to_float(_column(rows, OFFSET_COLUMN), OFFSET_COLUMN)
        except KeyError:
            raise ValueError(f"Missing required column(s): {OFFSET_COLUMN!r}.") from None
        n_bad = int((~np.isfinite(o)).sum())
        if n_bad:
            raise ValueError(
                f"Offset column {OFFSET_COLUMN!r} has {n_bad} missing or infinite value(s)."
            )
        if len(o) != n:
            raise ValueError("The offset column has a different length than the predictors.")
        if _RESPONSE_MEAN is not None:
            o = (o - _RESPONSE_MEAN) / _RESPONSE_SD
        offset = np.ascontiguousarray(o, dtype=np.float32)
    return X, offset


def _forward(X, offset):
    """Scoring-mode forward pass in float64 (hidden dropout scaled by 1 - ratio).

    Returns the class probabilities (softmax), the link-space output (linear) or, for an
    autoencoder, the reconstruction of the normalised inputs (the hidden activation).
    """
    a = np.ascontiguousarray(X, dtype=np.float64)
    n_layers = len(_UNITS) - 1
    for l in range(n_layers - 1):
        rows, k, cols = _UNITS[l + 1], _K[l], _UNITS[l]
        Wl = _W[_W_OFF[l]:_W_OFF[l + 1]].reshape(rows * k, cols)
        z = a @ Wl.T
        z += _B[_B_OFF[l]:_B_OFF[l + 1]]
        act = _ACT[l]
        if act == "maxout":
            a = z.reshape(z.shape[0], z.shape[1] // k, k).max(axis=2)
        elif act == "tanh":
            a = np.tanh(z)
        elif act == "rectifier":
            a = np.maximum(z, 0.0, dtype=z.dtype)
        else:
            a = z
        ratio = _DROPOUT[l]
        if ratio > 0.0:
            a *= a.dtype.type(1.0 - ratio)
    l = n_layers - 1
    rows, cols = _UNITS[l + 1], _UNITS[l]
    Wl = _W[_W_OFF[l]:_W_OFF[l + 1]].reshape(rows, cols)
    z = a @ Wl.T
    z += _B[_B_OFF[l]:_B_OFF[l + 1]]
    if _ACT[l] == "softmax":
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z
    if _ACT[l] == "tanh":  # autoencoder output: the hidden activation, no dropout
        return np.tanh(z)
    if _ACT[l] == "rectifier":
        return np.maximum(z, 0.0, dtype=z.dtype)
    if offset is not None:
        z += np.asarray(offset, dtype=np.float64).reshape(-1, 1)
    return z


def _unnormalise(out):
    """Autoencoder reconstruction: numeric outputs back in original units (in place)."""
    if out.shape[1] > _NUM_START and len(_NUM_MUL):
        out[:, _NUM_START:] = out[:, _NUM_START:] / _NUM_MUL + _NUM_SUB
    return out


def _raw(rows, parse_numbers=False):
    X, offset = _inputs(rows, parse_numbers)
    out = _forward(X, offset)
    if TASK == "classification":
        if _PRIOR is not None:  # balance_classes: back to the training priors
            factor = np.where((_PRIOR > 0) & (_MODEL_DIST > 0),
                              _PRIOR / np.where(_MODEL_DIST > 0, _MODEL_DIST, 1.0), 1.0)
            out = out * factor
            out /= out.sum(axis=1, keepdims=True)
        return out
    if TASK == "autoencoder":
        return _unnormalise(out)
    pred = out[:, 0]
    if _RESPONSE_MEAN is not None:
        pred = pred * _RESPONSE_SD + _RESPONSE_MEAN
    if _LOG_LINK:
        pred = np.minimum(np.exp(pred), 1e19)
    return pred


def _labels(proba):
    if proba.shape[1] == 2 and LABEL_RULE == "threshold":
        idx = (proba[:, 1] >= THRESHOLD).astype(np.int64)
    else:
        idx = proba.argmax(axis=1)
    return _CLASSES_ARRAY[idx]


def predict_proba(rows):
    """Class probabilities.

    Parameters
    ----------
    rows : mapping
        Column name -> 1-d sequence or array (all the same length) for every name in
        ``COLUMNS``; other keys are ignored. Categorical values are matched against
        ``DOMAINS``; ``None`` / NaN are missing; unseen levels are handled like the model
        does (never an error).

    Returns
    -------
    ndarray of shape (n, len(CLASSES)), float64
        Columns in ``CLASSES`` order.

    Raises
    ------
    TypeError
        The model is a regressor or an autoencoder.
    ValueError
        A required column is missing, or a numeric column holds text or infinities.
    """
    if TASK != "classification":
        kind = "regressor" if TASK == "regression" else "autoencoder"
        raise TypeError(
            "predict_proba is only available for classification models; this model is a "
            f"{kind} ({DISTRIBUTION} distribution): use predict(rows)."
        )
    return _raw(rows)


def predict(rows):
    """Predictions: class labels, float64 values or an autoencoder's reconstruction.

    Parameters
    ----------
    rows : mapping
        As for :func:`predict_proba`.

    Returns
    -------
    ndarray of shape (n,) or (n, len(OUTPUT_COLUMNS))
        Classifiers: labels from ``CLASSES``: the most probable class (the first one on a
        tie), except for a binomial model with ``LABEL_RULE == "threshold"``: class 1
        when its probability is >= ``THRESHOLD``. Regressors: float64
        predictions in the response's units. Autoencoders: the float64 reconstruction,
        one column per expanded input (the columns ``OUTPUT_COLUMNS``,
        ``reconstr_<input>``, in ``INPUT_NAMES`` order): numeric inputs in their original
        units, one-hot slots as raw output activations.

    Raises
    ------
    ValueError
        A required column is missing, or a numeric column holds text or infinities.
    """
    raw = _raw(rows)
    if TASK == "classification":
        return _labels(raw)
    return np.asarray(raw, dtype=np.float64)


def anomaly(rows, per_feature=False):
    """An autoencoder's reconstruction error (the model's ``anomaly``).

    Errors are measured on the expanded, normalised network inputs (one-hot slots with
    their missing-value slot, numerics as ``(x - sub) * mul`` with missing values
    imputed), as H2O does.

    Parameters
    ----------
    rows : mapping
        As for :func:`predict_proba`.
    per_feature : bool, default=False
        False: the mean squared error over the expanded inputs, one value per row
        (column ``Reconstruction.MSE``). True: the squared error of every expanded input
        (columns ``reconstr_<input>.SE``, in ``INPUT_NAMES`` order).

    Returns
    -------
    ndarray of shape (n,) or (n, len(INPUT_NAMES)), float64

    Raises
    ------
    TypeError
        The model is not an autoencoder.
    ValueError
        A required column is missing, or a numeric column holds text or infinities.
    """
    if TASK != "autoencoder":
        raise TypeError(
            f"anomaly is only available for autoencoders; this model is a {TASK} model: "
            "use predict(rows)."
        )
    X, _ = _inputs(rows)
    se = _forward(X, None)
    se -= np.asarray(X, dtype=np.float64)
    np.square(se, out=se)
    return se if per_feature else se.mean(axis=1)


def _score_csv_rows(header_index, chunk, writer):
    cols = {}
    for name in COLUMNS + ([OFFSET_COLUMN] if OFFSET_COLUMN is not None else []):
        j = header_index[str(name)]
        cols[name] = np.array(
            [(row[j] if j < len(row) and row[j] != "" else None) for row in chunk],
            dtype=object,
        )
    raw = _raw(cols, parse_numbers=True)
    if TASK == "classification":
        labels = _labels(raw).tolist()
        probs = raw.tolist()
        for label, p in zip(labels, probs):
            writer.writerow([str(label)] + [repr(float(x)) for x in p])
    elif TASK == "autoencoder":
        for values in raw.tolist():
            writer.writerow([repr(float(x)) for x in values])
    else:
        for value in raw.tolist():
            writer.writerow([repr(float(value))])


def _main(argv):
    """``python scorer.py [in.csv [out.csv]]`` (default stdin -> stdout)."""
    if len(argv) > 2 or any(a in ("-h", "--help") for a in argv):
        _sys.stderr.write(__doc__ or "")
        _sys.stderr.write("\nusage: python scorer.py [in.csv [out.csv]] (default: stdin -> stdout)\n")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    fin = open(argv[0], newline="", encoding="utf-8") if len(argv) >= 1 and argv[0] != "-" else None
    fout = open(argv[1], "w", newline="", encoding="utf-8") if len(argv) == 2 else None
    try:
        src = fin if fin is not None else _sys.stdin
        dst = fout if fout is not None else _sys.stdout
        reader = _csv.reader(src)
        try:
            header = next(reader)
        except StopIteration:
            _sys.stderr.write("error: the input CSV is empty (a header row is needed).\n")
            return 2
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        header_index = {}
        for j, h in enumerate(header):
            header_index.setdefault(h, j)
        needed = COLUMNS + ([OFFSET_COLUMN] if OFFSET_COLUMN is not None else [])
        absent = [c for c in needed if str(c) not in header_index]
        if absent:
            _sys.stderr.write(
                "error: missing required column(s) in the input CSV: "
                + ", ".join(repr(str(c)) for c in absent) + "\n"
            )
            return 2
        writer = _csv.writer(dst, lineterminator="\n")
        writer.writerow(OUTPUT_COLUMNS)
        chunk = []
        for row in reader:
            if not row:
                continue
            chunk.append(row)
            if len(chunk) >= 65536:
                _score_csv_rows(header_index, chunk, writer)
                chunk = []
        if chunk:
            _score_csv_rows(header_index, chunk, writer)
        dst.flush()
    except ValueError as exc:
        _sys.stderr.write(f"error: {exc}\n")
        return 1
    except BrokenPipeError:  # e.g. ``| head``: stop quietly
        if fout is None:
            try:
                _os.dup2(_os.open(_os.devnull, _os.O_WRONLY), _sys.stdout.fileno())
            except (OSError, ValueError):
                pass
        return 1
    finally:
        if fin is not None:
            fin.close()
        if fout is not None:
            fout.close()
    return 0


if __name__ == "__main__":
    _sys.exit(_main(_sys.argv[1:]))
'''


# --------------------------------------------------------------------------- generator


def _check_model(model: Any) -> None:
    """Raise unless ``model`` is a fitted classifier, regressor or autoencoder.

    Parameters
    ----------
    model : estimator

    Raises
    ------
    NotFittedError
        Not fitted.
    UnstableModelError
        The weights are not finite.
    NotImplementedError
        A task other than classification, regression or autoencoder.
    """
    for attr in ("state_", "data_info_", "task_", "distribution_", "params_"):
        if not hasattr(model, attr):
            raise NotFittedError(
                f"export_python needs a fitted dask_deeplearn estimator; {type(model).__name__} "
                f"has no {attr!r} attribute (call fit / train first)."
            )
    check_stable(model, "export")
    if model.task_ not in ("classification", "regression", "autoencoder"):
        raise NotImplementedError(
            "export_python supports classifiers, regressors and autoencoders, not task "
            f"{model.task_!r}."
        )


def _header(model: Any) -> str:
    """Source of the generated module's docstring, imports and model constants.

    Parameters
    ----------
    model : estimator
        A fitted classifier, regressor or autoencoder.

    Returns
    -------
    str
        Everything model-specific; :data:`_RUNTIME` (the fixed scoring code) follows it.

    Raises
    ------
    NotImplementedError
        An activation, output layer or encoded input kind the runtime does not implement,
        or a value that cannot be written as Python source (see :func:`_lit`).
    ValueError
        Weight buffers, network and preprocessing layout that do not agree.
    """
    from ..training.scoring import LOG_LINK

    info = model.data_info_
    spec = model.state_.spec
    task = model.task_
    enc = info.categorical_encoding

    for code in spec.act:
        if int(code) not in _ACT_NAMES:
            raise NotImplementedError(f"export_python: unknown activation code {int(code)}.")
    if (task == "classification") != (spec.output == "softmax") or \
            (task == "autoencoder") != (spec.output == "autoencoder"):
        raise NotImplementedError(
            f"export_python: a {task} model with a {spec.output!r} output layer is not supported."
        )
    if task == "autoencoder" and _ACT_NAMES[int(spec.act[-1])] not in ("tanh", "rectifier"):
        raise NotImplementedError(
            "export_python: an autoencoder's output activation must be Tanh or Rectifier."
        )
    W = np.asarray(model.state_.W, dtype=np.float32).reshape(-1)
    B = np.asarray(model.state_.B, dtype=np.float32).reshape(-1)
    if W.shape[0] != spec.n_weights or B.shape[0] != spec.n_biases:
        raise ValueError("The model's weight buffers do not match its network spec.")
    if spec.units[0] != info.n_inputs:
        raise ValueError("The model's network inputs do not match its DataInfo.")

    # offsets: the scorer adds them when the effective parameters name an offset column
    # (an autoencoder's reconstruction never uses offsets)
    offset_col = None
    if model.params_.get("offset_column") is not None and info.offset_column is not None \
            and task != "autoencoder":
        offset_col = info.offset_column

    columns = list(info.used_columns)
    domains: list[tuple[Any, list]] = []
    cat_set = set(info.cat_columns)
    for c in columns:
        if c in cat_set:
            domains.append((c, list(info.cat_raw_levels[c])))
        elif c in info.encoded_levels:
            domains.append((c, list(info.encoded_levels[c])))

    cats = []
    offs = np.asarray(info.cat_offsets, dtype=np.int64)
    for i, c in enumerate(info.cat_columns):
        lmap = np.asarray(info.cat_level_map[c], dtype=np.int64)
        identity = lmap.size > 0 and np.array_equal(lmap, np.arange(lmap.size))
        lmap_src = "None" if identity else _lit([int(v) for v in lmap])
        cats.append(
            f"    ({_lit(c)}, {_lit(list(info.cat_raw_levels[c]))}, {lmap_src}, "
            f"{int(offs[i])}, {int(offs[i + 1] - offs[i])}),"
        )
    num = [f"    ({_lit(k)}, {_lit(s)}, {int(a)})," for k, s, a in info.num_sources]
    for kind, _, _ in info.num_sources:
        if kind not in ("numeric", "label", "eigen", "binary"):
            raise NotImplementedError(f"export_python: encoded column kind {kind!r} is not supported.")
    encoded = [f"    {_lit(c)}: {_lit(list(v))}," for c, v in info.encoded_levels.items()]
    eigen = [f"    {_lit(c)}: {_floats(v)}," for c, v in info.eigen_vectors.items()]

    if info.hashing:
        slots = np.asarray(info.hash_slots, dtype=np.int64)
        if slots.size and (slots.min() < 0 or slots.max() >= info.max_categorical_features):
            raise ValueError("Invalid hashing table in the model's DataInfo.")
        hash_src = _b64(slots.astype("<i4").tobytes())
        num_start = int(info.max_categorical_features)
    else:
        hash_src = "None"
        num_start = int(offs[-1])
    if num_start + len(info.num_sources) != info.n_inputs:
        raise ValueError("The model's DataInfo layout is inconsistent (input count).")

    input_names = [str(n) for n in info.input_names]
    if len(input_names) != info.n_inputs:
        raise ValueError("The model's DataInfo layout is inconsistent (input names).")
    if task == "classification":
        classes = [c.item() if isinstance(c, np.generic) else c for c in model.classes_]
        proba_cols = [str(c) for c in model.classes_]
        output_cols = ["predict", *proba_cols]
        threshold = float(model.threshold_) if len(classes) == 2 else None
    elif task == "autoencoder":
        classes = None
        output_cols = [f"reconstr_{n}" for n in input_names]  # as Scorer._columns
        threshold = None
    else:
        classes = None
        output_cols = ["predict"]
        threshold = None

    distribution = str(model.distribution_)
    log_link = task == "regression" and distribution in LOG_LINK
    act_names = [_ACT_NAMES[int(a)] for a in spec.act]
    n_params = spec.n_weights + spec.n_biases
    model_name = type(model).__name__
    hidden = list(spec.units[1:-1])

    if task == "autoencoder":
        use = (
            '    scorer.predict({"col": [...], ...})   # (n, len(OUTPUT_COLUMNS)) reconstruction\n'
            '    scorer.anomaly({"col": [...], ...})   # (n,) reconstruction MSE per row'
        )
        output_doc = ("``OUTPUT_COLUMNS``: the reconstruction ``reconstr_<input>`` of every\n"
                      "expanded input, numerics in original units (as ``model.predict``).")
    else:
        use = (
            '    scorer.predict({"col": [...], ...})         # labels or values\n'
            '    scorer.predict_proba({"col": [...], ...})   # (n, K) probabilities (classifiers)'
        )
        output_doc = ("``OUTPUT_COLUMNS``: ``predict``, then one probability column per class "
                      "for a classifier.")
    doc = f'''"""Standalone scorer of a {model_name} ({task}, {distribution} distribution).

Generated by ``dask_deeplearn.export.python.export_python``; needs only numpy.

Network: {spec.units[0]} inputs, hidden layers {hidden} ({spec.activation}),
{spec.units[-1]} output(s) ({spec.output}); {n_params:,} weights and biases.
Categorical encoding: {enc}{", hashed into %d inputs" % info.max_categorical_features if info.hashing else ""}.

Python use::

    import scorer
{use}

Command line::

    python scorer.py < in.csv > out.csv

The input CSV has a header row with the training column names (any order, extra columns
ignored, an empty cell is a missing value); the output CSV has a header row and the columns
{output_doc}
"""
'''
    correction = class_correction(model.params_)
    parts = [
        doc,
        "import base64 as _base64",
        "import csv as _csv",
        "import math as _math",
        "import os as _os",
        "import sys as _sys",
        "",
        "import numpy as np",
        "",
        f"TASK = {_lit(task)}",
        f"DISTRIBUTION = {_lit(distribution)}",
        "#: input columns the model reads, in the order it expects them",
        f"COLUMNS = {_lit(columns)}",
        "#: offset column (also required), or None",
        f"OFFSET_COLUMN = {_lit(offset_col)}",
        "#: class labels in probability-column order (None for a regressor or an autoencoder)",
        f"CLASSES = {_lit(classes)}",
        "#: categorical column -> training levels (values are matched against these)",
        "DOMAINS = {",
        *[f"    {_lit(c)}: {_lit(v)}," for c, v in domains],
        "}",
        "#: binomial model: H2O's max-F1 threshold on p(class 1) (the model's threshold_),",
        "#: None otherwise",
        f"THRESHOLD = {_lit(threshold)}",
        "#: binomial labels: \"threshold\" (class 1 when p1 >= THRESHOLD, as H2O's",
        "#: DeepLearningEstimator) or \"argmax\" (the most probable class, first on a tie,",
        "#: as the scikit-learn estimators); multinomial labels are always the arg-max",
        f"LABEL_RULE = {_lit(model._label_rule if task == 'classification' else None)}",
        "#: columns of the CSV output (and of the model's H2O prediction frame; for an",
        "#: autoencoder, of its reconstruction)",
        f"OUTPUT_COLUMNS = {_lit(output_cols)}",
        "#: names of the expanded network inputs (one-hot slots, then numerics)",
        f"INPUT_NAMES = {_lit(input_names)}",
        f"CATEGORICAL_ENCODING = {_lit(enc)}",
        "",
        "# preprocessing (DataInfo)",
        f"_N_INPUTS = {int(info.n_inputs)}",
        f"_NUM_START = {num_start}",
        f"_USE_ALL_FACTOR_LEVELS = {bool(info.use_all_factor_levels)!r}",
        "# one-hot columns: (name, raw levels, raw -> level index map or None, start, width)",
        "_CATS = [",
        *cats,
        "]",
        "# numeric inputs: (kind, source column, bit)",
        "_NUM = [",
        *num,
        "]",
        "_ENCODED_LEVELS = {",
        *encoded,
        "}",
        "_EIGEN_VECTORS = {",
        *eigen,
        "}",
        f"_NUM_MUL = {_floats(info.num_mul)}",
        f"_NUM_SUB = {_floats(info.num_sub)}",
        f"_NUM_FILL = {_floats(info.num_fill)}",
        f"_HASH_SLOTS_B64 = {hash_src}",
        f"_RESPONSE_MEAN = {_lit(None if info.response_mean is None else float(info.response_mean))}",
        f"_RESPONSE_SD = {_lit(None if info.response_sd is None else float(info.response_sd))}",
        f"_LOG_LINK = {log_link!r}",
        "# balance_classes: original and balanced class frequencies (probability correction)",
        f"_PRIOR = {'None' if correction is None else 'np.array(' + _floats(correction[0]) + ')'}",
        f"_MODEL_DIST = {'None' if correction is None else 'np.array(' + _floats(correction[1]) + ')'}",
        "",
        "# network (rows = receiving units; Maxout: k = 2 channels per unit)",
        f"_UNITS = {_lit([int(u) for u in spec.units])}",
        f"_K = {_lit([int(k) for k in spec.k])}",
        f"_ACT = {_lit(act_names)}",
        f"_DROPOUT = {_floats(spec.dropout)}",
        f"_W_OFF = {_lit([int(v) for v in spec.w_off])}",
        f"_B_OFF = {_lit([int(v) for v in spec.b_off])}",
        f"_W_B64 = {_b64(W.astype('<f4').tobytes())}",
        f"_B_B64 = {_b64(B.astype('<f4').tobytes())}",
    ]
    return "\n".join(parts)


def export_python(model: Any, path: str | pathlib.Path) -> pathlib.Path:
    """Write a standalone numpy-only Python scorer of a fitted model.

    Parameters
    ----------
    model : DeepLearningClassifier, DeepLearningRegressor, DeepLearningAutoEncoder or DeepLearningEstimator
        A fitted classifier, regressor or autoencoder.
    path : str or path-like
        The ``.py`` file to write (parent directories are created). Name it as a valid
        module name (e.g. ``scorer.py``) to import it.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    NotFittedError
        The model is not fitted (a ``ValueError``).
    UnstableModelError
        The weights are not finite.
    NotImplementedError
        Column names / levels / labels that are not plain Python scalars (e.g.
        timestamps).

    Notes
    -----
    The module reproduces ``model._predict_pandas(frame, "h2o")`` (to ~1e-12 with the
    same numpy): it exposes ``predict(rows)``, ``predict_proba(rows)``, ``COLUMNS``,
    ``CLASSES``, ``DOMAINS``, ``OFFSET_COLUMN``, ``THRESHOLD``, ``OUTPUT_COLUMNS`` and
    ``INPUT_NAMES``, and ``python scorer.py < in.csv > out.csv`` scores a CSV (a missing
    required column is reported on stderr with exit code 2).

    For an autoencoder, ``predict(rows)`` returns the reconstruction of
    ``model.predict`` / ``model.reconstruct`` as an ``(n, len(OUTPUT_COLUMNS))`` float64
    array (columns ``reconstr_<input>`` in the model's order; numerics in original units,
    one-hot slots as raw activations), ``anomaly(rows)`` the per-row reconstruction MSE
    of ``model.anomaly`` (``anomaly(rows, per_feature=True)``: the squared error per
    expanded input), and the CSV output has the ``reconstr_<input>`` columns with a
    header row. ``predict_proba`` raises ``TypeError`` for regressors and autoencoders,
    ``anomaly`` for classifiers and regressors. Every encoding of
    :class:`~dask_deeplearn.preprocessing.DataInfo` is supported. Differences from the
    in-Python scorer: weights and response columns are never read (they do not change
    predictions), and CSV cells are text, so a categorical cell that matches no level is
    also tried as a number (``"2.0"`` matches level ``2``, as after ``pandas.read_csv``).

    Examples
    --------
    >>> import numpy as np, importlib.util, tempfile, pathlib
    >>> from dask_deeplearn import DeepLearningRegressor
    >>> X = np.random.default_rng(0).normal(size=(100, 3)); y = X @ [1.0, 2.0, 3.0]
    >>> reg = DeepLearningRegressor(hidden=[8], epochs=2, seed=1, reproducible=True,
    ...                             quiet_mode=True).fit(X, y)
    >>> path = export_python(reg, pathlib.Path(tempfile.mkdtemp()) / "scorer.py")
    >>> spec = importlib.util.spec_from_file_location("scorer", path)
    >>> mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    >>> mod.COLUMNS
    ['C1', 'C2', 'C3']
    >>> bool(np.allclose(mod.predict({"C1": X[:, 0], "C2": X[:, 1], "C3": X[:, 2]}),
    ...                  reg.predict(X)))
    True
    """
    _check_model(model)
    source = _header(model) + "\n" + _RUNTIME
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path
