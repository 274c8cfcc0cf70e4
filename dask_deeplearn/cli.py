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
import contextlib
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

PROG = "dask-deeplearn"
#: rows of the scoring history printed by ``train`` and ``info``
HISTORY_TAIL = 5

__all__ = ["main", "build_parser", "CLIError", "parse_param", "load_params"]


class CLIError(Exception):
    """A problem with the command line or its files, reported as one line (exit code 2)."""


# --------------------------------------------------------------------------- parameters


def _parse_value(text: str) -> Any:
    """A ``--param`` value: JSON when it parses, else Python's True/False/None, else text.

    Parameters
    ----------
    text : str

    Returns
    -------
    object
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    return {"True": True, "False": False, "None": None}.get(text, text)


def parse_param(item: str) -> tuple[str, Any]:
    """Split one ``--param NAME=VALUE`` into the name and the parsed value.

    Parameters
    ----------
    item : str
        ``NAME=VALUE``; VALUE is parsed as JSON when possible (``[32,16]``, ``5``,
        ``0.5``, ``true``, ``null``), otherwise kept as a string (``Tanh``).

    Returns
    -------
    tuple of (str, object)

    Raises
    ------
    CLIError
        No ``=``, or an empty name.

    Examples
    --------
    >>> parse_param("hidden=[32,16]")
    ('hidden', [32, 16])
    >>> parse_param("activation=Tanh")
    ('activation', 'Tanh')
    """
    name, sep, value = item.partition("=")
    name = name.strip()
    if not sep or not name:
        raise CLIError(f"bad --param {item!r}: expected NAME=VALUE (e.g. --param epochs=5)")
    return name, _parse_value(value.strip())


def load_params(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON or YAML file of model parameters (a mapping of name to value).

    Parameters
    ----------
    path : str or PathLike
        ``.yaml`` / ``.yml`` files need PyYAML; anything else is read as JSON.

    Returns
    -------
    dict of str to object

    Raises
    ------
    CLIError
        Missing or unreadable file, bad syntax, YAML without PyYAML, or not a mapping.
    """
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"parameter file {p} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read parameter file {p}: {exc}") from None
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise CLIError(f"cannot read parameter file {p}: YAML needs PyYAML (pip install "
                           "pyyaml); use a JSON file instead") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CLIError(f"parameter file {p} is not valid YAML: {exc}") from None
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CLIError(f"parameter file {p} is not valid JSON: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise CLIError(f"parameter file {p} must hold a mapping of parameter name to value, "
                       f"not {type(data).__name__}")
    return dict(data)


def _model_params(args: argparse.Namespace) -> dict[str, Any]:
    """Parameters of ``train``: ``--params`` file, then ``--param`` items, then ``--quiet``."""
    from .params import validate_params

    params: dict[str, Any] = {}
    if args.params:
        params.update(load_params(args.params))
    for item in args.param or []:
        name, value = parse_param(item)
        params[name] = value
    if args.quiet:
        params["quiet_mode"] = True
    with warnings.catch_warnings():
        # early check (unknown names, bad values); train() checks again and warns then
        warnings.simplefilter("ignore")
        validate_params(params, "DeepLearningEstimator")
    return params


# --------------------------------------------------------------------------- data files


def _data_kind(path: Path) -> str:
    """``"csv"`` or ``"parquet"`` from a path's extension (a directory is Parquet)."""
    if not path.exists():
        raise CLIError(f"{path} does not exist")
    if path.is_dir():
        return "parquet"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return "parquet"
    if ".csv" in suffixes[-2:]:  # data.csv, data.csv.gz
        return "csv"
    raise CLIError(f"cannot tell the format of {path}: expected a .csv file, a .parquet file "
                   "or a directory of Parquet files")


def _read_pandas(path: str | os.PathLike) -> Any:
    """Read a CSV or Parquet file/directory into a pandas DataFrame."""
    import pandas as pd

    p = Path(path)
    kind = _data_kind(p)
    try:
        return pd.read_csv(p) if kind == "csv" else pd.read_parquet(p)
    except Exception as exc:  # any parser / IO failure: the file cannot be used
        raise CLIError(f"cannot read {kind.upper() if kind == 'csv' else 'Parquet'} "
                       f"{p}: {type(exc).__name__}: {exc}") from None


def _read_dask(path: str | os.PathLike) -> Any:
    """Read a CSV or Parquet file/directory into a Dask DataFrame."""
    import dask.dataframe as dd

    p = Path(path)
    kind = _data_kind(p)
    try:
        return dd.read_csv(str(p)) if kind == "csv" else dd.read_parquet(str(p))
    except Exception as exc:
        raise CLIError(f"cannot read {kind.upper() if kind == 'csv' else 'Parquet'} "
                       f"{p}: {type(exc).__name__}: {exc}") from None


def _check_columns(frame: Any, columns: Sequence[str], what: str, source: Any) -> None:
    """Raise :class:`DataError` naming the ``columns`` missing from ``frame``."""
    from .exceptions import DataError

    have = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in have]
    if missing:
        shown = ", ".join(have[:20]) + (", ..." if len(have) > 20 else "")
        raise DataError(f"{what} {', '.join(map(repr, missing))} not in {source} "
                        f"(columns: {shown})")


