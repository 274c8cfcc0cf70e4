"""The benchmark runner ``python -m benchmarks.run`` end to end, in quick mode.

Runs the real runner in a subprocess (real estimators, scikit-learn, LocalCluster worker
processes, real ``dask scheduler`` / ``dask worker`` processes killed mid-fit, Parquet
files) and checks what it writes: the CSV's rows and columns, the
Markdown report and the PNG plot. No timing is asserted: only that the numbers exist,
are finite and positive, and that competitors not run say so instead of carrying numbers.
"""

from __future__ import annotations

import csv
import math
import os
import struct
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLUMNS = ["section", "config", "status", "rows", "epochs", "samples_per_s", "test_accuracy",
           "epoch_s", "wall_s", "rows_per_s", "finished", "diff_points", "extra_s", "note"]
NUMERIC = ["rows", "epochs", "samples_per_s", "test_accuracy", "epoch_s", "wall_s",
           "rows_per_s", "diff_points", "extra_s"]
LOSS_MOMENTS = ["setup (transform)", "calibration (-2)", "training iteration 3",
                "scoring task (iteration 3)", "final scoring"]


def _run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-m", "benchmarks.run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _positive(row: dict, *cols: str) -> None:
    for col in cols:
        value = float(row[col])  # raises on an empty cell
        assert math.isfinite(value) and value > 0, (col, row)


def _one(rows: list[dict], section: str, prefix: str, size: int | None = None) -> dict:
    found = [r for r in rows if r["section"] == section and r["config"].startswith(prefix)
             and (size is None or r["rows"] == str(size))]
    assert len(found) == 1, (section, prefix, size, rows)
    return found[0]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = _run("--quick", "--skip", "h2o,torch", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(out / "latest.csv", newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        rows = list(reader)
    return out, proc, header, rows


@pytest.mark.slow
def test_csv_has_every_section_and_our_numbers(quick_run):
    _, _, header, rows = quick_run
    assert header == COLUMNS
    assert {r["section"] for r in rows} == {"fmnist", "rows", "workers", "scoring", "loss"}
    for r in rows:
        if r["status"] != "ok":
            continue
        for col in NUMERIC:  # every number written is finite (empty where not measured)
            if r[col] != "":
                assert math.isfinite(float(r[col])), (col, r)

    # 1. Fashion-MNIST (or digits): ours and scikit-learn measured, better than chance
    for prefix in ("(a) H2O semantics", "(b) fast preset", "(c) scikit-learn"):
        r = _one(rows, "fmnist", prefix)
        assert r["status"] == "ok", r
        _positive(r, "rows", "epochs", "samples_per_s", "test_accuracy", "wall_s")
        assert 0.3 < float(r["test_accuracy"]) <= 1.0, r  # 10 classes: chance is 0.1

    # 2. rows: both paths at both quick sizes
    for size in (1000, 5000):
        for prefix in ("(a) H2O semantics", "(b) fast preset"):
            r = _one(rows, "rows", prefix, size)
            assert r["status"] == "ok", r
            _positive(r, "epochs", "samples_per_s", "epoch_s", "wall_s")
            # seconds per epoch is the rows over the training speed
            assert float(r["epoch_s"]) == pytest.approx(size / float(r["samples_per_s"]))

    # 3. workers: in-process and 2 worker processes measured; 1 x 2 skipped in quick mode
    for prefix in ("(a) in-process", "(c) Dask, 2 x 1"):
        r = _one(rows, "workers", prefix)
        assert r["status"] == "ok", r
        _positive(r, "epochs", "samples_per_s", "test_accuracy", "wall_s")
    assert _one(rows, "workers", "(b) Dask")["status"].startswith("skipped")

    # 4. scoring: pyarrow, score_parquet (output checked against model.predict), predict
    for prefix in ("(a) pyarrow", "(c) score_parquet", "(d) model.predict"):
        r = _one(rows, "scoring", prefix)
        assert r["status"] == "ok", r
        assert r["rows"] == "100000"
        _positive(r, "wall_s", "rows_per_s")
    assert _one(rows, "scoring", "(c) score_parquet")["note"].startswith("OK")


@pytest.mark.slow
def test_worker_loss_section_kills_a_worker_at_every_moment_and_finishes(quick_run):
    _, proc, _, rows = quick_run
    # the undisturbed fit each moment is compared with (its settings make the moment happen)
    reference = {"calibration (-2)": "undisturbed (train_samples_per_iteration=-2)",
                 "final scoring": "undisturbed (score_each_iteration=False, "
                                  "score_interval=1e+06)"}
    for replicate in ("True", "False"):
        for ref in ("undisturbed, ", *reference.values()):
            r = _one([x for x in rows if x["config"].endswith(f"replicate={replicate}")],
                     "loss", ref)
            assert r["status"] == "ok" and r["finished"] == "1/1", r
            _positive(r, "test_accuracy", "wall_s")
            assert float(r["test_accuracy"]) > 0.7, r  # binary: chance is 0.5
        for moment in LOSS_MOMENTS:
            r = _one(rows, "loss", f"{moment}, replicate={replicate}")
            # the victim really died at that moment, and the fit still finished
            assert r["status"] == "ok" and r["note"] == "victim killed 1/1", r
            assert r["finished"] == "1/1", r
            _positive(r, "test_accuracy", "wall_s")
            base = _one(rows, "loss", f"{reference.get(moment, 'undisturbed')}, "
                                      f"replicate={replicate}")
            assert float(r["diff_points"]) == pytest.approx(
                100 * (float(r["test_accuracy"]) - float(base["test_accuracy"])))
            assert float(r["extra_s"]) == pytest.approx(
                float(r["wall_s"]) - float(base["wall_s"]))
            assert f"{moment}, replicate={replicate}" in proc.stdout
    # the printed table has the section's columns
    assert any("config" in line and "finished" in line and "extra_s" in line
               for line in proc.stdout.splitlines()), proc.stdout[-3000:]


@pytest.mark.slow
def test_competitors_not_run_say_so_without_numbers(quick_run):
    _, _, _, rows = quick_run
    for prefix in ("(d) PyTorch", "(e) H2O-3"):
        r = _one(rows, "fmnist", prefix)
        assert r["status"].startswith(("skipped", "not installed")), r
        assert all(r[c] == "" for c in NUMERIC), r


@pytest.mark.slow
def test_markdown_and_png_written(quick_run):
    out, proc, _, rows = quick_run
    md = (out / "latest.md").read_text()
    for text in ("* Date: ", "* Machine: ", " cores", "* Versions: ", "dask_deeplearn ",
                 "scikit-learn ", "| config | status |", "## 1. Fashion-MNIST",
                 "## 2. Scaling with rows", "## 3. Scaling with worker processes",
                 "## 4. Batch scoring", "## 5. Worker loss", "| finished |",
                 "| accuracy diff (points) | extra s |"):
        assert text in md, text
    with open("/proc/cpuinfo") as f:
        models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    if models:
        assert f"* Machine: {models[0]}, {os.cpu_count()} cores" in md
    # every CSV row appears in the Markdown tables
    for r in rows:
        assert f"| {r['config']} | {r['status']} |" in md, r

    png = (out / "latest.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert width > 300 and height > 300
    assert png[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"  # complete: ends with IEND

    # the printed summary names the output files
    assert "latest.csv" in proc.stdout and "Section times:" in proc.stdout


def test_bad_section_is_refused():
    proc = _run("--only", "fmnist,nonsense", timeout=120)
    assert proc.returncode == 2
    assert ("--only takes names among fmnist,rows,workers,scoring,loss, got nonsense"
            in proc.stderr)
