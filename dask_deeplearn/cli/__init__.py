"""The ``dask-deeplearn`` command line: train, predict, export and inspect models.

Sub-commands (each has ``--help``):

``train``
    Train an H2O-style :class:`~dask_deeplearn.DeepLearningEstimator` on a CSV or Parquet
    file (in this process, or on a Dask cluster with ``--scheduler``) and save it.
``predict``
    Score a CSV or Parquet dataset with a saved model (Parquet to Parquet runs on a Dask
    cluster with :func:`~dask_deeplearn.score_parquet`).
``export``
    Write a standalone Java (H2O's POJO) or numpy-only Python scorer of a saved model.
``info``
    Describe a saved model: network, input columns, classes, scoring history, metrics.

Errors the user can fix (a missing file, a damaged model file, an unknown column or
parameter, bad ``--param`` syntax) are reported as one line
``dask-deeplearn <command>: error: <message>`` on standard error, with exit code 2.

One module per concern: ``_parser`` (the arguments), ``_params`` (``--param`` /
``--params``), ``_files`` (data and model files), ``_cluster`` (the Dask client),
``_report`` (what is printed about a model), ``_errors`` (the one-line errors), and one
per command: ``_train``, ``_predict``, ``_export`` (``export`` and ``info``).

Examples
--------
.. code-block:: console

    $ dask-deeplearn train --train iris.csv --y species --output iris.zip \\
          --param hidden=[32,16] --param epochs=5 --param activation=Tanh
    $ dask-deeplearn predict --model iris.zip --input new.csv --output pred.csv --keep id
    $ dask-deeplearn export --model iris.zip --format java --output src/ --class-name Iris
    $ dask-deeplearn info --model iris.zip
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from ._errors import PROG, CLIError, _one_line, _user_errors
from ._export import cmd_export, cmd_info
from ._params import load_params, parse_param
from ._parser import build_parser
from ._predict import cmd_predict
from ._report import HISTORY_TAIL
from ._train import cmd_train

__all__ = ["main", "build_parser", "CLIError", "parse_param", "load_params"]


def main(argv: list[str] | None = None) -> int:
    """Run ``dask-deeplearn`` with ``argv`` (default: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        0 on success; 2 for a usage error or a problem with the files, columns or
        parameters (reported as one line on standard error); 130 when interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except BrokenPipeError:
        # the reader of our output went away (``| head``): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except _user_errors() as exc:
        sys.stdout.flush()
        print(f"{PROG} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130

