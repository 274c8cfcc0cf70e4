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


def test_demo_help_and_bad_arguments():
    ok = subprocess.run([sys.executable, "-m", "dask_deeplearn.demo", "--help"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "--workers N" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "dask_deeplearn.demo", "--workers", "0"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--workers must be >= 1, got 0" in bad.stderr
