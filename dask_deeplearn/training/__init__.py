"""The driver loop shared by every backend, and the in-process backend."""

from .local import LocalBackend
from .loop import TrainResult, run_training
from .schedule import ScoringSchedule, samples_per_iteration, stop_early

__all__ = ["LocalBackend", "TrainResult", "run_training", "ScoringSchedule",
           "samples_per_iteration", "stop_early"]
