"""Where a model file goes and how it is written: targets, temporaries, atomic renames.

A save writes under a temporary name next to its target (``.<name>.tmp-<pid>-<hex>``),
flushes it to disk and renames it into place; a directory model being replaced is first
renamed aside (``.<name>.old-<pid>-<hex>``). Nothing that is not a model this package
saved is ever replaced or deleted.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

FORMAT = "dask_deeplearn.model"
#: bumped when a file written by this version cannot be read by older versions
FORMAT_VERSION = 1
_ARRAYS = ("W", "B", "OW", "OB")
_JSON = "model.json"
#: largest model.json read (its size is checked before it is decompressed)
_MAX_JSON_BYTES = 128 << 20
#: room for a ``.npy`` header (numpy writes at most 64 KiB of it)
_NPY_HEADER_MAX = 1 << 16


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
