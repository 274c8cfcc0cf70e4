"""What a user sees while a fit runs: a progress bar in Jupyter, log lines in a terminal.

Driven by the training loop's ``on_score`` callback (one call per scoring event), so it
works the same for every backend. ``quiet_mode=True`` silences it.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

import pandas as pd

__all__ = ["ProgressReporter", "in_notebook"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a widget progress bar can be drawn)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except AttributeError:  # pragma: no cover - very old IPython
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class ProgressReporter:
    """Report scoring events of one fit.

    In a notebook: a ``tqdm`` bar over epochs with the training speed and the latest
    metric as postfix. Elsewhere: one compact line per scoring event on ``stream``
    (standard error by default), prefixed with the estimator name.

    Parameters
    ----------
    owner : str
        Estimator name for the log lines.
    epochs : float
        Epochs asked for (the bar's total).
    quiet : bool, default=False
        Report nothing.
    notebook : bool, optional
        Force (or refuse) the progress bar; defaults to :func:`in_notebook`.
    stream : file-like, optional
        Where log lines go (``sys.stderr`` when None).
    """

    def __init__(self, owner: str, epochs: float, *, quiet: bool = False,
                 notebook: bool | None = None, stream: TextIO | None = None) -> None:
        self.owner = owner
        self.epochs = float(epochs)
        self.quiet = quiet
        self.notebook = in_notebook() if notebook is None else notebook
        self.stream = stream
        self.lines: list[str] = []
        self._bar: Any = None

    def __call__(self, history: pd.DataFrame, line: str) -> None:
        """Report the scoring event that produced the last row of ``history``."""
        self.lines.append(line)
        if self.quiet:
            return
        last = history.iloc[-1]
        if self.notebook:
            self._update_bar(last, line)
        else:
            out = self.stream if self.stream is not None else sys.stderr
            print(f"{self.owner}: {line}", file=out, flush=True)

    def _update_bar(self, last: pd.Series, line: str) -> None:
        from tqdm.auto import tqdm

        if self._bar is None:
            self._bar = tqdm(total=self.epochs, desc=self.owner, unit="epoch",
                             bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} epochs {postfix}")
        self._bar.n = min(float(last["epochs"]), self.epochs)
        self._bar.set_postfix_str(line.split(" | ", 1)[-1], refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        """Close the progress bar (if one was drawn)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
