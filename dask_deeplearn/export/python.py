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
* autoencoders (as H2O's autoencoder scoring): the reconstruction with numeric outputs un-normalised
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
from importlib import resources
from typing import Any

import numpy as np

from ..model import FittedModel, HasFittedModel, as_fitted, check_stable
from .constants import ACTIVATION_NAMES, NUM_KINDS, ScoringConstants

__all__ = ["export_python"]

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


def _runtime() -> str:
    """The fixed scoring code of every generated module (``templates/runtime.py.txt``)."""
    return resources.files(__package__).joinpath("templates", "runtime.py.txt").read_text(
        encoding="utf-8")


# --------------------------------------------------------------------------- generator


def _check_model(obj: FittedModel | HasFittedModel) -> FittedModel:
    """The fitted model of ``obj``, if the numpy runtime can score it.

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
        A task other than classification, regression or autoencoder.
    """
    model = as_fitted(obj, "export_python needs a fitted dask_deeplearn estimator; {name} "
                           "has no 'state_' attribute (call fit / train first).")
    check_stable(model, "export")
    if model.task not in ("classification", "regression", "autoencoder"):
        raise NotImplementedError(
            "export_python supports classifiers, regressors and autoencoders, not task "
            f"{model.task!r}."
        )
    return model


def _check_layout(t: ScoringConstants) -> None:
    """Raise unless the runtime implements ``t`` and its parts agree.

    Raises
    ------
    NotImplementedError
        An activation, output layer or encoded input kind the runtime does not implement.
    ValueError
        Weight buffers, network and preprocessing layout that do not agree.
    """
    for code in t.act:
        if code not in ACTIVATION_NAMES:
            raise NotImplementedError(f"export_python: unknown activation code {code}.")
    if (t.task == "classification") != (t.output_layer == "softmax") or \
            (t.task == "autoencoder") != (t.output_layer == "autoencoder"):
        raise NotImplementedError(
            f"export_python: a {t.task} model with a {t.output_layer!r} output layer is not "
            "supported."
        )
    if t.task == "autoencoder" and t.act_names[-1] not in ("tanh", "rectifier"):
        raise NotImplementedError(
            "export_python: an autoencoder's output activation must be Tanh or Rectifier."
        )
    if t.n_weights != t.w_off[-1] or t.n_biases != t.b_off[-1]:
        raise ValueError("The model's weight buffers do not match its network spec.")
    if t.units[0] != t.n_inputs:
        raise ValueError("The model's network inputs do not match its DataInfo.")
    for kind, _, _ in t.num_sources:
        if kind not in NUM_KINDS:
            raise NotImplementedError(f"export_python: encoded column kind {kind!r} is not supported.")
    if t.hashing and t.hash_slots.size and (
            t.hash_slots.min() < 0 or t.hash_slots.max() >= t.max_categorical_features):
        raise ValueError("Invalid hashing table in the model's DataInfo.")
    if t.num_start + len(t.num_sources) != t.n_inputs:
        raise ValueError("The model's DataInfo layout is inconsistent (input count).")
    if len(t.input_names) != t.n_inputs:
        raise ValueError("The model's DataInfo layout is inconsistent (input names).")


def _docstring(t: ScoringConstants) -> str:
    """The generated module's docstring."""
    hidden = t.units[1:-1]
    n_params = t.n_weights + t.n_biases
    if t.task == "autoencoder":
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
    hashed = f", hashed into {t.max_categorical_features} inputs" if t.hashing else ""
    return f'''"""Standalone scorer of a {t.estimator} ({t.task}, {t.distribution} distribution).

Generated by ``dask_deeplearn.export.python.export_python``; needs only numpy.

Network: {t.units[0]} inputs, hidden layers {hidden} ({t.activation}),
{t.units[-1]} output(s) ({t.output_layer}); {n_params:,} weights and biases.
Categorical encoding: {t.categorical_encoding}{hashed}.

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


def _array(values: np.ndarray | None) -> str:
    return "None" if values is None else "np.array(" + _floats(values) + ")"


def _header(t: ScoringConstants) -> str:
    """Source of the generated module's docstring, imports and model constants.

    Parameters
    ----------
    t : ScoringConstants
        The table of a fitted classifier, regressor or autoencoder.

    Returns
    -------
    str
        Everything model-specific; the fixed scoring code (:func:`_runtime`) follows it.

    Raises
    ------
    NotImplementedError
        An activation, output layer or encoded input kind the runtime does not implement,
        or a value that cannot be written as Python source (see :func:`_lit`).
    ValueError
        Weight buffers, network and preprocessing layout that do not agree.
    """
    _check_layout(t)
    domains = [(c, d) for c, d in zip(t.columns, t.domains) if d is not None]
    cats = []
    offs = t.cat_offsets
    for i, c in enumerate(t.cat_columns):
        lmap = t.cat_level_map[c]
        identity = lmap.size > 0 and np.array_equal(lmap, np.arange(lmap.size))
        lmap_src = "None" if identity else _lit([int(v) for v in lmap])
        cats.append(
            f"    ({_lit(c)}, {_lit(t.cat_raw_levels[c])}, {lmap_src}, "
            f"{int(offs[i])}, {int(offs[i + 1] - offs[i])}),"
        )
    num = [f"    ({_lit(k)}, {_lit(s)}, {int(a)})," for k, s, a in t.num_sources]
    encoded = [f"    {_lit(c)}: {_lit(list(v))}," for c, v in t.encoded_levels.items()]
    eigen = [f"    {_lit(c)}: {_floats(v)}," for c, v in t.eigen_vectors.items()]
    hash_src = "None" if t.hash_slots is None else _b64(t.hash_slots.astype("<i4").tobytes())
    parts = [
        _docstring(t),
        "import base64 as _base64",
        "import csv as _csv",
        "import math as _math",
        "import os as _os",
        "import sys as _sys",
        "",
        "import numpy as np",
        "",
        f"TASK = {_lit(t.task)}",
        f"DISTRIBUTION = {_lit(t.distribution)}",
        "#: input columns the model reads, in the order it expects them",
        f"COLUMNS = {_lit(t.columns)}",
        "#: offset column (also required), or None",
        f"OFFSET_COLUMN = {_lit(t.offset_column)}",
        "#: class labels in probability-column order (None for a regressor or an autoencoder)",
        f"CLASSES = {_lit(t.classes)}",
        "#: categorical column -> training levels (values are matched against these)",
        "DOMAINS = {",
        *[f"    {_lit(c)}: {_lit(v)}," for c, v in domains],
        "}",
        "#: binomial model: H2O's max-F1 threshold on p(class 1) (the model's threshold_),",
        "#: None otherwise",
        f"THRESHOLD = {_lit(t.threshold)}",
        "#: binomial labels: \"threshold\" (class 1 when p1 >= THRESHOLD, as H2O's",
        "#: DeepLearningEstimator) or \"argmax\" (the most probable class, first on a tie,",
        "#: as the scikit-learn estimators); multinomial labels are always the arg-max",
        f"LABEL_RULE = {_lit(t.label_rule)}",
        "#: columns of the CSV output (and of the model's H2O prediction frame; for an",
        "#: autoencoder, of its reconstruction)",
        f"OUTPUT_COLUMNS = {_lit(t.output_names)}",
        "#: names of the expanded network inputs (one-hot slots, then numerics)",
        f"INPUT_NAMES = {_lit(t.input_names)}",
        f"CATEGORICAL_ENCODING = {_lit(t.categorical_encoding)}",
        "",
        "# preprocessing (DataInfo)",
        f"_N_INPUTS = {t.n_inputs}",
        f"_NUM_START = {t.num_start}",
        f"_USE_ALL_FACTOR_LEVELS = {t.use_all_factor_levels!r}",
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
        f"_NUM_MUL = {_floats(t.num_mul)}",
        f"_NUM_SUB = {_floats(t.num_sub)}",
        f"_NUM_FILL = {_floats(t.num_fill)}",
        f"_HASH_SLOTS_B64 = {hash_src}",
        f"_RESPONSE_MEAN = {_lit(t.response_mean)}",
        f"_RESPONSE_SD = {_lit(t.response_sd)}",
        f"_LOG_LINK = {t.log_link!r}",
        "# balance_classes: original and balanced class frequencies (probability correction)",
        f"_PRIOR = {_array(t.prior)}",
        f"_MODEL_DIST = {_array(t.model_dist)}",
        "",
        "# network (rows = receiving units; Maxout: k = 2 channels per unit)",
        f"_UNITS = {_lit(t.units)}",
        f"_K = {_lit(t.k)}",
        f"_ACT = {_lit(t.act_names)}",
        f"_DROPOUT = {_floats(t.dropout)}",
        f"_W_OFF = {_lit(t.w_off)}",
        f"_B_OFF = {_lit(t.b_off)}",
        f"_W_B64 = {_b64(t.W.astype('<f4').tobytes())}",
        f"_B_B64 = {_b64(t.B.astype('<f4').tobytes())}",
    ]
    return "\n".join(parts)


def export_python(model: FittedModel | HasFittedModel, path: str | pathlib.Path) -> pathlib.Path:
    """Write a standalone numpy-only Python scorer of a fitted model.

    Parameters
    ----------
    model : FittedModel or fitted estimator
        A fitted classifier, regressor or autoencoder (DeepLearningClassifier,
        DeepLearningRegressor, DeepLearningAutoEncoder or DeepLearningEstimator, or its
        ``model_``).
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
    table = ScoringConstants.from_fitted(_check_model(model))
    source = _header(table) + "\n" + _runtime()
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path
