"""Safe model files: JSON for everything but the arrays, ``.npy`` for the arrays.

A model is saved as a directory or as a ``.zip`` holding

* ``model.json``: format name and version, package version, estimator class, its
  parameters, the effective parameters, the preprocessing plan (``DataInfo.to_dict``), the
  network shape, the scoring history and the metrics;
* ``W.npy``, ``B.npy``, ``OW.npy``, ``OB.npy``: weights, biases and optimiser state
  (plus ``AA.npy``, the running mean activations of a sparse autoencoder).

Loading never unpickles and never evaluates anything from the file: JSON is parsed,
arrays are read with ``np.load(allow_pickle=False)``, and the estimator class is looked up
in a fixed table. A damaged, truncated, pickle-bearing or newer-format file is refused
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
import re
import uuid
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelFileError, NotFittedError
from ..metrics._model_metrics import ModelMetrics
from ..network import ModelState, NetworkSpec
from ..preprocessing import DataInfo

__all__ = ["FORMAT", "FORMAT_VERSION", "save_model", "load_model", "model_to_files"]

FORMAT = "dask_deeplearn.model"
#: bumped when a file written by this version cannot be read by older versions
FORMAT_VERSION = 1
_ARRAYS = ("W", "B", "OW", "OB")
_JSON = "model.json"
#: largest model.json read (its size is checked before it is decompressed)
_MAX_JSON_BYTES = 128 << 20
#: room for a ``.npy`` header (numpy writes at most 64 KiB of it)
_NPY_HEADER_MAX = 1 << 16

#: fitted attributes stored as plain JSON values
_FITTED_SCALARS = (
    "task_", "distribution_", "seed_", "nthreads_", "stop_reason_", "n_iter_", "epochs_",
    "run_time_", "events_", "backend_", "n_features_in_", "response_column_",
    "_n_raw_features", "_fit_had_names", "_raw_feature_names",
)


def _estimator_classes() -> dict[str, type]:
    from ..estimators import (
        DeepLearningAutoEncoder,
        DeepLearningClassifier,
        DeepLearningEstimator,
        DeepLearningRegressor,
    )

    return {c.__name__: c for c in (DeepLearningClassifier, DeepLearningRegressor,
                                     DeepLearningEstimator, DeepLearningAutoEncoder)}


#: parameters that only initialise a fit: once trained their effect is in the weights, so a
#: model object or frame there is stored as None (a path is kept)
_INIT_ONLY = ("checkpoint", "pretrained_autoencoder", "initial_weights", "initial_biases")


#: parameters that name places (an address, folders, files): never taken from a model file,
#: a loaded model has the default (None) and a fit on it uses what the caller sets
_PLACES = ("scheduler_address", "export_checkpoints_dir", *_INIT_ONLY)


def _without_places(params: dict[str, Any], where: Path) -> dict[str, Any]:
    """``params`` read from a file, with places reset and an unusable ``model_id`` dropped."""
    from ..params import ModelId

    out = {**params, **{name: None for name in _PLACES if name in params}}
    model_id = out.get("model_id")
    if model_id is not None and not ModelId().accepts(model_id):
        warnings.warn(f"{where}: the model_id {model_id!r} stored in the file is not a valid "
                      "model id (it could name a path); the model is loaded with "
                      "model_id=None.", UserWarning, stacklevel=4)
        out["model_id"] = None
    return out


def _storable(name: str, value: Any) -> Any:
    if name in _INIT_ONLY and value is not None and not isinstance(value, (str, os.PathLike)):
        return None
    return value


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


def _user_params(model: Any) -> dict[str, Any]:
    out = {}
    for name, value in model.get_params(deep=False).items():
        value = _storable(name, value)
        if callable(value):
            value = None  # functions are never stored (a loaded model has none)
        out[name] = _jsonable(os.fspath(value) if isinstance(value, os.PathLike) else value)
    return out


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
        if c != "timestamp":
            h[c] = pd.to_numeric(h[c], errors="coerce")
    return h


def model_to_files(model: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON document and the arrays describing a fitted estimator."""
    if not hasattr(model, "state_"):
        raise NotFittedError(f"Only fitted models can be saved; fit this {type(model).__name__} first.")
    from .. import __version__
    from ..export import check_stable

    check_stable(model, "save")
    state: ModelState = model.state_
    spec = state.spec
    fitted = {name: _jsonable(getattr(model, name)) for name in _FITTED_SCALARS
              if hasattr(model, name)}
    if hasattr(model, "classes_"):
        fitted["classes_"] = _jsonable(list(model.classes_))
    if hasattr(model, "feature_names_in_"):
        fitted["feature_names_in_"] = _jsonable(list(model.feature_names_in_))
    if hasattr(model, "worker_rows_"):
        fitted["worker_rows_"] = _jsonable(model.worker_rows_)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "estimator": type(model).__name__,
        "params": _user_params(model),
        "effective_params": _jsonable({k: _storable(k, v) for k, v in model.params_.items()
                                       if not callable(v) and k != "checkpoint"}),
        "data_info": model.data_info_.to_dict(),
        "network": {
            "units": list(spec.units), "activation": spec.activation, "output": spec.output,
            "hidden_dropout_ratios": list(spec.hidden_dropout_ratios),
            "input_dropout_ratio": spec.input_dropout_ratio,
            "processed": int(state.processed),
        },
        "fitted": fitted,
        "scoring_history": _history_json(model.scoring_history_),
        "training_metrics": None if model.training_metrics_ is None else model.training_metrics_.to_dict(),
        "validation_metrics": None if model.validation_metrics_ is None else model.validation_metrics_.to_dict(),
        "arrays": {name: {"shape": list(a.shape), "dtype": str(a.dtype)}
                   for name, a in state.arrays().items()},
    }
    return doc, state.arrays()


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


