"""The notebooks in ``notebooks/``: committed clean or with real outputs, and each runs.

01 and 02 are committed with the outputs of a full-size run
(``notebooks/execute_stored.py``), so that a reader sees the results without running
them: every cell executed in order, no error, the plots, and no printed line wider than
100 characters. The others are committed without outputs.

Each notebook is executed by ``nbclient`` in a fresh ``python3`` kernel whose working
directory is the test's ``tmp_path`` (the files a notebook writes land there), with
``DDL_NOTEBOOK_QUICK=1`` so it uses its small sizes. A failing cell fails the test with
that cell's source and traceback. The notebooks' last cells hold their own quality
assertions (accuracy bars, anomaly ranking, scorer agreement, ...), so a broken feature
fails here too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = [
    "01_quickstart.ipynb",
    "02_dask_parquet.ipynb",
    "03_grid_search_checkpoints.ipynb",
    "04_anomaly_detection.ipynb",
    "05_export.ipynb",
    "06_regression_distributions.ipynb",
]
# files and directories each notebook writes into its working directory
WRITES = {
    "02_dask_parquet.ipynb": ["digits_parquet", "predictions", "scored"],
    "03_grid_search_checkpoints.ipynb": ["best_model.zip"],
    "05_export.ipynb": ["breast_cancer_model.zip", "breast_cancer_scorer.py", "rows.csv"],
}
#: committed with the outputs of a full-size run (notebooks/execute_stored.py)
STORED = ["01_quickstart.ipynb", "02_dask_parquet.ipynb"]
#: widest line a stored notebook prints (stdout and displayed text; stderr carries the
#: progress bar and log lines, whose format the training code decides)
MAX_WIDTH = 100
CELL_TIMEOUT = 600  # seconds; the slowest quick-mode cell takes about 20 s
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _read(name: str):
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def test_the_notebook_directory_holds_the_listed_notebooks_and_the_readme_names_them():
    assert sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb")) == NOTEBOOKS
    readme = (NOTEBOOK_DIR / "README.md").read_text()
    for name in NOTEBOOKS:
        assert name in readme, f"notebooks/README.md does not mention {name}"
    assert "DDL_NOTEBOOK_QUICK" in readme


def _printed_lines(output) -> list[str]:
    """The text lines an output shows (stdout and displayed text/plain; not stderr)."""
    if output.output_type == "stream":
        return [] if output.name == "stderr" else output.text.splitlines()
    return output.get("data", {}).get("text/plain", "").splitlines()


def test_the_stored_notebooks_are_those_the_script_stores():
    import importlib.util

    spec = importlib.util.spec_from_file_location("execute_stored",
                                                  NOTEBOOK_DIR / "execute_stored.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.STORED == STORED


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_valid_and_clean_or_stored_with_a_full_run(name):
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name} has no code cell"
    if name in STORED:
        counts = [c.execution_count for c in code]
        assert counts == list(range(1, len(code) + 1)), \
            f"{name}: stored cells were not executed once, in order: {counts}"
        outputs = [o for c in code for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"], f"{name}: stored error"
        assert any("full sizes" in o.get("text", "") for o in outputs
                   if o.output_type == "stream"), f"{name}: stored outputs of a quick run"
        assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}: no plot"
        wide = [(i, line) for i, c in enumerate(code) for o in c.outputs
                for line in _printed_lines(o) if len(line) > MAX_WIDTH]
        assert not wide, f"{name}: stored lines wider than {MAX_WIDTH}: {wide[:3]}"
    else:
        for i, cell in enumerate(code):
            assert cell.outputs == [], f"{name}: code cell {i} was committed with outputs"
            assert cell.execution_count is None, f"{name}: code cell {i} has an execution count"
    source = "\n".join(c.source for c in code)
    assert 'os.environ.get("DDL_NOTEBOOK_QUICK"' in source, f"{name} ignores DDL_NOTEBOOK_QUICK"
    assert "assert " in code[-1].source or "assert " in code[-2].source, \
        f"{name}: the last cells check no result"


def _failure_report(nb, exc: Exception) -> str:
    """The failing cell's position, source and error (ANSI colours removed)."""
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                trace = _ANSI.sub("", "\n".join(out.get("traceback", [])))
                return (f"cell {index} failed: {out.get('ename')}: {out.get('evalue')}\n"
                        f"--- source ---\n{cell.source}\n--- traceback ---\n{trace}")
    return _ANSI.sub("", str(exc))


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    monkeypatch.setenv("DDL_NOTEBOOK_QUICK", "1")   # the kernel inherits the environment
    committed = (NOTEBOOK_DIR / name).read_bytes()
    nb = _read(name)
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT, startup_timeout=180, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{name}: {_failure_report(nb, exc)}", pytrace=False)

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{name}: a cell did not run"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # progress bars draw without warnings (tqdm.auto warns without ipywidgets)
    assert not [o for o in outputs if o.output_type == "stream"
                and "IProgress not found" in o.get("text", "")], f"{name}: tqdm warned"
    # the kernel saw DDL_NOTEBOOK_QUICK=1 (each notebook prints its mode first)
    assert any("quick mode" in o.get("text", "") for o in outputs if o.output_type == "stream")
    # the plots were drawn
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    if name != "05_export.ipynb":
        assert images, f"{name} showed no plot"
    # the result a user checks is shown: the last cell with assertions printed it
    checks = [c for c in code if "assert " in c.source][-1]
    assert any(o.output_type in ("stream", "execute_result") for o in checks.outputs), \
        f"{name}: the result cell shows nothing"
    # files went to the working directory given to the kernel
    for written in WRITES.get(name, []):
        assert (tmp_path / written).exists(), f"{name} did not write {written} to its cwd"
    # the committed notebook is untouched (executed in memory only)
    assert (NOTEBOOK_DIR / name).read_bytes() == committed
