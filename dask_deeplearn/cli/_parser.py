"""The argument parser of ``dask-deeplearn`` and its sub-commands."""

from __future__ import annotations

import argparse

from ._errors import PROG
from ._export import cmd_export, cmd_info
from ._predict import cmd_predict
from ._train import cmd_train


def _version() -> str:
    from .. import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``dask-deeplearn`` and its sub-commands.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="H2O-3 Deep Learning on Dask: train, score, export and inspect models.",
        epilog=f"Run '{PROG} <command> --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    # train
    p = sub.add_parser(
        "train", help="train a model on a CSV or Parquet file and save it",
        description="Train an H2O-style DeepLearningEstimator and save it. The task follows "
                    "the response type: a categorical, string or boolean response trains a "
                    "classifier, a numeric one a regressor (see --classification).",
        epilog="Example: %(prog)s --train iris.csv --y species --output iris.zip "
               "--param hidden=[32,16] --param epochs=5 --param activation=Tanh")
    p.add_argument("--train", required=True, metavar="PATH",
                   help="training data: a .csv file, a .parquet file or a directory of "
                        "Parquet files")
    p.add_argument("--y", required=True, metavar="COLUMN", help="response column")
    p.add_argument("--x", nargs="+", metavar="COL",
                   help="predictor columns (default: all but the response, weights and "
                        "offset columns)")
    p.add_argument("--valid", metavar="PATH", help="validation data (same formats as --train)")
    p.add_argument("--output", required=True, metavar="MODEL_PATH",
                   help="where to save the model: a .zip file, a new directory, or an "
                        "existing folder (the model is written inside it as "
                        "<model_id>.zip; without --param model_id=... the id is H2O's "
                        "generated DeepLearning_model_python_<session>_<n>)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a model saved at the target before (never a file that is "
                        "not a saved model)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="a model parameter; VALUE is parsed as JSON when possible "
                        "(hidden=[32,16], epochs=5, activation=Tanh); repeatable, overrides "
                        "--params")
    p.add_argument("--params", metavar="FILE",
                   help="a JSON (or, with PyYAML installed, YAML) file of model parameters")
    p.add_argument("--categorical", nargs="+", metavar="COL",
                   help="columns to treat as categorical")
    p.add_argument("--classification", action="store_true",
                   help="treat a numeric response as categorical (train a classifier)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="train on the Dask cluster of this scheduler (default: read with "
                        "pandas and train in this process)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines (sets quiet_mode=True)")
    p.set_defaults(func=cmd_train)

    # predict
    p = sub.add_parser(
        "predict", help="score a CSV or Parquet dataset with a saved model",
        description="Write H2O's prediction frame ('predict', then one probability column "
                    "per class for a classifier). Parquet input to a Parquet output runs on "
                    "a Dask cluster (--scheduler, else an embedded one) keeping the "
                    "partitioning; CSV input or output is scored with pandas in this process.")
    p.add_argument("--model", required=True, metavar="MODEL_PATH",
                   help="a model saved by 'train' (a .zip file or a directory)")
    p.add_argument("--input", required=True, metavar="PATH",
                   help="data to score: a .csv file, a .parquet file or a Parquet directory")
    p.add_argument("--output", required=True, metavar="PATH",
                   help="predictions: a CSV file when it ends with .csv, else a Parquet "
                        "directory")
    p.add_argument("--keep", nargs="+", metavar="COL",
                   help="input columns (e.g. ids) copied to the output before the predictions")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler for Parquet-to-Parquet scoring (default: an embedded "
                        "local cluster)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output: a CSV file, or the part files of an "
                        "earlier run in a Parquet folder (other files there are never "
                        "deleted: their presence is refused)")
    p.set_defaults(func=cmd_predict)

    # export
    p = sub.add_parser(
        "export", help="write a standalone Java or Python scorer, or an H2O MOJO, of a "
                       "saved model",
        description="Write a standalone scorer: a Java class (H2O's POJO, JDK only) or a "
                    "Python module (numpy only), both scoring a CSV from standard input; "
                    "or an H2O-3 Deep Learning MOJO zip that H2O's genmodel scores.")
    p.add_argument("--model", required=True, metavar="MODEL_PATH", help="a saved model")
    p.add_argument("--format", required=True, choices=("java", "python", "mojo"),
                   help="java: one .java source file; python: one .py module; mojo: an "
                        "H2O-3 MOJO zip")
    p.add_argument("--output", required=True, metavar="PATH",
                   help="java: a directory or a <ClassName>.java file; python: a .py file "
                        "(or a directory, for scorer.py in it); mojo: a .zip file or a "
                        "directory (for <model_id>.zip in it); never replaces a file")
    p.add_argument("--class-name", metavar="NAME",
                   help="name of the Java class (default: the .java file's stem, else one "
                        "derived from the model)")
    p.set_defaults(func=cmd_export)

    # info
    p = sub.add_parser(
        "info", help="describe a saved model",
        description="Print the model class, task, distribution, network, input columns, "
                    "classes, epochs, stop reason, the scoring history tail and the "
                    "training / validation metrics.")
    p.add_argument("--model", required=True, metavar="MODEL_PATH", help="a saved model")
    p.set_defaults(func=cmd_info)
    return parser

