"""``dask-deeplearn train``: train an H2O-style estimator on a data file and save it."""

from __future__ import annotations

import argparse
import sys

from .._display import wrap_words
from ._cluster import _client
from ._files import _as_categorical, _check_columns, _read_dask, _read_pandas, _safe_to_replace
from ._params import _model_params
from ._report import HISTORY_TAIL, _history_tail, _print_metrics


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
    from ..estimators import DeepLearningEstimator
    from ..estimators._registry import new_model_id

    from ..io.model_files import _save_target

    params = _model_params(args)
    # the model's id is chosen now (H2O's generated one without --param model_id=...): a
    # folder --output holds <model_id>.zip, and the rules of model.save(output,
    # force=--overwrite) are checked before training
    params["model_id"] = params.get("model_id") or new_model_id()
    target, _ = _save_target(args.output, params["model_id"],
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
    print(wrap_words(f"Model: {type(model).__name__} ({model.summary_})"), file=out)
    print(f"Model key: {model.model_id}", file=out)
    print(f"Scoring history (last {HISTORY_TAIL} rows):", file=out)
    print(_history_tail(model), file=out)
    _print_metrics(model, out)
    print(f"\nModel saved to {saved}", file=out)
    return 0