#: every member a model file may hold
_MEMBERS = frozenset({_JSON, *(f"{a}.npy" for a in (*_ARRAYS, "AA"))})


def _default_name(model: Any) -> str:
    """The name of a model inside a folder: its ``model_id``, else its class name."""
    return getattr(model, "model_id", None) or type(model).__name__


def _inside(folder: Path, name: str, what: str = "model_id") -> Path:
    """``folder / name``, refusing a name that would leave ``folder`` (``..``, ``/``)."""
    target = folder / name
    if (os.path.isabs(name) or target.parent != folder or name in ("", ".", "..")
            or os.path.realpath(target.parent) != os.path.realpath(folder)):
        raise ValueError(f"{what}={name!r} cannot name a file inside {folder}: a name must "
                         "not contain a path separator or be '.' or '..'.")
    return target


def _our_json(raw: bytes) -> bool:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("format") == FORMAT


def _existing_model(path: Path) -> str | None:
    """``"zip"`` or ``"dir"`` when ``path`` is a model this package saved, else None.

    Raises
    ------
    FileExistsError
        ``path`` is a model directory that also holds other files (never replaced).
    """
    if path.is_dir():
        names = set(os.listdir(path))
        if _JSON not in names:
            return None
        foreign = sorted(names - _MEMBERS)
        if foreign:
            raise FileExistsError(
                f"{path} holds files that are not part of a saved model ({', '.join(foreign)}); "
                "saving never replaces or deletes them: choose another path.")
        json_path = path / _JSON
        if json_path.stat().st_size > _MAX_JSON_BYTES or not _our_json(json_path.read_bytes()):
            return None
        return "dir"
    if not path.is_file() or not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            if (_JSON not in infos or not set(infos) <= _MEMBERS
                    or infos[_JSON].file_size > _MAX_JSON_BYTES):
                return None
            return "zip" if _our_json(zf.read(_JSON)) else None
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


#: our temporary names next to a target: ``.<name>.tmp-<pid>-<hex>`` while a save writes,
#: ``.<name>.old-<pid>-<hex>`` for the previous directory model while it is replaced
#: (older versions wrote ``.<name>.tmp-<hex>`` without the process id)
def _siblings(target: Path, kind: str) -> list[tuple[Path, int | None]]:
    pattern = re.compile(rf"\.{re.escape(target.name)}\.{kind}-(?:(\d+)-)?[0-9a-f]{{8}}")
    parent = target.parent
    out = []
    for entry in os.listdir(parent) if parent.is_dir() else ():
        m = pattern.fullmatch(entry)
        if m:
            out.append((parent / entry, None if m.group(1) is None else int(m.group(1))))
    return sorted(out, key=lambda item: item[0].lstat().st_mtime)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _remove_ours(path: Path) -> None:
    """Remove a temporary file or model directory of ours; leave anything else in it."""
    try:
        if path.is_dir() and not path.is_symlink():
            for name in os.listdir(path):
                if name in _MEMBERS:
                    os.unlink(path / name)
            os.rmdir(path)  # fails, keeping it, when someone else's file is inside
        else:
            os.unlink(path)
    except OSError:
        pass


def _save_target(path: str | os.PathLike, name: str, *, force: bool,
                 force_hint: str = "force=True") -> tuple[Path, str]:
    """Where a save of a model called ``name`` to ``path`` writes, and in which form.

    Writes nothing. ``path`` is a folder (an existing directory that is not a saved model,
    or a path ending with a separator) -> ``<path>/<name>.zip``; otherwise ``path`` itself,
    a zip for a ``.zip`` name or an existing zip model, else a directory.

    Returns
    -------
    tuple of (pathlib.Path, str)
        The target and ``"zip"`` or ``"dir"``.

    Raises
    ------
    FileExistsError
        The target exists and is not a saved model (never replaced), is a model directory
        holding other files, or is a model and ``force`` is False.
    FileNotFoundError
        The directory the target goes in does not exist.
    """
    raw = os.fspath(path)
    path = Path(raw)
    is_folder = raw.endswith((os.sep, "/")) or (path.is_dir() and not (path / _JSON).exists())
    if is_folder:
        if path.exists() and not path.is_dir():
            raise FileExistsError(f"Cannot save the model into {path}: it is a file, not a folder.")
        if not path.is_dir() and not path.parent.is_dir():
            raise FileNotFoundError(f"Cannot save the model into {path}: neither it nor "
                                    f"{path.parent} exists.")
        _inside(path, name)
        target = _inside(path, name if name.lower().endswith(".zip") else f"{name}.zip")
        parent = path
    else:
        target = path
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise FileNotFoundError(
                f"Cannot save the model to {path}: directory {parent} does not exist.")
    if os.path.lexists(target):
        kind = _existing_model(target)
        if kind is None:
            raise FileExistsError(
                f"{target} exists and is not a dask_deeplearn model; saving never replaces "
                "other files (not even with " + force_hint + "): choose another path.")
        if not force:
            raise FileExistsError(f"{target} already holds a saved model; pass {force_hint} "
                                  "to replace it.")
        return target, kind
    olds = [p for p, pid in _siblings(target, "old") if not _alive(pid)]
    if olds and not force:
        raise FileExistsError(
            f"A previous save to {target} was interrupted: the model before it is at "
            f"{olds[-1]}. Rename it back to {target.name} to keep it, or pass {force_hint} "
            "to replace it.")
    return target, "zip" if target.suffix.lower() == ".zip" else "dir"


