"""What a user sees while a fit runs: one progress bar per user action.

A fit alone draws one ``tqdm`` bar over its epochs: a widget in Jupyter, one line updated
in place on standard error in a terminal (never a line per scoring event), with the elapsed
time, the time left and the latest metric of the task (:func:`headline_metrics`).

A grid search, a cross-validation (``nfolds``) and a scikit-learn search or
``cross_validate`` over our estimators are one action each: one bar over the action's fits;
the fits inside draw nothing and move the action's bar instead. Our own actions open a
:func:`progress_action`; the fits of a scikit-learn search (which cannot tell us that it
runs them) find it on the call stack and share one bar per search in this process. When the
search's length is unknown (``cross_validate``) each fit draws a bar that vanishes when it
ends (``leave=False``). ``quiet_mode=True`` silences everything; ``verbose=True`` prints the
scoring history (the training loop does) instead of the bar in a terminal.

Driven by the training loop's ``on_score`` callback (one call per scoring event), so it
works the same for every backend. On a Dask cluster the bar also follows the workers between
scoring events (:meth:`ProgressReporter.worker_progress`, fed from the workers'
``log_event`` messages by :mod:`dask_deeplearn.distributed.monitor`).
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import importlib.util
import math
import multiprocessing
import shutil
import sys
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence, TextIO

import pandas as pd

from .._display import WIDTH

__all__ = ["ProgressReporter", "current_reporter", "cv_fits", "headline_metrics",
           "in_notebook", "progress_action"]

#: the reporter of the fit running in each thread (see :func:`current_reporter`)
_ACTIVE = threading.local()

#: notes already printed in this process (a dashboard URL is shown once, not once per fit)
_NOTED: set[str] = set()

#: the action (grid search, cross-validation) whose fits run in this context; the grid's
#: worker threads run in a copy of the context that started them
_CURRENT: contextvars.ContextVar["_Action | None"] = contextvars.ContextVar(
    "dask_deeplearn_progress_action", default=None)

#: the bar of the scikit-learn search running in this process (its fits share it)
_SESSION: "_Action | None" = None
_SESSION_LOCK = threading.RLock()

#: widest progress line in a terminal (the width of every printed table)
MAX_WIDTH = WIDTH

SHORT_NAMES = {"classification_error": "error"}


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


def headline_metrics(columns: Sequence[str]) -> list[str]:
    """The metrics a progress line shows, chosen by the task the history columns reveal.

    Parameters
    ----------
    columns : sequence of str
        Metric names of the scoring history, with or without their ``training_`` /
        ``validation_`` prefix.

    Returns
    -------
    list of str
        ``["logloss", "classification_error"]`` for a classifier, ``["deviance", "rmse"]``
        for a regressor, ``["mse"]`` for an autoencoder (never R^2 for a classifier).
    """
    names = {c.split("_", 1)[1] if c.startswith(("training_", "validation_")) else c
             for c in columns}
    if "logloss" in names:
        return ["logloss", "classification_error"]
    if "deviance" in names:
        return ["deviance", "rmse"]
    return ["mse"] if "mse" in names else []


def _metric_text(row: Mapping[str, Any], columns: Sequence[str]) -> str:
    """``valid logloss 0.2345 error 0.081`` of a history row (validation when scored)."""
    which = "validation" if any(c.startswith("validation_") for c in columns) else "training"
    parts = []
    for name in headline_metrics(columns):
        value = row.get(f"{which}_{name}")
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            parts.append(f"{SHORT_NAMES.get(name, name)} {float(value):.4g}")
    return f"{'valid' if which == 'validation' else 'train'} {' '.join(parts)}" if parts else ""


def _bar_class(notebook: bool) -> Any:
    # the widget bar needs ipywidgets; without it tqdm.auto warns on every fit, so a
    # notebook without ipywidgets gets tqdm's text bar instead
    if notebook and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm


def _open_bar(desc: str, total: float | None, unit: str, *, notebook: bool, leave: bool,
              stream: TextIO | None) -> Any:
    """A tqdm bar: ``epochs`` of one fit or ``fits`` of an action; one line wide at most."""
    count = "{n:.2f}/{total:.2f} epochs" if unit == "epochs" else "{n:.1f}/{total:.0f} fits"
    if total is None or total <= 0:
        total = None
        fmt = "{desc}: {n:.2f} epochs" if unit == "epochs" else "{desc}: {n:.0f} fits"
        fmt += " [{elapsed}{postfix}]"
    else:
        fmt = "{desc}: {percentage:3.0f}%|{bar}| " + count + " [{elapsed}<{remaining}{postfix}]"
    width = None if notebook else min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24))[0])
    return _bar_class(notebook)(total=total, desc=desc, leave=leave, file=stream, ncols=width,
                                bar_format=fmt, mininterval=0.2)


def _finish_bar(bar: Any, failed: bool) -> None:
    """Close ``bar``; an action that ended early (early stopping, a time limit) reads as
    complete, a failed one keeps its place (tqdm marks it unfinished)."""
    if not failed and bar.total is not None and bar.n < bar.total:
        bar.total = bar.n
    bar.refresh()
    bar.close()


class _Action:
    """The bar of one user action and the fits (or inner actions) that move it.

    A child reports the fraction it finished (:meth:`update`) and its end (:meth:`done`);
    an action inside another (a cross-validation in a grid search) is itself one child
    of the outer one and draws nothing.
    """

    def __init__(self, desc: str, total: float | None, *, quiet: bool, notebook: bool,
                 stream: TextIO | None, parent: "_Action | None" = None,
                 key: Any = None, closes_at_refit: bool = False, leave: bool = True) -> None:
        self.desc = desc
        self.total = total
        self.quiet = quiet
        self.parent = parent
        self.key = key
        self.closes_at_refit = closes_at_refit
        self.finished = 0
        self.running: dict[int, float] = {}
        self.text = ""
        self.closed = False
        self._lock = threading.RLock()
        self.bar: Any = None
        if parent is None and not quiet:
            self.bar = _open_bar(desc, total, "fits", notebook=notebook, leave=leave,
                                 stream=stream)

    def fraction(self) -> float:
        """Share of the action done, counting the running fits' finished parts."""
        if not self.total:
            return 0.0
        return min(1.0, (self.finished + sum(self.running.values())) / self.total)

    def update(self, slot: int, fraction: float, text: str) -> None:
        """Child ``slot`` finished ``fraction`` of its work; ``text``: its latest metric."""
        with self._lock:
            if self.closed:
                return
            self.running[slot] = min(max(float(fraction), 0.0), 1.0)
            if text:
                self.text = text
            self._show()

    def done(self, slot: int) -> None:
        """Child ``slot`` ended."""
        with self._lock:
            if self.closed:
                return
            self.running.pop(slot, None)
            self.finished += 1
            if self.total is not None and self.finished > self.total:
                self.total = self.finished  # (a successive-halving search grows)
                if self.bar is not None:
                    self.bar.total = self.total
            self._show()

    def _show(self) -> None:
        if self.parent is not None:
            self.parent.update(id(self), self.fraction(), self.text)
            return
        if self.bar is None:
            return
        n = self.finished + sum(self.running.values())
        self.bar.n = min(n, self.total) if self.total is not None else self.finished
        self.bar.set_postfix_str(self.text, refresh=False)
        self.bar.refresh()

    def close(self, failed: bool = False) -> None:
        """End the action: an inner one counts as one child of its parent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            if self.bar is not None:
                _finish_bar(self.bar, failed)
                self.bar = None
        if self.parent is not None:
            self.parent.done(id(self))


@contextlib.contextmanager
def progress_action(desc: str, total: float | None, *, quiet: bool = False,
                    notebook: bool | None = None,
                    stream: TextIO | None = None) -> Iterator[_Action]:
    """One bar for a user action made of several fits (a grid search, a cross-validation).

    Fits started inside the ``with`` block (in this context, or in threads running a copy
    of it) draw no bar of their own: they move this one. Inside another action (or a
    scikit-learn search) the action draws nothing and counts as one fit of the outer one.

    Parameters
    ----------
    desc : str
        The bar's label.
    total : float or None
        Fits the action will run (None when unknown: the bar then counts them).
    quiet : bool, default=False
        Draw nothing (the fits inside are silent too).
    notebook : bool, optional
        Force (or refuse) the widget bar; defaults to :func:`in_notebook`.
    stream : file-like, optional
        Where a text bar goes (standard error when None).

    Yields
    ------
    _Action
        The action (its ``finished`` fits and ``fraction()``).
    """
    place = _placement(quiet)
    action = _Action(desc, total, quiet=quiet or place.silent,
                     notebook=in_notebook() if notebook is None else notebook,
                     stream=stream, parent=place.parent, leave=place.leave)
    token = _CURRENT.set(action)
    failed = True
    try:
        yield action
        failed = False
    finally:
        _CURRENT.reset(token)
        action.close(failed)
        place.end()


def cv_fits(params: Mapping[str, Any]) -> int | None:
    """Fits of a cross-validation: one per fold and the main model (unknown before the
    folds are read when a ``fold_column`` names them)."""
    return None if params.get("fold_column") is not None else int(params["nfolds"]) + 1


@dataclass
class _Placement:
    """Where a fit or an action reports: its parent action, or a bar of its own."""

    parent: _Action | None = None
    silent: bool = False
    leave: bool = True
    closes_parent: bool = False

    def end(self) -> None:
        """After the child's ``done``: the last fit of a scikit-learn search closes its bar."""
        if self.closes_parent and self.parent is not None:
            _close_session(self.parent)


