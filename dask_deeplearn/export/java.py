"""Export a fitted model as one standalone Java source file (H2O's POJO, rebuilt).

:func:`export_java` writes ``<ClassName>.java``: a public class that needs only the JDK
(Java 8 or later) and reproduces the model's predictions in double precision, with

* ``public static final String[] NAMES``: the input columns, in the order of the ``row``
  array of ``score0``;
* ``public static final String[][] DOMAINS``: per input column its levels (``null`` for a
  numeric column) and, as H2O does, one more entry at ``DOMAINS[NAMES.length]``: the
  response domain (also ``RESPONSE_DOMAIN``; ``null`` for a regressor or an autoencoder);
* ``public double[] score0(double[] row, double[] preds)`` (and ``score0(row, offset,
  preds)`` for a model with an offset column): ``row[i]`` is the numeric value of column
  ``NAMES[i]`` or, for a categorical column, the index of its level in ``DOMAINS[i]`` as
  a double (-1 or NaN: unknown level; NaN: missing). Classifiers fill ``preds[0]`` with
  the predicted label index (chosen as the model's ``predict`` chooses it, ``LABEL_RULE``:
  the max-F1 ``DEFAULT_THRESHOLD`` for a binomial ``DeepLearningEstimator``, the arg-max
  for the scikit-learn estimators) and ``preds[1..K]`` with the class probabilities; regressors
  fill ``preds[0]``; autoencoders fill ``preds[0..N_INPUTS-1]`` with the reconstruction
  of the expanded inputs, numerics un-normalised (``out / mul + sub``) and one-hot slots
  as raw activations, as H2O's autoencoder POJO (semantics §12, §13.1). ``preds`` needs
  ``getPredsSize()`` (= ``OUTPUT_NAMES.length``) entries;
* ``public static void main(String[] args)``: scores a CSV (header row, any column order,
  extra columns ignored, empty cell = missing, RFC 4180 quoting) from stdin and writes the
  prediction frame of ``DeepLearningEstimator.predict`` (for an autoencoder, the
  ``reconstr_<input>`` columns of its ``predict``) as CSV with a header row to stdout. A
  missing input column is reported on stderr with exit code 2.

Large tables (the weights, wide domains) are stored as base64 string chunks of at most
60,000 characters, grouped 16 to a nested holder class, and decoded once at class
initialisation: no method exceeds Java's 64 KB bytecode limit and no class its 65,535
constant-pool entries, whatever the size of the network.

The scorer mirrors :meth:`DataInfo.transform_X <dask_deeplearn.preprocessing.DataInfo.transform_X>`
(every categorical encoding, hashing, mean imputation, standardisation, with the network
inputs rounded to float32 exactly as the Python scorer does) and
:func:`dask_deeplearn.network.forward` / ``predict_block`` (float64 arithmetic on the
float32 weights), so its outputs agree with ``model.predict`` to about 1e-12.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from pathlib import Path
from string import Template
from typing import Any, Sequence

import numpy as np

from ..exceptions import NotFittedError
from . import check_stable
from ..preprocessing.encodings import level_key
from ..training.balance import class_correction

__all__ = ["export_java"]

#: Characters per base64 string constant (a constant may hold 65,535 UTF-8 bytes).
_CHUNK_CHARS = 60_000
#: Base64 chunks per nested holder class.
_CHUNKS_PER_HOLDER = 16
#: Arrays up to this length are written as Java literals, longer ones as base64 blobs.
_INLINE_MAX = 128
#: Strings longer than this force the base64 form of a string table.
_INLINE_STR_MAX = 200

_LOG_LINK = frozenset({"poisson", "gamma", "tweedie"})
_SUPPORTED_ENCODINGS = frozenset(
    {"AUTO", "OneHotInternal", "Binary", "Eigen", "LabelEncoder", "SortByResponse", "EnumLimited"}
)
_NUM_KINDS = {"numeric": 0, "label": 1, "eigen": 2, "binary": 3}

_JAVA_KEYWORDS = frozenset(
    """abstract assert boolean break byte case catch char class const continue default do
    double else enum extends final finally float for goto if implements import instanceof
    int interface long native new package private protected public return short static
    strictfp super switch synchronized this throw throws transient try void volatile while
    true false null var record yield sealed permits non-sealed _""".split()
)
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


# --------------------------------------------------------------------------- Java literals


def _jstr(s: str) -> str:
    """A Java string literal for ``s`` (safe against Java's early ``\\uXXXX`` processing)."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\{o:03o}")  # octal: a \\u escape of a line break would not compile
        elif o < 0x7F:
            out.append(ch)
        elif o > 0xFFFF:
            o -= 0x10000
            out.append(f"\\u{0xD800 + (o >> 10):04x}\\u{0xDC00 + (o & 0x3FF):04x}")
        else:
            out.append(f"\\u{o:04x}")
    out.append('"')
    return "".join(out)


def _jdouble(x: float) -> str:
    """A Java double literal that parses back to exactly ``x``."""
    x = float(x)
    if math.isnan(x):
        return "Double.NaN"
    if math.isinf(x):
        return "Double.POSITIVE_INFINITY" if x > 0 else "Double.NEGATIVE_INFINITY"
    r = repr(x)
    return r if ("." in r or "e" in r or "n" in r) else r + ".0"


def _comment(text: str) -> str:
    """Printable ASCII without backslashes or comment terminators (safe in a comment)."""
    text = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch != "\\" else "?" for ch in str(text))
    return text.replace("*/", "* /")


