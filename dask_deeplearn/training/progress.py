"""What a user sees while a fit runs: a progress bar in Jupyter, log lines in a terminal.

Driven by the training loop's ``on_score`` callback (one call per scoring event), so it
works the same for every backend. ``quiet_mode=True`` silences it. On a Dask cluster the
bar also follows the workers between scoring events (:meth:`ProgressReporter.worker_progress`,
fed from the workers' ``log_event`` messages by :mod:`dask_deeplearn.distributed.monitor`).
"""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

import pandas as pd

__all__ = ["ProgressReporter", "current_reporter", "in_notebook"]

#: the reporter of the fit running in each thread (see :func:`current_reporter`)
_ACTIVE = threading.local()

#: notes already printed in this process (a dashboard URL is shown once, not once per fit)
_NOTED: set[str] = set()


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


def current_reporter() -> "ProgressReporter | None":
    """The :class:`ProgressReporter` of the fit running in this thread, or None.

    A reporter is current from its creation until :meth:`ProgressReporter.close`; a
    backend uses it to add worker-side progress to the bar without the estimator
    passing it down (fits in other threads have their own).
    """
    return getattr(_ACTIVE, "reporter", None)


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

    Attributes
    ----------
    lines : list of str
        The one-line summary of every scoring event.
    worker_updates : list of tuple
        ``(worker, epochs)`` of every worker progress update received
        (:meth:`worker_progress`).
    """

    def __init__(self, owner: str, epochs: float, *, quiet: bool = False,
                 notebook: bool | None = None, stream: TextIO | None = None) -> None:
        self.owner = owner
        self.epochs = float(epochs)
        self.quiet = quiet
        self.notebook = in_notebook() if notebook is None else notebook
        self.stream = stream
        self.lines: list[str] = []
        self.worker_updates: list[tuple[str, float]] = []
        self._bar: Any = None
        self._closed = False
        # worker updates arrive on the Dask client's event-loop thread
        self._lock = threading.Lock()
        _ACTIVE.reporter = self

    @property
    def wants_worker_progress(self) -> bool:
        """Whether worker progress would be shown (a notebook bar that is not quiet).

        In a terminal the reporter prints one line per scoring event only, so a backend
        need not forward worker progress.
        """
        return self.notebook and not self.quiet

    def __call__(self, history: pd.DataFrame, line: str) -> None:
        """Report the scoring event that produced the last row of ``history``."""
        self.lines.append(line)
        if self.quiet:
            return
        last = history.iloc[-1]
        if self.notebook:
            with self._lock:
                self._update_bar(last, line)
        else:
            out = self.stream if self.stream is not None else sys.stderr
            print(f"{self.owner}: {line}", file=out, flush=True)

    def worker_progress(self, epochs: float, worker: str = "") -> None:
        """Move the bar to ``epochs`` between scoring events (a worker finished some rows).

        Parameters
        ----------
        epochs : float
            Epochs trained so far, counting the rows the workers finished in the
            running iteration.
        worker : str, default=""
            The worker that reported (kept in :attr:`worker_updates`).
        """
        with self._lock:
            self.worker_updates.append((worker, float(epochs)))
            if self.quiet or not self.notebook or self._closed:
                return
            bar = self._ensure_bar()
            # never backwards: a scoring event sets the exact value
            bar.n = max(float(bar.n), min(float(epochs), self.epochs))
            bar.refresh()

    def note(self, text: str) -> None:
        """Print an informational line once per process (e.g. the live dashboard's URL)."""
        if self.quiet or text in _NOTED:
            return
        _NOTED.add(text)
        out = self.stream if self.stream is not None else sys.stderr
        print(f"{self.owner}: {text}", file=out, flush=True)

    def _ensure_bar(self) -> Any:
        import importlib.util

        # the widget bar needs ipywidgets; without it tqdm.auto warns on every fit, so a
        # notebook without ipywidgets gets tqdm's text bar instead
        if importlib.util.find_spec("ipywidgets") is not None:
            from tqdm.auto import tqdm
        else:
            from tqdm.std import tqdm

        if self._bar is None:
            self._bar = tqdm(total=self.epochs, desc=self.owner, unit="epoch",
                             bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} epochs {postfix}")
        return self._bar

    def _update_bar(self, last: pd.Series, line: str) -> None:
        bar = self._ensure_bar()
        bar.n = min(float(last["epochs"]), self.epochs)
        bar.set_postfix_str(line.split(" | ", 1)[-1], refresh=False)
        bar.refresh()

    def close(self) -> None:
        """Close the progress bar (if one was drawn); the reporter stops being current."""
        with self._lock:
            self._closed = True
            if self._bar is not None:
                self._bar.close()
                self._bar = None
        if getattr(_ACTIVE, "reporter", None) is self:
            _ACTIVE.reporter = None
