"""A live training page on the Dask dashboard: ``/dask_deeplearn`` and its JSON.

This module is a route module of the scheduler's HTTP server (the one serving the Dask
dashboard): the scheduler imports every module named in the configuration list
``distributed.scheduler.http.routes`` when it starts and serves its :data:`routes`.

* ``/dask_deeplearn/status.json``: every fit the scheduler knows (``?fit=<id>`` for one):
  id, status, model summary, scoring-history rows and the latest progress of each worker;
* ``/dask_deeplearn/`` (also ``/dask_deeplearn`` and ``/dask_deeplearn/index.html``): a
  self-contained HTML page (inline JavaScript and SVG, no external files) that polls the
  JSON every second and draws metric vs epochs, samples/s, the model summary and the
  per-worker progress.

Nothing is kept in the scheduler but its event log: a fit on the Dask backend logs
(:class:`~dask_deeplearn.distributed.monitor.FitMonitor`, ``Client.log_event``) its start
with the model summary and its end on topic :data:`TOPIC`, each scoring-history row on
:func:`history_topic`, and its training tasks log their progress on
:func:`progress_topic` (``get_worker().log_event``). The scheduler keeps the last
``distributed.admin.low-level-log-length`` events (default 1,000) of each topic. When a fit
ends, its end event carries its whole scoring history and each worker's last progress, and
the fit's own two topics are removed from the scheduler (:func:`drop_topics`): a
long-lived scheduler keeps one topic for every fit it ran, not three.

Enabling it (the configuration must be set before the scheduler starts):

* a fit without a cluster starts an embedded ``LocalCluster`` with the page enabled;
* your own ``LocalCluster``: ``with dask.config.set(dashboard_config()): LocalCluster(...)``;
* ``dask scheduler``: set the environment variable of :func:`dashboard_env` (it keeps the
  default routes), e.g. ``DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES="[...,
  'dask_deeplearn.distributed.dashboard']" dask scheduler``.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any, Callable, Iterable, Sequence

import dask
from distributed.http.utils import RequestHandler

__all__ = [
    "ROUTE_MODULE",
    "TOPIC",
    "dashboard_config",
    "dashboard_url",
    "dashboard_env",
    "drop_topics",
    "fits_status",
    "history_topic",
    "json_safe",
    "page_url",
    "progress_topic",
    "route_enabled",
    "routes",
    "script_json",
    "stop_description",
]

#: this module, as named in ``distributed.scheduler.http.routes``
ROUTE_MODULE = "dask_deeplearn.distributed.dashboard"

#: event topic of fit starts (with the model summary) and ends (with the status)
TOPIC = "dask_deeplearn"

_ROUTES_KEY = "distributed.scheduler.http.routes"
_ENV = "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES"


def history_topic(fit_id: str) -> str:
    """Event topic of one fit's scoring-history rows."""
    return f"{TOPIC}-history-{fit_id}"


def progress_topic(fit_id: str) -> str:
    """Event topic of one fit's worker progress (one topic per fit, so that a client can
    subscribe to exactly its fit)."""
    return f"{TOPIC}-progress-{fit_id}"


# ---------------------------------------------------------------------- enabling
def _routes_with_ours() -> list[str]:
    current = dask.config.get(_ROUTES_KEY, default=None) or []
    routes_ = [str(r) for r in current]
    if ROUTE_MODULE not in routes_:
        routes_.append(ROUTE_MODULE)
    return routes_


def dashboard_config() -> dict[str, list[str]]:
    """The Dask configuration that adds the training page to a scheduler's dashboard.

    The current route list (Dask's defaults unless changed) with this module appended.
    Use it when creating a ``LocalCluster`` (its scheduler reads the list when it starts)::

        with dask.config.set(dashboard_config()):
            cluster = LocalCluster(...)

    Returns
    -------
    dict
        ``{"distributed.scheduler.http.routes": [...]}`` for ``dask.config.set``.
    """
    return {_ROUTES_KEY: _routes_with_ours()}


