"""Standalone scorers generated from a fitted model.

* :mod:`.python`: one ``.py`` file that needs only numpy;
* :mod:`.java`: one Java source file that needs only the JDK (H2O's POJO, rebuilt);
* :mod:`.mojo`: an H2O-3 Deep Learning MOJO zip that h2o-genmodel scores;
* :mod:`.pojo`: the Java scorer as an h2o-genmodel ``GenModel`` (H2O's POJO contract).

The generated files never import ``dask_deeplearn``; the generators here do. The
modules are attributes of this package, imported on first access
(``dask_deeplearn.export.python.export_python``).
"""

from typing import Any

from ..model import check_stable

__all__ = ["check_stable"]

_SUBMODULES = ("java", "mojo", "pojo", "python")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
