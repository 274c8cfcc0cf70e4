"""Write a fitted model as an H2O-3 Deep Learning MOJO (the zip H2O's genmodel scores).

:func:`write_mojo` writes the format that h2o-genmodel's ``DeeplearningMojoReader``
(MOJO version 1.10, H2O-3 3.46) reads, so H2O's own tools score our models:
``hex.genmodel.MojoModel.load``, ``EasyPredictModelWrapper``, ``PredictCsv`` and
``h2o.mojo_predict_pandas``. The zip holds

* ``model.ini``: an ``[info]`` section of ``key = value`` lines (the common MOJO keys:
  algorithm, category, column and class counts, the binomial threshold, the class
  distributions of ``balance_classes``; then the Deep Learning keys: numeric and
  categorical input counts, categorical offsets, ``norm_mul`` / ``norm_sub``,
  ``norm_resp_mul`` / ``norm_resp_sub``, ``use_all_factor_levels``, activation,
  distribution, layer sizes, hidden dropout ratios and every layer's weights and biases),
  a ``[columns]`` section (categorical predictors, then numeric predictors, then the
  response) and a ``[domains]`` section naming one level file per categorical column;
* ``domains/dNNN.txt``: the levels of each categorical column (and of the response), one
  quoted level per line.

How our preprocessing maps onto genmodel's
------------------------------------------
genmodel one-hot encodes each categorical column into a block of ``cat_offsets``, with an
extra last slot for a missing level (the NA slot); a level index past the domain, and a
level EasyPredictModelWrapper does not know (with ``setConvertUnknownCategoricalLevelsToNa``),
go to that slot, as ours do. With ``use_all_factor_levels=False`` level 0 is the all-zeros
reference in both. Levels are written in the order the network encodes them (so
SortByResponse's reordering is kept). Numerics become ``(x - norm_sub) * norm_mul`` and a
missing numeric becomes 0 after that; we impute the training mean, i.e. ``norm_sub`` is
written as the mean and, where our scaling subtracts something else (``standardize=False``),
the difference is folded into the first layer's biases, which
gives the same pre-activations. The weights are stored as the float32 values we train;
genmodel reads the biases as doubles.

What genmodel cannot express is refused with :class:`NotImplementedError` naming the
parameter: an offset column (genmodel's Deep Learning MOJO ignores offsets), the
categorical encodings Binary, Eigen, LabelEncoder and EnumLimited, ``max_categorical_features``
hashing, and an autoencoder whose numeric inputs are not scaled around their mean (its
reconstruction is un-normalised with the same ``norm_sub`` that its inputs are centred on).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import math
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..model import FittedModel, check_stable
from ..preprocessing.encodings import level_key
from .java import _jdouble

__all__ = ["write_mojo", "mojo_files", "is_mojo", "download_mojo", "save_mojo", "genmodel_jar",
           "copy_genmodel_jar", "MOJO_VERSION"]

#: the MOJO format version written (what H2O-3 3.46's DeeplearningMojoReader reads)
MOJO_VERSION = "1.10"

#: encodings whose one-hot layout genmodel reproduces
_ENCODINGS = frozenset({"AUTO", "OneHotInternal", "SortByResponse"})

#: H2O's DistributionFamily names for a regression / autoencoder model
_FAMILIES = frozenset({"gaussian", "poisson", "gamma", "tweedie", "huber", "laplace",
                       "quantile"})


# --------------------------------------------------------------------------- values


def _num(x: float) -> str:
    """A double as Java's ``Double.parseDouble`` reads it back exactly."""
    x = float(x)
    if math.isfinite(x):
        return _jdouble(x)
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def check_bool(name: str, value: Any) -> None:
    """Refuse a flag that is not a bool (``TypeError`` naming it)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool; got {value!r}.")


def _doubles(values: Any) -> str:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    return "[" + ",".join(_num(v) for v in arr) + "]"


def _ints(values: Any) -> str:
    return "[" + ",".join(str(int(v)) for v in np.asarray(values).reshape(-1)) + "]"


def _bool(b: bool) -> str:
    return "true" if b else "false"


def _escape(level: str) -> str:
    """A level as one line of a domain file (``escape_domain_values``: ``\\``, ``\\n``, ``\\r``)."""
    return level.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _domain_file(levels: Sequence[str]) -> bytes:
    """One escaped level per line (genmodel trims each line and unescapes it)."""
    return "".join(_escape(s) + "\n" for s in levels).encode("utf-8")


# --------------------------------------------------------------------------- checks


def _refuse(what: str) -> NotImplementedError:
    return NotImplementedError(f"Cannot write an H2O MOJO of this model: {what}")


def _check(model: FittedModel) -> None:
    if not isinstance(model, FittedModel):
        raise TypeError(f"write_mojo needs a FittedModel (an estimator's model_); got "
                        f"{type(model).__name__}.")
    check_stable(model, "export")
    info = model.data_info
    if model.task not in ("classification", "regression", "autoencoder"):
        raise _refuse(f"task {model.task!r} (classification, regression and autoencoder "
                      "models are supported).")
    if model.offset_column is not None:
        raise _refuse(f"offset_column={model.offset_column!r}: H2O's Deep Learning MOJO "
                      "scorer ignores offsets. Train without an offset column to export.")
    if info.categorical_encoding not in _ENCODINGS:
        raise _refuse(f"categorical_encoding={info.categorical_encoding!r}: genmodel's Deep "
                      "Learning MOJO one-hot encodes every categorical column (allowed: "
                      "'AUTO', 'OneHotInternal', 'SortByResponse').")
    if info.hashing:
        raise _refuse(f"max_categorical_features={info.max_categorical_features} hashes "
                      "categorical levels into shared inputs; genmodel gives each level its "
                      "own input. Use a max_categorical_features above the level count.")
    kinds = {k for k, _, _ in info.num_sources} - {"numeric"}
    if kinds:
        raise _refuse(f"encoded numeric inputs {sorted(kinds)} (categorical_encoding="
                      f"{info.categorical_encoding!r}).")
    spec = model.state.spec
    if int(spec.units[0]) != int(info.n_inputs):
        raise ValueError(f"Inconsistent model: the network has {spec.units[0]} inputs but "
                         f"the preprocessing produces {info.n_inputs}.")


def _encoded_domain(info: Any, col: Any) -> list[str]:
    """The levels of a one-hot column in the order of its network inputs."""
    raw = list(info.cat_raw_levels[col])
    lmap = np.asarray(info.cat_level_map[col], dtype=np.int64)
    n = len(info.cat_levels[col])
    if n != len(raw) or sorted(lmap.tolist()) != list(range(n)):
        raise _refuse(f"column {col!r} maps several training levels onto one input "
                      f"(categorical_encoding={info.categorical_encoding!r}); genmodel "
                      "gives each level its own input.")
    domain = [""] * n
    for i, j in enumerate(lmap.tolist()):
        domain[j] = level_key(raw[i])
    padded = [s for s in domain if s != s.strip() or not s]
    if padded:
        raise _refuse(f"column {col!r} has the level {padded[0]!r}: genmodel reads levels with "
                      "their leading and trailing white space removed, so it would not "
                      "recognise it. Strip the levels before training.")
    if len(set(domain)) != n:
        raise _refuse(f"column {col!r} has levels that are equal as strings "
                      f"({sorted(domain)[:5]}...); a MOJO matches levels by their text.")
    return domain


# --------------------------------------------------------------------------- contents


def _layers(model: FittedModel, shift: np.ndarray | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer its weights in genmodel's order and its biases (float64)."""
    spec = model.state.spec
    W = np.asarray(model.state.W, dtype=np.float32).reshape(-1)
    B = np.asarray(model.state.B, dtype=np.float32).reshape(-1)
    num_start = int(model.data_info.cat_offsets[-1])
    out = []
    for l in range(spec.n_layers):
        rows, k, cols = int(spec.units[l + 1]), int(spec.k[l]), int(spec.units[l])
        Wl = W[spec.w_off[l] : spec.w_off[l + 1]].reshape(rows * k, cols)
        Bl = B[spec.b_off[l] : spec.b_off[l + 1]].astype(np.float64)
        if l == 0 and shift is not None:
            # the imputation shift of the numeric inputs, moved into the biases
            Bl = Bl + Wl[:, num_start:].astype(np.float64) @ shift
        # ours: row (unit * k + piece), column input; genmodel: unit, input, piece
        flat = Wl.reshape(rows, k, cols).transpose(0, 2, 1).reshape(-1)
        out.append((flat, Bl))
    return out


