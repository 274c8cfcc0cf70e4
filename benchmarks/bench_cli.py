"""Start-up time of the ``dask-deeplearn`` command: wall seconds of fresh interpreters.

Usage (from the repository root)::

    python -m benchmarks.bench_cli [--repeat 5]

Trains one small model (scikit-learn's iris, ``DeepLearningEstimator``) into a temporary
folder, then runs each command ``--repeat`` times as a new process and prints the median
and the fastest wall time: ``import dask_deeplearn``, ``import dask_deeplearn.cli``,
``python -m dask_deeplearn.cli --help``, ``info``, ``predict`` (150 CSV rows to CSV),
``export --format python``. Each command also reports which of scikit-learn, Numba,
distributed and pandas its process imported. The numbers depend on the machine, its load
and the file cache (the first run after an install is slower); nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: modules whose import dominates start-up, reported per command
HEAVY = ("sklearn", "numba", "distributed", "pandas")

_PROBE = ("import atexit, sys\n"
          "atexit.register(lambda: sys.stderr.write('\\nIMPORTED ' + ','.join(m for m in {heavy!r}"
          " if m in sys.modules) + '\\n'))\n")


def _make_model(work: str) -> tuple[str, str]:
    import pandas as pd
    from sklearn.datasets import load_iris

    from dask_deeplearn import DeepLearningEstimator

    X, y = load_iris(return_X_y=True, as_frame=True)
    frame = X.assign(species=pd.Categorical(y))
    model = DeepLearningEstimator(hidden=[16], epochs=5, seed=1, quiet_mode=True)
    model.train(y="species", training_frame=frame)
    path = os.path.join(work, "iris.zip")
    model.save(path, force=True)
    csv = os.path.join(work, "iris.csv")
    X.to_csv(csv, index=False)
    return path, csv


def _commands(model: str, csv: str, work: str) -> list[tuple[str, list[str]]]:
    cli = ["-c", _PROBE.format(heavy=HEAVY)
           + "import runpy; runpy.run_module('dask_deeplearn.cli', run_name='__main__')"]
    return [
        ("import dask_deeplearn", ["-c", _PROBE.format(heavy=HEAVY) + "import dask_deeplearn"]),
        ("import dask_deeplearn.cli",
         ["-c", _PROBE.format(heavy=HEAVY) + "import dask_deeplearn.cli"]),
        ("dask-deeplearn --help", [*cli, "--help"]),
        ("dask-deeplearn info", [*cli, "info", "--model", model]),
        ("dask-deeplearn predict (CSV)", [*cli, "predict", "--model", model, "--input", csv,
                                          "--output", os.path.join(work, "pred.csv"),
                                          "--overwrite"]),
        ("dask-deeplearn export python", [*cli, "export", "--model", model, "--format",
                                          "python", "--output",
                                          os.path.join(work, "scorer.py")]),
    ]


def _time(args: list[str]) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=300)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{args[2:]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    imported = proc.stderr.rsplit("IMPORTED ", 1)[-1].strip() if "IMPORTED " in proc.stderr \
        else "?"
    return wall, imported or "-"


def run(repeat: int = 5) -> list[dict]:
    """Measure every command ``repeat`` times; the rows of the printed table.

    Parameters
    ----------
    repeat : int, default=5

    Returns
    -------
    list of dict
        ``command``, ``median_s``, ``min_s``, ``imports`` (of :data:`HEAVY`).
    """
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_cli_") as work:
        model, csv = _make_model(work)
        for name, args in _commands(model, csv, work):
            _time(args)  # warm the file cache: the first run after an install is slower
            walls, imported = [], "?"
            for _ in range(repeat):
                wall, imported = _time(args)
                walls.append(wall)
            rows.append({"command": name, "median_s": statistics.median(walls),
                         "min_s": min(walls), "imports": imported})
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the start-up table (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_cli", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="runs per command (default 5)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error(f"--repeat must be >= 1, got {args.repeat}")
    rows = run(args.repeat)
    print(f"| command | median s | fastest s | imports of {', '.join(HEAVY)} |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| `{r['command']}` | {r['median_s']:.2f} | {r['min_s']:.2f} | {r['imports']} |")
    print(f"\n{args.repeat} runs each, {os.cpu_count()} cores, Python "
          f"{sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
