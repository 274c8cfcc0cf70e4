"""How the command line reports a problem the user can fix: one line, exit code 2."""

from __future__ import annotations

PROG = "dask-deeplearn"


class CLIError(Exception):
    """A problem with the command line or its files, reported as one line (exit code 2)."""


def _user_errors() -> tuple[type[BaseException], ...]:
    from ..exceptions import (
        DataError,
        InvalidParameterError,
        ModelFileError,
        NotFittedError,
        UnstableModelError,
    )

    return (CLIError, DataError, InvalidParameterError, ModelFileError, NotFittedError,
            UnstableModelError, OSError, ValueError, NotImplementedError)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__