def _info_lines(model: FittedModel, columns: list[str], n_domains: int) -> list[tuple[str, str]]:
    info = model.data_info
    spec = model.state.spec
    task = model.task
    classification = task == "classification"
    k = model.n_classes if classification else 1
    if classification:
        category = "Binomial" if k == 2 else "Multinomial"
    else:
        category = "AutoEncoder" if task == "autoencoder" else "Regression"
    threshold = 0.5
    if model.binomial:
        # H2O labels class 1 when p1 >= threshold; the arg-max rule is p1 > p0
        threshold = (model.threshold if model.label_rule == "threshold"
                     else float(np.nextafter(0.5, 1.0)))
    correction = model.class_priors
    prior = model_dist = None
    if correction is not None:
        prior, model_dist = correction
    elif classification and info.class_counts is not None and info.class_counts.sum() > 0:
        prior = info.class_counts / info.class_counts.sum()
    h = hashlib.sha1(np.ascontiguousarray(model.state.W).tobytes())
    h.update(np.ascontiguousarray(model.state.B).tobytes())
    uuid = int.from_bytes(h.digest()[:8], "big", signed=True)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return [
        ("h2o_version", "3.46.0"),
        ("mojo_version", MOJO_VERSION),
        ("license", "Apache License Version 2.0"),
        ("algo", "deeplearning"),
        ("algorithm", "Deep Learning"),
        ("endianness", "LITTLE_ENDIAN"),
        ("category", category),
        ("uuid", str(uuid)),
        ("supervised", _bool(task != "autoencoder")),
        ("n_features", str(len(columns) - (task != "autoencoder"))),
        ("n_classes", str(k)),
        ("n_columns", str(len(columns))),
        ("n_domains", str(n_domains)),
        ("balance_classes", _bool(correction is not None)),
        ("default_threshold", _num(threshold)),
        ("prior_class_distrib", "null" if prior is None else _doubles(prior)),
        ("model_class_distrib", "null" if model_dist is None else _doubles(model_dist)),
        ("timestamp", stamp),
        ("written_by", "dask_deeplearn"),
        ("escape_domain_values", "true"),
        ("mini_batch_size", str(int(model.params.get("mini_batch_size") or 1))),
    ]


