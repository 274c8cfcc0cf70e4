"""Safe model files: JSON for everything but the arrays, ``.npy`` for the arrays.

A model is saved as a directory or as a ``.zip`` holding

* ``model.json``: format name and version, package version, estimator class, its
  parameters, the effective parameters, the preprocessing plan (``DataInfo.to_dict``), the
  network shape, the scoring history and the metrics;
* ``W.npy``, ``B.npy``, ``OW.npy``, ``OB.npy``: weights, biases and optimiser state
  (plus ``AA.npy``, the running mean activations of a sparse autoencoder).

Loading never unpickles and never evaluates anything from the file: JSON is parsed,
arrays are read with ``np.load(allow_pickle=False)``; the file names its estimator class,
which :func:`dask_deeplearn.load_model` looks up in a fixed table (this module reads and
writes :class:`~dask_deeplearn.model.FittedModel` values and knows no estimator). A damaged, truncated, pickle-bearing or newer-format file is refused
with a :class:`~dask_deeplearn.exceptions.ModelFileError` naming the file and the problem.
Sizes are checked before anything is decompressed: ``model.json`` may declare at most
128 MiB, and each array's declared size and ``.npy`` header must match the float32 shape the
network spec in ``model.json`` gives (a zip bomb is refused unread).
Saves are atomic: everything is written under a temporary name, flushed to disk and then
renamed, so an interrupted save never leaves half a model under the real name; the next save
to the same target removes the temporaries (``.<name>.tmp-<pid>-<hex>``) of a killed one.
A save never replaces or deletes a file it did not write (see :func:`save_model`).
"""

from __future__ import annotations

import io
import json
import math
import os
import uuid
import warnings
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..exceptions import ModelFileError
from ..metrics._model_metrics import ModelMetrics
from ..model import (
    INIT_ONLY_PARAMS,
    FittedModel,
    HasFittedModel,
    as_fitted,
    check_stable,
    storable_params,
)
from ..network import ModelState, NetworkSpec
from ..preprocessing import DataInfo

__all__ = ["FORMAT", "FORMAT_VERSION", "save_model", "write_model", "read_model",
           "model_to_files"]

from ._targets import (  # noqa: F401  (_inside: the checkpoint writer's name check)
    _ARRAYS,
    _JSON,
    _MAX_JSON_BYTES,
    _NPY_HEADER_MAX,
    FORMAT,
    FORMAT_VERSION,
    _alive,
    _fsync_dir,
    _inside,
    _remove_ours,
    _save_target,
    _siblings,
    _write_file,
)

#: fitted attributes stored under "fitted" as plain JSON values: file name -> FittedModel
#: field (the estimators' attribute names, as the format has always used)
_FITTED_FIELDS = {
    "task_": "task", "distribution_": "distribution", "seed_": "seed",
    "nthreads_": "nthreads", "stop_reason_": "stop_reason", "n_iter_": "iterations",
    "epochs_": "epochs", "run_time_": "run_time", "events_": "events",
    "backend_": "backend", "n_features_in_": "n_features_in",
    "response_column_": "response_column", "_n_raw_features": "n_raw_features",
    "_fit_had_names": "had_names", "_raw_feature_names": "raw_feature_names",
    "classes_": "classes", "feature_names_in_": "feature_names_in",
    "worker_rows_": "worker_rows",
}
#: fields whose key is written only when set (as the estimators' attributes they were)
_OPTIONAL = frozenset({"backend", "n_features_in", "had_names", "raw_feature_names",
                       "classes", "feature_names_in", "worker_rows"})


def _recorded(model: FittedModel, field: str) -> bool:
    """Whether ``field`` is stored: optional fields when set; the response column of a
    ``train`` fit (even None), never one of a ``fit(X, y)``."""
    if field == "response_column":
        return model.response_column is not None or (model.had_names is True
                                                      and model.n_raw_features is None)
    return field not in _OPTIONAL or getattr(model, field) is not None


