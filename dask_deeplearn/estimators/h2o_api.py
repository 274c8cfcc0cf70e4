"""H2O's call style: ``DeepLearningEstimator(**params).train(x=..., y=..., training_frame=...)``."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataError, InvalidParameterError
from ._base import DeepLearningBase, _is_dask, with_h2o_parameters
from ._h2o_accessors import H2OAccessorsMixin
from ._registry import H2OModelId
from .autoencoder import AutoEncoderMethods

__all__ = ["DeepLearningEstimator", "AutoEncoderEstimator"]


def _is_categorical(s: pd.Series) -> bool:
    return (isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object
            or pd.api.types.is_string_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype))


def _column_name(columns: list[Any], key: Any, what: str) -> Any:
    """The column named by ``key``: a name, or an integer position (negative from the end)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
        n = len(columns)
        if not -n <= int(key) < n:
            raise DataError(
                f"{what}: column index {int(key)} is out of range: the training_frame has "
                f"{n} columns (indices 0 to {n - 1}, or -{n} to -1 from the end).")
        return columns[int(key)]
    return key


def _x_names(columns: list[Any], x: Any) -> list[Any] | None:
    """``x`` of ``train`` as column names (names and integer positions may mix)."""
    if x is None:
        return None
    items = [x] if isinstance(x, (str, int, np.integer)) else list(x)
    return [_column_name(columns, item, f"x={x!r}") for item in items]


