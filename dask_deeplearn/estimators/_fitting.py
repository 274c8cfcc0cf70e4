"""The fitting half of the estimators: frames in, a plan, a backend, the loop, fitted out.

:class:`FitMixin` turns user input into frames (:mod:`._inputs`), plans the fit
(:func:`dask_deeplearn.training.plan.plan_fit`), builds the in-process or the Dask backend,
runs the loop and hands the result to ``_set_fitted``. Everything a continued fit needs
(``partial_fit``, warm start, a checkpoint, the main model of a cross-validation) is passed
as arguments: the parameters to fit with, the passes of a continued fit, the attributes
the fitted model gets besides the training result.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataError, InvalidParameterError
from ..network import ModelState
from ..params import check_stopping_metric, validate_params
from ..training.local import LocalBackend, available_cores
from ..training.loop import TrainResult, run_training
from ..training.plan import (
    Checkpoint,
    FitPlan,
    balance_seed,
    balanced_with_redraws,
    check_checkpoint,
    no_rows_error,
    plan_continue,
    plan_fit,
)
from ..training.progress import ProgressReporter, cv_fits, progress_action
from ._registry import model_reference, new_model_id, register
from ._inputs import (
    _RESPONSE,
    _WEIGHT,
    _attach_dask,
    _check_dense_size,
    _dask_worker,
    _is_dask,
    _use_dask,
    _user_names,
    _worker_threads,
    as_frame,
    continued_weights,
    response_vector,
    validation_frame,
    xy_features,
)

__all__ = ["FitMixin"]

_NO_EXTRA: Mapping[str, Any] = {}


def _resolve_seed(seed: int) -> int:
    if seed is None or int(seed) == -1:
        return int(np.random.SeedSequence().entropy % (2**63 - 1))
    return int(seed)


def _balance_local(train: Any, plan: FitPlan) -> tuple[Any, list[float]]:
    """The balanced in-memory training block and its class frequencies."""
    from ..training.balance import balance_block, block_class_counts

    n_classes = len(plan.info.classes)

    def draw(attempt: int) -> tuple[Any, np.ndarray]:
        out = balance_block(train, plan.balance, balance_seed(plan.seed, attempt))
        return out, block_class_counts(out, n_classes)

    out, counts = balanced_with_redraws(draw, plan.balance)
    return out, (counts / counts.sum()).tolist()


def checkpoint_value(model: Any) -> Checkpoint:
    """The :class:`Checkpoint` of a fitted estimator (what a restart needs of it)."""
    return Checkpoint(state=model.state_, data_info=model.data_info_, params=model._params(),
                      history=model.scoring_history_, n_iter=int(model.n_iter_),
                      epochs=float(model.epochs_), distribution=model.distribution_,
                      task=model.task_, has_validation=model.validation_metrics_ is not None)


class FitMixin:
    """``fit`` machinery shared by the classifier, the regressor, the autoencoder and the
    H2O-style estimator."""

    _task: str | None = None

    # ------------------------------------------------------------------ fitting
    def _fit_frames(
        self,
        frame: Any,
        response: str | None,
        valid: Any | None,
        *,
        features: Sequence[str] | None,
        task: str,
        classes: Sequence[Any] | None,
        weights_column: str | None,
        client: Any = None,
        params: Mapping[str, Any] | None = None,
        more_passes: float | None = None,
        fitted: Mapping[str, Any] = _NO_EXTRA,
        recorded: Mapping[str, Any] = _NO_EXTRA,
    ) -> Any:
        """Fit on frames holding the response (and weights) as columns.

        Parameters
        ----------
        params : mapping, optional
            The parameter values to fit with (default: the estimator's own).
        more_passes : float, optional
            Continue ``params["checkpoint"]`` for this many passes over ``frame``
            (``partial_fit``, warm start) instead of up to a total ``epochs``.
        fitted : mapping
            Attributes the fitted model gets besides the training result (feature
            names, response column), also set on checkpoint files and CV models.
        recorded : mapping
            Effective parameters to record as given (a cross-validated fit's folds).
        """
        owner = type(self).__name__
        user = dict(self._params() if params is None else params)
        params = validate_params(user, owner)
        params["model_id"] = self._fit_id(params["model_id"], more_passes is not None)
        # before any pass over the data: a stopping metric the task does not have
        check_stopping_metric(params, owner, task,
                              len(classes) if task == "classification" and classes else None)
        if params["nfolds"] > 0 or params["fold_column"] is not None:  # one bar: CV and main
            with progress_action(f"{owner} CV", cv_fits(params), quiet=params["quiet_mode"]):
                return self._fit_cv(frame, response, valid, params, user, features=features,
                                    task=task, classes=classes, weights_column=weights_column,
                                    client=client, fitted=fitted)
        if params["weights_column"] is not None and weights_column is None:
            weights_column = params["weights_column"]
        is_dask = _is_dask(frame) or (valid is not None and _is_dask(valid))
        use_dask = _use_dask(params, is_dask=is_dask, client=client)
        if not is_dask and len(frame) == 0:
            raise DataError("The training frame is empty (0 rows).")
        seed = _resolve_seed(params["seed"])
        self._stop_event = getattr(self, "_stop_event", None) or threading.Event()
        self._stop_event.clear()
        ckpt = self._checkpoint_model(params, has_valid=valid is not None,
                                      incremental=more_passes is not None)
        pretrained = (self._pretrained_state(params["pretrained_autoencoder"])
                      if params["pretrained_autoencoder"] is not None
                      and params["checkpoint"] is None else None)
        plan_args = dict(owner=owner, features=features, weights_column=weights_column,
                         seed=seed, checkpoint=ckpt, more_passes=more_passes)
        run = dict(user=user, fitted=fitted)
        if not use_dask:
            if ckpt is not None and not is_dask:
                # continuing in memory (partial_fit blocks): check the block against the
                # checkpoint's plan instead of fitting a new one, so a block with one
                # class or a constant column is fine
                plan = plan_continue(frame, response, params, **plan_args)
            else:
                plan = plan_fit(frame, response, params, task=task, classes=classes,
                                n_nodes=1, pretrained=pretrained,
                                available_cores=available_cores(), **plan_args)
            info = plan.info
            _check_dense_size(info, len(frame))
            train = info.transform(frame, training=True)
            if train.X.shape[0] == 0:
                raise no_rows_error(plan.params, weights_column)
            model_dist = None
            if plan.balance is not None:
                train, model_dist = _balance_local(train, plan)
            vblock = info.transform(valid, training=True) if valid is not None else None
            if vblock is not None and vblock.X.shape[0] == 0:
                raise DataError("The validation frame has no rows with a response.")
            worker = _dask_worker()
            nthreads = plan.local_threads(
                available_cores() if worker is None else _worker_threads(worker))
            n_rows = int(train.X.shape[0])
            eff = plan.run_params(n_rows=n_rows, model_class_distribution=model_dist)
            backend = LocalBackend(train, vblock, data_info=info, task=info.task,
                                   distribution=eff["distribution"], params=eff,
                                   nthreads=nthreads, seed=seed)
            result = self._run(backend, plan, eff, **run)
            self._set_fitted(result, info, {**eff, **recorded}, seed, nthreads)
            self.backend_ = "local"
            register(self)
            return self

        from ..distributed import DaskBackend, HeldFrame, as_dask, locked_workers, training_session

        with training_session(client, params["scheduler_address"]) as c:
            valid = as_dask(valid, c)
            with locked_workers(c) as workers:
                frame = HeldFrame(c, as_dask(frame, c))  # statistics and blocks: one read
                plan = plan_fit(frame, response, params, task=task, classes=classes,
                                n_nodes=len(workers), pretrained=pretrained,
                                available_cores=available_cores(), scheduler=c, **plan_args)
                info = plan.info
                _check_dense_size(info, math.ceil(info.n_rows / max(1, frame.npartitions)))
                backend = DaskBackend(c, frame, valid, plan)
                frame.release()  # the blocks are built: the read partitions can go
                eff = plan.run_params(n_rows=backend.n_rows,
                                      model_class_distribution=backend.model_class_distribution)
                try:
                    result = self._run(backend, plan, eff, **run)
                finally:
                    backend.close()
            result.events[:0] = backend.events
            final = {**eff, "replicate_training_data": backend.replicate, **recorded}
            self._set_fitted(result, info, final, seed, max(backend.nthreads.values()))
            self.backend_ = "dask"
            self.worker_rows_ = backend.worker_map()
        register(self)
        return self

    def _fit_id(self, given: str | None, continuing: bool) -> str:
        """The id of this fit's model: ``given``, else the id of the model a warm start or
        ``partial_fit`` continues, else a new one."""
        prev = self.__dict__.get("_fitted")
        if given is None and continuing and prev is not None and prev.model_id:
            return prev.model_id
        return given if given is not None else new_model_id()

    # ------------------------------------------------------------------ cross-validation
    def _fit_cv(self, frame: Any, response: str | None, valid: Any | None,
                params: dict[str, Any], user: dict[str, Any], *,
                features: Sequence[str] | None, task: str, classes: Sequence[Any] | None,
                weights_column: str | None, client: Any, fitted: Mapping[str, Any]) -> Any:
        """N-fold cross-validation, then the main model on every row (as H2O)."""
        is_dask = _is_dask(frame) or (valid is not None and _is_dask(valid))
        args = dict(features=features, task=task, classes=classes,
                    weights_column=weights_column, fitted=fitted)
        if not _use_dask(params, is_dask=is_dask, client=client):
            return self._run_cv(frame, response, valid, params, user, client=None, **args)
        from ..distributed import as_dask, training_session
        # one session for every CV model and the main model (not one embedded cluster each)
        with training_session(client, params["scheduler_address"]) as c:
            return self._run_cv(as_dask(frame, c), response, as_dask(valid, c), params, user,
                                client=c, **args)

    def _run_cv(self, frame: Any, response: str | None, valid: Any | None,
                params: dict[str, Any], user: dict[str, Any], *,
                features: Sequence[str] | None, task: str, classes: Sequence[Any] | None,
                weights_column: str | None, client: Any, fitted: Mapping[str, Any]) -> Any:
        from ._cv import FOLD, HoldoutScorer, assign_folds, cv_summary

        seed = _resolve_seed(params["seed"])
        fold_column = params["fold_column"]
        framed, n_folds, _ = assign_folds(
            frame, nfolds=int(params["nfolds"]), fold_assignment=params["fold_assignment"],
            fold_column=fold_column, response=response if task == "classification" else None,
            seed=seed)
        drop = [c for c in (fold_column, FOLD) if c is not None]
        if features is not None:
            features = [f for f in features if f not in drop]
        # (the fold column is dropped from every frame the models see, never a predictor)
        ignored = [c for c in (params["ignored_columns"] or []) if c not in drop]
        no_cv = {"seed": seed, "nfolds": 0, "fold_column": None, "fold_assignment": "AUTO",
                 "ignored_columns": ignored or None}
        cv_user = {**user, **no_cv, "checkpoint": None}
        args = dict(features=features, task=task, classes=classes,
                    weights_column=weights_column, client=client)
        models = []
        for k in range(n_folds):  # (H2O's ids: <model_id>_cv_<k>, the main model's id)
            m = type(self)(**{**cv_user, "model_id": f"{params['model_id']}_cv_{k + 1}"})
            keep = framed[FOLD] != k
            train_k = framed[keep].drop(columns=drop)
            hold_k = framed[~keep].drop(columns=drop)
            # the held-out fold is the CV model's validation frame: its early stopping and
            # best model follow held-out metrics (H2O)
            m._fit_frames(train_k, response, hold_k, fitted=fitted, **args)
            for name, value in fitted.items():
                setattr(m, name, value)
            models.append(m)
        # the main model: every row; with early stopping or a time limit, the CV models'
        # mean epochs and no early stopping (H2O)
        main = {**user, **no_cv, "overwrite_with_best_model": False,
                "model_id": params["model_id"]}
        if int(params["stopping_rounds"]) != 0 or float(params["max_runtime_secs"]) != 0:
            main.update(epochs=float(np.mean([m.epochs_ for m in models])), stopping_rounds=0)
        self._fit_frames(framed.drop(columns=drop), response, valid, params=main,
                         fitted=fitted, recorded={n: params[n] for n in
                                                  ("nfolds", "fold_column", "fold_assignment")},
                         **args)
        # cross-validation metrics from the combined holdout predictions
        holdout = HoldoutScorer([m._scorer() for m in models])
        scored = framed.drop(columns=[fold_column]) if fold_column is not None else framed
        if _is_dask(scored):
            from ..distributed.predict import reduce_partials

            part = reduce_partials(holdout, scored)
        else:
            part = holdout._partial_pandas(scored)
        info = self.data_info_
        self.cross_validation_metrics_ = part.result(
            domain=info.classes,
            max_confusion_matrix_size=int(self.params_["max_confusion_matrix_size"]))
        self.cross_validation_metrics_summary_ = cv_summary(
            [m.validation_metrics_ for m in models])
        self.cross_validation_models_ = models if params["keep_cross_validation_models"] else None
        self.cross_validation_fold_assignment_ = (
            scored[FOLD].rename("fold_assignment")
            if params["keep_cross_validation_fold_assignment"] else None)
        if params["keep_cross_validation_predictions"]:
            if _is_dask(scored):
                from ..distributed.predict import map_predict

                preds = map_predict(holdout, scored, "h2o", models[0]._scorer().meta("h2o"))
            else:
                preds = holdout._predict_pandas(scored, "h2o")
            self.cross_validation_holdout_predictions_ = preds
            self._cv_holdout_folds = scored[FOLD]  # cross_validation_predictions()
        else:
            self.cross_validation_holdout_predictions_ = None
        return self

    # ------------------------------------------------------------------ checkpoints
    @staticmethod
    def _pretrained_state(source: Any) -> ModelState:
        """The weights of ``pretrained_autoencoder`` (a fitted autoencoder, its id or file)."""
        from ._load import read_estimator

        source = model_reference(source, "pretrained_autoencoder", read_estimator)
        if not isinstance(source, FitMixin) or not hasattr(source, "state_"):
            raise InvalidParameterError(
                "pretrained_autoencoder must be a fitted autoencoder (DeepLearningAutoEncoder "
                f"or autoencoder=True), its model id or the path of a saved one; got "
                f"{type(source).__name__}.")
        if source.task_ != "autoencoder":
            raise InvalidParameterError(
                f"pretrained_autoencoder must be an autoencoder; got a {source.task_} model "
                f"({type(source).__name__}).")
        return source.state_

    def _export_checkpoint(self, directory: str, history: pd.DataFrame, state: ModelState,
                           train_m: Any, valid_m: Any, plan: FitPlan, eff: dict[str, Any],
                           user: Mapping[str, Any], fitted: Mapping[str, Any],
                           stop_reason: str = "checkpoint") -> None:
        """Write the model of a scoring event to ``directory`` (``export_checkpoints_dir``).

        The file is ``<model_id>_iteration<N>.zip``; the model kept by a fit that was
        interrupted (``stop_reason`` other than ``"checkpoint"``: the cluster was lost)
        goes to ``<model_id>_iteration<N>_interrupted.zip``. A file is never replaced. A
        write that fails (read-only folder, full disk, the file exists) warns and training
        goes on, as in H2O: a checkpoint is a copy, the fit itself is not lost.
        """
        from pathlib import Path

        from ..io import save_model
        from ..io.model_files import _inside

        snap = type(self)(**user)
        last = history.iloc[-1]
        result = TrainResult(state=state.copy(), history=history, training_metrics=train_m,
                             validation_metrics=valid_m, stop_reason=stop_reason,
                             iterations=int(last["iterations"]), epochs=float(last["epochs"]),
                             run_time=float(last["duration"]))
        snap._set_fitted(result, plan.info, eff, plan.seed, int(eff["nthreads"]))
        snap.backend_ = "checkpoint"
        for name, value in fitted.items():
            setattr(snap, name, value)
        name = eff.get("model_id") or type(self).__name__
        suffix = "" if stop_reason == "checkpoint" else "_interrupted"
        path = _inside(Path(directory), f"{name}_iteration{int(last['iterations'])}{suffix}.zip")
        try:
            save_model(snap, path)
        except OSError as exc:
            warnings.warn(f"export_checkpoints_dir: the checkpoint {path} was not written "
                          f"({exc}); training goes on.", RuntimeWarning, stacklevel=2)

    def _check_checkpoint_dir(self, directory: str, eff: Mapping[str, Any], done: int) -> None:
        """Refuse a fit whose checkpoint files would replace earlier ones in ``directory``.

        A directory that does not exist is created (as H2O does).

        Raises
        ------
        InvalidParameterError
            ``directory`` cannot be created or written to (the message says why).
        FileExistsError
            ``directory`` holds ``<model_id>_iteration<N>.zip`` (or
            ``..._interrupted.zip``) files with ``N`` above
            ``done`` (the iterations of the checkpoint this fit continues), which this fit
            would write again.
        """
        try:
            os.makedirs(directory, exist_ok=True)
            with tempfile.TemporaryFile(dir=directory):  # can we write there? (leaves nothing)
                pass
        except OSError as exc:
            raise InvalidParameterError(
                f"export_checkpoints_dir={directory!r} cannot be used: it cannot be created or "
                f"written to ({exc.strerror or exc}). Give a folder this process may write "
                "to, or None.") from None
        name = eff.get("model_id") or type(self).__name__
        pattern = re.compile(rf"{re.escape(name)}_iteration(\d+)(?:_interrupted)?\.zip")
        taken = sorted((int(m.group(1)), f) for f in os.listdir(directory)
                       if (m := pattern.fullmatch(f)) and int(m.group(1)) > done)
        if taken:
            shown = ", ".join(f for _, f in taken[:5]) + (", ..." if len(taken) > 5 else "")
            raise FileExistsError(
                f"export_checkpoints_dir={directory!r} already holds checkpoints of "
                f"model_id={name!r} from an earlier fit ({shown}); this fit would write them "
                "again and checkpoint files are never replaced. Use another directory or "
                "model_id, or move them away.")

    def _checkpoint_model(self, params: dict[str, Any], *, has_valid: bool,
                          incremental: bool = False) -> Checkpoint | None:
        """The model this fit continues (H2O's checkpoint restart), checked against ``params``."""
        ckpt = params["checkpoint"]
        if ckpt is None:
            return None
        owner = type(self).__name__
        from ._load import read_estimator

        prev = model_reference(ckpt, "checkpoint", read_estimator)  # a model, its id or file
        if not isinstance(prev, FitMixin) or not hasattr(prev, "state_"):
            raise InvalidParameterError(
                f"checkpoint must be a fitted dask_deeplearn model, its model id or the path "
                f"of a saved one; got {type(prev).__name__}."
            )
        if type(prev) is not type(self) and not (
                isinstance(self, type(prev)) or isinstance(prev, type(self))):
            raise InvalidParameterError(
                f"checkpoint is a {type(prev).__name__}; {owner} can only continue a "
                f"{owner}."
            )
        if self._task is not None and prev.task_ != self._task:
            raise InvalidParameterError(
                f"checkpoint is a {prev.task_} model; this {owner} does {self._task}.")
        value = checkpoint_value(prev)  # (an autoencoder's own view: autoencoder=True)
        check_checkpoint(params, value, owner=owner, has_valid=has_valid,
                         incremental=incremental, stacklevel=5)
        return value

    # ------------------------------------------------------------------ the loop
    def _run(self, backend: Any, plan: FitPlan, eff: dict[str, Any], *,
             user: Mapping[str, Any], fitted: Mapping[str, Any]) -> TrainResult:
        """The shared loop, with progress reporting and the live scoring history."""
        reporter = ProgressReporter(type(self).__name__, float(eff["epochs"]),
                                    quiet=bool(eff["quiet_mode"]), verbose=bool(eff["verbose"]))
        export_dir = eff.get("export_checkpoints_dir")
        if export_dir is not None:
            self._check_checkpoint_dir(export_dir, eff, plan.iterations_done)

        def on_score(history: pd.DataFrame, line: str, state: ModelState, train_m: Any,
                     valid_m: Any) -> None:
            self.scoring_history_ = history
            reporter(history, line)
            if export_dir is not None:
                self._export_checkpoint(export_dir, history, state, train_m, valid_m, plan, eff,
                                        user, fitted)

        try:
            return self._train_or_keep_last(backend, plan, eff, on_score, fitted)
        except Exception as exc:
            kept = getattr(exc, "result", None)
            if export_dir is not None and kept is not None \
                    and kept.stop_reason.startswith("interrupted:"):
                # the cluster was lost: the last model is written too, not only scored ones
                self._export_checkpoint(export_dir, kept.history, kept.state,
                                        kept.training_metrics, kept.validation_metrics, plan,
                                        eff, user, fitted, stop_reason=kept.stop_reason)
            raise
        finally:
            reporter.close()

    def _train_or_keep_last(self, backend: Any, plan: FitPlan, eff: dict[str, Any],
                            on_score: Any, fitted: Mapping[str, Any]) -> TrainResult:
        """Run the loop; on divergence or a lost cluster keep the last model, then re-raise."""
        try:
            return run_training(backend, plan.state, eff, task=plan.task,
                                n_classes=plan.n_classes, seed=plan.seed,
                                verbose=bool(eff["verbose"]), on_score=on_score,
                                stop_requested=self._stop_event.is_set, history=plan.history,
                                iterations_done=plan.iterations_done)
        except Exception as exc:  # diverged, or every worker lost: keep the last model
            result = getattr(exc, "result", None)
            if result is not None:
                self._set_fitted(result, plan.info, eff, plan.seed, int(eff["nthreads"]))
                self.backend_ = result.stop_reason
                for name, value in fitted.items():
                    setattr(self, name, value)
                register(self)
            raise

    # ------------------------------------------------------------------ fit(X, y)
    def _fit_xy(self, X: Any, y: Any, *, validation_data: Any, sample_weight: Any,
                task: str, client: Any = None, classes: Any = None,
                reset: bool = True, params: Mapping[str, Any] | None = None,
                more_passes: float | None = None) -> Any:
        """scikit-learn style fit: arrays or frames for X, a vector for y.

        ``reset=False`` (a continued fit: ``partial_fit``, warm start) reads X as
        prediction methods do, against the fitted columns. ``params`` and
        ``more_passes``: see :meth:`_fit_frames`.
        """
        owner = type(self).__name__
        params = self._params() if params is None else params
        if task != "autoencoder" and y is None:
            raise DataError(
                f"{owner} requires y to be passed, but the target y is None; fit(X, y) "
                "needs a response (use DeepLearningAutoEncoder to learn from X alone)."
            )
        if reset:
            frame, named = as_frame(X, owner=owner)
            raw_names = list(frame.columns)
        else:
            frame = self._input_frame(X)
            named, raw_names = self._fit_had_names, list(self._raw_feature_names)
        client = client if client is not None else self.client
        fit_args = dict(client=client, params=params, more_passes=more_passes,
                        fitted=self._feature_attributes(raw_names, named))
        if _is_dask(frame):
            return self._fit_xy_dask(frame, named, y, validation_data=validation_data,
                                     sample_weight=sample_weight, task=task,
                                     classes=classes, raw_names=raw_names, **fit_args)
        if reset and frame.shape[1] == 0:
            raise DataError(
                f"Found array with 0 feature(s) (shape={frame.shape}) while a minimum of 1 "
                f"is required: X has no predictor columns for {owner}."
            )
        if len(frame) == 0:
            raise DataError(
                f"The training data is empty (0 rows): found array with 0 sample(s) "
                f"(shape={frame.shape}) while a minimum of 1 is required to fit {owner}."
            )
        if task == "autoencoder":
            extra: dict[str, Any] = {}
        elif _is_dask(y):
            raise DataError("y is a Dask collection but X is not; pass both as Dask "
                            "collections with aligned partitions, or both in memory.")
        else:
            extra = {_RESPONSE: response_vector(y, len(frame), task=task, owner=owner)}
        if (reset and len(frame) == 1 and params["checkpoint"] is None
                and params["ignore_const_cols"] is not False):
            raise DataError(
                f"X has 1 sample (n_samples=1), but {owner} needs at least 2 to fit: with "
                "one row every column is constant, and ignore_const_cols=True drops "
                "constant columns. Pass more rows (or ignore_const_cols=False)."
            )
        if task == "classification" and classes is None:
            present = pd.Series(extra[_RESPONSE]).dropna()
            classes = list(np.unique(present.to_numpy()))
        elif task == "classification":
            classes = list(np.unique(np.asarray(classes)))
        features = self._xy_features(raw_names, sample_weight)
        if not reset:
            sample_weight = continued_weights(sample_weight, len(frame), self.data_info_)
        weights_column = None
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if sw.shape[0] != len(frame):
                raise DataError(
                    f"sample_weight has {sw.shape[0]} values but X has {len(frame)} rows."
                )
            extra[_WEIGHT] = sw
            weights_column = _WEIGHT
        train = frame.assign(**extra)
        valid = validation_frame(validation_data, named, raw_names, task=task)
        response = None if task == "autoencoder" else _RESPONSE
        with _user_names():
            self._fit_frames(train, response, valid, features=features, task=task,
                             classes=classes, weights_column=weights_column, **fit_args)
        self._remember_features(raw_names, named)
        return self

    def _fit_xy_dask(self, frame: Any, named: bool, y: Any, *, validation_data: Any,
                     sample_weight: Any, task: str, classes: Any = None,
                     raw_names: list[Any] | None = None, **fit_args: Any) -> Any:
        raw_names = list(frame.columns) if raw_names is None else raw_names
        features = self._xy_features(raw_names, sample_weight)
        extra = {} if task == "autoencoder" else {_RESPONSE: y}
        weights_column = None
        if sample_weight is not None:
            extra[_WEIGHT] = sample_weight
            weights_column = _WEIGHT
        train = _attach_dask(frame, extra) if extra else frame
        valid = validation_frame(validation_data, named, raw_names, task=task)
        response = None if task == "autoencoder" else _RESPONSE
        if task == "classification" and classes is not None:
            classes = list(np.unique(np.asarray(classes)))
        with _user_names():
            self._fit_frames(train, response, valid, features=features, task=task,
                             classes=classes, weights_column=weights_column, **fit_args)
        self._remember_features(raw_names, named)
        return self

    def _xy_features(self, raw_names: list[Any], sample_weight: Any) -> list[Any]:
        """The predictor columns of ``X``: see :func:`._inputs.xy_features`."""
        return xy_features(raw_names, sample_weight, weights_column=self.weights_column,
                           offset_column=self.offset_column, owner=type(self).__name__)

    # (kept as methods: the estimators' subclasses and tests call them on the class)
    _as_frame = staticmethod(as_frame)
    _response_vector = staticmethod(response_vector)
