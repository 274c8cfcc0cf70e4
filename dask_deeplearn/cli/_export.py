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
        from ..export.java import export_java

        written = export_java(model, output, class_name=args.class_name)
    elif args.format == "mojo":
        from ..export.mojo import download_mojo

        written = download_mojo(model, str(output))
    else:
        from ..export.python import export_python

        if output.is_dir():
            output = output / "scorer.py"
        elif not output.parent.is_dir():
            raise CLIError(f"cannot write {output}: directory {output.parent} does not exist")
        written = export_python(model, output)
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
    from .._display import wrap_words
    from ..inspection import summary_title
    from ..io import input_columns

    model = _load(args.model)
    out = sys.stdout
    task = model.task
    # H2O's summary line without its "predicting <response>, " (the Response row says it)
    network = summary_title(model.state, model.params, model.data_info, model.n_classes)
    network = network.removeprefix(f"predicting {model.data_info.response}, ")
    rows = [
        ("Model", model.estimator),
        ("File", str(Path(args.model))),
        ("Task", task),
        ("Distribution", model.distribution),
        ("Network", network),
        ("Layers", " -> ".join(str(u) for u in model.state.spec.units)
         + f" ({model.params.get('activation')})"),
        ("Response", model.response_column or "(array)"),
        ("Input columns", ", ".join(input_columns(model))),
    ]
    if task == "classification":
        rows.append(("Classes", ", ".join(str(c) for c in model.classes)))
    rows += [("Epochs", f"{float(model.epochs):g}"),
             ("Stop reason", model.stop_reason or "(completed the requested epochs)")]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:  # long values wrap under themselves: lines of <= 100 characters
        print(wrap_words(f"{key + ':':<{width + 1}} {value}", indent=" " * (width + 2)),
              file=out)
    print(f"\nScoring history (last {HISTORY_TAIL} rows):", file=out)
    print(_history_tail(model), file=out)
    _print_metrics(model, out)
    return 0