def _as_categorical(frame: Any, columns: Sequence[str]) -> Any:
    """``frame`` with ``columns`` converted to ``category`` (known categories for Dask)."""
    if not columns:
        return frame
    frame = frame.copy()
    if type(frame).__module__.startswith("dask"):
        import dask
        import pandas as pd

        uniques = dask.compute(*[frame[c].dropna().unique() for c in columns])
        for c, u in zip(columns, uniques):
            levels = sorted(pd.unique(pd.Series(u)).tolist(), key=lambda v: (str(type(v)), v))
            frame[c] = frame[c].astype(pd.CategoricalDtype(levels))
        return frame
    for c in columns:
        frame[c] = frame[c].astype("category")
    return frame


# --------------------------------------------------------------------------- models


def _load(path: str | os.PathLike) -> Any:
    """Load a saved model, with a one-line error for a missing path."""
    from .io import load_model

    p = Path(path)
    if not p.exists():
        raise CLIError(f"model {p} does not exist")
    return load_model(p)


def _history_tail(model: Any) -> str:
    import pandas as pd

    history = getattr(model, "scoring_history_", None)
    if history is None or len(history) == 0:
        return "(no scoring history)"
    with pd.option_context("display.width", 200, "display.max_columns", None):
        return history.tail(HISTORY_TAIL).to_string()


def _print_metrics(model: Any, out: Any) -> None:
    train_m = getattr(model, "training_metrics_", None)
    valid_m = getattr(model, "validation_metrics_", None)
    print("\nTraining metrics:", file=out)
    print(repr(train_m) if train_m is not None else "(none)", file=out)
    if valid_m is not None:
        print("\nValidation metrics:", file=out)
        print(repr(valid_m), file=out)


def _predict_frame(model: Any, frame: Any) -> Any:
    """H2O-style prediction frame of a pandas frame, for any estimator class."""
    from .estimators import DeepLearningEstimator

    if isinstance(model, DeepLearningEstimator):
        return model.predict(frame)
    return model._predict_pandas(frame, "h2o")


# --------------------------------------------------------------------------- clusters