def dashboard_env() -> dict[str, str]:
    """The environment variable that adds the training page to a ``dask scheduler``.

    Dask reads ``DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES`` with ``ast.literal_eval``, and
    the value replaces the whole list, so it repeats the default routes. The scheduler's
    Python environment needs ``dask_deeplearn`` installed.

    Returns
    -------
    dict
        ``{"DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES": "['distributed.http...', ...]"}``,
        e.g. for ``subprocess.Popen(..., env={**os.environ, **dashboard_env()})`` or to
        print as ``export NAME="value"``.
    """
    return {_ENV: repr(_routes_with_ours())}


def _has_our_handler(router: Any, seen: set[int]) -> bool:
    if id(router) in seen:
        return False
    seen.add(id(router))
    for rule in list(getattr(router, "rules", [])):
        target = rule.target
        if isinstance(target, type) and issubclass(target, _Handler):
            return True
        if hasattr(target, "rules") and _has_our_handler(target, seen):
            return True
    return False


def route_enabled(dask_scheduler: Any) -> bool:
    """Whether the scheduler serves this page (run it with ``client.run_on_scheduler``)."""
    app = getattr(dask_scheduler, "http_application", None)
    if app is None:
        return False
    seen: set[int] = set()
    return any(_has_our_handler(router, seen)
               for router in (app.wildcard_router, app.default_router))


def page_url(client: Any) -> str | None:
    """The page's URL for ``client``, from its dashboard link, or None when unknown.

    ``client.dashboard_link`` follows ``distributed.dashboard.link`` (e.g. a JupyterHub
    proxy address) and ends with ``/status``; the page is at ``dask_deeplearn/`` beside it.
    """
    try:
        link = client.dashboard_link
    except Exception:  # noqa: BLE001 - no dashboard: no page
        return None
    if not link or not str(link).endswith("/status"):
        return None
    return str(link)[: -len("status")] + "dask_deeplearn/"


def dashboard_url(client: Any) -> str | None:
    """The URL of the training page of ``client``'s scheduler, or None when it serves none.

    :func:`page_url` when the scheduler serves the page (its route module is enabled, see
    :func:`dashboard_config`), else None: a scheduler started without the route, or with
    no dashboard. The URL a Dask fit prints ("live training page at ...") is this one.
    Dask's own navigation bar (``/status``) has no documented way for a package to add a
    link, so this is how to reach the page: the same host and port as ``/status``.

    Parameters
    ----------
    client : distributed.Client

    Returns
    -------
    str or None
        E.g. ``"http://127.0.0.1:8787/dask_deeplearn/"``.
    """
    url = page_url(client)
    if url is None:
        return None
    try:
        enabled = bool(client.run_on_scheduler(route_enabled))
    except Exception:  # noqa: BLE001 - e.g. dask_deeplearn not importable on the scheduler
        return None
    return url if enabled else None


def drop_topics(client: Any, topics: Sequence[str]) -> None:
    """Remove ``topics`` and their events from the scheduler's event log.

    Dask has no public call for it: the function sent to the scheduler
    (``client.run_on_scheduler``) removes them from the scheduler's event broker (or, in
    older ``distributed`` releases, its ``events`` and ``event_counts`` tables). It is
    defined inside this function so that it travels by value: the scheduler does not
    need ``dask_deeplearn`` installed.

    Parameters
    ----------
    client : distributed.Client
    topics : sequence of str
    """
    def drop(dask_scheduler: Any, names: list[str]) -> None:
        broker = getattr(dask_scheduler, "_broker", None)
        tables = [getattr(broker, "_topics", None), getattr(dask_scheduler, "events", None),
                  getattr(dask_scheduler, "event_counts", None)]
        for table in tables:
            if isinstance(table, dict):
                for name in names:
                    table.pop(name, None)

    client.run_on_scheduler(drop, names=list(topics))