class _Tables:
    """Java expressions for constant arrays; big ones become base64 blobs in holder classes.

    Parameters
    ----------
    class_name : str
        The public class; holder classes are nested in it as ``<class_name>_Data<k>``.
    """

    def __init__(self, class_name: str) -> None:
        self.class_name = class_name
        self.holders: list[str] = []

    def _blob(self, fn: str, n: int, raw: bytes) -> str:
        b64 = base64.b64encode(raw).decode("ascii")
        pieces = [b64[i : i + _CHUNK_CHARS] for i in range(0, len(b64), _CHUNK_CHARS)] or [""]
        names = []
        for g in range(0, len(pieces), _CHUNKS_PER_HOLDER):
            name = f"{self.class_name}_Data{len(self.holders)}"
            body = ",\n".join(f'      "{p}"' for p in pieces[g : g + _CHUNKS_PER_HOLDER])
            self.holders.append(
                f"  static final class {name} {{\n"
                f"    static final String[] P = {{\n{body}\n    }};\n"
                f"  }}\n"
            )
            names.append(f"{name}.P")
        return f"{fn}({n}, {', '.join(names)})"

    def ints(self, values: Sequence[int] | np.ndarray) -> str:
        """``int[]`` expression."""
        arr = np.asarray(values, dtype=np.int64).reshape(-1)
        if arr.size and (arr.min() < -(2**31) or arr.max() >= 2**31):
            raise ValueError("integer table does not fit a Java int")
        if arr.size <= _INLINE_MAX:
            return "new int[] {" + ", ".join(str(int(v)) for v in arr) + "}"
        return self._blob("i32", arr.size, arr.astype("<i4").tobytes())

    def doubles(self, values: Sequence[float] | np.ndarray) -> str:
        """``double[]`` expression (exact: literals round-trip, blobs hold the bits)."""
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
        if arr.size <= _INLINE_MAX:
            return "new double[] {" + ", ".join(_jdouble(v) for v in arr) + "}"
        return self._blob("f64", arr.size, arr.astype("<f8").tobytes())

    def floats(self, values: np.ndarray) -> str:
        """``float[]`` expression (always a blob of the exact float32 bits)."""
        arr = np.asarray(values, dtype=np.float32).reshape(-1)
        return self._blob("f32", arr.size, arr.astype("<f4").tobytes())

    def strings(self, values: Sequence[str | None]) -> str:
        """``String[]`` expression (``None`` entries become ``null``)."""
        vals = list(values)
        if len(vals) <= _INLINE_MAX and all(v is None or len(v) <= _INLINE_STR_MAX for v in vals):
            return "new String[] {" + ", ".join("null" if v is None else _jstr(v) for v in vals) + "}"
        raw = bytearray()
        for v in vals:
            if v is None:
                raw += struct.pack("<i", -1)
            else:
                b = v.encode("utf-8", errors="surrogatepass")
                raw += struct.pack("<i", len(b)) + b
        return self._blob("strs", len(vals), bytes(raw))


# --------------------------------------------------------------------------- the model


def _check_class_name(name: str) -> str:
    if not isinstance(name, str) or not _IDENT.match(name) or name in _JAVA_KEYWORDS:
        raise ValueError(
            f"class_name must be a valid Java identifier (letters, digits, '_' or '$', not "
            f"starting with a digit, not a keyword); got {name!r}."
        )
    return name


def _default_class_name(model: Any) -> str:
    h = hashlib.sha1()
    h.update(np.ascontiguousarray(model.state_.W).tobytes())
    h.update(np.ascontiguousarray(model.state_.B).tobytes())
    base = re.sub(r"[^A-Za-z0-9_]", "_", type(model).__name__) or "DeepLearningModel"
    if not re.match(r"[A-Za-z_]", base):
        base = "M_" + base
    return f"{base}_{h.hexdigest()[:10]}"


def _resolve_path(model: Any, path: str | Path, class_name: str | None) -> tuple[Path, str]:
    p = Path(path)
    if p.suffix == ".java":
        stem = p.stem
        if class_name is None:
            class_name = stem
        elif stem != class_name:
            raise ValueError(
                f"A public Java class must live in a file named after it: the file is "
                f"{p.name!r} but class_name is {class_name!r} (expected {class_name}.java)."
            )
        _check_class_name(class_name)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p, class_name
    if class_name is None:
        class_name = _default_class_name(model)
    _check_class_name(class_name)
    p.mkdir(parents=True, exist_ok=True)
    return p / f"{class_name}.java", class_name


