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
  as raw activations, as H2O's autoencoder POJO. ``preds`` needs
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
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, Sequence

import numpy as np

from ..model import FittedModel, HasFittedModel, as_fitted, check_stable
from ..preprocessing.encodings import level_key
from .constants import ACTIVATIONS, NUM_KINDS, OUTPUT_LAYERS, ScoringConstants

__all__ = ["export_java"]

#: Characters per base64 string constant (a constant may hold 65,535 UTF-8 bytes).
_CHUNK_CHARS = 60_000
#: Base64 chunks per nested holder class.
_CHUNKS_PER_HOLDER = 16
#: Arrays up to this length are written as Java literals, longer ones as base64 blobs.
_INLINE_MAX = 128
#: Strings longer than this force the base64 form of a string table.
_INLINE_STR_MAX = 200

_SUPPORTED_ENCODINGS = frozenset(
    {"AUTO", "OneHotInternal", "Binary", "Eigen", "LabelEncoder", "SortByResponse", "EnumLimited"}
)

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


def _default_class_name(model: FittedModel) -> str:
    h = hashlib.sha1()
    h.update(np.ascontiguousarray(model.state.W).tobytes())
    h.update(np.ascontiguousarray(model.state.B).tobytes())
    base = re.sub(r"[^A-Za-z0-9_]", "_", model.estimator) or "DeepLearningModel"
    if not re.match(r"[A-Za-z_]", base):
        base = "M_" + base
    return f"{base}_{h.hexdigest()[:10]}"


def _resolve_path(model: FittedModel, path: str | Path,
                  class_name: str | None) -> tuple[Path, str]:
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


