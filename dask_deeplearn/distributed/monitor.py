"""The driver side of live reporting on Dask: events for the dashboard page, a moving bar.

:class:`FitMonitor` is the training loop's :class:`~dask_deeplearn.training.loop.FitObserver`
for a :class:`~dask_deeplearn.distributed.backend.DaskBackend` fit. It logs (with
``Client.log_event``, stored in the scheduler's event log) the fit's start with the model
summary, every scoring-history row and the end with its status, which
:mod:`dask_deeplearn.distributed.dashboard` serves. The fit's training tasks log their own
progress (:func:`~dask_deeplearn.distributed.tasks.progress_message`); when the fit has a
notebook progress bar the monitor subscribes to those events
(``Client.subscribe_topic``) so the bar moves between scoring events, and unsubscribes
when the fit ends. The end event carries the fit's whole history and each worker's last
progress, and the fit's own topics are then removed from the scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Any

from ..inspection import summary_table, summary_title
from ..network import ModelState
from ..training.stopping import default_metric
from .dashboard import (TOPIC, _latest_progress, dashboard_url, drop_topics, history_topic,
                        json_safe, progress_topic)

__all__ = ["FitMonitor", "SUMMARY_PARAMETERS", "final_metrics", "response_label"]

logger = logging.getLogger("dask_deeplearn")

#: the parameters shown in the page's model summary
SUMMARY_PARAMETERS = (
    "activation", "hidden", "epochs", "mini_batch_size", "adaptive_rate", "rate", "rho",
    "epsilon", "momentum_start", "momentum_stable", "nesterov_accelerated_gradient", "l1",
    "l2", "max_w2", "input_dropout_ratio", "hidden_dropout_ratios", "distribution", "loss",
    "train_samples_per_iteration", "score_interval", "score_each_iteration",
    "stopping_metric", "stopping_rounds", "stopping_tolerance", "balance_classes",
    "replicate_training_data", "shuffle_training_data", "elastic_averaging", "reproducible",
    "seed",
)

#: columns of the model summary's layer table sent at the start (the untrained network's
#: statistics say nothing) and at the end (all of them)
_START_LAYER_COLUMNS = ("layer", "units", "type", "dropout", "l1", "l2")


#: the response column of a scikit-learn style fit (``fit(X, y)``), shown as ``y``
_SKLEARN_RESPONSE = "__response__"


def response_label(data_info: Any) -> str | None:
    """The response as the user named it: the frame's column (H2O's ``y``), or ``y`` for
    a scikit-learn style ``fit(X, y)``, whose response travels as an internal column."""
    response = getattr(data_info, "response", None)
    if response is None:
        return None
    return "y" if str(response) == _SKLEARN_RESPONSE else str(response)


def _layers(state: ModelState, params: dict[str, Any], data_info: Any,
            columns: tuple[str, ...] | None) -> tuple[str, list[dict[str, Any]]]:
    n_classes = len(data_info.classes) if getattr(data_info, "classes", None) is not None else None
    table = summary_table(state, params, data_info)
    if columns is not None:
        table = table[list(columns)]
    title = summary_title(state, params, data_info, n_classes)
    label = response_label(data_info)
    if label is not None and label != getattr(data_info, "response", None):
        title = title.replace(f"predicting {_SKLEARN_RESPONSE}", f"predicting {label}")
    return title, json_safe(table.to_dict("records"))


def final_metrics(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The metrics of the last scoring-history row, per frame.

    Parameters
    ----------
    rows : list of dict
        Scoring-history rows (``training_<metric>``, ``validation_<metric>`` keys).

    Returns
    -------
    dict
        ``{"training": {metric: value}, "validation": {...}}`` without the metrics the
        row has no value for (NaN, None); a frame without any value is left out.
    """
    if not rows:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for key, value in json_safe(dict(rows[-1])).items():
        frame, _, metric = str(key).partition("_")
        if frame in ("training", "validation") and metric and metric != "speed" \
                and isinstance(value, (int, float)) and not isinstance(value, bool):
            out.setdefault(frame, {})[metric] = value
    return out