def _check_model(model: Any) -> None:
    """Raise unless the Java scorer can reproduce ``model``.

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
        A task other than classification, regression or autoencoder, an unsupported
        categorical encoding or encoded input kind, or an output layer that does not
        match the task.
    ValueError
        The network and the preprocessing disagree on the number of inputs.
    """
    if not hasattr(model, "state_") or not hasattr(model, "data_info_"):
        raise NotFittedError(
            f"export_java needs a fitted dask_deeplearn estimator; got an unfitted "
            f"{type(model).__name__} (call fit / train first)."
        )
    check_stable(model, "export")
    info = model.data_info_
    if model.task_ not in ("classification", "regression", "autoencoder"):
        raise NotImplementedError(f"export_java does not support task {model.task_!r}.")
    if info.categorical_encoding not in _SUPPORTED_ENCODINGS:
        raise NotImplementedError(
            f"export_java does not support categorical_encoding={info.categorical_encoding!r}."
        )
    kinds = {k for k, _, _ in info.num_sources} - set(_NUM_KINDS)
    if kinds:
        raise NotImplementedError(f"export_java does not support encoded input kind(s) {sorted(kinds)}.")
    spec = model.state_.spec
    if int(spec.units[0]) != int(info.n_inputs):
        raise ValueError(
            f"Inconsistent model: the network has {spec.units[0]} inputs but the "
            f"preprocessing produces {info.n_inputs}."
        )
    expected = {"classification": "softmax", "regression": "linear", "autoencoder": "autoencoder"}
    if spec.output != expected[model.task_]:
        raise NotImplementedError(
            f"export_java: a {model.task_} model with a {spec.output!r} output layer is not "
            "supported."
        )
    if model.task_ == "autoencoder" and (
            int(spec.units[-1]) != int(info.n_inputs) or int(spec.act[-1]) not in (0, 1)):
        raise NotImplementedError(
            "export_java: an autoencoder needs one Tanh or Rectifier output per input.")


def _constants(model: Any, class_name: str, t: _Tables) -> dict[str, str]:
    """The model-specific Java declarations, as template substitutions."""
    info = model.data_info_
    spec = model.state_.spec
    classification = model.task_ == "classification"
    autoencoder = model.task_ == "autoencoder"

    names = [str(c) for c in info.used_columns]
    col_index = {c: i for i, c in enumerate(info.used_columns)}
    # input domains: raw training levels, written as DataInfo matches them (level_key)
    domains: list[list[str] | None] = [None] * len(names)
    for c in info.cat_columns:
        domains[col_index[c]] = [level_key(v) for v in info.cat_raw_levels[c]]
    for c, levels in info.encoded_levels.items():
        domains[col_index[c]] = [level_key(v) for v in levels]
    flat_levels = [lev for d in domains if d is not None for lev in d]
    domain_len = [-1 if d is None else len(d) for d in domains]

    cat_col = [col_index[c] for c in info.cat_columns]
    cat_map = [v for c in info.cat_columns for v in np.asarray(info.cat_level_map[c]).tolist()]
    hashing = bool(info.hashing)
    num_start = int(info.max_categorical_features) if hashing else int(info.cat_offsets[-1])

    num_col = [col_index[s] for _, s, _ in info.num_sources]
    num_kind = [_NUM_KINDS[k] for k, _, _ in info.num_sources]
    num_arg = [int(a) for _, _, a in info.num_sources]
    eigen_flat: list[float] = []
    eigen_len = [-1] * len(names)
    for c, vec in info.eigen_vectors.items():
        eigen_len[col_index[c]] = len(vec)
        eigen_flat.extend(np.asarray(vec, dtype=np.float64).tolist())

    if classification:
        response_domain = model._proba_columns()
        k = len(response_domain)
        category = "Binomial" if k == 2 else "Multinomial"
        threshold = float(model.threshold_) if k == 2 else float("nan")
        output_names = ["predict", *response_domain]
    elif autoencoder:
        response_domain = None
        k = 1
        category = "AutoEncoder"
        threshold = float("nan")
        # the columns of the model's predict (Scorer._columns), in network input order
        output_names = [f"reconstr_{n}" for n in info.input_names]
    else:
        response_domain = None
        k = 1
        category = "Regression"
        threshold = float("nan")
        output_names = ["predict"]

    offset_col = model.params_.get("offset_column")
    if offset_col is None:
        offset_col = info.offset_column
    if autoencoder:
        offset_col = None  # the reconstruction never uses offsets
    resp_std = info.response_mean is not None and model.task_ == "regression"

    def bool_(b: bool) -> str:
        return "true" if b else "false"

    def opt_str(s: Any) -> str:
        return "null" if s is None else _jstr(str(s))

    hidden = list(spec.units[1:-1])
    desc = (
        f"{type(model).__name__}: {category.lower()}, inputs {spec.units[0]}, hidden {hidden}, "
        f"outputs {spec.units[-1]}, activation {spec.activation}, distribution "
        f"{model.distribution_}, categorical_encoding {info.categorical_encoding}"
        f"{', hashing to ' + str(info.max_categorical_features) + ' inputs' if hashing else ''}, "
        f"{spec.n_weights + spec.n_biases} weights/biases"
    )
    correction = class_correction(model.params_)
    return {
        "cls": class_name,
        "description": _comment(desc),
        "category": category,
        "names": t.strings(names),
        "response_column": opt_str(info.response),
        "offset_column": opt_str(offset_col),
        "response_domain": "null" if response_domain is None else t.strings(response_domain),
        "flat_levels": t.strings(flat_levels),
        "domain_len": t.ints(domain_len),
        "output_names": t.strings(output_names),
        "nclasses": str(k),
        "threshold": _jdouble(threshold),
        "label_rule": opt_str(model._label_rule if classification else None),
        "argmax_labels": bool_(not classification or model._label_rule == "argmax"),
        "prior": "null" if correction is None else t.doubles(correction[0]),
        "model_dist": "null" if correction is None else t.doubles(correction[1]),
        "n_inputs": str(int(info.n_inputs)),
        "num_start": str(num_start),
        "use_all_levels": bool_(bool(info.use_all_factor_levels)),
        "cat_col": t.ints(cat_col),
        "cat_off": t.ints(np.asarray(info.cat_offsets)),
        "cat_map": t.ints(cat_map),
        "hash_slot": t.ints(np.asarray(info.hash_slots)) if hashing else "null",
        "num_col": t.ints(num_col),
        "num_kind": t.ints(num_kind),
        "num_arg": t.ints(num_arg),
        "eigen_flat": t.doubles(eigen_flat),
        "eigen_len": t.ints(eigen_len),
        "num_mul": t.doubles(np.asarray(info.num_mul)),
        "num_sub": t.doubles(np.asarray(info.num_sub)),
        "num_fill": t.doubles(np.asarray(info.num_fill)),
        "units": t.ints(list(spec.units)),
        "k": t.ints(np.asarray(spec.k)),
        "act": t.ints(np.asarray(spec.act)),
        "dropout": t.doubles(np.asarray(spec.dropout)),
        "weights": t.floats(model.state_.W),
        "biases": t.floats(model.state_.B),
        "has_offset": bool_(offset_col is not None),
        "resp_std": bool_(resp_std),
        "resp_mean": _jdouble(info.response_mean if resp_std else 0.0),
        "resp_sd": _jdouble(info.response_sd if resp_std else 1.0),
        "log_link": bool_(model.task_ == "regression" and model.distribution_ in _LOG_LINK),
        "autoencoder": bool_(autoencoder),
    }