def _check_model(obj: FittedModel | HasFittedModel) -> FittedModel:
    """The fitted model of ``obj``, if the Java scorer can reproduce it.

    Parameters
    ----------
    obj : FittedModel or fitted estimator

    Returns
    -------
    FittedModel

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
    model = as_fitted(obj, "export_java needs a fitted dask_deeplearn estimator; got an "
                           "unfitted {name} (call fit / train first).")
    check_stable(model, "export")
    info = model.data_info
    if model.task not in OUTPUT_LAYERS:
        raise NotImplementedError(f"export_java does not support task {model.task!r}.")
    if info.categorical_encoding not in _SUPPORTED_ENCODINGS:
        raise NotImplementedError(
            f"export_java does not support categorical_encoding={info.categorical_encoding!r}."
        )
    kinds = {k for k, _, _ in info.num_sources} - set(NUM_KINDS)
    if kinds:
        raise NotImplementedError(f"export_java does not support encoded input kind(s) {sorted(kinds)}.")
    spec = model.state.spec
    if int(spec.units[0]) != int(info.n_inputs):
        raise ValueError(
            f"Inconsistent model: the network has {spec.units[0]} inputs but the "
            f"preprocessing produces {info.n_inputs}."
        )
    if spec.output != OUTPUT_LAYERS[model.task]:
        raise NotImplementedError(
            f"export_java: a {model.task} model with a {spec.output!r} output layer is not "
            "supported."
        )
    if model.task == "autoencoder" and (
            int(spec.units[-1]) != int(info.n_inputs)
            or int(spec.act[-1]) not in (ACTIVATIONS["tanh"], ACTIVATIONS["rectifier"])):
        raise NotImplementedError(
            "export_java: an autoencoder needs one Tanh or Rectifier output per input.")
    return model


def _codes() -> str:
    """Named Java constants for the activation and encoded-input codes of the tables."""
    lines = ["  // codes of ACT and NUM_KIND"]
    lines += [f"  static final int {name.upper()} = {code};" for name, code in ACTIVATIONS.items()]
    lines += [f"  static final int KIND_{name.upper()} = {code};"
              for name, code in NUM_KINDS.items()]
    return "\n".join(lines)


def _substitutions(c: ScoringConstants, class_name: str, t: _Tables) -> dict[str, str]:
    """The model-specific Java declarations, as template substitutions."""
    names = [str(col) for col in c.columns]
    col_index = {col: i for i, col in enumerate(c.columns)}
    # input domains: raw training levels, written as DataInfo matches them (level_key)
    domains = [None if d is None else [level_key(v) for v in d] for d in c.domains]
    flat_levels = [lev for d in domains if d is not None for lev in d]
    domain_len = [-1 if d is None else len(d) for d in domains]

    cat_col = [col_index[col] for col in c.cat_columns]
    cat_map = [v for col in c.cat_columns for v in c.cat_level_map[col].tolist()]
    num_col = [col_index[s] for _, s, _ in c.num_sources]
    num_kind = [NUM_KINDS[k] for k, _, _ in c.num_sources]
    num_arg = [a for _, _, a in c.num_sources]
    eigen_flat: list[float] = []
    eigen_len = [-1] * len(names)
    for col, vec in c.eigen_vectors.items():
        eigen_len[col_index[col]] = len(vec)
        eigen_flat.extend(vec.tolist())

    classification = c.task == "classification"
    threshold = float("nan") if c.threshold is None else c.threshold
    resp_std = c.response_mean is not None

    def bool_(b: bool) -> str:
        return "true" if b else "false"

    def opt_str(s: Any) -> str:
        return "null" if s is None else _jstr(str(s))

    hidden = c.units[1:-1]
    desc = (
        f"{c.estimator}: {c.category.lower()}, inputs {c.units[0]}, hidden {hidden}, "
        f"outputs {c.units[-1]}, activation {c.activation}, distribution "
        f"{c.distribution}, categorical_encoding {c.categorical_encoding}"
        f"{', hashing to ' + str(c.max_categorical_features) + ' inputs' if c.hashing else ''}, "
        f"{c.n_weights + c.n_biases} weights/biases"
    )
    return {
        "cls": class_name,
        "description": _comment(desc),
        "category": c.category,
        "codes": _codes(),
        "names": t.strings(names),
        "response_column": opt_str(c.response_column),
        "offset_column": opt_str(c.offset_column),
        "response_domain": "null" if c.class_names is None else t.strings(c.class_names),
        "flat_levels": t.strings(flat_levels),
        "domain_len": t.ints(domain_len),
        "output_names": t.strings(c.output_names),
        "nclasses": str(len(c.class_names) if classification else 1),
        "threshold": _jdouble(threshold),
        "label_rule": opt_str(c.label_rule),
        "argmax_labels": bool_(not classification or c.label_rule == "argmax"),
        "prior": "null" if c.prior is None else t.doubles(c.prior),
        "model_dist": "null" if c.model_dist is None else t.doubles(c.model_dist),
        "n_inputs": str(c.n_inputs),
        "num_start": str(c.num_start),
        "use_all_levels": bool_(c.use_all_factor_levels),
        "cat_col": t.ints(cat_col),
        "cat_off": t.ints(c.cat_offsets),
        "cat_map": t.ints(cat_map),
        "hash_slot": t.ints(c.hash_slots) if c.hashing else "null",
        "num_col": t.ints(num_col),
        "num_kind": t.ints(num_kind),
        "num_arg": t.ints(num_arg),
        "eigen_flat": t.doubles(eigen_flat),
        "eigen_len": t.ints(eigen_len),
        "num_mul": t.doubles(c.num_mul),
        "num_sub": t.doubles(c.num_sub),
        "num_fill": t.doubles(c.num_fill),
        "units": t.ints(c.units),
        "k": t.ints(c.k),
        "act": t.ints(c.act),
        "dropout": t.doubles(c.dropout),
        "weights": t.floats(c.W),
        "biases": t.floats(c.B),
        "has_offset": bool_(c.offset_column is not None),
        "resp_std": bool_(resp_std),
        "resp_mean": _jdouble(c.response_mean if resp_std else 0.0),
        "resp_sd": _jdouble(c.response_sd if resp_std else 1.0),
        "log_link": bool_(c.log_link),
        "autoencoder": bool_(c.task == "autoencoder"),
    }


def export_java(model: FittedModel | HasFittedModel, path: str | Path,
                class_name: str | None = None) -> Path:
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
    fitted = _check_model(model)
    file, class_name = _resolve_path(fitted, path, class_name)
    file.write_text(java_source(fitted, class_name), encoding="utf-8")
    return file


def java_source(model: FittedModel, class_name: str, *, genmodel: bool = False) -> str:
    """The Java source of :func:`export_java` for ``model`` (checked with ``_check_model``).

    Parameters
    ----------
    model : FittedModel
    class_name : str
        A valid Java identifier.
    genmodel : bool, default=False
        Make the class extend ``hex.genmodel.GenModel`` (H2O's POJO contract: a public
        no-argument constructor, ``getModelCategory``, ``getUUID``, ``isSupervised``,
        ``nclasses``), so h2o-genmodel's ``EasyPredictModelWrapper`` scores it; it then
        compiles only with h2o-genmodel on the class path.

    Returns
    -------
    str
    """
    tables = _Tables(_check_class_name(class_name))
    c = ScoringConstants.from_fitted(model)
    subs = _substitutions(c, class_name, tables)
    subs["holders"] = "\n".join(tables.holders)
    subs["extends"] = " extends hex.genmodel.GenModel" if genmodel else ""
    subs["genmodel_members"] = _genmodel_members(c, class_name) if genmodel else ""
    return Template(_template()).substitute(subs)


def _genmodel_members(c: ScoringConstants, class_name: str) -> str:
    """The constructor and overrides that make the scorer an h2o-genmodel ``GenModel``."""
    h = hashlib.sha1(c.W.tobytes())
    h.update(c.B.tobytes())
    uuid = int.from_bytes(h.digest()[:8], "big", signed=True)
    return (
        "  // ------------------------------------------------------------------ hex.genmodel.GenModel\n\n"
        "  /** The model as h2o-genmodel sees it: NAMES, DOMAINS (response domain last). */\n"
        f"  public {class_name}() {{\n"
        "    super(NAMES, DOMAINS, RESPONSE_COLUMN);\n"
        "    _offsetColumn = OFFSET_COLUMN;\n"
        "  }\n\n"
        "  @Override public hex.ModelCategory getModelCategory() {\n"
        f"    return hex.ModelCategory.{c.category};\n"
        "  }\n\n"
        f'  @Override public String getUUID() {{ return "{uuid}"; }}\n\n'
        "  @Override public boolean isSupervised() { return !AUTOENCODER; }\n\n"
        "  @Override public int nclasses() { return NCLASSES; }\n\n"
        "  @Override public int getPredsSize(hex.ModelCategory mc) { return getPredsSize(); }\n\n"
    )


# --------------------------------------------------------------------------- Java source


def _template() -> str:
    """The scorer's Java source with ``${name}`` placeholders (``templates/scorer.java.txt``)."""
    return resources.files(__package__).joinpath("templates", "scorer.java.txt").read_text(
        encoding="utf-8")
