"""The README's first command: ``python -m dask_deeplearn.demo`` runs end to end."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_demo_trains_on_an_embedded_cluster_and_prints_history_and_metrics():
    out = subprocess.run([sys.executable, "-m", "dask_deeplearn.demo"], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    assert "Embedded LocalCluster: 2 worker process(es)" in text
    assert text.count("Scoring history:") == 2 and text.count("Test metrics:") == 2
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", text).group(1))
    r2 = float(re.search(r"test R\^2: (-?[0-9.]+)", text).group(1))
    assert accuracy > 0.9 and r2 > 0.3, text[-2000:]
    # the whole output fits a terminal: no line (a progress bar's "\r" updates counted as
    # lines of their own) over 100 characters, on either stream. Dask's own log records
    # ("<time> - distributed.nanny - WARNING - ..." when a loaded machine is slow to stop a
    # worker) are in Dask's format and not counted.
    dask_log = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ - distributed\.")
    for name, stream in (("stdout", out.stdout), ("stderr", out.stderr)):
        lines = [seg for line in stream.splitlines() for seg in line.split("\r")]
        wide = [seg for seg in lines if len(seg) > 100 and not dask_log.match(seg)]
        assert not wide, f"{name}: {len(wide)} lines over 100 characters, e.g. {wide[0]!r}"
    # the scoring history is printed without its empty columns and timestamp
    assert "timestamp" not in text and "train_auc" not in text and "valid_err" in text


def test_demo_help_and_bad_arguments():
    ok = subprocess.run([sys.executable, "-m", "dask_deeplearn.demo", "--help"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "--workers N" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "dask_deeplearn.demo", "--workers", "0"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--workers must be >= 1, got 0" in bad.stderr
