"""The wording shared by the parameter checks: warnings and refused combinations."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any

from ..exceptions import InvalidParameterError


#: the package folder: warnings are attributed to the first frame outside it
_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _warn(message: str) -> None:
    """Emit a UserWarning attributed to the first frame outside this package."""
    frame = sys._getframe(0)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PKG_DIR + os.sep
    ):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, UserWarning, stacklevel=level)


def _kv(params: Mapping[str, Any], *names: str) -> str:
    return ", ".join(f"{n}={params[n]!r}" for n in names)


def _conflict(owner: str, detail: str, fix: str = "") -> InvalidParameterError:
    msg = f"Invalid parameter combination for {owner}: {detail}."
    return InvalidParameterError(f"{msg} {fix}" if fix else msg)