def _sklearn_caller() -> tuple[Any, str, int | None, bool, bool] | None:
    """The scikit-learn search or cross-validation this fit runs in, from the call stack.

    Returns ``(key, label, total fits, is the search's refit, search refits)`` or None
    when no scikit-learn model-selection code called us. ``key`` identifies the outermost
    scikit-learn frame (the user's one call), the same for every fit of that call.
    """
    frame = sys._getframe(1)
    fold = search = root = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("sklearn."):
            root = frame
            name = frame.f_code.co_name
            if fold is None and name == "_fit_and_score" \
                    and module == "sklearn.model_selection._validation":
                fold = frame
            if search is None and name == "fit" and module == "sklearn.model_selection._search":
                search = frame
        frame = frame.f_back
    if root is None or (fold is None and search is None):
        return None
    owner = search.f_locals.get("self") if search is not None else None
    refits = bool(getattr(owner, "refit", False)) if owner is not None else False
    label = type(owner).__name__ if owner is not None else root.f_code.co_name
    total = None
    if fold is not None and owner is not None:
        split = fold.f_locals.get("split_progress")
        cand = fold.f_locals.get("candidate_progress")
        if split is not None and cand is not None:
            total = int(split[1]) * int(cand[1]) + int(refits)
    return (id(root), root.f_code), label, total, fold is None, refits


