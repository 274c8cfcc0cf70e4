"""The preprocessing options of a fit: the nine parameters :class:`DataInfo` reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..params import validate_params

__all__ = ["PreprocessingOptions"]


@dataclass(frozen=True)
class PreprocessingOptions:
    """How :meth:`DataInfo.fit <dask_deeplearn.preprocessing.DataInfo.fit>` encodes and scales.

    The values are those of the estimator parameters of the same names
    (:data:`dask_deeplearn.params.PARAMETERS` documents them), except ``seed``, which is
    the seed resolved for the fit (never -1).

    Attributes
    ----------
    standardize : bool, default=True
        Scale numeric inputs (and an identity-link numeric response).
    sparse : bool, default=False
        DESCALE instead of STANDARDIZE (no centring).
    ignore_const_cols : bool, default=True
        Drop constant and all-missing columns and categoricals with <= 1 level.
    missing_values_handling : {"MeanImputation", "Skip"}, default="MeanImputation"
    use_all_factor_levels : bool, default=True
        False: the first level of each one-hot block is the all-zeros reference.
    categorical_encoding : str, default="OneHotInternal"
        AUTO, OneHotInternal, Binary, Eigen, LabelEncoder, SortByResponse, EnumLimited.
    max_categorical_features : int, default=2147483647
        Hash the one-hot inputs into this many slots when it is smaller than the one-hot
        width.
    distribution : str, default="AUTO"
        Identity-link distributions (AUTO, gaussian, laplace, quantile, huber) get a
        standardised response in regression; any other does not.
    seed : int, default=0
        Hashing seed (wrapped to a Java ``int``).
    """

    standardize: bool = True
    sparse: bool = False
    ignore_const_cols: bool = True
    missing_values_handling: str = "MeanImputation"
    use_all_factor_levels: bool = True
    categorical_encoding: str = "OneHotInternal"
    max_categorical_features: int = 2147483647
    distribution: str = "AUTO"
    seed: int = 0

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, seed: int | None = None,
                    owner: str = "DataInfo.fit") -> PreprocessingOptions:
        """The options among ``params``, checked and normalised by the parameter table.

        Parameters
        ----------
        params : mapping of str to object
            Estimator parameters (e.g. the validated parameters of a fit); only the
            option names are read, each one that is absent takes its default here.
        seed : int, optional
            The fit's resolved seed; default ``params["seed"]``, else 0.
        owner : str, default="DataInfo.fit"
            Named in error messages.

        Returns
        -------
        PreprocessingOptions

        Raises
        ------
        InvalidParameterError
            A value its entry in :data:`dask_deeplearn.params.PARAMETERS` refuses.

        Examples
        --------
        >>> PreprocessingOptions.from_params({"categorical_encoding": "sort_by_response"}, seed=7)
        ... # doctest: +NORMALIZE_WHITESPACE
        PreprocessingOptions(standardize=True, sparse=False, ignore_const_cols=True,
            missing_values_handling='MeanImputation', use_all_factor_levels=True,
            categorical_encoding='SortByResponse', max_categorical_features=2147483647,
            distribution='AUTO', seed=7)
        """
        defaults = cls()
        given = {f.name: params[f.name] for f in fields(cls) if f.name != "seed" and f.name in params}
        checked = validate_params(given, owner)
        values = {name: checked[name] if name in given else value
                  for name, value in asdict(defaults).items()}
        values["seed"] = int(params.get("seed", 0) if seed is None else seed)
        return cls(**values)
