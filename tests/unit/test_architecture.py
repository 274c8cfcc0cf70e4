"""The README's architecture table holds: which part of the package may import which.

Read from the source with ``ast`` (module-level and function-level imports alike; imports
under ``if TYPE_CHECKING:`` are annotations only and are left out).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "dask_deeplearn"

_BASE = {"exceptions", "_typing", "_display"}
_CORE = _BASE | {"params", "distributions", "kernels", "network", "memory", "preprocessing",
                 "metrics"}
_TRAINING = _CORE | {"training", "weights"}
_VALUES = _TRAINING | {"model", "scorer", "fast_scoring", "inspection"}
_DISTRIBUTED = _VALUES | {"distributed"}
_BELOW_ESTIMATORS = _DISTRIBUTED | {"io", "export"}

#: part -> the parts of the package it may import (the README's "may import" column)
ALLOWED: dict[str, set[str]] = {
    "exceptions": set(),
    "_display": set(),
    "distributions": set(),
    "params": _BASE | {"distributions"},
    "kernels": {"distributions"},
    "network": _BASE | {"kernels", "memory"},
    "memory": _BASE,
    "preprocessing": _BASE | {"params", "distributions"},
    "metrics": _BASE | {"distributions"},
    "training": _TRAINING,
    "weights": _CORE,
    "model": _TRAINING,
    "scorer": _VALUES,
    "fast_scoring": _CORE,
    "inspection": _TRAINING,
    "distributed": _DISTRIBUTED,
    "io": _BELOW_ESTIMATORS,
    "export": _BELOW_ESTIMATORS,
}

#: the one deliberate exception: ``dask_deeplearn.io.load_model`` is a lazy alias of
#: ``dask_deeplearn.load_model`` (module ``__getattr__``), never run at import time
_EXEMPT = {("io/__init__.py", "estimators")}


_PARTS = {p.stem if p.is_file() else p.name for p in PKG.iterdir()
          if (p.is_file() and p.suffix == ".py") or (p / "__init__.py").is_file()}


def _part(path: Path) -> str:
    rel = path.relative_to(PKG).parts
    return rel[0][:-3] if len(rel) == 1 else rel[0]


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def _imports(path: Path) -> set[str]:
    """The parts of the package ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    module = path.relative_to(PKG.parent).with_suffix("").parts
    package = module[:-1] if path.name != "__init__.py" else module[:-1]
    out = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[:len(package) - node.level + 1])
                target = base + (node.module.split(".") if node.module else [])
                names = [target + [a.name] for a in node.names] if len(target) == 1 else [target]
            else:
                names = [(node.module or "").split(".")]
            for t in names:
                if t[0] == "dask_deeplearn" and len(t) > 1 and t[1] in _PARTS:
                    out.add(t[1])  # (other names are attributes of the package, __version__)
        elif isinstance(node, ast.Import):
            for a in node.names:
                t = a.name.split(".")
                if t[0] == "dask_deeplearn" and len(t) > 1:
                    out.add(t[1])
    return out


_FILES = sorted(p for p in PKG.rglob("*.py") if _part(p) in ALLOWED)


@pytest.mark.parametrize("path", _FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_each_module_imports_only_what_its_part_may(path: Path) -> None:
    part = _part(path)
    rel = str(path.relative_to(PKG))
    bad = {t for t in _imports(path) - {part} - ALLOWED[part] if (rel, t) not in _EXEMPT}
    assert not bad, f"{rel} ({part}) imports {sorted(bad)}; it may import {sorted(ALLOWED[part])}"


def test_every_part_is_in_the_table() -> None:
    parts = {_part(p) for p in PKG.rglob("*.py")} - {"__init__"}
    above = {"estimators", "model_selection", "cli", "plotting", "presets", "demo"}
    assert parts - above == set(ALLOWED), sorted(parts - above ^ set(ALLOWED))


def test_no_module_is_longer_than_600_lines() -> None:
    long = {str(p.relative_to(PKG)): n for p in PKG.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert not long, long