@with_h2o_parameters
class DeepLearningEstimator(H2OAccessorsMixin, AutoEncoderMethods, DeepLearningBase):
    """H2O's ``H2ODeepLearningEstimator``: the task follows the response column's type.

    A categorical (``category``, object, string or bool) response trains a classifier, a
    numeric one a regressor, exactly as in H2O (use ``.astype("category")`` where H2O uses
    ``asfactor()``). ``autoencoder=True`` trains an autoencoder on every column (no ``y``),
    with ``anomaly``, ``reconstruct`` and ``deepfeatures``.

    h2o-py's model accessors are here under H2O's names (``params``, ``actual_params``,
    ``weights(i)``, ``biases(i)``, ``gini``, ``hit_ratio_table``, ``plot``,
    ``varimp_plot``, ``download_mojo`` / ``download_pojo``, the ``cross_validation_*``
    methods), and printing a fitted model shows H2O's model report (an HTML one in
    Jupyter); an unfitted one prints as any scikit-learn estimator.

    Parameters
    ----------
{parameters}

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.datasets import load_iris
    >>> from dask_deeplearn import DeepLearningEstimator
    >>> df = load_iris(as_frame=True).frame
    >>> df["target"] = df["target"].astype("category")
    >>> model = DeepLearningEstimator(hidden=[16], epochs=20, seed=1, reproducible=True)
    >>> model.train(y="target", training_frame=df).model_performance().mean_per_class_error < 0.1
    True
    """

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        """H2O's model report once fitted; scikit-learn's parameter listing before."""
        if "_fitted" in self.__dict__:
            from ._report import report_text

            return report_text(self)
        return super().__repr__(N_CHAR_MAX)

    @property
    def _repr_html_(self) -> Any:
        """Jupyter's HTML: H2O's model report once fitted, scikit-learn's diagram before."""
        if "_fitted" in self.__dict__:
            from ._report import report_html

            return lambda: report_html(self)
        return super()._repr_html_

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        """Jupyter's rendering: the model report (text and HTML) once fitted."""
        if "_fitted" in self.__dict__:
            from ._report import report_html

            return {"text/plain": repr(self), "text/html": report_html(self)}
        return super()._repr_mimebundle_(**kwargs)

    #: h2o-py's ``model.model_id``: the trained model's id (``model_id_``), the parameter
    #: before training; ``get_params()`` keeps the parameter
    model_id = H2OModelId()

    @property
    def key(self) -> str | None:
        """h2o-py's ``model.key``: the same as ``model_id``."""
        return self.model_id

    def train(self, x: Sequence[str | int] | str | int | None = None,
              y: str | int | None = None,
              training_frame: pd.DataFrame | None = None,
              validation_frame: pd.DataFrame | None = None,
              weights_column: str | None = None, offset_column: str | None = None,
              ignored_columns: Sequence[str] | None = None, client: Any = None,
              block: bool = True) -> Any:
        """Train on ``training_frame`` (H2O's ``train``).

        Parameters
        ----------
        x : list of str or int, optional
            Predictor columns, by name or by 0-based position (``x=list(range(3))``, as
            H2O's ``x=1:3`` in R); default all columns but the response, weights and
            offset.
        y : str or int
            Response column, by name or position (``-1`` is the last column). Ignored,
            with a warning, when ``autoencoder=True`` (as in H2O).
        training_frame : pandas.DataFrame
        validation_frame : pandas.DataFrame, optional
        weights_column, offset_column : str, optional
            Override the parameters of the same name.
        ignored_columns : list of str, optional
        client : distributed.Client, optional
            Cluster to train on (see ``DeepLearningClassifier.fit``).
        block : bool, default=True
            ``False`` trains in a background thread and returns a ``FitHandle``.

        Returns
        -------
        self, or a FitHandle when ``block=False``
        """
        if training_frame is None:
            raise DataError("train() needs a training_frame (a pandas or Dask DataFrame).")
        frame, _ = self._as_frame(training_frame)
        columns = list(frame.columns)
        x = _x_names(columns, x)
        if y is not None:
            y = _column_name(columns, y, f"y={y!r}")
        if self.autoencoder is True:
            return self._train_autoencoder(x, y, frame, validation_frame, weights_column,
                                           ignored_columns, client, block)
        if y is None or y not in frame.columns:
            raise DataError(
                f"The response column y={y!r} is not a column of the training_frame "
                f"(columns: {list(frame.columns)[:10]}{'...' if frame.shape[1] > 10 else ''})."
            )
        for name, value in (("weights_column", weights_column), ("offset_column", offset_column),
                            ("ignored_columns", ignored_columns)):
            if value is not None:
                setattr(self, name, value)
        col = frame[y]
        task = "classification" if _is_categorical(col._meta if _is_dask(col) else col) else "regression"
        classes = None
        if (task == "classification" and not isinstance(col.dtype, pd.CategoricalDtype)
                and not _is_dask(col)):
            # (a Dask response's levels come from the preprocessing pass on the cluster)
            classes = sorted(pd.Series(col).dropna().unique().tolist(), key=str)
        features = list(x) if x is not None else None
        valid = None
        if validation_frame is not None:
            valid, _ = self._as_frame(validation_frame)
        client = client if client is not None else self.client

        def run() -> "DeepLearningEstimator":
            self._fit_frames(frame, y, valid, features=features, task=task, classes=classes,
                             weights_column=self.weights_column, client=client,
                             fitted={"response_column_": y, "_n_raw_features": None,
                                     "_fit_had_names": True})
            self.response_column_ = y
            self._n_raw_features = None
            self._fit_had_names = True
            return self

        return self._launch(run, block)

    def _train_autoencoder(self, x: Sequence[str] | None, y: str | None, frame: Any,
                           validation_frame: Any, weights_column: str | None,
                           ignored_columns: Sequence[str] | None, client: Any,
                           block: bool) -> Any:
        """``train`` with ``autoencoder=True``: every (or every ``x``) column is an input."""
        if y is not None:
            # (H2O's autoencoder is unsupervised: a response column is ignored)
            warnings.warn(f"autoencoder=True learns without a response: y={y!r} is ignored "
                          "(the column is an input like any other unless x leaves it out "
                          "or ignored_columns lists it).", UserWarning, stacklevel=3)
        for name, value in (("weights_column", weights_column),
                            ("ignored_columns", ignored_columns)):
            if value is not None:
                setattr(self, name, value)
        valid = None if validation_frame is None else self._as_frame(validation_frame)[0]
        client = client if client is not None else self.client

        def run() -> "DeepLearningEstimator":
            self._fit_frames(frame, None, valid, features=list(x) if x is not None else None,
                             task="autoencoder", classes=None,
                             weights_column=self.weights_column, client=client,
                             fitted={"response_column_": None, "_n_raw_features": None,
                                     "_fit_had_names": True})
            self.response_column_ = None
            self._n_raw_features = None
            self._fit_had_names = True
            return self

        return self._launch(run, block)

    def fit(self, X: Any, y: Any, *, validation_data: tuple[Any, Any] | None = None,
            sample_weight: Any = None, client: Any = None, block: bool = True) -> Any:
        """scikit-learn style fit; the task follows ``y``'s dtype (see the class docstring).

        With ``autoencoder=True`` ``y`` is ignored (with a warning, as in H2O).
        """
        if self.autoencoder is True:
            if y is not None:
                warnings.warn("autoencoder=True learns without a response: y is ignored "
                              "(call fit(X) or fit(X, None)).", UserWarning, stacklevel=2)
            return self._launch(lambda: self._fit_xy(
                X, None, validation_data=validation_data, sample_weight=sample_weight,
                task="autoencoder", client=client), block)
        if _is_dask(y):
            ys = y._meta if hasattr(y, "_meta") else pd.Series(np.asarray([], dtype=y.dtype))
        else:
            ys = pd.Series(np.asarray(y)) if not isinstance(y, pd.Series) else y
        task = "classification" if _is_categorical(ys) else "regression"
        return self._launch(lambda: self._fit_xy(
            X, y, validation_data=validation_data, sample_weight=sample_weight, task=task,
            client=client), block)

    def predict(self, test_data: Any) -> pd.DataFrame:
        """H2O's prediction frame.

        Returns
        -------
        pandas.DataFrame (or a lazy Dask DataFrame for Dask input, index kept)
            Classification: ``predict`` (label) then one probability column per class
            (named by the class label). A binomial label is class 1 when
            ``p1 >= threshold_`` (H2O's max-F1 threshold: validation metrics, else
            training metrics; the same comparison in the exported scorers), a
            multinomial label the most probable class. Regression: ``predict``. Autoencoder: the
            reconstruction columns ``reconstr_<input>`` (numerics in original units).
        """
        self._check_fitted()
        if self.task_ == "autoencoder":
            return self.reconstruct(test_data)
        lazy = self._predict_any(test_data, "h2o")
        if lazy is not None:
            return lazy
        return self._predict_pandas(self._scoring_frame(test_data), "h2o")

    def model_performance(self, test_data: pd.DataFrame | None = None, *, train: bool = False,
                          valid: bool = False, xval: bool = False) -> Any:
        """Metrics on ``test_data`` (which holds the response), or the training, validation
        or (``xval=True``) cross-validation ones."""
        self._check_fitted()
        if xval:
            return self._xval_metrics()
        if test_data is None:
            return self.validation_metrics_ if valid else self.training_metrics_
        frame = self._scoring_frame(test_data)
        return self._performance(frame, self.response_column_, self.params_["weights_column"])

    def cross_validation_metrics_summary(self) -> pd.DataFrame:
        """H2O's "Cross-Validation Metrics Summary" (mean, sd and each fold per metric)."""
        self._xval_metrics()
        return self.cross_validation_metrics_summary_

    def cross_validation_holdout_predictions(self) -> Any:
        """The combined holdout predictions (``keep_cross_validation_predictions=True``)."""
        self._xval_metrics()
        if self.cross_validation_holdout_predictions_ is None:
            raise InvalidParameterError("cross-validation predictions were not kept; fit with "
                                        "keep_cross_validation_predictions=True.")
        return self.cross_validation_holdout_predictions_

    def scoring_history(self) -> pd.DataFrame:
        """The scoring history (H2O's ``model.scoring_history()``)."""
        self._check_fitted()
        return self.scoring_history_

    def _metric(self, name: str, train: bool, valid: bool, xval: bool) -> Any:
        """One metric from the training, validation and/or cross-validation metrics.

        H2O's rule: nothing asked means the training metric; one source gives its value;
        several give a dict keyed ``"train"``, ``"valid"``, ``"xval"``.
        """
        self._check_fitted()
        asked = [k for k, on in (("train", train), ("valid", valid), ("xval", xval)) if on]
        values: dict[str, Any] = {}
        for source in asked or ["train"]:
            if source == "xval":
                metrics = self._xval_metrics()
            elif source == "valid":
                metrics = self.validation_metrics_
                if metrics is None:
                    raise InvalidParameterError(
                        f"{name}(valid=True): this {type(self).__name__} was trained without "
                        "a validation frame; pass validation_frame= to train() (or "
                        "validation_data= to fit()).")
            else:
                metrics = self.training_metrics_
            values[source] = getattr(metrics, name)
        return values if len(values) > 1 else next(iter(values.values()))

    def mse(self, train: bool = False, valid: bool = False, xval: bool = False) -> Any:
        """Mean squared error (H2O's ``model.mse(train=, valid=, xval=)``).

        Parameters
        ----------
        train, valid, xval : bool, default=False
            Which metrics to read: the training (also when none is True), validation or
            cross-validation ones.

        Returns
        -------
        float or dict
            The value, or ``{"train": ..., "valid": ..., "xval": ...}`` for the sources
            asked when more than one is True.

        Raises
        ------
        InvalidParameterError
            For ``valid=True`` without validation data, or ``xval=True`` without
            cross-validation.
        """
        return self._metric("mse", train, valid, xval)

    def rmse(self, train: bool = False, valid: bool = False, xval: bool = False) -> Any:
        """Root mean squared error; arguments and result as in :meth:`mse`."""
        return self._metric("rmse", train, valid, xval)

    def mae(self, train: bool = False, valid: bool = False, xval: bool = False) -> Any:
        """Mean absolute error (regression, else None); arguments as in :meth:`mse`."""
        return self._metric("mae", train, valid, xval)

    def r2(self, train: bool = False, valid: bool = False, xval: bool = False) -> Any:
        """R squared; arguments and result as in :meth:`mse`."""
        return self._metric("r2", train, valid, xval)

    def mean_residual_deviance(self, train: bool = False, valid: bool = False,
                               xval: bool = False) -> Any:
        """Mean residual deviance (regression, else None); arguments as in :meth:`mse`."""
        return self._metric("mean_residual_deviance", train, valid, xval)

    def logloss(self, train: bool = False, valid: bool = False, xval: bool = False) -> Any:
        """Log loss (classification, else None); arguments as in :meth:`mse`."""
        return self._metric("logloss", train, valid, xval)

    def auc(self, train: bool = False, valid: bool = False, xval: bool = False) -> Any:
        """AUC (binomial, or multinomial with ``auc_type``, else None); as :meth:`mse`."""
        return self._metric("auc", train, valid, xval)

    def aucpr(self, train: bool = False, valid: bool = False, xval: bool = False) -> Any:
        """Area under the precision-recall curve (as :meth:`auc`); as :meth:`mse`."""
        return self._metric("aucpr", train, valid, xval)

    def mean_per_class_error(self, train: bool = False, valid: bool = False,
                             xval: bool = False) -> Any:
        """Mean per-class error (classification, else None); arguments as in :meth:`mse`."""
        return self._metric("mean_per_class_error", train, valid, xval)

    def confusion_matrix(self, train: bool = False, valid: bool = False,
                         xval: bool = False) -> Any:
        """Confusion matrix (classification, else None); arguments as in :meth:`mse`."""
        return self._metric("confusion_matrix", train, valid, xval)