def export_java(model: Any, path: str | Path, class_name: str | None = None) -> Path:
    """Write a standalone Java scorer (one ``.java`` file, JDK only) for a fitted model.

    Parameters
    ----------
    model : DeepLearningClassifier, DeepLearningRegressor, DeepLearningAutoEncoder or DeepLearningEstimator
        A fitted classifier, regressor or autoencoder.
    path : str or pathlib.Path
        A directory (created if needed; the file is ``<class_name>.java`` in it) or the
        path of a ``.java`` file, whose stem must be the class name.
    class_name : str, optional
        Name of the public Java class; a valid Java identifier. Default: the stem of a
        ``.java`` path, else ``<EstimatorClass>_<hash of the weights>``.

    Returns
    -------
    pathlib.Path
        The ``.java`` file written.

    Raises
    ------
    NotFittedError
        The model is not fitted.
    ValueError
        Invalid class name, or a ``.java`` path whose stem is not the class name.
    UnstableModelError
        The weights are not finite.
    NotImplementedError
        A model the Java scorer cannot reproduce (an unsupported categorical encoding or
        encoded input kind).

    Notes
    -----
    Compile with ``javac <class_name>.java`` and score a CSV with
    ``java -cp <dir> <class_name> < input.csv > predictions.csv``. The output has the
    columns of ``DeepLearningEstimator.predict``: ``predict`` (the label of a classifier,
    the value of a regressor) then, for a classifier, one probability column per class,
    named by the class label. For an autoencoder it has the columns of its ``predict``
    (``reconstr_<input>``, one per expanded input, in network input order), and
    ``score0`` fills ``preds`` with that reconstruction (``MODEL_CATEGORY`` is
    ``"AutoEncoder"``, ``AUTOENCODER`` is true; the reconstruction error is not
    computed: use the Python scorer's ``anomaly``).

    Behaviour that differs from the Python scorer: a numeric cell that does not parse as
    a number (nor ``true`` / ``false``) is missing rather than an error, and infinite
    numeric inputs are scored instead of refused. A missing or
    non-finite offset is an error (stderr, exit code 1), as in Python.

    Examples
    --------
    >>> from dask_deeplearn.export.java import export_java
    >>> java_file = export_java(model, "out/", class_name="MyModel")  # doctest: +SKIP
    """
    _check_model(model)
    file, class_name = _resolve_path(model, path, class_name)
    tables = _Tables(class_name)
    subs = _constants(model, class_name, tables)
    subs["holders"] = "\n".join(tables.holders)
    source = Template(_JAVA_TEMPLATE).substitute(subs)
    file.write_text(source, encoding="utf-8")
    return file


# --------------------------------------------------------------------------- Java source