# ---------------------------------------------------------------------- the JSON
def json_safe(value: Any) -> Any:
    """``value`` with only JSON types: NaN and infinities become None, NumPy scalars and
    arrays plain numbers and lists, timestamps ISO strings, other objects their ``str``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if hasattr(value, "isoformat"):
        try:
            return str(value.isoformat())
        except (TypeError, ValueError):  # pragma: no cover - NaT and friends
            return None
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return json_safe(value.tolist())
    if hasattr(value, "__float__"):
        try:
            return json_safe(float(value))
        except (TypeError, ValueError):  # pragma: no cover - defensive
            pass
    return str(value)


#: what each stop reason of the training loop means, as the page says it
_STOP_TEXT = {
    "epochs": "trained the asked epochs",
    "early_stopping": "early stopping: the stopping metric stopped improving "
                      "(stopping_rounds, stopping_tolerance)",
    "classification_stop": "classification_stop: the training classification error "
                           "reached the threshold",
    "regression_stop": "regression_stop: the training MSE reached the threshold",
    "max_runtime_secs": "max_runtime_secs: the time limit was reached",
    "no training rows": "iterations kept training no rows",
    "cancelled": "cancelled",
    "interrupted": "interrupted",
}


def stop_description(reason: Any) -> str | None:
    """What a fit's stop reason means (the reason itself when it is an error message).

    Parameters
    ----------
    reason : str or None
        The training loop's stop reason (``"epochs"``, ``"early_stopping"``, ...) or the
        error that ended the fit.

    Returns
    -------
    str or None
        None for a fit without a reason (one still running).
    """
    if reason is None:
        return None
    return _STOP_TEXT.get(str(reason), str(reason))


def _live_samples(events: Iterable[tuple[float, Any]]) -> int | None:
    """Samples trained so far, from a running fit's progress topic, or None.

    The driver logs each iteration's start with the samples trained before it
    (``"samples_before"``), the workers each task's end with the rows it trained.
    """
    base: dict[int, int] = {}
    done: dict[int, dict[str, int]] = {}
    for _, msg in events:
        if not isinstance(msg, dict):
            continue
        it = int(msg.get("iteration", 0) or 0)
        if "samples_before" in msg:
            base[it] = int(msg["samples_before"] or 0)
        elif "worker" in msg:
            done.setdefault(it, {})[str(msg["worker"])] = int(msg.get("rows_done", 0) or 0)
    if not base:
        return None
    latest = max(base)
    return base[latest] + sum(done.get(latest, {}).values())


def _latest_progress(events: Iterable[tuple[float, Any]]) -> tuple[dict[str, Any], int]:
    workers: dict[str, dict[str, Any]] = {}
    iteration = 0
    for _, msg in events:
        if not isinstance(msg, dict) or "worker" not in msg:
            continue
        it = int(msg.get("iteration", 0) or 0)
        iteration = max(iteration, it)
        entry = dict(msg)
        entry["phase"] = "training" if int(msg.get("rows_done", 0) or 0) == 0 else "done"
        workers[str(msg["worker"])] = entry
    return workers, iteration


def fits_status(
    get_events: Callable[[str], Sequence[tuple[float, Any]]],
    *,
    fit: str | None = None,
    clients: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Every fit the event log knows, newest first (what ``status.json`` serves).

    Parameters
    ----------
    get_events : callable
        ``get_events(topic)`` returning ``(timestamp, message)`` pairs (the scheduler's
        ``get_events`` or a client's).
    fit : str, optional
        Only this fit.
    clients : iterable of str, optional
        Ids of the clients connected to the scheduler: a running fit whose client is
        gone is reported as ``"lost"``.

    Returns
    -------
    dict
        ``{"time": now, "fits": [{"id", "status", "reason", "stop", "started", "ended",
        "summary", "final", "history", "workers", "iteration", "samples"}, ...]}``.
        ``status`` is ``"running"``, ``"finished"``, ``"stopped early"``, ``"cancelled"``,
        ``"error"`` or ``"lost"``; ``stop`` says what the stop reason means
        (:func:`stop_description`); ``samples`` is the number of samples trained so far
        (while the fit runs: at the start of the current iteration plus the rows its
        finished worker tasks trained; never less than the last history row's). Only JSON
        values (no NaN). An ended fit's history, workers and iteration come from its end
        event when that carries them (``"history"``, ``"workers"``, ``"iteration"``), else
        from the fit's topics.
    """
    fits: dict[str, dict[str, Any]] = {}
    ended: dict[str, dict[str, Any]] = {}
    for t, msg in get_events(TOPIC):
        if not isinstance(msg, dict) or "fit" not in msg:
            continue
        fid = str(msg["fit"])
        if fit is not None and fid != fit:
            continue
        rec = fits.get(fid)
        if rec is None:
            rec = fits[fid] = {"id": fid, "status": "running", "reason": None, "started": None,
                               "ended": None, "summary": {}, "final": None}
        if msg.get("event") == "start":
            rec.update(started=t, summary=msg.get("summary") or {})
        elif msg.get("event") == "end":
            rec.update(status=str(msg.get("status", "finished")), reason=msg.get("reason"),
                       ended=t, final=msg.get("final"))
            ended[fid] = msg
    live = None if clients is None else set(clients)
    for fid, rec in fits.items():
        end = ended.get(fid, {})
        if "history" in end:  # an ended fit: its topics are gone, the end event has it all
            rec["history"] = [m for m in end["history"] if isinstance(m, dict)]
            rec["workers"] = dict(end.get("workers") or {})
            rec["iteration"] = int(end.get("iteration") or 0)
        else:
            rec["history"] = [m for _, m in get_events(history_topic(fid))
                              if isinstance(m, dict)]
            progress = get_events(progress_topic(fid))
            rec["workers"], rec["iteration"] = _latest_progress(progress)
            rec["samples"] = _live_samples(progress)
        last = next((r.get("samples") for r in reversed(rec["history"])
                     if isinstance(r.get("samples"), (int, float))), None)
        known = [v for v in (rec.get("samples"), last) if v is not None]
        rec["samples"] = (rec["final"] or {}).get("samples") or (max(known) if known else None)
        client_id = rec["summary"].get("client")
        if rec["status"] == "running" and live is not None and client_id and client_id not in live:
            rec["status"] = "lost"
            rec["reason"] = "the client that ran the fit disconnected before it ended"
        rec["stop"] = stop_description(rec["reason"])
    ordered = sorted(fits.values(), key=lambda r: r["started"] or r["ended"] or 0.0, reverse=True)
    return json_safe({"time": time.time(), "fits": ordered})