class FitMonitor:
    """Report one fit on Dask to the scheduler's event log (and worker progress to the bar).

    Made by :meth:`DaskBackend.observer` (one per run of the training loop). Failures to
    log (a scheduler going away) are logged once at warning level and never stop training.

    Parameters
    ----------
    backend : DaskBackend
        The fit's backend: its client, data description, workers and id.
    reporter : ProgressReporter, optional
        The fit's progress reporter: its estimator name goes into the summary, it prints
        the page's URL once, and with a notebook bar it receives worker progress.
    """

    def __init__(self, backend: Any, reporter: Any | None = None) -> None:
        self.backend = backend
        self.client = backend.client
        self.fit_id = str(backend.name)
        self.reporter = reporter
        self.url: str | None = None
        self._subscribed = False
        self._warned = False
        self._lock = threading.Lock()
        self._bases: dict[int, int] = {}                 # iteration -> rows before it
        self._done: dict[int, dict[str, int]] = {}       # iteration -> worker -> rows done
        self._rows: list[dict[str, Any]] = []            # the history rows logged so far

    # ------------------------------------------------------------------ logging
    def _log(self, topic: str, msg: dict[str, Any]) -> None:
        try:
            self.client.log_event(topic, json_safe(msg))
        except Exception as exc:  # noqa: BLE001 - live reporting never stops training
            if not self._warned:
                self._warned = True
                logger.warning("dask_deeplearn: could not log fit %s's progress to the "
                               "scheduler (%s: %s); the dashboard page will miss it",
                               self.fit_id, type(exc).__name__, exc)

    def summary(self, state: ModelState, params: dict[str, Any]) -> dict[str, Any]:
        """The model summary logged when the fit starts (JSON-safe)."""
        b = self.backend
        info = b.data_info
        title, layers = _layers(state, params, info, _START_LAYER_COLUMNS)
        task = getattr(info, "task", None)
        classes = getattr(info, "classes", None)
        return json_safe({
            "fit": self.fit_id,
            "estimator": getattr(self.reporter, "owner", None) or "DeepLearning",
            "model_id": params.get("model_id"),
            "task": task,
            "response": response_label(info),
            "classes": None if classes is None else [str(c) for c in list(classes)[:50]],
            "n_classes": None if classes is None else len(classes),
            "title": title,
            "layers": layers,
            "parameters": {k: params[k] for k in SUMMARY_PARAMETERS if k in params},
            "metric": params.get("stopping_metric") or default_metric(task),
            "rows": int(b.n_rows),
            "inputs": int(getattr(info, "n_inputs", 0) or 0),
            "validation": bool(b.has_validation),
            "validation_rows": getattr(b, "n_valid", None),
            "epochs": float(params["epochs"]),
            "start_epochs": state.processed / max(1, b.n_rows),
            "workers": dict(b.worker_rows),
            "threads": dict(b.nthreads),
            "replicate": bool(b.replicate),
            "single_node": bool(b.single),
            "client": self.client.id,
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        })

    # ------------------------------------------------------------------ FitObserver
    def started(self, state: ModelState, params: dict[str, Any]) -> None:
        """Log the start with the model summary; show the URL; follow worker progress.

        :attr:`url` is the page's URL (:func:`~.dashboard.dashboard_url`), None when the
        scheduler does not serve the page; a fit that is not quiet prints it once.
        """
        try:
            summary = self.summary(state, params)
        except Exception as exc:  # noqa: BLE001 - a summary must not stop training
            logger.warning("dask_deeplearn: no model summary for the dashboard (%s)", exc)
            summary = {"fit": self.fit_id, "client": self.client.id}
        self._log(TOPIC, {"event": "start", "fit": self.fit_id, "summary": summary})
        self.url = dashboard_url(self.client)
        rep = self.reporter
        if rep is None or getattr(rep, "quiet", True):
            return
        if self.url is not None:
            rep.note(f"live training page at {self.url}")
        if getattr(rep, "wants_worker_progress", False):
            try:
                self.client.subscribe_topic(progress_topic(self.fit_id), _ProgressHandler(self))
                self._subscribed = True
            except Exception as exc:  # noqa: BLE001 - the bar then moves at scoring events
                logger.info("dask_deeplearn: no worker progress for the bar (%s)", exc)

    def scored(self, row: dict[str, Any]) -> None:
        """Log a new scoring-history row."""
        self._rows.append(json_safe(dict(row)))
        self._log(history_topic(self.fit_id), dict(row))

    def finished(self, status: str, reason: str, state: ModelState | None) -> None:
        """Log the end; stop following workers; remove the fit's own topics.

        The end event holds the status, the reason, the final layer statistics, samples,
        epochs and metrics per frame (:func:`final_metrics`), every scoring-history row and
        each worker's last progress (what the dashboard page shows of an ended fit), so
        the fit's history and progress topics are no longer needed.
        """
        if getattr(self.client, "status", "running") != "running":
            return  # the scheduler is gone, and its event log with it
        final: dict[str, Any] | None = None
        if state is not None:
            try:
                title, layers = _layers(state, self.backend.params, self.backend.data_info, None)
                final = {"title": title, "layers": layers, "samples": int(state.processed),
                         "epochs": state.processed / max(1, self.backend.n_rows)}
            except Exception:  # noqa: BLE001 - e.g. a diverged model's statistics
                final = None
        if self._rows:
            final = {**(final or {}), "metrics": final_metrics(self._rows)}
        topics = [history_topic(self.fit_id), progress_topic(self.fit_id)]
        try:
            workers, iteration = _latest_progress(self.client.get_events(topics[1]))
        except Exception:  # noqa: BLE001 - the scheduler may be gone
            workers, iteration = {}, 0
        self._log(TOPIC, {"event": "end", "fit": self.fit_id, "status": status,
                          "reason": reason, "final": final, "history": self._rows,
                          "workers": workers, "iteration": iteration})
        if self._subscribed:
            self._subscribed = False
            try:
                self.client.unsubscribe_topic(progress_topic(self.fit_id))
            except Exception:  # noqa: BLE001 - the client may be closing
                pass
        # (after unsubscribing: the scheduler creates a topic it is asked about)
        try:
            drop_topics(self.client, topics)
        except Exception as exc:  # noqa: BLE001 - e.g. the scheduler is gone
            logger.info("dask_deeplearn: fit %s's event topics stay on the scheduler (%s)",
                        self.fit_id, exc)

    # ------------------------------------------------------------------ worker progress
    def iteration(self, number: int, rows_before: int) -> None:
        """The backend starts iteration ``number`` after ``rows_before`` trained rows.

        Logged on the fit's progress topic too, so that the page counts the samples
        trained so far from it and the workers' task ends (between scoring events).
        """
        with self._lock:
            self._bases = {number: int(rows_before)}
            self._done = {number: {}}
        self._log(progress_topic(self.fit_id), {"fit": self.fit_id, "iteration": int(number),
                                                "samples_before": int(rows_before)})

    def on_progress(self, event: tuple[float, Any]) -> None:
        """Move the bar for a worker progress event (runs on the client's event loop)."""
        _, msg = event
        if not isinstance(msg, dict) or self.reporter is None or not self._subscribed \
                or "worker" not in msg:
            return  # (the driver's own iteration events carry no worker)
        it = int(msg.get("iteration", -1))
        with self._lock:
            if it not in self._bases:
                return  # an earlier iteration's late message
            done = self._done[it]
            done[str(msg.get("worker", ""))] = int(msg.get("rows_done", 0))
            epochs = (self._bases[it] + sum(done.values())) / max(1, self.backend.n_rows)
        self.reporter.worker_progress(epochs, str(msg.get("worker", "")))


class _ProgressHandler:
    """The client's handler of a fit's progress topic, calling :meth:`FitMonitor.on_progress`.

    It holds the monitor weakly: ``Client.unsubscribe_topic`` leaves the handler in the
    client's table, which must not keep the fit's backend alive.
    """

    def __init__(self, monitor: FitMonitor) -> None:
        self._monitor = weakref.ref(monitor)

    def __call__(self, event: tuple[float, Any]) -> None:
        monitor = self._monitor()
        if monitor is not None:
            monitor.on_progress(event)