def _family(model: FittedModel) -> str:
    if model.task == "classification":
        return "bernoulli" if model.binomial else "multinomial"
    d = str(model.distribution).lower()
    return d if d in _FAMILIES else "gaussian"


def mojo_files(model: FittedModel) -> dict[str, bytes]:
    """The members of the MOJO zip of ``model``: name -> bytes.

    Parameters
    ----------
    model : FittedModel
        A fitted classifier, regressor or autoencoder (an estimator's ``model_``).

    Returns
    -------
    dict of str to bytes
        ``model.ini`` and ``domains/dNNN.txt``.

    Raises
    ------
    NotImplementedError
        A feature genmodel cannot express (the message names the parameter).
    UnstableModelError
        The weights are not finite.
    """
    _check(model)
    info = model.data_info
    spec = model.state.spec
    cat_cols = list(info.cat_columns)
    num_cols = [src for _, src, _ in info.num_sources]
    columns = [str(c) for c in cat_cols + num_cols]
    domains: list[list[str] | None] = [_encoded_domain(info, c) for c in cat_cols]
    domains += [None] * len(num_cols)
    if model.task != "autoencoder":
        response = "response" if info.response is None else str(info.response)
        columns.append(response)
        domains.append([str(c) for c in model.classes] if model.task == "classification"
                       else None)
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise _refuse(f"column names {dup} are equal as strings; a MOJO names columns by text.")

    mul = np.asarray(info.num_mul, dtype=np.float64)
    sub = np.asarray(info.num_sub, dtype=np.float64)
    fill = np.asarray(info.num_fill, dtype=np.float64)
    # genmodel: missing -> 0 after (x - norm_sub) * norm_mul; ours: the mean, so centre on it
    shift = (fill - sub) * mul
    if model.task == "autoencoder" and np.any(shift != 0):
        bad = [num_cols[i] for i in np.flatnonzero(shift != 0)][:5]
        raise _refuse(
            f"an autoencoder imputes a missing numeric input with its training mean, but its "
            f"inputs {bad} are scaled from another origin (the NORMALIZE transform), and "
            "genmodel un-normalises the reconstruction from the same origin it imputes a "
            "missing value at. Autoencoders without numeric inputs can be exported.")
    layers = _layers(model, shift if np.any(shift != 0) else None)

    n_domains = sum(d is not None for d in domains)
    lines = _info_lines(model, columns, n_domains)
    resp_std = model.task == "regression" and info.response_mean is not None
    mean_imp = info.missing_values_handling == "MeanImputation"
    offsets = np.asarray(info.cat_offsets, dtype=np.int64)
    lines += [
        ("nums", str(len(num_cols))),
        ("cats", str(len(cat_cols))),
        ("cat_offsets", _ints(offsets)),
        ("norm_mul", _doubles(mul) if len(num_cols) else "null"),
        ("norm_sub", _doubles(fill) if len(num_cols) else "null"),
        ("norm_resp_mul", _doubles([1.0 / info.response_sd]) if resp_std else "null"),
        ("norm_resp_sub", _doubles([info.response_mean]) if resp_std else "null"),
        ("use_all_factor_levels", _bool(bool(info.use_all_factor_levels))),
        ("activation", str(spec.activation)),
        ("distribution", _family(model)),
        ("mean_imputation", _bool(mean_imp)),
    ]
    if mean_imp and cat_cols:
        # a missing level goes to the column's NA slot, the level after the domain
        lines.append(("cat_modes", _ints([len(d) for d in domains[: len(cat_cols)]])))
    lines.append(("neural_network_sizes", _ints(spec.units)))
    for l, (w, b) in enumerate(layers):
        lines.append((f"weight_layer{l}", _doubles(w)))
        lines.append((f"bias_layer{l}", _doubles(b)))
    dropout = [float(r) for r in spec.hidden_dropout_ratios] + [0.0]
    lines.append(("hidden_dropout_ratios", _doubles(dropout)))
    lines.append(("_genmodel_encoding", "AUTO"))

    text = io.StringIO()
    text.write("[info]\n")
    for key, value in lines:
        text.write(f"{key} = {value}\n")
    text.write("\n[columns]\n")
    for c in columns:
        if "\n" in c or "\r" in c or c != c.strip() or not c:
            raise _refuse(f"column name {c!r}: model.ini holds one name per line, trimmed.")
        text.write(c + "\n")
    text.write("\n[domains]\n")
    files: dict[str, bytes] = {}
    d = 0
    for i, dom in enumerate(domains):
        if dom is None:
            continue
        name = f"d{d:03d}.txt"
        text.write(f"{i}: {len(dom)} {name}\n")
        files[f"domains/{name}"] = _domain_file(dom)
        d += 1
    return {"model.ini": text.getvalue().encode("utf-8"), **files}