@contextlib.contextmanager
def _client(address: str | None, *, embedded: bool) -> Iterator[Any]:
    """A client to ``address``; else an embedded cluster (or None when not ``embedded``)."""
    if address is None and not embedded:
        yield None
        return
    from distributed import Client

    if address is not None:
        try:
            client = Client(address, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise CLIError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    from .distributed import embedded_cluster

    cluster = embedded_cluster()
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _safe_to_replace(path: Path) -> None:
    """Refuse to delete the working directory, one of its parents, or the file system root."""
    resolved = path.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents or resolved == Path(resolved.anchor):
        raise CLIError(f"refusing to replace {path}: it is the working directory or one of "
                       "its parents")


# --------------------------------------------------------------------------- commands


def cmd_train(args: argparse.Namespace) -> int:
    """Run ``dask-deeplearn train``.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        The exit code.
    """
    from .estimators import DeepLearningEstimator

    from .io.model_files import _save_target

    params = _model_params(args)
    # the rules of model.save(output, force=--overwrite), checked before training
    target, _ = _save_target(args.output, params.get("model_id") or "DeepLearningEstimator",
                             force=args.overwrite, force_hint="--overwrite")
    if target.is_dir():
        _safe_to_replace(target)
    x = list(args.x) if args.x else None
    categorical = list(dict.fromkeys(args.categorical or []))
    distributed_run = args.scheduler is not None
    read = _read_dask if distributed_run else _read_pandas
    with _client(args.scheduler, embedded=False) as client:
        frames = {"training data " + str(args.train): read(args.train)}
        if args.valid:
            frames["validation data " + str(args.valid)] = read(args.valid)
        to_category = categorical + ([args.y] if args.classification else [])
        converted = []
        for i, (source, frame) in enumerate(frames.items()):
            _check_columns(frame, [args.y], "response column --y", source)
            if i == 0 and x:
                _check_columns(frame, x, "--x column(s)", source)
            if categorical:
                _check_columns(frame, categorical, "--categorical column(s)", source)
            converted.append(_as_categorical(frame, list(dict.fromkeys(to_category))))
        train_df = converted[0]
        valid_df = converted[1] if len(converted) > 1 else None
        model = DeepLearningEstimator(**params)
        model.train(x=x, y=args.y, training_frame=train_df, validation_frame=valid_df,
                    client=client)
    saved = model.save(args.output, force=args.overwrite)
    out = sys.stdout
    print(f"Model: {type(model).__name__} ({model.summary_})", file=out)
    print(f"Scoring history (last {HISTORY_TAIL} rows):", file=out)
    print(_history_tail(model), file=out)
    _print_metrics(model, out)
    print(f"\nModel saved to {saved}", file=out)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Run ``dask-deeplearn predict``.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        The exit code.
    """
    import pandas as pd

    from .exceptions import DataError
    from .io import input_columns, score_parquet
    from .io.parquet import prepare_output

    model = _load(args.model)
    src = Path(args.input)
    kind_in = _data_kind(src)
    dst = Path(args.output)
    csv_out = dst.name.lower().endswith(".csv")
    keep = [str(c) for c in dict.fromkeys(args.keep or [])]
    if dst.resolve() == src.resolve():
        raise CLIError(f"the output {dst} is the input; choose another path")
    if csv_out and dst.is_dir():
        raise CLIError(f"output {dst} is a folder; a .csv output is written to a file")
    if dst.exists() and (dst.is_file() or any(dst.iterdir())):
        if not args.overwrite:
            raise CLIError(f"output {dst} exists; pass --overwrite to replace it")
        _safe_to_replace(dst)
    if not dst.parent.is_dir():
        raise CLIError(f"cannot write {dst}: directory {dst.parent} does not exist")
    if not csv_out:  # a Parquet folder: only our own part files are replaced
        prepare_output(dst, overwrite=args.overwrite)
    if kind_in == "parquet" and not csv_out:
        with _client(args.scheduler, embedded=True) as client:
            written = score_parquet(model, src, dst, keep=keep, client=client,
                                    overwrite=args.overwrite)
        print(f"Predictions written to {written}")
        return 0
    frame = _read_pandas(src)
    _check_columns(frame, keep, "--keep column(s)", f"input {src}")
    _check_columns(frame, input_columns(model), "model input column(s)", f"input {src}")
    pred = _predict_frame(model, frame).reset_index(drop=True)
    clash = [c for c in keep if c in pred.columns]
    if clash:
        raise DataError(f"--keep column(s) {clash} clash with prediction columns "
                        f"{list(pred.columns)}")
    result = pd.concat([frame[keep].reset_index(drop=True), pred], axis=1) if keep else pred
    if csv_out:
        result.to_csv(dst, index=False)
    else:
        dst.mkdir(exist_ok=True)
        result.to_parquet(dst / "part.00000.parquet", index=False)
    print(f"{len(result)} predictions written to {dst}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Run ``dask-deeplearn export``.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        The exit code.
    """
    if args.class_name is not None and args.format != "java":
        raise CLIError("--class-name applies only to --format java")
    model = _load(args.model)
    output = Path(args.output)
    if args.format == "java":
        written = model.export_java(output, class_name=args.class_name)
    else:
        if output.is_dir():
            output = output / "scorer.py"
        elif not output.parent.is_dir():
            raise CLIError(f"cannot write {output}: directory {output.parent} does not exist")
        written = model.export_python(output)
    print(written)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Run ``dask-deeplearn info``.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        The exit code.
    """
    from .io import input_columns

    model = _load(args.model)
    out = sys.stdout
    task = model.task_
    rows = [
        ("Model", type(model).__name__),
        ("File", str(Path(args.model))),
        ("Task", task),
        ("Distribution", model.distribution_),
        ("Network", model.summary_),
        ("Layers", " -> ".join(str(u) for u in model.state_.spec.units)
         + f" ({model.params_.get('activation')})"),
        ("Response", getattr(model, "response_column_", None) or "(array)"),
        ("Input columns", ", ".join(input_columns(model))),
    ]
    if task == "classification":
        rows.append(("Classes", ", ".join(str(c) for c in model.classes_)))
    rows += [("Epochs", f"{float(model.epochs_):g}"),
             ("Stop reason", model.stop_reason_ or "(completed the requested epochs)")]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key + ':':<{width + 1}} {value}", file=out)
    print(f"\nScoring history (last {HISTORY_TAIL} rows):", file=out)
    print(_history_tail(model), file=out)
    _print_metrics(model, out)
    return 0


# --------------------------------------------------------------------------- parser


def _version() -> str:
    from . import __version__

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
                        "<model_id>.zip, DeepLearningEstimator.zip without a model_id)")
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
        "export", help="write a standalone Java or Python scorer of a saved model",
        description="Write a standalone scorer: a Java class (H2O's POJO, JDK only) or a "
                    "Python module (numpy only). Both score a CSV from standard input.")
    p.add_argument("--model", required=True, metavar="MODEL_PATH", help="a saved model")
    p.add_argument("--format", required=True, choices=("java", "python"),
                   help="java: one .java source file; python: one .py module")
    p.add_argument("--output", required=True, metavar="PATH",
                   help="java: a directory or a <ClassName>.java file; python: a .py file "
                        "(or a directory, for scorer.py in it)")
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


# --------------------------------------------------------------------------- entry point


def _user_errors() -> tuple[type[BaseException], ...]:
    from .exceptions import (
        DataError,
        InvalidParameterError,
        ModelFileError,
        NotFittedError,
        UnstableModelError,
    )

    return (CLIError, DataError, InvalidParameterError, ModelFileError, NotFittedError,
            UnstableModelError, OSError, ValueError, NotImplementedError)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


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


if __name__ == "__main__":
    sys.exit(main())