def _autoencoder_init(init: Any) -> Any:
    """``init`` with ``autoencoder=True`` as the default (signature included)."""
    import functools
    import inspect

    @functools.wraps(init)
    def __init__(self: Any, **kwargs: Any) -> None:
        init(self, **{"autoencoder": True, **kwargs})

    sig = inspect.signature(init)
    __init__.__signature__ = sig.replace(parameters=[  # type: ignore[attr-defined]
        p.replace(default=True) if p.name == "autoencoder" else p
        for p in sig.parameters.values()])
    return __init__


@with_h2o_parameters
class AutoEncoderEstimator(DeepLearningEstimator):
    """H2O's ``H2OAutoEncoderEstimator``: a ``DeepLearningEstimator`` with ``autoencoder=True``.

    ``train(x=..., training_frame=...)`` learns to reconstruct the ``x`` columns (every
    column when ``x`` is None); ``anomaly``, ``predict`` (the reconstruction) and
    ``deepfeatures`` score new frames, as in H2O. ``autoencoder`` is a parameter whose
    default here is True; False is refused at ``train`` / ``fit`` (use
    ``DeepLearningEstimator`` for a supervised model).

    Parameters
    ----------
{parameters}

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from dask_deeplearn import AutoEncoderEstimator
    >>> frame = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 4)), columns=list("abcd"))
    >>> model = AutoEncoderEstimator(hidden=[2], epochs=5, seed=1, reproducible=True)
    >>> model.train(x=list(frame.columns), training_frame=frame).task_
    'autoencoder'
    """

    def _check_autoencoder_parameter(self) -> None:
        if self.autoencoder is not True:
            raise InvalidParameterError(
                f"AutoEncoderEstimator trains autoencoders: autoencoder={self.autoencoder!r} "
                "is not allowed (only True); use DeepLearningEstimator for a supervised model.")

    def train(self, *args: Any, **kwargs: Any) -> Any:
        """Train the autoencoder on ``training_frame`` (H2O's ``train(x=, training_frame=)``).

        The arguments are those of :meth:`DeepLearningEstimator.train`; a ``y`` is
        ignored with a warning, as in H2O.
        """
        self._check_autoencoder_parameter()
        return super().train(*args, **kwargs)

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        """scikit-learn style fit on ``X`` (arguments of :meth:`DeepLearningEstimator.fit`;
        ``y`` may be left out)."""
        self._check_autoencoder_parameter()
        if len(args) == 1 and "y" not in kwargs:
            kwargs["y"] = None
        return super().fit(*args, **kwargs)


AutoEncoderEstimator.__init__ = _autoencoder_init(AutoEncoderEstimator.__init__)  # type: ignore[misc]