def save_model(model: Any, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Save a fitted model atomically, never touching files this package did not write.

    Follows H2O's ``h2o.save_model(model, path, force=False)``.

    Parameters
    ----------
    model : fitted DeepLearningClassifier, DeepLearningRegressor or DeepLearningEstimator
    path : str or PathLike
        * an existing folder that is not itself a saved model, or a path ending with a
          path separator (the folder is then created): the model is written inside it as
          ``<model_id>.zip`` (``<class name>.zip`` when ``model_id`` is None; H2O writes a
          file named ``<model_id>``, here the single-file format is a zip);
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
    """
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


def load_model(path: str | os.PathLike) -> Any:
    """Load a model saved by :func:`save_model` (or ``model.save``).

    Parameters
    ----------
    path : str or PathLike
        The model directory or ``.zip``.

    Returns
    -------
    DeepLearningClassifier, DeepLearningRegressor or DeepLearningEstimator
        Fitted, predicting exactly as the saved model did. Parameters that name places
        (``scheduler_address``, ``export_checkpoints_dir`` and the paths of
        ``checkpoint``, ``pretrained_autoencoder``, ``initial_weights``,
        ``initial_biases``) are never taken from the file: they are None, so training
        the loaded model further connects and writes only where the caller says. The
        stored ``model_id`` is kept as the model's name when it is a valid id (else None,
        with a warning); a fit with ``checkpoint=<file>`` uses the caller's ``model_id``,
        never the file's.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``. When a directory save to it was killed between its two
        renames, the message names the hidden ``.<name>.old-*`` backup holding the
        previous model (it is never loaded in place of ``path``).
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
            return _build(doc, reader)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ModelFileError):
                raise
            raise ModelFileError(f"{path}: {_JSON} is inconsistent ({type(exc).__name__}: {exc}).") from None
    finally:
        reader.close()


def _build(doc: dict[str, Any], reader: _Reader) -> Any:
    classes = _estimator_classes()
    name = doc["estimator"]
    if name not in classes:
        raise ModelFileError(f"{reader.path}: unknown estimator {name!r}; expected one of "
                             f"{sorted(classes)}.")
    params = _unjson(doc["params"])
    if not isinstance(params, dict):
        raise TypeError("'params' is not a mapping")
    model = classes[name](**_without_places(params, reader.path))
    net = doc["network"]
    spec = NetworkSpec(
        units=tuple(net["units"]), activation=net["activation"], output=net["output"],
        hidden_dropout_ratios=tuple(net["hidden_dropout_ratios"]),
        input_dropout_ratio=float(net["input_dropout_ratio"]),
    )
    shapes = {"W": (spec.n_weights,), "B": (spec.n_biases,), "OW": (2, spec.n_weights),
              "OB": (2, spec.n_biases)}
    arrays = {k: reader.array(k, shapes[k]) for k in _ARRAYS}
    if "AA" in doc.get("arrays", {}):  # a sparse autoencoder's running mean activations
        arrays["AA"] = reader.array("AA", (spec.n_biases,))
    model.state_ = ModelState(spec=spec, processed=int(net["processed"]), **arrays)
    model.data_info_ = DataInfo.from_dict(doc["data_info"])
    eff = _unjson(doc["effective_params"])
    if not isinstance(eff, dict):
        raise TypeError("'effective_params' is not a mapping")
    eff = {**eff, **{name: None for name in _PLACES}, "model_id": model.model_id}
    model.params_ = eff
    for key, value in _unjson(doc["fitted"]).items():
        if key == "classes_":
            value = np.asarray(value)
        elif key == "feature_names_in_":
            value = np.asarray(value, dtype=object)
        setattr(model, key, value)
    if hasattr(model, "classes_"):
        model.n_classes_ = len(model.classes_)
    model.scoring_history_ = _history_frame(doc["scoring_history"])
    tm, vm = doc.get("training_metrics"), doc.get("validation_metrics")
    model.training_metrics_ = None if tm is None else ModelMetrics.from_dict(tm)
    model.validation_metrics_ = None if vm is None else ModelMetrics.from_dict(vm)
    return model
