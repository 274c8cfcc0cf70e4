"""Autoencoders: :class:`DeepLearningAutoEncoder` and the methods H2O gives them.

An autoencoder learns to reconstruct its (NORMALIZE-scaled, one-hot expanded) inputs
through narrower hidden layers, as H2O's autoencoder does. ``anomaly`` scores each row by its
reconstruction error, the booklet's anomaly-detection recipe.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.base import TransformerMixin

from ..exceptions import InvalidParameterError
from ._base import DeepLearningBase, _is_dask, with_h2o_parameters

__all__ = ["AutoEncoderMethods", "DeepLearningAutoEncoder", "DeepLearningAutoencoder",
           "pretrain_stacked"]


class AutoEncoderMethods:
    """``anomaly`` and the reconstruction outputs, for any estimator fitted as an autoencoder."""

    def _check_autoencoder(self: Any, what: str) -> None:
        self._check_fitted()
        if self.task_ != "autoencoder":
            raise InvalidParameterError(
                f"{what} needs an autoencoder; this {type(self).__name__} was fitted for "
                f"{self.task_} (use DeepLearningAutoEncoder or autoencoder=True).")

    def anomaly(self: Any, X: Any, per_feature: bool = False) -> Any:
        """Reconstruction error of every row (H2O's ``anomaly``).

        Errors are measured on the expanded, normalised input vector (one-hot slots,
        numerics scaled by NORMALIZE, missing numerics at their mean), as in H2O.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or dask.dataframe.DataFrame
        per_feature : bool, default=False
            False: one column ``Reconstruction.MSE`` (mean over the expanded inputs).
            True: one column ``reconstr_<input>.SE`` per expanded input.

        Returns
        -------
        pandas.DataFrame or dask.dataframe.DataFrame
            Indexed like ``X``; lazy for Dask input.
        """
        self._check_autoencoder("anomaly")
        return self._frame_output(X, "anomaly_per_feature" if per_feature else "anomaly")

    def plot_anomaly(self: Any, X: Any, threshold: float | None = None, ax: Any = None) -> Any:
        """Plot the sorted reconstruction errors of ``X`` (matplotlib, optional dependency).

        Parameters
        ----------
        X : array-like, pandas.DataFrame or dask.dataframe.DataFrame
        threshold : float, optional
            Draw a horizontal line there (rows above it are the anomalies).
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        from ..plotting import plot_anomaly

        errors = self.anomaly(X)
        if hasattr(errors, "compute"):
            errors = errors.compute()
        return plot_anomaly(errors, threshold=threshold, ax=ax)

    def reconstruct(self: Any, X: Any) -> Any:
        """The reconstruction of every row: columns ``reconstr_<input>``.

        Numeric columns come back in their original units; one-hot outputs are the raw
        activations of their level (as in H2O).

        Parameters
        ----------
        X : array-like, pandas.DataFrame or dask.dataframe.DataFrame

        Returns
        -------
        pandas.DataFrame or dask.dataframe.DataFrame
            Indexed like ``X``; lazy for Dask input.
        """
        self._check_autoencoder("reconstruct")
        return self._frame_output(X, "reconstruction")


@with_h2o_parameters
class DeepLearningAutoEncoder(AutoEncoderMethods, TransformerMixin, DeepLearningBase):
    """H2O Deep Learning autoencoder with the scikit-learn API (unsupervised).

    Inputs are scaled with H2O's NORMALIZE transform (``(x - mean) / (max - min)``) and
    every categorical keeps all its levels plus a missing-value slot; the output layer has
    one unit per expanded input and the hidden activation (Tanh or Rectifier, as in H2O).
    The reconstruction loss follows ``loss`` / ``distribution`` (Quadratic: gaussian,
    Absolute: laplace, Huber, Quantile); early stopping uses the reconstruction MSE.

    The output layer's gradient includes its activation's derivative; H2O skips it
    (a shortcut of its code, not of its documentation) and ``h2o_compat=True`` reproduces
    that.

    As a scikit-learn transformer, ``transform`` gives the middle hidden layer's
    activations (the code) as an array, named by :meth:`get_feature_names_out`;
    ``predict`` keeps H2O's meaning (the reconstruction, one column per input).

    Parameters
    ----------
{parameters}

    Examples
    --------
    >>> import numpy as np
    >>> from dask_deeplearn import DeepLearningAutoEncoder
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 6))
    >>> X[:, 3:] = X[:, :3] * 2.0              # 3 dimensions of information
    >>> ae = DeepLearningAutoEncoder(hidden=[3], activation="Tanh", epochs=20, seed=1,
    ...                              reproducible=True).fit(X)
    >>> ae.anomaly(X).columns.tolist()
    ['Reconstruction.MSE']
    >>> bool(ae.anomaly(X)["Reconstruction.MSE"].mean() < 0.01)
    True
    """

    _task = "autoencoder"

    def _params(self) -> dict[str, Any]:
        # an autoencoder whatever ``autoencoder`` says, so the autoencoder-only checks
        # (sparsity, stopping metric, activation) run with the other parameter checks
        return {**super()._params(), "autoencoder": True}

    def fit(self, X: Any, y: Any = None, *, validation_data: Any = None,
            sample_weight: Any = None, client: Any = None,
            block: bool = True) -> Any:
        """Train the autoencoder on ``X`` (numpy, pandas, or Dask collections).

        Parameters
        ----------
        X : array-like, pandas.DataFrame, dask.dataframe.DataFrame or dask.array.Array
        y : None
            Ignored (scikit-learn's convention for unsupervised estimators).
        validation_data : array-like or DataFrame, optional
            Frame scored on the schedule; drives early stopping and the best model.
        sample_weight : array-like, optional
            Observation weights.
        client : distributed.Client, optional
            Cluster to train on (see ``DeepLearningClassifier.fit``).
        block : bool, default=True
            ``False`` trains in a background thread and returns a ``FitHandle``.

        Returns
        -------
        self, or a FitHandle when ``block=False``
        """
        def run() -> "DeepLearningAutoEncoder":
            return self._fit_xy(X, None, validation_data=validation_data,
                                sample_weight=sample_weight, task="autoencoder",
                                client=client)

        return self._launch(run, block)

    def predict(self, X: Any) -> Any:
        """The reconstruction of ``X`` (H2O's ``predict`` of an autoencoder).

        Same as :meth:`reconstruct`: columns ``reconstr_<input>``, numerics in original
        units.
        """
        return self.reconstruct(X)

    def _code_layer(self) -> int:
        """Index of the middle hidden layer (the code ``transform`` returns)."""
        return (self.state_.spec.n_layers - 1) // 2

    def transform(self, X: Any) -> Any:
        """The activations of the middle hidden layer (the code), for pipelines.

        ``deepfeatures(X, layer=len(hidden) // 2)`` as an array, scikit-learn's
        transformer convention (``set_output(transform="pandas")`` gives a DataFrame
        with the columns of :meth:`get_feature_names_out`).

        Parameters
        ----------
        X : array-like, pandas.DataFrame, or Dask collection of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_code_units), float64
            For Dask input: the lazy Dask DataFrame of :meth:`deepfeatures` (index kept).
        """
        self._check_fitted()
        code = self.deepfeatures(X, self._code_layer())
        if _is_dask(code):
            return code
        return code.to_numpy(dtype=np.float64)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the :meth:`transform` outputs: ``DF.L<layer>.C<unit>`` (H2O's names).

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against the fitted input columns (``feature_names_in_`` when the
            model was fitted on a DataFrame, else their number); not used otherwise.

        Returns
        -------
        ndarray of str, shape (n_code_units,), dtype object

        Raises
        ------
        ValueError
            ``input_features`` does not match the fitted columns.
        """
        self._check_fitted()
        if input_features is not None:
            given = np.asarray(input_features, dtype=object)
            fitted = getattr(self, "feature_names_in_", None)
            if fitted is not None and not np.array_equal(given, fitted):
                raise InvalidParameterError(
                    f"input_features is not equal to feature_names_in_: got "
                    f"{list(given)[:10]!r}, fitted with {list(fitted)[:10]!r}.")
            if len(given) != self.n_features_in_:
                raise InvalidParameterError(
                    f"input_features should have length equal to number of features "
                    f"({self.n_features_in_}), got {len(given)}.")
        layer = self._code_layer()
        width = self.state_.spec.units[layer + 1]
        return np.asarray([f"DF.L{layer + 1}.C{j + 1}" for j in range(width)], dtype=object)

    def _expected_failed_checks(self) -> dict[str, str]:
        """scikit-learn checks that cannot pass, with reasons (see the base class)."""
        reason = (
            "predict() returns the reconstruction, shape (n_samples, n_inputs), as H2O's "
            "autoencoder predict does, while this check expects predictions of shape "
            "(n_samples,). Fitting and transforming sparse input work (tested in "
            "tests/integration/test_sklearn_contract.py)."
        )
        return {**super()._expected_failed_checks(),
                "check_estimator_sparse_array": reason,
                "check_estimator_sparse_matrix": reason}

    def __sklearn_tags__(self) -> Any:
        """scikit-learn tags: an unsupervised transformer (``y`` is ignored)."""
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the mean reconstruction MSE (greater is better, for model selection)."""
        errors = self.anomaly(X)["Reconstruction.MSE"]
        if hasattr(errors, "compute"):
            errors = errors.compute()
        return -float(errors.mean())

    def model_performance(self, X: Any = None, *, train: bool = False,
                          valid: bool = False) -> Any:
        """Reconstruction metrics (``mse``, ``rmse``) on ``X``, or the training/validation ones.

        Parameters
        ----------
        X : optional
            Data to score; omitted: the metrics of the last scoring event.
        train, valid : bool, default=False

        Returns
        -------
        ModelMetrics
            Category ``"AutoEncoder"``.
        """
        self._check_fitted()
        if X is None:
            return self.validation_metrics_ if valid else self.training_metrics_
        return self._performance(self._scoring_frame(X), None, None)


#: H2O's spelling
DeepLearningAutoencoder = DeepLearningAutoEncoder


def pretrain_stacked(X: Any, hidden: Sequence[int], *, client: Any = None,
                     **params: Any) -> tuple[list[Any], list[Any]]:
    """Greedy layer-wise pretraining: a stacked autoencoder, one hidden layer at a time.

    The booklet's recipe for deep networks: train an autoencoder with one hidden layer of
    ``hidden[0]`` units on ``X``, then one with ``hidden[1]`` units on the first one's
    hidden activations (``deepfeatures``), and so on. The result initialises a supervised
    model with the same ``hidden`` and ``activation`` (the output layer stays random)::

        weights, biases = pretrain_stacked(X_unlabelled, [64, 32], activation="Tanh",
                                           epochs=20, seed=1)
        clf = DeepLearningClassifier(hidden=[64, 32], activation="Tanh",
                                     initial_weights=weights, initial_biases=biases)
        clf.fit(X_labelled, y_labelled)

    Parameters
    ----------
    X : array-like, pandas.DataFrame or dask.dataframe.DataFrame
        Unlabelled training data (the supervised model's predictor columns).
    hidden : sequence of int
        Hidden layer sizes of the supervised model.
    client : distributed.Client, optional
        Cluster to train on (see ``DeepLearningClassifier.fit``).
    **params
        Parameters of every :class:`DeepLearningAutoEncoder` (``activation``, ``epochs``,
        ``seed``...). The autoencoders after the first see raw activations
        (``standardize=False``, ``ignore_const_cols=False``) so that their weights fit the
        supervised network's hidden layers exactly.

    Returns
    -------
    initial_weights, initial_biases : list
        One entry per weight matrix of the supervised model (``len(hidden) + 1``), the
        last one None (random output layer): pass them as ``initial_weights`` and
        ``initial_biases``.

    Notes
    -----
    As with ``pretrained_autoencoder`` in H2O, the first autoencoder learns on NORMALIZE-
    scaled inputs while the supervised model sees STANDARDIZE-scaled ones; the weights are
    a starting point that fine-tuning adapts.
    """
    if isinstance(hidden, (int, str)) or len(hidden) == 0:
        raise InvalidParameterError(
            f"pretrain_stacked: hidden must be a non-empty list of layer sizes; got {hidden!r}.")
    for name in ("hidden", "export_weights_and_biases", "autoencoder"):
        if name in params:
            raise InvalidParameterError(f"pretrain_stacked sets {name!r} itself; drop it.")
    weights: list[Any] = []
    biases: list[Any] = []
    inputs = X
    for i, width in enumerate(hidden):
        extra = {} if i == 0 else {"standardize": False, "ignore_const_cols": False}
        ae = DeepLearningAutoEncoder(hidden=[int(width)], export_weights_and_biases=True,
                                     **{**params, **extra})
        ae.fit(inputs, client=client)
        weights.append(ae.weights_[0])
        biases.append(ae.biases_[0])
        if i + 1 < len(hidden):
            inputs = ae.deepfeatures(inputs, 0)
    return weights + [None], biases + [None]
