"""The live training page on the Dask dashboard and worker progress.

Real multi-process ``LocalCluster``s with the route enabled, fits running in the background,
``status.json`` and the page fetched over HTTP on 127.0.0.1; a real ``dask scheduler``
process configured through the environment variable; a headless Chromium screenshot when
``/usr/bin/chromium`` is installed.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

from dask_deeplearn import DeepLearningClassifier  # noqa: E402
from dask_deeplearn.distributed import (  # noqa: E402
    dashboard_config, dashboard_env, dashboard_url, page_url)
from dask_deeplearn.distributed.cluster import embedded_cluster  # noqa: E402
from dask_deeplearn.distributed.dashboard import (  # noqa: E402
    TOPIC, fits_status, history_topic, json_safe, progress_topic, route_enabled,
    stop_description)
from dask_deeplearn.training.progress import ProgressReporter  # noqa: E402

FAST = dict(mini_batch_size=16, adaptive_rate=False, rate=0.05, momentum_start=0.9,
            momentum_stable=0.9, nesterov_accelerated_gradient=True)

#: hang guard for anything that waits on the cluster (generous: the machine is shared)
HANG = 90.0


@pytest.fixture(scope="module")
def dash_client():
    """A 2-process LocalCluster whose scheduler serves the page, and a client."""
    with dask.config.set(dashboard_config()):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address="127.0.0.1:0")
    with cluster, distributed.Client(cluster, set_as_default=False) as c:
        yield c


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    cols = [f"p{i}" for i in range(X.shape[1])]
    return pd.DataFrame(X, columns=cols).assign(y=y), cols


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8")


def _strict_json(text: str) -> dict:
    def no_constant(name: str) -> None:
        raise AssertionError(f"status.json holds {name}, which is not JSON")

    return json.loads(text, parse_constant=no_constant)


def _status(base: str, fit: str | None = None) -> dict:
    status, ctype, body = _get(base + "status.json" + (f"?fit={fit}" if fit else ""))
    assert status == 200 and ctype.startswith("application/json")
    return _strict_json(body)


def _fit_named(data: dict, model_id: str) -> dict | None:
    for f in data["fits"]:
        if f["summary"].get("model_id") == model_id:
            return f
    return None


class _NotebookReporter(ProgressReporter):
    """The real reporter, drawing its bar as in a notebook (tqdm writes text here)."""

    made: list["_NotebookReporter"] = []

    def __init__(self, owner, epochs, *, quiet=False, notebook=None, stream=None, **kw):
        super().__init__(owner, epochs, quiet=False, notebook=True, stream=io.StringIO())
        _NotebookReporter.made.append(self)


def test_status_json_and_page_follow_a_running_fit(dash_client, digits, monkeypatch):
    import dask_deeplearn.estimators._fitting as base  # where fits make their reporter

    monkeypatch.setattr(base, "ProgressReporter", _NotebookReporter)
    _NotebookReporter.made.clear()
    client = dash_client
    url = page_url(client)
    assert url is not None and url.startswith("http://127.0.0.1:")
    assert url.endswith("/dask_deeplearn/")
    assert client.run_on_scheduler(route_enabled)

    frame, cols = digits
    ddf = dd.from_pandas(frame, npartitions=2, sort=False)
    clf = DeepLearningClassifier(hidden=[16], epochs=10_000, seed=3, score_each_iteration=True,
                                 train_samples_per_iteration=600, model_id="dashboard_live",
                                 replicate_training_data=False, **FAST)
    handle = clf.fit(ddf[cols], ddf["y"], client=client, block=False)
    try:
        live = None
        deadline = time.time() + HANG
        while time.time() < deadline and not handle.done():
            fit = _fit_named(_status(url), "dashboard_live")
            reps = _NotebookReporter.made
            moved = {w for w, _ in reps[0].worker_updates} if reps else set()
            if fit is not None and len(fit["history"]) >= 3 and len(moved) == 2:
                live = fit
                break
            time.sleep(0.2)
        assert not handle.done(), "the fit ended before the page showed it running"
        assert live is not None, "no live history rows or worker progress within the hang guard"
        # rows of a fit still running
        assert live["status"] == "running" and live["ended"] is None
        assert [r["iterations"] for r in live["history"][1:]] == sorted(
            r["iterations"] for r in live["history"][1:])
        row = live["history"][-1]
        assert row["epochs"] > 0 and row["training_speed"] > 0 and row["training_logloss"] > 0
        assert row["training_auc"] is None  # NaN (no AUC for 10 classes) -> null
        summary = live["summary"]
        assert summary["estimator"] == "DeepLearningClassifier" and summary["n_classes"] == 10
        # (constant pixel columns are dropped, as in H2O)
        assert [layer["units"] for layer in summary["layers"]] == [summary["inputs"], 16, 10]
        assert 0 < summary["inputs"] <= 64 and summary["layers"][2]["type"] == "Softmax"
        assert summary["parameters"]["hidden"] == [16] and summary["rows"] == len(frame)
        assert sorted(summary["workers"]) == sorted(client.scheduler_info()["workers"])
        fid = live["id"]
        # worker progress: logged by the training tasks of both workers, at their start
        # and end (read while the fit runs: its topics are removed when it ends)
        events = client.get_events(progress_topic(fid))
        tasks = [m for _, m in events if "worker" in m]
        assert {m["worker"] for m in tasks} == set(summary["workers"])
        assert {m["rows_done"] == 0 for m in tasks} == {True, False}
        # and the driver's: each iteration's start with the samples trained before it
        starts = [m for _, m in events if "worker" not in m]
        assert starts and all(m["samples_before"] >= 0 for m in starts)
        # the training samples so far, before the end (at least the last scored row's)
        assert live["samples"] >= row["samples"] > 0
        # a scikit-learn fit's response is y (not the internal column name)
        assert summary["response"] == "y" and "predicting y," in summary["title"]
        assert "__response__" not in json.dumps(live)

        # the page: the inline script, the fit embedded for the first draw, no external file
        status, ctype, html = _get(url)
        assert status == 200 and ctype.startswith("text/html")
        assert fid in html and "status.json" in html and "<script>" in html
        assert "src=" not in html and "<link" not in html
        for alias in ("index.html", ""):
            assert fid in _get(url + alias)[2]
        assert _get(url.rstrip("/"))[0] == 200
    finally:
        handle.cancel()
    fitted = handle.result(timeout=HANG)
    assert fitted.stop_reason_ == "cancelled"

    done = _status(url, fid)
    assert [f["id"] for f in done["fits"]] == [fid]
    end = done["fits"][0]
    assert end["status"] == "cancelled" and end["reason"] == "cancelled"
    assert end["stop"] == "cancelled"
    assert end["samples"] == end["final"]["samples"] > 0
    # the final metrics per frame: the last scoring event's (no validation frame here)
    last_row = fitted.scoring_history_.iloc[-1]
    assert set(end["final"]["metrics"]) == {"training"}
    assert end["final"]["metrics"]["training"]["logloss"] == pytest.approx(
        last_row["training_logloss"])
    assert "auc" not in end["final"]["metrics"]["training"]  # NaN: left out
    # every scoring event (not the loop's initial row of NaN, which no event produced)
    assert len(end["history"]) == len(fitted.scoring_history_) - 1
    assert end["history"][-1]["epochs"] == pytest.approx(fitted.epochs_)
    assert end["final"]["layers"][1]["mean_weight"] is not None
    assert set(end["workers"]) == set(summary["workers"])
    assert all(w["fit"] == fid and w["rows_planned"] > 0 for w in end["workers"].values())

    # worker progress moved the notebook bar between scoring events
    rep = _NotebookReporter.made[0]
    assert {w for w, _ in rep.worker_updates} == set(summary["workers"])
    moves = [e for _, e in rep.worker_updates]
    assert all(0 <= e <= fitted.epochs_ + 1e-9 for e in moves)
    scored = fitted.scoring_history_["epochs"].to_numpy()
    assert any(e > 0 and np.abs(scored - e).min() > 1e-9 for e in moves)  # between events
    assert f"live training page at {url}" in rep.stream.getvalue()
    assert rep._bar is None  # closed with the fit
    # the driver's events: one start, one end holding the history; the fit's topics gone
    starts = [m for _, m in client.get_events(TOPIC) if m.get("fit") == fid]
    assert [m["event"] for m in starts] == ["start", "end"]
    assert len(starts[1]["history"]) == len(fitted.scoring_history_) - 1
    topics = client.run_on_scheduler(_topic_sizes)
    assert history_topic(fid) not in topics and progress_topic(fid) not in topics


def test_page_and_json_when_the_scheduler_has_no_such_fit(dash_client):
    url = page_url(dash_client)
    assert _status(url, "no-such-fit")["fits"] == []
    status, _, html = _get(url + "index.html?fit=no-such-fit")
    assert status == 200 and "No fit yet" in html
    assert '"fits": []' in html  # the empty status embedded for the first draw


def test_fit_status_from_an_event_log():
    """The JSON assembly on its own: lost clients, NaN, events of other fits."""
    log = {
        TOPIC: [(1.0, {"event": "start", "fit": "a", "summary": {"client": "c1", "epochs": 2.0}}),
                (2.0, {"event": "start", "fit": "b", "summary": {"client": "gone"}}),
                (3.0, {"event": "end", "fit": "a", "status": "finished", "reason": "epochs",
                       "final": None}),
                (4.0, "not a fit event")],
        history_topic("a"): [(1.5, {"epochs": 1.0, "training_logloss": float("nan")})],
        progress_topic("b"): [(2.5, {"fit": "b", "iteration": 1, "worker": "w1",
                                     "rows_done": 0, "rows_planned": 10}),
                              (2.6, {"fit": "b", "iteration": 1, "worker": "w1",
                                     "rows_done": 9, "rows_planned": 10})],
    }
    data = fits_status(lambda t: log.get(t, []), clients=["c1"])
    assert [f["id"] for f in data["fits"]] == ["b", "a"]  # newest first
    b, a = data["fits"]
    assert a["status"] == "finished" and a["history"] == [{"epochs": 1.0, "training_logloss": None}]
    assert b["status"] == "lost" and "disconnected" in b["reason"]
    assert b["workers"]["w1"]["rows_done"] == 9 and b["workers"]["w1"]["phase"] == "done"
    assert b["iteration"] == 1
    json.dumps(data, allow_nan=False)
    assert json_safe({"x": np.float32(np.inf), "y": (np.int64(3), pd.Timestamp(0))}) == {
        "x": None, "y": [3, "1970-01-01T00:00:00"]}


def test_live_samples_and_stop_reasons_from_an_event_log():
    """Samples trained so far: the driver's iteration start plus the finished tasks of
    that iteration (never below the last scored row); the stop reason in words."""
    log = {
        TOPIC: [(1.0, {"event": "start", "fit": "r", "summary": {"rows": 100}}),
                (1.1, {"event": "start", "fit": "e", "summary": {"rows": 100}}),
                (9.0, {"event": "end", "fit": "e", "status": "stopped early",
                       "reason": "early_stopping", "history": [{"samples": 700.0}],
                       "final": {"samples": 650, "epochs": 6.5,
                                 "metrics": {"training": {"logloss": 0.2}}}})],
        history_topic("r"): [(2.0, {"epochs": 1.0, "samples": 100.0})],
        progress_topic("r"): [
            (1.5, {"fit": "r", "iteration": 1, "samples_before": 0}),
            (1.9, {"fit": "r", "iteration": 1, "worker": "w1", "rows_done": 60}),
            (2.1, {"fit": "r", "iteration": 2, "samples_before": 110}),
            (2.2, {"fit": "r", "iteration": 2, "worker": "w1", "rows_done": 0}),
            (2.3, {"fit": "r", "iteration": 2, "worker": "w2", "rows_done": 0}),
            (2.9, {"fit": "r", "iteration": 2, "worker": "w2", "rows_done": 45})],
    }
    data = fits_status(lambda t: log.get(t, []))
    e, r = sorted(data["fits"], key=lambda f: f["id"])
    assert r["status"] == "running" and r["samples"] == 110 + 45 and r["stop"] is None
    assert r["iteration"] == 2 and set(r["workers"]) == {"w1", "w2"}  # driver events skipped
    assert e["samples"] == 650  # the final model's
    assert e["stop"] == stop_description("early_stopping") and "stopping_rounds" in e["stop"]
    # a running fit with no progress yet: the last scored row's samples
    log[progress_topic("r")] = []
    assert fits_status(lambda t: log.get(t, []), fit="r")["fits"][0]["samples"] == 100
    assert stop_description("epochs") == "trained the asked epochs"
    assert stop_description("FloatingPointError: diverged") == "FloatingPointError: diverged"
    assert stop_description(None) is None


def test_dashboard_url_only_where_the_page_is_served(dash_client):
    assert dashboard_url(dash_client) == page_url(dash_client)
    # a scheduler without the route: no URL (its /status link exists, our page does not)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0") as plain, \
            distributed.Client(plain, set_as_default=False) as c:
        assert page_url(c) is not None and dashboard_url(c) is None


def test_dask_status_page_is_served_beside_ours(dash_client):
    """With the ``dashboard`` extra (bokeh) the scheduler serves Dask's own /status too,
    at the address our page sits beside."""
    pytest.importorskip("bokeh")
    url = page_url(dash_client)
    status, ctype, html = _get(url[: -len("dask_deeplearn/")] + "status")
    assert status == 200 and ctype.startswith("text/html") and "bokeh" in html.lower()
    ours = _get(url)[2]
    assert 'href="../status"' in ours  # the page links back to Dask's dashboard


def _prefixes(dask_scheduler) -> list:
    """The task prefixes (``key_split`` of the keys) the scheduler has seen."""
    return sorted(dask_scheduler.task_prefixes)


def test_task_prefixes_of_a_fit_read_as_its_stages(digits):
    """What the task stream and the Progress panel show of a fit: ``ddl-<stage>`` names
    (no ``DataInfo``, ``dict``, ``ModelState`` or ``ddl_rows``), besides the user's own
    input graph fused into the read."""
    frame, cols = digits
    ddf = dd.from_pandas(frame, npartitions=2, sort=False)
    # (a scheduler of its own: it has seen no other test's tasks)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        before = set(client.run_on_scheduler(_prefixes))
        DeepLearningClassifier(hidden=[8], epochs=2, seed=2, quiet_mode=True, **FAST).fit(
            ddf[cols], ddf["y"], client=client, validation_data=(ddf[cols], ddf["y"]))
        new = set(client.run_on_scheduler(_prefixes)) - before
    ours = {p for p in new if p.startswith("ddl-")}
    assert {"ddl-read", "ddl-stats", "ddl-info", "ddl-params", "ddl-transform", "ddl-rows",
            "ddl-prepare", "ddl-sample-train", "ddl-sample-valid", "ddl-model", "ddl-train",
            "ddl-score-train", "ddl-score-valid"} <= ours, sorted(ours)
    # the rest is the user's graph (from_pandas, the column selections) and the response
    # attached to it, computed inside our read and transform tasks
    assert new - ours <= {"frompandas", "getitem", "getitem-getitem", "assign_columns"}, \
        sorted(new - ours)


def test_the_embedded_cluster_serves_the_page():
    cluster = embedded_cluster(n_workers=1, threads_per_worker=1)
    with cluster, distributed.Client(cluster, set_as_default=False) as c:
        assert c.run_on_scheduler(route_enabled)
        url = page_url(c)
        host_url = url.replace("://0.0.0.0:", "://127.0.0.1:")
        assert _status(host_url)["fits"] == []
    # the configuration was only set while the cluster started
    assert "dask_deeplearn.distributed.dashboard" not in dask.config.get(
        "distributed.scheduler.http.routes")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_dask_scheduler_process_serves_the_page_from_the_environment_variable(tmp_path):
    env = {**os.environ, **dashboard_env()}
    (name, value), = dashboard_env().items()
    assert name == "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES"
    assert "'distributed.http.health'" in value  # the defaults are kept
    port = _free_port()
    log = open(tmp_path / "scheduler.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--dashboard-address", f"127.0.0.1:{port}", "--no-show"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}/"
        deadline = time.time() + HANG
        data = None
        while time.time() < deadline and proc.poll() is None:
            try:
                data = _status(base + "dask_deeplearn/")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert data is not None, (tmp_path / "scheduler.log").read_text()[-3000:]
        assert data["fits"] == []
        # Dask's default routes are kept (asked directly: Dask's /sitemap.json fails with
        # an error of its own when bokeh's static-file route is mounted)
        assert _get(base + "health")[0] == 200
        assert "No fit yet" in _get(base + "dask_deeplearn")[2]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - hang guard
            proc.kill()
        log.close()


CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason="headless Chromium (Debian package `chromium`) is not installed")


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on a page (``args``: what to do, then the URL)."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
           "--window-size=1200,900", "--virtual-time-budget=4000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


@needs_chromium
def test_screenshot_of_the_page_shows_the_charts(dash_client, digits, tmp_path):
    from PIL import Image

    frame, cols = digits
    ddf = dd.from_pandas(frame, npartitions=2, sort=False)
    fitted = DeepLearningClassifier(
        hidden=[16], epochs=6, seed=5, score_each_iteration=True,
        train_samples_per_iteration=1000, model_id="dashboard_shot", quiet_mode=True,
        **FAST).fit(ddf[cols], ddf["y"], client=dash_client,
                    validation_data=(ddf[cols], ddf["y"]))
    url = page_url(dash_client)
    fid = _fit_named(_status(url), "dashboard_shot")["id"]
    assert fitted.epochs_ > 6  # the last iteration trains past the asked epochs

    # the rendered page: the response's name, the stop reason, the epochs clamped to the
    # asked ones, the final metrics of both frames
    run = _chromium(tmp_path, "--dump-dom", f"{url}?fit={fid}")
    assert run.returncode == 0 and "</html>" in run.stdout, run.stderr[-2000:]
    page = run.stdout
    assert "<td>response</td><td>y</td>" in page and "__response__" not in page
    assert '<span id="fit-reason" class="reason">(trained the asked epochs)</span>' in page
    assert "<td>stop reason</td><td>trained the asked epochs</td>" in page
    assert '<strong id="epochs-text">6 / 6 epochs, ' in page
    assert '<div id="epochs-bar" style="width: 100%;">' in page
    assert '<h2 id="final-metrics"' in page
    assert '<th class="">metric</th><th class="num">training</th><th class="num">validation' \
        in page
    logloss = fitted.scoring_history_.iloc[-1][["training_logloss", "validation_logloss"]]
    assert logloss.notna().all()
    assert "<td>logloss</td>" in page
    png = tmp_path / "dask_deeplearn_page.png"
    run = _chromium(tmp_path, f"--screenshot={png}", f"{url}?fit={fid}")
    assert png.exists(), f"no screenshot (exit {run.returncode}): {run.stderr[-2000:]}"
    keep = os.environ.get("DDL_SCREENSHOT")
    if keep:
        shutil.copy(png, keep)
    img = Image.open(png).convert("RGB")
    assert img.size == (1200, 900)
    pixels = np.asarray(img).reshape(-1, 3).astype(int)
    assert len(np.unique(pixels, axis=0)) > 100  # not blank

    def count(rgb: tuple[int, int, int]) -> int:
        return int((np.abs(pixels - np.array(rgb)).max(axis=1) <= 12).sum())

    assert count((0x1F, 0x77, 0xB4)) > 200   # the training-metric line and legend
    assert count((0x2A, 0x9D, 0x4B)) > 200   # the samples/s line and the "finished" badge
    assert count((0x22, 0x31, 0x3F)) > 10_000  # the page header


#: measures, after the page's first draw, what sticks out at the right: a table wider than
#: its box (a box that scrolls cuts it) or a page wider than the window
_LAYOUT_CHECK = """<script>
setTimeout(function () {
  var cut = [];
  document.querySelectorAll("table").forEach(function (t) {
    var box = t.parentElement.getBoundingClientRect(), r = t.getBoundingClientRect();
    if (r.width > 0 && r.right > box.right + 1) cut.push(t.parentElement.id || "table");
  });
  var doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) cut.push("page");
  var out = document.createElement("pre");
  out.id = "layout-check";
  out.textContent = JSON.stringify({tables: document.querySelectorAll("table").length,
                                    cut: cut});
  document.body.appendChild(out);
}, 300);
</script>"""


@needs_chromium
@pytest.mark.parametrize("width", [1200, 700])
def test_the_page_fits_its_tables_to_the_width(dash_client, digits, tmp_path, width):
    """A fit with long parameter values: no table is cut at the right, at two widths."""
    frame, cols = digits
    ddf = dd.from_pandas(frame, npartitions=2, sort=False)
    model_id = f"dashboard_width_{width}"
    DeepLearningClassifier(hidden=[32, 16, 16], epochs=1, seed=5, model_id=model_id,
                           hidden_dropout_ratios=[0.125, 0.0625, 0.03125],
                           activation="RectifierWithDropout", quiet_mode=True,
                           **FAST).fit(ddf[cols], ddf["y"], client=dash_client)
    url = page_url(dash_client)
    fid = _fit_named(_status(url), model_id)["id"]
    html = _get(f"{url}?fit={fid}")[2]
    # the page as served (its first draw uses the embedded status), with the check added
    local = tmp_path / "page.html"
    local.write_text(html.replace("</body>", _LAYOUT_CHECK + "</body>"), encoding="utf-8")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
           f"--window-size={width},900", "--virtual-time-budget=3000", "--dump-dom",
           local.as_uri() + f"?fit={fid}"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and 'id="layout-check"' in run.stdout, run.stderr[-2000:]
    text = run.stdout.split('id="layout-check">', 1)[1].split("</pre>", 1)[0]
    check = json.loads(text.replace("&quot;", '"'))
    assert check["tables"] >= 4  # summary, layers, parameters, workers (and history)
    assert check["cut"] == [], check


#: strings that break out of an inline JSON <script> block when embedded raw: ``<!--``
#: followed by ``<script>`` makes the HTML parser read the following ``</script>`` as text
HOSTILE = "<!--<script>"
HOSTILE_END = "</script><script>document.title='hijacked'</script>"


def _embedded_status(html: str) -> str:
    start = html.index('<script id="initial-status" type="application/json">')
    body = html[html.index(">", start) + 1:]
    return body[: body.index("</script>")]


@needs_chromium
def test_the_page_renders_fits_whose_names_hold_html(dash_client, digits, tmp_path):
    """A model id or column name holding ``<!--<script>`` / ``</script>`` is data: the
    page still runs its script and shows every such string as text."""
    from dask_deeplearn import DeepLearningEstimator

    frame, cols = digits
    hostile = frame.rename(columns={"y": HOSTILE}).astype({HOSTILE: "category"})
    ddf = dd.from_pandas(hostile, npartitions=2, sort=False)
    DeepLearningEstimator(hidden=[8], epochs=1, seed=5, model_id="dashboard_hostile",
                          quiet_mode=True, **FAST).train(
        y=HOSTILE, training_frame=ddf, client=dash_client)
    url = page_url(dash_client)
    real = _fit_named(_status(url), "dashboard_hostile")
    assert real["summary"]["response"] == HOSTILE
    # a fit record with hostile strings in every text field, logged as FitMonitor logs it
    logged = "hostile-fit"
    dash_client.log_event(TOPIC, json_safe({"event": "start", "fit": logged, "summary": {
        "model_id": HOSTILE, "estimator": HOSTILE_END, "response": "a&b<c>d",
        "parameters": {HOSTILE: HOSTILE_END}, "epochs": 1.0}}))
    dash_client.log_event(TOPIC, json_safe({"event": "end", "fit": logged, "status": "error",
                                            "reason": HOSTILE_END, "final": None}))
    deadline = time.time() + HANG
    while _fit_named(_status(url), HOSTILE) is None and time.time() < deadline:
        time.sleep(0.1)

    def dom(fit: str) -> str:
        run = _chromium(tmp_path, "--dump-dom", f"{url}?fit={fit}")
        assert run.returncode == 0 and "</html>" in run.stdout, run.stderr[-2000:]
        return run.stdout

    page = dom(real["id"])
    assert "<title>dask_deeplearn: live training</title>" in page  # no injected script ran
    assert '<div id="content">' in page  # the script ran and showed the fit
    assert "<td>response</td><td>&lt;!--&lt;script&gt;</td>" in page
    assert "<td>model id</td><td>dashboard_hostile</td>" in page

    page = dom(logged)
    assert "<title>dask_deeplearn: live training</title>" in page
    assert '<div id="content">' in page
    assert "<td>model id</td><td>&lt;!--&lt;script&gt;</td>" in page
    shown_end = "&lt;/script&gt;&lt;script&gt;document.title='hijacked'&lt;/script&gt;"
    assert f"<td>estimator</td><td>{shown_end}</td>" in page
    assert "<td>response</td><td>a&amp;b&lt;c&gt;d</td>" in page
    assert f"<td>&lt;!--&lt;script&gt;</td><td>{shown_end}</td>" in page  # a parameter
    assert f'<span id="fit-reason" class="reason">({shown_end})</span>' in page
    assert f"{logged} · &lt;!--&lt;script&gt; · error</option>" in page

    # the embedded block holds no markup character, and reads back as the status
    html = _get(url)[2]
    block = _embedded_status(html)
    assert not set("<>&") & set(block)
    embedded = _strict_json(block)
    assert _fit_named(embedded, HOSTILE)["reason"] == HOSTILE_END
    assert _fit_named(embedded, "dashboard_hostile")["summary"]["response"] == HOSTILE


def _topic_sizes(dask_scheduler) -> dict:
    """Events held per (non-empty) topic on the scheduler (``client.run_on_scheduler``)."""
    return {name: len(events) for name, events in dask_scheduler.get_events().items()}


@pytest.mark.slow
def test_finished_fits_leave_no_topics_behind_and_still_show_on_the_page(dash_client, digits):
    frame, cols = digits
    ddf = dd.from_pandas(frame, npartitions=2, sort=False)
    url = page_url(dash_client)

    def fit(i: int):
        return DeepLearningClassifier(hidden=[8], epochs=2, seed=i, score_each_iteration=True,
                                      train_samples_per_iteration=600, model_id=f"topics_{i}",
                                      quiet_mode=True, **FAST).fit(ddf[cols], ddf["y"],
                                                                   client=dash_client)

    fit(0)
    _status(url)  # a page poll must not create topics either
    before = dash_client.run_on_scheduler(_topic_sizes)
    fitted = [fit(i) for i in range(1, 4)]
    _status(url)
    after = dash_client.run_on_scheduler(_topic_sizes)
    ours = sorted(t for t in after if t.startswith(TOPIC))
    assert ours == [TOPIC], ours  # no per-fit topic left
    assert set(after) == set(before), sorted(set(after) ^ set(before))
    assert after[TOPIC] == before[TOPIC] + 2 * 3  # one start and one end event per fit
    # the finished fits still show with their history and their workers' last progress
    data = _status(url)
    for i, est in enumerate(fitted, start=1):
        shown = _fit_named(data, f"topics_{i}")
        assert shown["status"] == "finished"
        assert len(shown["history"]) == len(est.scoring_history_) - 1
        assert shown["history"][-1]["epochs"] == pytest.approx(est.epochs_)
        assert set(shown["workers"]) == set(est.worker_rows_) and shown["iteration"] > 0
