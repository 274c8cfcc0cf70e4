"""Standalone scorers generated from a fitted model (issue 4).

* :mod:`.python`: one ``.py`` file that needs only numpy;
* :mod:`.java`: one Java source file that needs only the JDK (H2O's POJO, rebuilt).

The generated files never import ``dask_deeplearn``; the generators here do.
"""

from typing import Any

from ..exceptions import UnstableModelError

__all__ = ["check_stable"]


def check_stable(model: Any, action: str) -> None:
    """Refuse to ``action`` (export, save, predict with) an unstable model (semantics §11.2)."""
    state = getattr(model, "state_", None)
    reason = None if state is None else state.unstable_reason()
    if reason is not None:
        raise UnstableModelError(
            f"Cannot {action} this {type(model).__name__}: {reason} (the model is unstable). "
            "Retrain with a smaller rate, adaptive_rate=True or max_w2, or use the last "
            "finite model of a diverged fit."
        )