def _placement(quiet: bool) -> _Placement:
    """Where a new fit or action reports (see :class:`_Placement`)."""
    global _SESSION
    parent = _CURRENT.get()
    if parent is not None:
        return _Placement(parent=parent)
    caller = _sklearn_caller()
    if caller is None:
        return _Placement()
    if multiprocessing.parent_process() is not None:
        # a search's worker process (n_jobs > 1): the fits are silent, not one bar each
        return _Placement(silent=True)
    key, label, total, is_refit, refits = caller
    with _SESSION_LOCK:
        session = _SESSION
        if session is not None and (session.key != key or session.closed):
            _close_session(session)  # a search that ended without its last fit (an error)
            session = None
        if session is None:
            if is_refit:  # the search's fits ran elsewhere (n_jobs > 1): a bar of its own
                return _Placement()
            if total is None:  # length unknown: a bar per fit that vanishes when it ends
                return _Placement(leave=False)
            session = _SESSION = _Action(label, total, quiet=quiet, notebook=in_notebook(),
                                         stream=None, key=key, closes_at_refit=refits)
    last = is_refit or (not session.closes_at_refit and session.total is not None
                        and session.finished + len(session.running) + 1 >= session.total)
    return _Placement(parent=session, closes_parent=last)


def _close_session(session: _Action) -> None:
    global _SESSION
    with _SESSION_LOCK:
        session.close()
        if _SESSION is session:
            _SESSION = None


@atexit.register
def _close_open_session() -> None:
    """At exit, end the line of a scikit-learn search that stopped before its last fit."""
    if _SESSION is not None:
        _close_session(_SESSION)