_JAVA_TEMPLATE = r"""/*
 * Standalone scorer generated by dask_deeplearn.export.java (H2O POJO style).
 * ${description}
 *
 * Needs only the JDK (Java 8+):
 *   javac ${cls}.java
 *   java -cp . ${cls} < input.csv > predictions.csv
 *
 * score0(row, preds): row[i] is the value of column NAMES[i] or, for a categorical column,
 * the index of its level in DOMAINS[i] (-1 or NaN: unknown level, NaN: missing).
 * Classifiers: preds[0] = label index, preds[1..K] = class probabilities.
 * Regressors: preds[0] = prediction.
 * Autoencoders: preds[0..N_INPUTS-1] = reconstruction of the expanded inputs (numerics
 * un-normalised, one-hot slots as raw activations), the columns OUTPUT_NAMES.
 * preds needs getPredsSize() = OUTPUT_NAMES.length entries.
 */
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

public class ${cls} {

  // ------------------------------------------------------------------ public model description

  /** "Binomial", "Multinomial", "Regression" or "AutoEncoder". */
  public static final String MODEL_CATEGORY = "${category}";
  /** Whether score0 returns an autoencoder's reconstruction. */
  public static final boolean AUTOENCODER = ${autoencoder};
  /** Input columns, in the order of the row array of score0. */
  public static final String[] NAMES = ${names};
  /** Response column of the training frame. */
  public static final String RESPONSE_COLUMN = ${response_column};
  /** Offset column read by main (null when the model has none). */
  public static final String OFFSET_COLUMN = ${offset_column};
  /** Class labels (null for a regressor or an autoencoder); DOMAINS[NAMES.length] too, as in H2O. */
  public static final String[] RESPONSE_DOMAIN = ${response_domain};
  /** Levels of each input column (null: numeric), then the response domain. */
  public static final String[][] DOMAINS = domains(${flat_levels}, ${domain_len}, RESPONSE_DOMAIN);
  /** Number of classes (1 for a regressor or an autoencoder). */
  public static final int NCLASSES = ${nclasses};
  /** Binomial model: H2O's max-F1 threshold on p(class 1) (the model's threshold_); NaN otherwise. */
  public static final double DEFAULT_THRESHOLD = ${threshold};
  /**
   * Binomial labels: "threshold" (class 1 when p1 >= DEFAULT_THRESHOLD, as H2O's
   * DeepLearningEstimator) or "argmax" (the most probable class, the first on a tie, as the
   * scikit-learn estimators); multinomial labels are always the arg-max; null otherwise.
   */
  public static final String LABEL_RULE = ${label_rule};
  static final boolean ARGMAX_LABELS = ${argmax_labels};
  /** balance_classes: training-frame class frequencies (null when not balanced). */
  public static final double[] PRIOR_CLASS_DISTRIB = ${prior};
  /** balance_classes: balanced-frame class frequencies (null when not balanced). */
  public static final double[] MODEL_CLASS_DISTRIB = ${model_dist};
  /** Columns written by main (one per entry of preds). */
  public static final String[] OUTPUT_NAMES = ${output_names};

  /** Length of the preds array of score0 (H2O's GenModel.getPredsSize). */
  public int getPredsSize() {
    return OUTPUT_NAMES.length;
  }

  // ------------------------------------------------------------------ preprocessing (DataInfo)

  static final int N_INPUTS = ${n_inputs};
  static final int NUM_START = ${num_start};
  static final boolean USE_ALL_LEVELS = ${use_all_levels};
  /** NAMES index of each one-hot categorical, in network input order. */
  static final int[] CAT_COL = ${cat_col};
  /** One-hot block starts; CAT_OFF[j + 1] - 1 is the NA slot of block j. */
  static final int[] CAT_OFF = ${cat_off};
  /** Per one-hot categorical: raw level index (DOMAINS) -> encoded level. */
  static final int[][] CAT_MAP = catMap(${cat_map});
  /** Hashing trick: input slot of each one-hot index (null without hashing). */
  static final int[] HASH_SLOT = ${hash_slot};
  /** Per numeric input: NAMES index, kind (0 numeric, 1 label, 2 eigen, 3 binary bit), bit. */
  static final int[] NUM_COL = ${num_col};
  static final int[] NUM_KIND = ${num_kind};
  static final int[] NUM_ARG = ${num_arg};
  /** Eigen encoding value of each level, per NAMES index (null when not Eigen). */
  static final double[][] EIGEN = split(${eigen_flat}, ${eigen_len});
  /** x' = (x - NUM_SUB) * NUM_MUL; a missing x is NUM_FILL. */
  static final double[] NUM_MUL = ${num_mul};
  static final double[] NUM_SUB = ${num_sub};
  static final double[] NUM_FILL = ${num_fill};

  // ------------------------------------------------------------------ network

  /** Layer sizes (inputs, hidden..., outputs). */
  static final int[] UNITS = ${units};
  /** Channels per unit of each weight layer (2 for Maxout). */
  static final int[] K = ${k};
  /** Activation per weight layer: 0 Tanh, 1 Rectifier, 2 Maxout, 3 linear, 4 softmax. */
  static final int[] ACT = ${act};
  /** Hidden dropout ratio per weight layer (activations are scaled by 1 - ratio). */
  static final double[] DROPOUT = ${dropout};
  /** Weights, row-major (receiving unit, channel, sending unit), layer after layer. */
  static final float[] W = ${weights};
  /** Biases (receiving unit, channel), layer after layer. */
  static final float[] B = ${biases};
  static final boolean HAS_OFFSET = ${has_offset};
  static final boolean RESPONSE_STANDARDIZED = ${resp_std};
  static final double RESPONSE_MEAN = ${resp_mean};
  static final double RESPONSE_SD = ${resp_sd};
  static final boolean LOG_LINK = ${log_link};

  // ------------------------------------------------------------------ scoring

  /** Score one row (no offset; a model with an offset column gets offset 0). */
  public double[] score0(double[] row, double[] preds) {
    return score0(row, 0.0, preds);
  }

  /** Score one row with an offset (used only by a model with an offset column). */
  public double[] score0(double[] row, double offset, double[] preds) {
    double[] x = new double[N_INPUTS];
    for (int j = 0; j < CAT_COL.length; j++) {
      int[] map = CAT_MAP[j];
      double v = row[CAT_COL[j]];
      int code = (v >= 0 && v < map.length) ? map[(int) v] : -1;
      int width = CAT_OFF[j + 1] - CAT_OFF[j];
      int slot = code < 0 ? width - 1 : (USE_ALL_LEVELS ? code : code - 1);
      if (slot < 0) continue;
      int idx = CAT_OFF[j] + slot;
      if (HASH_SLOT != null) x[HASH_SLOT[idx]] += 1.0; else x[idx] = 1.0;
    }
    for (int m = 0; m < NUM_COL.length; m++) {
      int col = NUM_COL[m];
      double v = row[col];
      int kind = NUM_KIND[m];
      if (kind != 0) {
        int n = DOMAINS[col].length;
        int code = (v >= 0 && v < n) ? (int) v : -1;
        if (kind == 1) {
          v = code >= 0 ? (double) code : Double.NaN;
        } else if (kind == 2) {
          double[] vec = EIGEN[col];
          v = (code >= 0 && code < vec.length) ? vec[code] : Double.NaN;
        } else {
          v = code >= 0 ? (double) (((code + 1) >> NUM_ARG[m]) & 1) : 0.0;
        }
      }
      double t = Double.isNaN(v) ? (NUM_FILL[m] - NUM_SUB[m]) * NUM_MUL[m] : (v - NUM_SUB[m]) * NUM_MUL[m];
      x[NUM_START + m] = (float) t;  // the Python scorer builds float32 inputs
    }
    double[] out = forward(x, offset);
    if (AUTOENCODER) {
      // reconstruction: one-hot slots raw, numerics back in original units (out / mul + sub)
      for (int j = 0; j < out.length; j++) {
        preds[j] = j < NUM_START ? out[j] : out[j] / NUM_MUL[j - NUM_START] + NUM_SUB[j - NUM_START];
      }
    } else if (NCLASSES > 1) {
      if (PRIOR_CLASS_DISTRIB != null) {
        // balance_classes: probabilities back to the training priors (H2O's correction)
        double sum = 0;
        for (int c = 0; c < NCLASSES; c++) {
          double pr = PRIOR_CLASS_DISTRIB[c], md = MODEL_CLASS_DISTRIB[c];
          if (pr > 0 && md > 0) out[c] *= pr / md;
          sum += out[c];
        }
        for (int c = 0; c < NCLASSES; c++) out[c] /= sum;
      }
      for (int c = 0; c < NCLASSES; c++) preds[1 + c] = out[c];
      int label = 0;
      if (NCLASSES == 2 && !ARGMAX_LABELS) {
        label = out[1] >= DEFAULT_THRESHOLD ? 1 : 0;
      } else {
        for (int c = 1; c < NCLASSES; c++) if (out[c] > out[label]) label = c;
      }
      preds[0] = label;
    } else {
      double p = out[0];
      if (RESPONSE_STANDARDIZED) p = p * RESPONSE_SD + RESPONSE_MEAN;
      if (LOG_LINK) p = Math.min(Math.exp(p), 1e19);
      preds[0] = p;
    }
    return preds;
  }

  /**
   * Scoring-mode forward pass in double precision; returns probabilities, the link output
   * or an autoencoder's reconstruction of the normalised inputs.
   */
  static double[] forward(double[] x, double offset) {
    double[] a = x;
    int nLayers = UNITS.length - 1;
    int wo = 0, bo = 0;
    for (int l = 0; l < nLayers; l++) {
      int cols = UNITS[l], rows = UNITS[l + 1], k = K[l], act = ACT[l];
      double[] z = new double[rows];
      for (int j = 0; j < rows; j++) {
        double best = 0.0;
        for (int c = 0; c < k; c++) {
          int r = j * k + c;
          int base = wo + r * cols;
          double s = 0.0;
          for (int i = 0; i < cols; i++) s += (double) W[base + i] * a[i];
          s += (double) B[bo + r];
          best = c == 0 ? s : Math.max(best, s);
        }
        double v = best;
        if (act == 0) v = Math.tanh(v);
        else if (act == 1) v = Math.max(v, 0.0);
        z[j] = v;
      }
      if (l < nLayers - 1 && DROPOUT[l] > 0.0) {
        double keep = 1.0 - DROPOUT[l];
        for (int j = 0; j < rows; j++) z[j] *= keep;
      }
      wo += rows * k * cols;
      bo += rows * k;
      a = z;
    }
    if (ACT[nLayers - 1] == 4) {
      double max = a[0];
      for (int c = 1; c < a.length; c++) max = Math.max(max, a[c]);
      double sum = 0.0;
      for (int c = 0; c < a.length; c++) {
        a[c] = Math.exp(a[c] - max);
        sum += a[c];
      }
      for (int c = 0; c < a.length; c++) a[c] /= sum;
    } else if (HAS_OFFSET) {
      double o = RESPONSE_STANDARDIZED ? (offset - RESPONSE_MEAN) / RESPONSE_SD : offset;
      a[0] += (double) (float) o;  // offsets are float32 in the Python scorer
    }
    return a;
  }

  // ------------------------------------------------------------------ CSV scoring (main)

  public static void main(String[] args) throws IOException {
    Reader reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
    Csv csv = new Csv(reader);
    List<String> header = csv.next();
    if (header == null) {
      System.err.println("${cls}: empty input, expected a CSV header row");
      System.exit(2);
    }
    if (!header.isEmpty() && header.get(0).startsWith("\uFEFF")) header.set(0, header.get(0).substring(1));
    Map<String, Integer> position = new HashMap<>();
    for (int i = 0; i < header.size(); i++) position.putIfAbsent(header.get(i), i);
    int[] src = new int[NAMES.length];
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < NAMES.length; i++) {
      Integer p = position.get(NAMES[i]);
      if (p == null) missing.add(NAMES[i]); else src[i] = p;
    }
    int offsetSrc = -1;
    if (HAS_OFFSET && OFFSET_COLUMN != null) {
      Integer p = position.get(OFFSET_COLUMN);
      if (p == null) missing.add(OFFSET_COLUMN); else offsetSrc = p;
    }
    if (!missing.isEmpty()) {
      StringBuilder sb = new StringBuilder("${cls}: required column(s) missing from the input: ");
      for (int i = 0; i < missing.size(); i++) sb.append(i == 0 ? "" : ", ").append('"').append(missing.get(i)).append('"');
      System.err.println(sb);
      System.exit(2);
    }
    List<Map<String, Integer>> lookup = new ArrayList<>();
    for (int i = 0; i < NAMES.length; i++) {
      Map<String, Integer> m = null;
      if (DOMAINS[i] != null) {
        m = new HashMap<>();
        for (int j = 0; j < DOMAINS[i].length; j++) m.putIfAbsent(DOMAINS[i][j], j);
      }
      lookup.add(m);
    }
    Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
    for (int c = 0; c < OUTPUT_NAMES.length; c++) {
      if (c > 0) out.write(',');
      out.write(csvField(OUTPUT_NAMES[c]));
    }
    out.write('\n');
    ${cls} model = new ${cls}();
    double[] row = new double[NAMES.length];
    double[] preds = new double[OUTPUT_NAMES.length];
    long line = 1;
    List<String> rec;
    StringBuilder sb = new StringBuilder();
    while ((rec = csv.next()) != null) {
      line++;
      if (rec.size() == 1 && rec.get(0).isEmpty() && !csv.quoted) continue;  // blank line
      for (int i = 0; i < NAMES.length; i++) {
        String s = src[i] < rec.size() ? rec.get(src[i]) : "";
        Map<String, Integer> m = lookup.get(i);
        row[i] = m == null ? parseNumber(s) : parseLevel(s, m);
      }
      double offset = 0.0;
      if (offsetSrc >= 0) {
        offset = parseNumber(offsetSrc < rec.size() ? rec.get(offsetSrc) : "");
        if (Double.isNaN(offset) || Double.isInfinite(offset)) {
          out.flush();
          System.err.println("${cls}: offset column \"" + OFFSET_COLUMN + "\" has a missing or infinite value on line " + line);
          System.exit(1);
        }
      }
      model.score0(row, offset, preds);
      sb.setLength(0);
      if (AUTOENCODER) {
        for (int c = 0; c < preds.length; c++) {
          if (c > 0) sb.append(',');
          sb.append(Double.toString(preds[c]));
        }
      } else if (NCLASSES > 1) {
        sb.append(csvField(RESPONSE_DOMAIN[(int) preds[0]]));
        for (int c = 1; c <= NCLASSES; c++) sb.append(',').append(Double.toString(preds[c]));
      } else {
        sb.append(Double.toString(preds[0]));
      }
      sb.append('\n');
      out.write(sb.toString());
    }
    out.flush();
  }

  /** A numeric cell: empty or unparsable = missing (NaN); true/false = 1/0. */
  static double parseNumber(String s) {
    s = s.trim();
    if (s.isEmpty()) return Double.NaN;
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      if (s.equalsIgnoreCase("true")) return 1.0;
      if (s.equalsIgnoreCase("false")) return 0.0;
      return Double.NaN;
    }
  }

  /** A categorical cell: level index, NaN when empty, -1 when not a training level. */
  static double parseLevel(String s, Map<String, Integer> levels) {
    if (s.isEmpty()) return Double.NaN;
    Integer i = levels.get(s);
    if (i == null) {
      // a number matches a level written as an integer (2.0 -> "2"), as in Python
      try {
        double d = Double.parseDouble(s.trim());
        if (!Double.isInfinite(d) && d == Math.rint(d)) i = levels.get(new BigDecimal(d).toBigInteger().toString());
      } catch (NumberFormatException e) {
        i = null;
      }
    }
    return i == null ? -1.0 : (double) i;
  }

  static String csvField(String s) {
    boolean quote = s.isEmpty() ? false : (s.charAt(0) == ' ' || s.charAt(s.length() - 1) == ' ');
    for (int i = 0; i < s.length() && !quote; i++) {
      char ch = s.charAt(i);
      quote = ch == ',' || ch == '"' || ch == '\n' || ch == '\r';
    }
    return quote ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  /** Minimal RFC 4180 reader: quoted fields may hold commas, quotes ("") and line breaks. */
  static final class Csv {
    private final Reader in;
    private int pushed = -2;
    /** Whether the last record had a quoted field. */
    boolean quoted;

    Csv(Reader in) {
      this.in = in;
    }

    private int read() throws IOException {
      if (pushed != -2) {
        int c = pushed;
        pushed = -2;
        return c;
      }
      return in.read();
    }

    List<String> next() throws IOException {
      int c = read();
      if (c == -1) return null;
      List<String> fields = new ArrayList<>();
      StringBuilder sb = new StringBuilder();
      boolean inQuoted = false;
      quoted = false;
      while (true) {
        if (c == '"' && sb.length() == 0 && !inQuoted) {
          inQuoted = true;
          quoted = true;
          while (true) {
            c = read();
            if (c == -1) break;
            if (c == '"') {
              c = read();
              if (c == '"') {
                sb.append('"');
                continue;
              }
              break;
            }
            sb.append((char) c);
          }
          continue;
        }
        if (c == ',') {
          fields.add(sb.toString());
          sb.setLength(0);
          inQuoted = false;
          c = read();
          continue;
        }
        if (c == '\n' || c == -1) {
          fields.add(sb.toString());
          return fields;
        }
        if (c == '\r') {
          int d = read();
          if (d != '\n') pushed = d;
          fields.add(sb.toString());
          return fields;
        }
        sb.append((char) c);
        c = read();
      }
    }
  }

  // ------------------------------------------------------------------ table decoding

  private static ByteBuffer bytes(String[][] groups) {
    StringBuilder sb = new StringBuilder();
    for (String[] g : groups) for (String s : g) sb.append(s);
    return ByteBuffer.wrap(Base64.getDecoder().decode(sb.toString())).order(ByteOrder.LITTLE_ENDIAN);
  }

  static float[] f32(int n, String[]... groups) {
    float[] v = new float[n];
    bytes(groups).asFloatBuffer().get(v);
    return v;
  }

  static double[] f64(int n, String[]... groups) {
    double[] v = new double[n];
    bytes(groups).asDoubleBuffer().get(v);
    return v;
  }

  static int[] i32(int n, String[]... groups) {
    int[] v = new int[n];
    bytes(groups).asIntBuffer().get(v);
    return v;
  }

  static String[] strs(int n, String[]... groups) {
    ByteBuffer bb = bytes(groups);
    String[] v = new String[n];
    for (int i = 0; i < n; i++) {
      int len = bb.getInt();
      if (len < 0) continue;
      byte[] b = new byte[len];
      bb.get(b);
      v[i] = new String(b, StandardCharsets.UTF_8);
    }
    return v;
  }

  static String[][] domains(String[] flat, int[] len, String[] response) {
    String[][] d = new String[len.length + 1][];
    int p = 0;
    for (int i = 0; i < len.length; i++) {
      if (len[i] < 0) continue;
      d[i] = new String[len[i]];
      System.arraycopy(flat, p, d[i], 0, len[i]);
      p += len[i];
    }
    d[len.length] = response;
    return d;
  }

  static double[][] split(double[] flat, int[] len) {
    double[][] d = new double[len.length][];
    int p = 0;
    for (int i = 0; i < len.length; i++) {
      if (len[i] < 0) continue;
      d[i] = new double[len[i]];
      System.arraycopy(flat, p, d[i], 0, len[i]);
      p += len[i];
    }
    return d;
  }

  private static int[][] catMap(int[] flat) {
    int[][] m = new int[CAT_COL.length][];
    int p = 0;
    for (int j = 0; j < CAT_COL.length; j++) {
      int n = DOMAINS[CAT_COL[j]].length;
      m[j] = new int[n];
      System.arraycopy(flat, p, m[j], 0, n);
      p += n;
    }
    return m;
  }

  // ------------------------------------------------------------------ data holders

${holders}}
"""
