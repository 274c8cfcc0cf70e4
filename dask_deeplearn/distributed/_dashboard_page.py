"""The HTML of the live training page (served by :mod:`.dashboard`).

One self-contained document: CSS, JavaScript and the SVG charts are inline (a dashboard
may be reached without internet access, so nothing is loaded from a CDN). The handler
replaces ``__INITIAL_STATUS__`` with the current ``status.json`` (written by
:func:`~dask_deeplearn.distributed.dashboard.script_json`, which escapes ``<``, ``>`` and
``&`` so that no string in it can end the JSON ``<script>`` element) so that the page draws
at once; the script then polls ``status.json`` every second. The script writes every
string from the status into the page as text (``esc`` or ``textContent``), never as markup.
"""

from __future__ import annotations

__all__ = ["PAGE"]

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dask_deeplearn: live training</title>
<style>
  :root { --fg: #1f2933; --muted: #6b7785; --line: #d9dee4; --bg: #f5f7fa; --card: #fff;
          --accent: #1f6fb2; --train: #1f77b4; --valid: #e8710a; --speed: #2a9d4b; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 13px/1.4 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
         color: var(--fg); background: var(--bg); }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; padding: 10px 16px;
           background: #22313f; color: #fff; }
  header h1 { font-size: 16px; margin: 0 12px 0 0; font-weight: 600; }
  header h1 span { font-weight: 400; opacity: .75; }
  header select { font: inherit; max-width: 420px; }
  header .updated { margin-left: auto; opacity: .75; font-size: 12px; }
  .badge { display: inline-block; padding: 2px 8px; border-radius: 10px; font-size: 12px;
           font-weight: 600; background: #8a97a6; color: #fff; }
  .badge.running { background: #1f6fb2; } .badge.finished { background: #2a9d4b; }
  .badge.stopped-early { background: #7c5cc4; } .badge.cancelled { background: #b7791f; }
  .badge.error, .badge.lost { background: #c53030; }
  main { padding: 12px 16px; }
  .empty { padding: 48px; text-align: center; color: var(--muted); font-size: 16px;
           background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
  .row { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 12px; }
  .card { flex: 1 1 420px; min-width: 0; background: var(--card); border: 1px solid var(--line);
          border-radius: 6px; padding: 10px 12px; }
  .card h2 { font-size: 13px; margin: 0 0 8px; display: flex; align-items: center; gap: 8px; }
  .card h2 select { font: inherit; font-weight: 400; }
  .card > div { overflow-x: auto; }
  .chart { width: 100%; min-height: 250px; }
  .chart svg { display: block; }
  .nodata { color: var(--muted); padding: 90px 0; text-align: center; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eef1f4;
           white-space: normal; overflow-wrap: anywhere; vertical-align: top; }
  .kv { table-layout: fixed; }
  th { color: var(--muted); font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .kv td:first-child { color: var(--muted); width: 38%; }
  .title { color: var(--muted); margin: 0 0 6px; white-space: normal; }
  .bar { position: relative; height: 12px; min-width: 120px; background: #e6ebf0;
         border-radius: 6px; overflow: hidden; }
  .bar > div { position: absolute; left: 0; top: 0; bottom: 0; background: var(--accent); }
  .bar.busy > div { width: 100%; opacity: .35;
    background: repeating-linear-gradient(45deg, var(--accent) 0 8px, #8fb8dc 8px 16px); }
  .progress-line { display: flex; align-items: center; gap: 10px; margin: 0 0 10px; }
  .progress-line .bar { flex: 1; height: 14px; }
  .reason { color: var(--muted); }
  header .reason { color: #d5dde5; }
  header a { color: #cfe3f5; }
  .scroll { max-height: 260px; overflow: auto; }
  .error-msg { color: #c53030; }
</style>
</head>
<body>
<header>
  <h1>dask_deeplearn <span>live training</span></h1>
  <label>Fit <select id="fit-select"></select></label>
  <span id="fit-badge" class="badge"></span>
  <span id="fit-reason" class="reason"></span>
  <span id="updated" class="updated"></span>
  <a id="dask-link" href="../status">Dask dashboard</a>
</header>
<main>
  <div id="empty" class="empty" hidden>No fit yet. A fit on this cluster
    (<code>fit(..., client=client)</code>) appears here while it runs.</div>
  <div id="content" hidden>
    <div class="progress-line"><strong id="epochs-text"></strong>
      <div class="bar"><div id="epochs-bar"></div></div></div>
    <div class="row">
      <div class="card"><h2>Metric vs epochs <select id="metric-select"></select></h2>
        <div id="chart-metric" class="chart"></div></div>
      <div class="card"><h2>Training speed (samples/s) vs epochs</h2>
        <div id="chart-speed" class="chart"></div></div>
    </div>
    <div class="row">
      <div class="card"><h2>Model summary</h2><div id="summary"></div></div>
      <div class="card"><h2>Workers</h2><div id="workers"></div>
        <h2 style="margin-top:12px">Scoring history (last rows)</h2>
        <div id="history" class="scroll"></div></div>
    </div>
    <div class="row">
      <div class="card"><h2>Layers</h2><div id="layers"></div>
        <h2 style="margin-top:10px">Parameters</h2><div id="parameters"></div></div>
    </div>
  </div>
</main>
<script id="initial-status" type="application/json">__INITIAL_STATUS__</script>
<script>
(function () {
  "use strict";
  var statusUrl = location.pathname.replace(/\/(index\.html)?$/, "") + "/status.json";
  var view = { data: null, fit: null, metric: null, metricPicked: false, options: "",
               metricOptions: "" };
  var $ = function (id) { return document.getElementById(id); };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || v === "") return "\u2013";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") {
      if (Number.isInteger(v)) return v.toLocaleString("en-US");
      var a = Math.abs(v);
      if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(2);
      var s = v.toPrecision(digits || 5);
      if (s.indexOf(".") >= 0 && s.indexOf("e") < 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
      return s;
    }
    if (Array.isArray(v)) return "[" + v.map(function (x) { return fmt(x, digits); }).join(", ") + "]";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function niceTicks(lo, hi, n) {
    var span = hi - lo;
    if (!(span > 0)) return [lo];
    var step = Math.pow(10, Math.floor(Math.log10(span / n)));
    var err = span / n / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
      out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return out;
  }

  // series: [{name, color, pts: [[x, y], ...]}]
  function drawChart(el, series, xLabel, yLabel) {
    var pts = [];
    series.forEach(function (s) { s.pts.forEach(function (p) { pts.push(p); }); });
    if (!pts.length) {
      el.innerHTML = '<div class="nodata">No scored values yet</div>';
      return;
    }
    var W = Math.max(320, el.clientWidth || 560), H = 250;
    var m = { l: 62, r: 12, t: 26, b: 38 };
    var xs = pts.map(function (p) { return p[0]; }), ys = pts.map(function (p) { return p[1]; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    if (x1 === x0) { x1 = x0 + 1; }
    if (y1 === y0) { var d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
    var pad = (y1 - y0) * 0.06; y0 -= pad; y1 += pad;
    if (Math.min.apply(null, ys) >= 0 && y0 < 0) y0 = 0;
    var sx = function (x) { return m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r); };
    var sy = function (y) { return H - m.b - (y - y0) / (y1 - y0) * (H - m.t - m.b); };
    var svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + W + '" height="' + H +
               '" font-size="11" font-family="inherit">'];
    niceTicks(y0, y1, 5).forEach(function (t) {
      var y = sy(t).toFixed(1);
      svg.push('<line x1="' + m.l + '" x2="' + (W - m.r) + '" y1="' + y + '" y2="' + y +
               '" stroke="#e6ebf0"/>');
      svg.push('<text x="' + (m.l - 6) + '" y="' + y + '" text-anchor="end" dy="0.32em" fill="#6b7785">' +
               esc(fmt(t, 4)) + '</text>');
    });
    niceTicks(x0, x1, 6).forEach(function (t) {
      var x = sx(t).toFixed(1);
      svg.push('<line x1="' + x + '" x2="' + x + '" y1="' + m.t + '" y2="' + (H - m.b) +
               '" stroke="#f0f3f6"/>');
      svg.push('<text x="' + x + '" y="' + (H - m.b + 14) + '" text-anchor="middle" fill="#6b7785">' +
               esc(fmt(t, 4)) + '</text>');
    });
    svg.push('<rect x="' + m.l + '" y="' + m.t + '" width="' + (W - m.l - m.r) + '" height="' +
             (H - m.t - m.b) + '" fill="none" stroke="#c5ccd4"/>');
    svg.push('<text x="' + ((m.l + W - m.r) / 2) + '" y="' + (H - 6) +
             '" text-anchor="middle" fill="#1f2933">' + esc(xLabel) + '</text>');
    svg.push('<text transform="translate(13,' + ((m.t + H - m.b) / 2) +
             ') rotate(-90)" text-anchor="middle" fill="#1f2933">' + esc(yLabel) + '</text>');
    var lx = m.l + 4;
    series.forEach(function (s) {
      if (!s.pts.length) return;
      var path = s.pts.map(function (p) { return sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1); });
      svg.push('<polyline fill="none" stroke="' + s.color + '" stroke-width="2" points="' +
               path.join(" ") + '"/>');
      if (s.pts.length <= 80) {
        s.pts.forEach(function (p) {
          svg.push('<circle cx="' + sx(p[0]).toFixed(1) + '" cy="' + sy(p[1]).toFixed(1) +
                   '" r="2.6" fill="' + s.color + '"><title>' + esc(s.name + ": " + fmt(p[1]) +
                   " at " + fmt(p[0], 4) + " epochs") + '</title></circle>');
        });
      }
      svg.push('<rect x="' + lx + '" y="8" width="12" height="4" fill="' + s.color + '"/>');
      svg.push('<text x="' + (lx + 16) + '" y="13" fill="#1f2933">' + esc(s.name) + '</text>');
      lx += 24 + 6.5 * s.name.length;
    });
    svg.push("</svg>");
    el.innerHTML = svg.join("");
  }

  function metricNames(history) {
    var names = [];
    history.forEach(function (row) {
      Object.keys(row).forEach(function (k) {
        var m = /^(training|validation)_(.+)$/.exec(k);
        if (m && row[k] !== null && names.indexOf(m[2]) < 0) names.push(m[2]);
      });
    });
    return names;
  }
  function points(history, key) {
    return history.filter(function (r) { return typeof r[key] === "number" && typeof r.epochs === "number"; })
                  .map(function (r) { return [r.epochs, r[key]]; });
  }
  function table(headers, rows, numeric) {
    var h = "<table><tr>" + headers.map(function (c, i) {
      return '<th class="' + (numeric && numeric[i] ? "num" : "") + '">' + esc(c) + "</th>";
    }).join("") + "</tr>";
    rows.forEach(function (r) {
      h += "<tr>" + r.map(function (v, i) {
        return '<td class="' + (numeric && numeric[i] ? "num" : "") + '">' + v + "</td>";
      }).join("") + "</tr>";
    });
    return h + "</table>";
  }
  function kv(pairs) {
    return '<table class="kv">' + pairs.map(function (p) {
      return "<tr><td>" + esc(p[0]) + "</td><td>" + esc(fmt(p[1])) + "</td></tr>";
    }).join("") + "</table>";
  }

  function renderSummary(fit) {
    var s = fit.summary || {}, fin = fit.final || {};
    var workers = s.workers || {};
    var html = '<p class="title">' + esc(fin.title || s.title || "") + "</p>";
    html += kv([
      ["fit id", fit.id], ["estimator", s.estimator], ["model id", s.model_id],
      ["task", s.task], ["response", s.response], ["classes", s.n_classes],
      ["training rows", s.rows], ["inputs (expanded)", s.inputs],
      ["validation rows", s.validation ? s.validation_rows : null],
      ["epochs asked", s.epochs], ["training samples", fit.samples],
      ["workers", Object.keys(workers).length],
      ["replicated data", s.replicate], ["single node", s.single_node], ["started", s.started],
      ["stop reason", fit.status === "running" ? null : fit.stop]
    ]);
    // the final metrics of each frame, once the fit has ended
    var metrics = fin.metrics || {}, frames = ["training", "validation"].filter(function (f) {
      return metrics[f];
    });
    if (fit.status !== "running" && frames.length) {
      var names = [];
      frames.forEach(function (f) {
        Object.keys(metrics[f]).forEach(function (m) { if (names.indexOf(m) < 0) names.push(m); });
      });
      html += '<h2 id="final-metrics" style="margin-top:10px">Final metrics</h2>' +
        table(["metric"].concat(frames), names.map(function (m) {
          return [esc(m.replace(/_/g, " "))].concat(frames.map(function (f) {
            return esc(fmt(metrics[f][m], 5));
          }));
        }), [false].concat(frames.map(function () { return true; })));
    }
    $("summary").innerHTML = html;
    var layers = fin.layers || s.layers || [];
    if (layers.length) {
      var cols = Object.keys(layers[0]);
      // (spaced names: a narrow page wraps the headers between words)
      $("layers").innerHTML = table(cols.map(function (c) { return c.replace(/_/g, " "); }),
        layers.map(function (r) {
          return cols.map(function (c) { return esc(fmt(r[c], 4)); });
        }), cols.map(function (c) { return c !== "type"; }));
    } else {
      $("layers").innerHTML = '<p class="reason">No layer table yet.</p>';
    }
    var params = s.parameters || {};
    $("parameters").innerHTML = kv(Object.keys(params).map(function (k) { return [k, params[k]]; }));
  }

  function renderWorkers(fit, now) {
    var w = fit.workers || {}, held = (fit.summary || {}).workers || {};
    var names = Object.keys(held);
    Object.keys(w).forEach(function (a) { if (names.indexOf(a) < 0) names.push(a); });
    names.sort();
    if (!names.length) { $("workers").innerHTML = '<p class="reason">No worker has reported yet.</p>'; return; }
    $("workers").innerHTML = table(
      ["worker", "rows held", "iteration", "task", "rows done / planned", "compute s", "reported"],
      names.map(function (a) {
        var p = w[a];
        var bar = "";
        if (p) {
          // a finished task is full (the kernel's row sampling may take a few rows less)
          var frac = p.phase === "done" ? 1 : 0;
          bar = p.phase === "training" && fit.status === "running"
            ? '<div class="bar busy"><div></div></div>'
            : '<div class="bar"><div style="width:' + (100 * frac).toFixed(1) + '%"></div></div>';
        }
        return [esc(a.replace(/^tcp:\/\//, "")), esc(fmt(held[a])), esc(p ? fmt(p.iteration) : "\u2013"), bar,
                esc(p ? fmt(p.rows_done) + " / " + fmt(p.rows_planned) : "\u2013"),
                esc(p ? fmt(p.seconds, 3) : "\u2013"),
                esc(p && p.time ? fmt(Math.max(0, now - p.time), 2) + " s ago" : "\u2013")];
      }), [false, true, true, false, true, true, true]);
  }

  function renderHistory(fit, metric) {
    var rows = (fit.history || []).slice(-12).reverse();
    var cols = ["epochs", "iterations", "samples", "training_speed", "duration",
                "training_" + metric, "validation_" + metric];
    var hasValid = rows.some(function (r) { return r["validation_" + metric] !== undefined; });
    if (!hasValid) cols.pop();
    $("history").innerHTML = rows.length ? table(cols.map(function (c) { return c.replace("_", " "); }),
      rows.map(function (r) { return cols.map(function (c) { return esc(fmt(r[c], 5)); }); }),
      cols.map(function () { return true; })) : '<p class="reason">No scoring event yet.</p>';
  }

  function renderFit(fit, now) {
    var history = fit.history || [];
    var names = metricNames(history);
    var metricSel = $("metric-select");
    if (!view.metricPicked || names.indexOf(view.metric) < 0) {
      var pref = (fit.summary || {}).metric;
      view.metric = names.indexOf(pref) >= 0 ? pref : (names[0] || pref || "");
    }
    var opts = names.map(function (n) {
      return '<option value="' + esc(n) + '"' + (n === view.metric ? " selected" : "") + ">" + esc(n) + "</option>";
    }).join("");
    if (opts !== view.metricOptions) { metricSel.innerHTML = opts; view.metricOptions = opts; }

    var badge = $("fit-badge");
    badge.textContent = fit.status;
    badge.className = "badge " + String(fit.status).replace(/ /g, "-");
    var stop = fit.status !== "running" ? (fit.stop || fit.reason) : null;
    $("fit-reason").textContent = stop ? "(" + stop + ")" : "";

    var summ = fit.summary || {};
    var asked = summ.epochs || 0;
    var last = history.length ? history[history.length - 1] : null;
    var ep = last && typeof last.epochs === "number" ? last.epochs : 0;
    // between scoring events: the samples trained so far (driver and worker events)
    if (typeof fit.samples === "number" && summ.rows > 0) ep = Math.max(ep, fit.samples / summ.rows);
    if (fit.final && typeof fit.final.epochs === "number") ep = fit.final.epochs;
    // (the last iteration may train past the asked epochs, as in H2O: the bar says "done")
    var shown = asked > 0 ? Math.min(ep, asked) : ep;
    $("epochs-text").textContent = fmt(shown, 4) + " / " + fmt(asked, 4) + " epochs" +
      (typeof fit.samples === "number" ? ", " + fmt(fit.samples) + " training samples" : "") +
      (fit.iteration ? ", iteration " + fit.iteration : "");
    $("epochs-bar").style.width = (asked > 0 ? 100 * shown / asked : 0).toFixed(1) + "%";

    drawChart($("chart-metric"), [
      { name: "training " + view.metric, color: "#1f77b4", pts: points(history, "training_" + view.metric) },
      { name: "validation " + view.metric, color: "#e8710a", pts: points(history, "validation_" + view.metric) }
    ], "epochs", view.metric);
    drawChart($("chart-speed"), [
      { name: "samples/s", color: "#2a9d4b", pts: points(history, "training_speed") }
    ], "epochs", "samples/s");
    renderSummary(fit);
    renderWorkers(fit, now);
    renderHistory(fit, view.metric);
  }

  function render() {
    var data = view.data || { fits: [] };
    var fits = data.fits || [];
    $("empty").hidden = fits.length > 0;
    $("content").hidden = fits.length === 0;
    var sel = $("fit-select");
    if (!fits.length) {
      sel.innerHTML = "<option>no fit yet</option>";
      $("fit-badge").textContent = "";
      $("fit-badge").className = "";
      return;
    }
    if (!fits.some(function (f) { return f.id === view.fit; })) view.fit = fits[0].id;
    var opts = fits.map(function (f) {
      var s = f.summary || {};
      return '<option value="' + esc(f.id) + '"' + (f.id === view.fit ? " selected" : "") + ">" +
        esc(f.id + " \u00b7 " + (s.model_id || s.estimator || "model") + " \u00b7 " + f.status) + "</option>";
    }).join("");
    if (opts !== view.options) { sel.innerHTML = opts; view.options = opts; }
    var fit = fits.filter(function (f) { return f.id === view.fit; })[0];
    renderFit(fit, data.time || Date.now() / 1000);
  }

  function poll() {
    fetch(statusUrl, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (data) {
      view.data = data;
      $("updated").textContent = "updated " + new Date().toLocaleTimeString();
      $("updated").classList.remove("error-msg");
      render();
    }).catch(function (e) {
      $("updated").textContent = "cannot reach the scheduler (" + e.message + "); retrying";
      $("updated").classList.add("error-msg");
    }).then(function () { setTimeout(poll, 1000); });
  }

  $("fit-select").addEventListener("change", function (e) {
    view.fit = e.target.value; view.metricPicked = false; render();
  });
  $("metric-select").addEventListener("change", function (e) {
    view.metric = e.target.value; view.metricPicked = true; render();
  });
  window.addEventListener("resize", render);
  try { view.data = JSON.parse($("initial-status").textContent); } catch (e) { view.data = null; }
  render();
  setTimeout(poll, 1000);
})();
</script>
</body>
</html>
"""
