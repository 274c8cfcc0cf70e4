"""``dask-deeplearn export`` and ``info``: a standalone scorer of a saved model, and a
description of it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._errors import CLIError
from ._files import _load
from ._report import HISTORY_TAIL, _history_tail, _print_metrics


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
    elif args.format == "mojo":
        written = model.download_mojo(str(output))
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
    from ..io import input_columns

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