#: parameters that name places (an address, folders, files): never taken from a model file,
#: a loaded model has the default (None) and a fit on it uses what the caller sets
_PLACES = ("scheduler_address", "export_checkpoints_dir", *INIT_ONLY_PARAMS)


def _without_places(params: dict[str, Any], where: Path, stacklevel: int) -> dict[str, Any]:
    """``params`` read from a file, with places reset and an unusable ``model_id`` dropped."""
    out = {**params, **{name: None for name in _PLACES if name in params}}
    out["model_id"] = _usable_id(out.get("model_id"), where, stacklevel + 1)
    return out


def _usable_id(model_id: Any, where: Path, stacklevel: int) -> Any:
    """``model_id`` read from a file, or None (with a warning) when it is not a valid id."""
    from ..params import ModelId

    if model_id is not None and not ModelId().accepts(model_id):
        warnings.warn(f"{where}: the model_id {model_id!r} stored in the file is not a valid "
                      "model id (it could name a path); the model is loaded without it.",
                      UserWarning, stacklevel=stacklevel)
        return None
    return model_id


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else {"__float__": repr(f)}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    raise TypeError(f"{type(v).__name__} value {v!r} cannot be stored in a model file")


def _unjson(v: Any) -> Any:
    if isinstance(v, dict):
        if set(v) == {"__float__"}:
            return float(v["__float__"])
        return {k: _unjson(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_unjson(x) for x in v]
    return v


def _user_params(params: dict[str, Any]) -> dict[str, Any]:
    return {name: _jsonable(os.fspath(value) if isinstance(value, os.PathLike) else value)
            for name, value in storable_params(params).items()}


def _history_json(history: pd.DataFrame) -> dict[str, Any]:
    h = history.copy()
    if "timestamp" in h:
        h["timestamp"] = h["timestamp"].astype(str)
    return {"columns": list(h.columns), "data": [_jsonable(list(r)) for r in h.itertuples(index=False)]}


def _history_frame(d: dict[str, Any]) -> pd.DataFrame:
    h = pd.DataFrame(_unjson(d["data"]), columns=d["columns"])
    if "timestamp" in h:
        h["timestamp"] = pd.to_datetime(h["timestamp"])
    for c in h.columns:
        if c not in ("timestamp", "status"):  # (status: why a fit was interrupted, text)
            h[c] = pd.to_numeric(h[c], errors="coerce")
    return h


def model_to_files(model: FittedModel) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON document and the arrays describing a fitted model.

    Raises
    ------
    UnstableModelError
        The weights are not finite (an unstable model is never saved).
    """
    from .. import __version__

    check_stable(model, "save")
    state: ModelState = model.state
    fitted = {name: _jsonable(getattr(model, field)) for name, field in _FITTED_FIELDS.items()
              if _recorded(model, field)}
    # "checkpoint" is never stored: a loaded model continues from itself, not its source
    params = {k: v for k, v in storable_params(model.params).items() if k != "checkpoint"}
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "estimator": model.estimator,
        "params": _user_params(dict(model.user_params)),
        "effective_params": _jsonable(params),
        "data_info": model.data_info.to_dict(),
        "network": {**state.spec.to_dict(), "processed": int(state.processed)},
        "fitted": fitted,
        "scoring_history": _history_json(model.scoring_history),
        "training_metrics": None if model.training_metrics is None else model.training_metrics.to_dict(),
        "validation_metrics": None if model.validation_metrics is None else model.validation_metrics.to_dict(),
        "arrays": {name: {"shape": list(a.shape), "dtype": str(a.dtype)}
                   for name, a in state.arrays().items()},
    }
    return doc, state.arrays()


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def _default_name(model: FittedModel) -> str:
    """The name of a model inside a folder: its id (``model_id``, else the generated one),
    else (a model built without a fit) its class name."""
    return model.model_id or model.estimator


def save_model(model: FittedModel | HasFittedModel, path: str | os.PathLike, *,
               force: bool = False) -> Path:
    """Save a fitted model atomically, never touching files this package did not write.

    Follows H2O's ``h2o.save_model(model, path, force=False)``.

    Parameters
    ----------
    model : FittedModel or fitted estimator
        The model, or an estimator holding one (``model_``).
    path : str or PathLike
        * an existing folder that is not itself a saved model, or a path ending with a
          path separator (the folder is then created): the model is written inside it as
          ``<model id>.zip`` (the given ``model_id``, else the fit's generated id
          ``DeepLearning_model_python_<session>_<n>``; H2O writes a file named after the
          model id, here the single-file format is a zip);
        * a name ending in ``.zip``: one zip file;
        * any other name: a directory of ``model.json`` and ``.npy`` files.
    force : bool, default=False
        Replace a model saved at the target before (H2O's ``force``). A zip is replaced
        with ``os.replace``; a directory is renamed aside, the new one renamed into place
        and the old one removed. A file or folder that is not a saved model, or a model
        directory holding other files, is never replaced, not even with ``force=True``.

    Returns
    -------
    pathlib.Path
        The path written (inside ``path`` when it is a folder).

    Raises
    ------
    FileExistsError
        The target exists and is not a saved model, or is one and ``force`` is False.
    FileNotFoundError
        The directory the target goes in does not exist.
    NotFittedError
        ``model`` is an estimator that is not fitted.
    """
    return write_model(as_fitted(model, "Only fitted models can be saved; fit this {name} "
                                        "first."), path, force=force)


def write_model(model: FittedModel, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write ``model`` to ``path`` (see :func:`save_model`, which also takes estimators)."""
    doc, arrays = model_to_files(model)
    raw = os.fspath(path)
    if raw.endswith((os.sep, "/")) and Path(raw).parent.is_dir():
        Path(raw).mkdir(exist_ok=True)
    target, kind = _save_target(raw, _default_name(model), force=force)
    payload = {_JSON: json.dumps(doc, indent=1, allow_nan=False).encode("utf-8")}
    payload.update({f"{name}.npy": _npy_bytes(a) for name, a in arrays.items()})
    parent = target.parent
    for stale, pid in _siblings(target, "tmp"):  # left by a save that was killed
        if not _alive(pid):
            _remove_ours(stale)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = parent / f".{target.name}.tmp-{tag}"
    try:
        if kind == "zip":
            with open(tmp, "wb") as f:
                with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                    for name, data in payload.items():
                        zf.writestr(name, data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        else:
            tmp.mkdir()
            for name, data in payload.items():
                _write_file(tmp / name, data)
            _fsync_dir(tmp)
            old = None
            if target.exists():
                old = parent / f".{target.name}.old-{tag}"
                os.rename(target, old)
            os.rename(tmp, target)
            if old is not None:
                _remove_ours(old)
        _fsync_dir(parent)
    finally:
        if tmp.exists():
            _remove_ours(tmp)
    if force:  # the previous model of an interrupted directory save, now replaced
        for old_path, pid in _siblings(target, "old"):
            if not _alive(pid):
                _remove_ours(old_path)
    return target


class _Reader:
    """Reads members of a model directory or zip, with errors naming the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        if not path.exists():
            # a directory save killed between its two renames leaves the previous model
            # under a hidden name next to it: name it, never load it in place of ``path``
            olds = _siblings(path, "old")
            hint = (f" A save to it was interrupted: the model saved there before is at "
                    f"{olds[-1][0]}; rename it back to {path.name} to load it."
                    if olds else "")
            raise FileNotFoundError(f"No model file at {path}.{hint}")
        if path.is_dir():
            return
        try:
            self.zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ModelFileError(
                f"{path} is not a dask_deeplearn model: not a directory and not a readable "
                "zip file (truncated or damaged?)."
            ) from None

    def _where(self, name: str) -> str:
        return f"{self.path}{'!' if self.zip else os.sep}{name}"

    def _size(self, name: str) -> int:
        """The uncompressed size the file declares for ``name`` (nothing is decompressed)."""
        try:
            if self.zip is not None:
                return self.zip.getinfo(name).file_size
            return (self.path / name).stat().st_size
        except (KeyError, FileNotFoundError):
            raise ModelFileError(f"{self._where(name)} is missing: the model file is "
                                 "incomplete.") from None

    def _open(self, name: str) -> Any:
        if self.zip is not None:
            return self.zip.open(name)
        return open(self.path / name, "rb")

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The bytes of ``name``, refused from its declared size when above ``limit``."""
        limit = _MAX_JSON_BYTES if limit is None else limit
        size = self._size(name)
        if size > limit:
            raise ModelFileError(
                f"{self._where(name)} declares {size} bytes uncompressed, more than the "
                f"{limit} bytes a model file may hold there; it is refused unread.")
        try:
            with self._open(name) as f:
                data = f.read(limit + 1)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise ModelFileError(f"{self._where(name)} cannot be read ({exc}): the file is "
                                 "damaged.") from None
        if len(data) > limit:
            raise ModelFileError(f"{self._where(name)} is larger than it declares: the file "
                                 "is damaged.")
        return data

    def array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Read ``name``.npy, checking its size and header against ``shape`` first.

        The declared size, then the ``.npy`` header (read alone), must match a float32
        array of ``shape`` before the data is read, straight into the array: a file that
        would inflate to more than the network needs is refused without decompressing it.
        """
        member = f"{name}.npy"
        where = self._where(member)
        count = math.prod(shape)
        size = self._size(member)
        if size > count * 4 + _NPY_HEADER_MAX:
            raise ModelFileError(
                f"{where} declares {size} bytes uncompressed; the network needs a float32 "
                f"array of shape {tuple(shape)} ({count * 4} bytes and a header), so it is "
                "refused before anything is decompressed.")
        try:
            with self._open(member) as f:
                fmt = np.lib.format
                version = fmt.read_magic(f)
                if version not in ((1, 0), (2, 0)):
                    raise ModelFileError(f"{where} is a .npy file of format version "
                                         f"{version}; model files use versions 1.0 and 2.0.")
                read_header = (fmt.read_array_header_1_0 if version == (1, 0)
                               else fmt.read_array_header_2_0)
                got_shape, fortran, dtype = read_header(f)
                if dtype.hasobject:
                    raise ModelFileError(
                        f"{where} holds Python objects (it would need unpickling); model "
                        "files contain plain float32 arrays only, so it is refused.")
                if dtype != np.float32 or tuple(got_shape) != tuple(shape):
                    raise ModelFileError(
                        f"{where} has shape {tuple(got_shape)} and dtype {dtype}; the network "
                        f"needs shape {tuple(shape)} float32.")
                a = np.empty(count, np.float32)
                got = f.readinto(memoryview(a).cast("B")) if count else 0
                if got != count * 4 or f.read(1):  # reading to the end checks the CRC
                    raise ModelFileError(f"{where} is truncated or damaged (the data is not "
                                         f"the {count * 4} bytes its header declares).")
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise ModelFileError(f"{where} is not a valid .npy array or is damaged "
                                 f"({exc}).") from None
        return np.ascontiguousarray(a.reshape(shape, order="F" if fortran else "C"))

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def read_model(path: str | os.PathLike, *, estimators: Mapping[str, str] | None = None,
               stacklevel: int = 1) -> FittedModel:
    """Read a model saved by :func:`save_model` (or ``model.save``) as a fitted model.

    :func:`dask_deeplearn.load_model` wraps it in its estimator class.

    Parameters
    ----------
    path : str or PathLike
        The model directory or ``.zip``.
    estimators : mapping of str to str, optional
        The estimator class names a file may name, each with its binomial label rule
        (``"threshold"`` or ``"argmax"``); another name is refused. None: any name, with
        the ``"threshold"`` rule.
    stacklevel : int, default=1
        Frames above the caller that warnings point at (1: the caller of ``read_model``).

    Returns
    -------
    FittedModel
        Predicting exactly as the saved model did; parameters that name places are None
        and an invalid stored ``model_id`` is dropped with a warning (see
        :func:`dask_deeplearn.load_model`).

    Raises
    ------
    FileNotFoundError
        Nothing at ``path`` (the message names the backup of an interrupted save).
    ModelFileError
        The file is not a model, is damaged or truncated, holds pickled objects, or was
        written by a newer version of dask_deeplearn.
    """
    path = Path(path)
    reader = _Reader(path)
    try:
        raw = reader.read(_JSON)
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(
                f"{path}: {_JSON} is not valid JSON ({exc}); the file is truncated or damaged."
            ) from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ModelFileError(f"{path} is not a dask_deeplearn model ({_JSON} has no "
                                 f"'format': {FORMAT!r}).")
        version = doc.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ModelFileError(
                f"{path} was written by dask_deeplearn {doc.get('package_version', '?')} in "
                f"model format version {version!r}; this version reads format versions up to "
                f"{FORMAT_VERSION}. Upgrade dask_deeplearn to load it."
            )
        try:
            return _build(doc, reader, estimators, stacklevel)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ModelFileError):
                raise
            raise inconsistent(path, exc) from None
    finally:
        reader.close()


def inconsistent(path: Path, exc: Exception) -> ModelFileError:
    """The error for a ``model.json`` whose content does not fit together."""
    return ModelFileError(f"{path}: {_JSON} is inconsistent ({type(exc).__name__}: {exc}).")


def _build(doc: dict[str, Any], reader: _Reader, estimators: Mapping[str, str] | None,
           stacklevel: int) -> FittedModel:
    name = doc["estimator"]
    if estimators is not None and name not in estimators:
        raise ModelFileError(f"{reader.path}: unknown estimator {name!r}; expected one of "
                             f"{sorted(estimators)}.")
    params = _unjson(doc["params"])
    if not isinstance(params, dict):
        raise TypeError("'params' is not a mapping")
    user = _without_places(params, reader.path, stacklevel + 3)
    spec = NetworkSpec.from_dict(doc["network"])
    shapes = {"W": (spec.n_weights,), "B": (spec.n_biases,), "OW": (2, spec.n_weights),
              "OB": (2, spec.n_biases)}
    arrays = {k: reader.array(k, shapes[k]) for k in _ARRAYS}
    if "AA" in doc.get("arrays", {}):  # a sparse autoencoder's running mean activations
        arrays["AA"] = reader.array("AA", (spec.n_biases,))
    state = ModelState(spec=spec, processed=int(doc["network"]["processed"]), **arrays)
    eff = _unjson(doc["effective_params"])
    if not isinstance(eff, dict):
        raise TypeError("'effective_params' is not a mapping")
    # the model's id: the effective model_id (the generated one when none was given)
    recorded = eff.get("model_id")
    recorded = (user.get("model_id") if recorded is None or recorded == params.get("model_id")
                else _usable_id(recorded, reader.path, stacklevel + 3))
    eff = {**eff, **{p: None for p in _PLACES}, "model_id": recorded}
    fitted = {_FITTED_FIELDS[key]: value for key, value in _unjson(doc["fitted"]).items()
              if key in _FITTED_FIELDS}
    if fitted.get("classes") is not None:
        fitted["classes"] = np.asarray(fitted["classes"])
    if fitted.get("feature_names_in") is not None:
        fitted["feature_names_in"] = np.asarray(fitted["feature_names_in"], dtype=object)
    tm, vm = doc.get("training_metrics"), doc.get("validation_metrics")
    return FittedModel(
        estimator=name, user_params=user, state=state,
        data_info=DataInfo.from_dict(doc["data_info"]), params=eff,
        label_rule="threshold" if estimators is None else estimators[name],
        scoring_history=_history_frame(doc["scoring_history"]),
        training_metrics=None if tm is None else ModelMetrics.from_dict(tm),
        validation_metrics=None if vm is None else ModelMetrics.from_dict(vm),
        **{"classes": None, **fitted})