#: JSON escapes of the characters that can end or change an HTML ``<script>`` element
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def script_json(value: Any) -> str:
    """``value`` as JSON text safe to embed in an HTML ``<script>`` element.

    Every ``<``, ``>`` and ``&`` is written as its JSON escape (``\\u003c``...): outside
    strings JSON has none of them, and ``JSON.parse`` reads the escapes back as the same
    characters. So no string (a model id ``<!--<script>``, a column name ``</script>``)
    can close the element or switch the HTML parser into the script-comment states that
    would swallow the page's own script.

    Parameters
    ----------
    value : object
        JSON-safe value (see :func:`json_safe`); NaN and infinities are refused.

    Returns
    -------
    str
        ASCII JSON text without ``<``, ``>`` or ``&``.
    """
    return json.dumps(value, allow_nan=False).translate(_SCRIPT_ESCAPES)


# ---------------------------------------------------------------------- handlers
class _Handler(RequestHandler):
    """Base of this page's handlers (``dask_server`` is the scheduler)."""

    def _status(self) -> dict[str, Any]:
        scheduler = self.server
        fit = self.get_argument("fit", None)
        # one snapshot of the non-empty topics: asking the scheduler for one topic by name
        # creates it when it does not exist (an ended fit's topics would come back empty)
        events = scheduler.get_events()
        return fits_status(lambda topic: events.get(topic, ()), fit=fit or None,
                           clients=list(getattr(scheduler, "clients", {}) or {}))


class StatusJSON(_Handler):
    """``/dask_deeplearn/status.json``: see :func:`fits_status`."""

    def get(self) -> None:
        body = json.dumps(self._status(), allow_nan=False)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.write(body)


class Page(_Handler):
    """``/dask_deeplearn/``: the live page, with the current status embedded (drawn at once
    without waiting for the first poll)."""

    def get(self) -> None:
        from ._dashboard_page import PAGE

        initial = script_json(self._status())
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.write(PAGE.replace("__INITIAL_STATUS__", initial))


#: what the scheduler's HTTP server serves from this module
routes: list[tuple[str, type, dict[str, Any]]] = [
    ("dask_deeplearn/status.json", StatusJSON, {}),
    ("dask_deeplearn", Page, {}),
    ("dask_deeplearn/", Page, {}),
    ("dask_deeplearn/index.html", Page, {}),
]
