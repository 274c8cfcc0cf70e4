"""The driver loop shared by every backend, and the in-process backend.

Imported lazily: scoring code (``training.scoring``) must not pull in Numba.
"""

from typing import Any

__all__ = ["LocalBackend", "TrainResult", "run_training", "ScoringSchedule",
           "samples_per_iteration", "stop_early"]

_WHERE = {"LocalBackend": "local", "TrainResult": "loop", "run_training": "loop",
          "ScoringSchedule": "schedule", "samples_per_iteration": "schedule",
          "stop_early": "schedule"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