class ProgressReporter:
    """Report the scoring events of one fit.

    A fit alone draws a ``tqdm`` bar over epochs (a widget in a notebook, one updating line
    on ``stream`` elsewhere) with the elapsed time, the time left and the latest metric as
    postfix. A fit inside a :func:`progress_action` or a scikit-learn search draws nothing
    and moves the action's bar.

    Parameters
    ----------
    owner : str
        Estimator name (the bar's label).
    epochs : float
        Epochs asked for (the bar's total).
    quiet : bool, default=False
        Report nothing.
    notebook : bool, optional
        Force (or refuse) the widget bar; defaults to :func:`in_notebook`.
    stream : file-like, optional
        Where a text bar and notes go (``sys.stderr`` when None).
    verbose : bool, default=False
        The training loop prints every scoring-history row on standard output: no text
        bar (a notebook keeps its widget).

    Attributes
    ----------
    lines : list of str
        The one-line summary of every scoring event.
    worker_updates : list of tuple
        ``(worker, epochs)`` of every worker progress update received
        (:meth:`worker_progress`).
    """

    def __init__(self, owner: str, epochs: float, *, quiet: bool = False,
                 notebook: bool | None = None, stream: TextIO | None = None,
                 verbose: bool = False) -> None:
        self.owner = owner
        self.epochs = float(epochs)
        self.quiet = quiet
        self.notebook = in_notebook() if notebook is None else notebook
        self.stream = stream
        self.lines: list[str] = []
        self.worker_updates: list[tuple[str, float]] = []
        self._bar: Any = None
        self._closed = False
        self._place = _placement(quiet)
        self._draws = not (quiet or self._place.silent or self._place.parent is not None
                           or (verbose and not self.notebook))
        self._exc = sys.exc_info()[1]  # (an exception already being handled by the caller)
        # worker updates arrive on the Dask client's event-loop thread
        self._lock = threading.Lock()
        _ACTIVE.reporter = self

    @property
    def wants_worker_progress(self) -> bool:
        """Whether worker progress would move a bar (this fit's or its action's)."""
        return not self.quiet and (self._draws or self._place.parent is not None)

    def __call__(self, history: pd.DataFrame, line: str) -> None:
        """Report the scoring event that produced the last row of ``history``."""
        self.lines.append(line)
        if self.quiet:
            return
        last = history.iloc[-1]
        with self._lock:
            self._move(float(last["epochs"]), _metric_text(last, list(history.columns)))

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
            if self.quiet or self._closed:
                return
            self._move(float(epochs), None)

    def _move(self, epochs: float, text: str | None) -> None:
        done = min(epochs, self.epochs)
        parent = self._place.parent
        if parent is not None:
            fraction = done / self.epochs if self.epochs > 0 else 1.0
            parent.update(id(self), fraction, text or "")
            return
        if not self._draws:
            return
        bar = self._ensure_bar()
        # a worker update never moves the bar back: a scoring event sets the exact value
        bar.n = done if text is not None else max(float(bar.n), done)
        if text is not None:
            bar.set_postfix_str(text, refresh=False)
        bar.refresh()

    def note(self, text: str) -> None:
        """Print an informational line once per process (e.g. the live dashboard's URL)."""
        if self.quiet or text in _NOTED:
            return
        _NOTED.add(text)
        out = self.stream if self.stream is not None else sys.stderr
        # above a text bar being drawn, not into its line
        _bar_class(False).write(f"{self.owner}: {text}", file=out)
        out.flush()

    def _ensure_bar(self) -> Any:
        if self._bar is None:
            self._bar = _open_bar(self.owner, self.epochs, "epochs", notebook=self.notebook,
                                  leave=self._place.leave, stream=self.stream)
        return self._bar

    def close(self) -> None:
        """Close the progress bar (if one was drawn); the reporter stops being current."""
        exc = sys.exc_info()[1]
        failed = exc is not None and exc is not self._exc
        with self._lock:
            if not self._closed and self._place.parent is not None:
                self._place.parent.done(id(self))
            self._closed = True
            if self._bar is not None:
                _finish_bar(self._bar, failed)
                self._bar = None
        self._place.end()
        if getattr(_ACTIVE, "reporter", None) is self:
            _ACTIVE.reporter = None