# --------------------------------------------------------------------------- the file


def is_mojo(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a zip file holding a ``model.ini`` (a MOJO)."""
    try:
        with zipfile.ZipFile(path) as z:
            return "model.ini" in z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def write_mojo(model: FittedModel, path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Write ``model`` as an H2O-3 Deep Learning MOJO zip file.

    Parameters
    ----------
    model : FittedModel
        A fitted classifier, regressor or autoencoder (an estimator's ``model_``).
    path : str or PathLike
        The zip file to write; its folder must exist.
    force : bool, default=False
        Replace an existing MOJO at ``path``. A file that is not a MOJO is never replaced.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    FileExistsError
        ``path`` exists (and ``force`` is False, or it is not a MOJO).
    FileNotFoundError
        The folder of ``path`` does not exist.
    NotImplementedError
        A feature genmodel cannot express; the message names the parameter.

    Notes
    -----
    The file is written to a temporary name in the same folder and renamed, so a failed
    write never leaves half a MOJO under ``path``.
    """
    target = Path(path)
    files = mojo_files(model)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"Cannot write the MOJO {str(target)!r}: folder "
                                f"{str(target.parent)!r} does not exist.")
    if target.exists() or target.is_symlink():
        if target.is_dir() or not is_mojo(target):
            raise FileExistsError(f"{str(target)!r} exists and is not a MOJO; it is never "
                                  "replaced. Choose another path.")
        if not force:
            raise FileExistsError(f"The MOJO {str(target)!r} exists; pass force=True to "
                                  "replace it.")
    fd, tmp = tempfile.mkstemp(prefix=".mojo-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in files.items():
                z.writestr(name, data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# --------------------------------------------------------------------------- H2O's calls


def artifact_name(model: FittedModel) -> str:
    """The file stem H2O gives a model's artifacts: its id (the given or generated
    ``model_id``; the class name for a model value built without a fit)."""
    return str(model.model_id) if model.model_id else model.estimator


def genmodel_jar() -> Path:
    """The jar holding h2o-genmodel's classes: ``h2o.jar`` of the installed ``h2o`` wheel.

    Raises
    ------
    FileNotFoundError
        The ``h2o`` package (or its jar) is not installed.
    """
    import importlib.util

    spec = importlib.util.find_spec("h2o")
    jar = None
    if spec is not None and spec.origin:
        jar = Path(spec.origin).parent / "backend" / "bin" / "h2o.jar"
    if jar is None or not jar.is_file():
        raise FileNotFoundError(
            "get_genmodel_jar=True copies h2o-genmodel's classes from the h2o package's "
            "h2o.jar, and the h2o package is not installed (pip install h2o); call with "
            "get_genmodel_jar=False, or get h2o-genmodel.jar from Maven Central.")
    return jar


def copy_genmodel_jar(folder: Path, name: str = "") -> Path:
    """Copy :func:`genmodel_jar` into ``folder`` as ``name`` (default ``h2o-genmodel.jar``).

    Raises
    ------
    FileExistsError
        The file exists (it is never replaced).
    """
    import shutil

    source = genmodel_jar()
    target = folder / (name or "h2o-genmodel.jar")
    if target.exists() or target.is_symlink():
        raise FileExistsError(f"{str(target)!r} exists and is never replaced; pass another "
                              "genmodel_name.")
    shutil.copyfile(source, target)
    return target


def download_mojo(model: FittedModel, path: str | os.PathLike[str] = ".",
                  get_genmodel_jar: bool = False, genmodel_name: str = "") -> str:
    """H2O's ``model.download_mojo(path, get_genmodel_jar, genmodel_name)``, written locally.

    ``path`` is a folder (existing, or ending with a separator: created) that receives
    ``<model_id>.zip``, or the name of the zip file itself. An existing file is never
    replaced. With ``get_genmodel_jar`` the genmodel jar is copied next to the MOJO.

    Returns
    -------
    str
        The path of the MOJO written.
    """
    check_bool("get_genmodel_jar", get_genmodel_jar)
    p = Path(path)
    if p.is_dir() or str(path).endswith(("/", os.sep)):
        p.mkdir(parents=True, exist_ok=True)
        p = p / f"{artifact_name(model)}.zip"
    if get_genmodel_jar:
        genmodel_jar()  # refuse before writing anything
    written = write_mojo(model, p)
    if get_genmodel_jar:
        copy_genmodel_jar(written.parent, genmodel_name)
    return str(written)


def save_mojo(model: FittedModel, path: str | os.PathLike[str] = "", force: bool = False,
              filename: str | None = None) -> str:
    """H2O's ``model.save_mojo(path, force, filename)``, written locally.

    Writes ``<path>/<filename>`` (default ``<model_id>.zip``; ``path=""``: the current
    folder, created if needed). ``force=True`` replaces a MOJO written there before; a file
    that is not a MOJO is never replaced.

    Returns
    -------
    str
        The path of the MOJO written.
    """
    check_bool("force", force)
    folder = Path(os.getcwd() if str(path) == "" else path)
    name = f"{artifact_name(model)}.zip" if filename is None else str(filename)
    target = folder / name
    if not name or target.parent != folder:
        raise ValueError(f"filename={filename!r} must name a file inside {str(folder)!r} "
                         "(no path separator).")
    folder.mkdir(parents=True, exist_ok=True)
    return str(write_mojo(model, target, force=force))
