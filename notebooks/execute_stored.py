"""Execute the notebooks that are committed with their outputs, at full sizes, and store them.

    python notebooks/execute_stored.py                      # 01 and 02
    python notebooks/execute_stored.py 01_quickstart.ipynb  # one of them

Each notebook runs top to bottom in a fresh ``python3`` kernel (``nbclient``, a test
dependency) whose working directory is a temporary folder, so the files it writes do not
land in ``notebooks/``; ``DDL_NOTEBOOK_QUICK`` is removed from the kernel's environment
(full sizes: all of Fashion-MNIST in 01). A cell that fails stops the script and leaves
the committed notebook as it was; otherwise the notebook is written back with its
outputs. ``tests/integration/test_notebooks.py`` checks what is stored.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

HERE = Path(__file__).resolve().parent
#: the notebooks committed with their outputs (the others are committed clean)
STORED = ["01_quickstart.ipynb", "02_dask_parquet.ipynb"]


def execute(name: str) -> float:
    """Run ``notebooks/<name>`` at full sizes and store its outputs; the seconds taken."""
    path = HERE / name
    nb = nbformat.read(path, as_version=4)
    os.environ.pop("DDL_NOTEBOOK_QUICK", None)     # the kernel inherits the environment
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="ddl-notebook-") as cwd:
        nbclient.NotebookClient(nb, timeout=1800, startup_timeout=180, kernel_name="python3",
                                resources={"metadata": {"path": cwd}}).execute()
    nbformat.write(nb, path)
    return time.time() - start


if __name__ == "__main__":
    names = sys.argv[1:] or STORED
    unknown = [n for n in names if n not in STORED]
    if unknown:
        sys.exit(f"{unknown} are not among the notebooks stored with outputs: {STORED}")
    for name in names:
        print(f"{name}: executed and stored in {execute(name):.0f} s", flush=True)
