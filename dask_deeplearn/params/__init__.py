"""Every parameter of H2O-3 Deep Learning: one declarative table, one validator.

The table :data:`PARAMETERS` lists each parameter once with its H2O default, the values
it accepts (a small constraint object, in the spirit of scikit-learn's
``_parameter_constraints``), a one-sentence description and whether it may change at a
checkpoint restart.  Estimators build their ``__init__`` signature and docstring from it
(:func:`default_params`, :func:`params_docstring`).

Three steps turn what the user typed into what training uses:

1. :func:`validate_params` checks each value against its constraint, normalises it (one
   canonical spelling per enumeration value, ``hidden`` as a tuple of int, floats as
   float), then runs the checks of H2O's ``DeepLearningModel.validate`` that need no data,
   and emits H2O's warnings.  Every error has the same form: the parameter and its owner,
   what is allowed, the value received (as its repr) and, where it helps, a fix.
2. :func:`resolve_effective` runs the checks that need the data (task, number of classes,
   response minimum) and applies H2O's ``Sanity.modifyParms`` rewrite rules to give the
   effective parameters.  The user's values are never changed: each step returns a new dict.

The package has one module per concern: ``_constraints`` (the constraint classes),
``_table`` (the table itself), ``_validation`` (:func:`validate_params`, the combinations
refused without data, H2O's warnings), ``_effective`` (:func:`resolve_effective`,
:func:`check_stopping_metric`), ``_docs`` (:func:`params_docstring`,
:func:`params_markdown`) and ``_messages`` (the wording the checks share).  Import the
names from ``dask_deeplearn.params``.

Deliberate differences from H2O
-------------------------------
* Rule 6 of ``modifyParms`` (``mini_batch_size > 1`` silently reset to 1) is **not** applied:
  we support mini-batches.  With ``h2o_compat=True`` it is applied, with H2O's warning.
* Rule 8 (``max_w2`` becomes 1000 for Rectifier / RectifierWithDropout) fires only for
  ``max_w2 == float('inf')``.  The default stays 3.4028235e38 (Java's ``Float.MAX_VALUE``),
  so, as in H2O's code (and unlike its booklet, which says "positive infinity"), the
  default means "no max_w2 constraint".
* ``DeepLearningAutoencoder`` passes ``task="autoencoder"``; :func:`resolve_effective`
  then sets ``autoencoder=True`` and re-runs the autoencoder checks.  ``autoencoder=True``
  with another task is an error (H2O has one estimator; we have three).
* ``custom_metric_func`` is a Python callable (H2O takes a reference to an uploaded
  function).  ``ExpRectifier`` (H2O's hidden ELU) is not exposed, as in H2O's REST API.
* ``stopping_metric='custom'`` or ``'custom_increasing'`` without ``custom_metric_func``
  is an error.
* A ``stopping_metric`` that the task has no metric for is an error whatever
  ``stopping_rounds`` says (it also chooses the best model): besides H2O's refusals
  (deviance for classification, AUC for multinomial, logloss/AUC/misclassification for
  regression) MAE and RMSLE for classification, lift_top_group for multinomial, and
  AUCPR, lift_top_group and mean_per_class_error for regression; a multinomial AUC or
  AUCPR is accepted with an ``auc_type`` that computes it.
* Checkpoint modifiability: H2O's ``DeepLearningParameters.Sanity`` lists the Deep Learning
  fields that may change at a checkpoint restart (``cp_modifiable``), and the table follows
  it.  For the generic model parameters that H2O does not list we chose: run control
  (``max_runtime_secs``, ``verbose``, ``model_id``, ``export_checkpoints_dir``,
  ``score_each_iteration``, ``max_hit_ratio_k``, ``auc_type``, ``custom_metric_func``,
  ``keep_cross_validation_*``, ``backend``) may change; anything that changes the input
  layout or the meaning of the model (``hidden``, ``ignored_columns``,
  ``categorical_encoding``, ``weights_column``, ``offset_column``, class balancing, folds,
  ``h2o_compat``) may not.

Examples
--------
>>> from dask_deeplearn.params import validate_params, resolve_effective
>>> p = validate_params({"activation": "rectifier_with_dropout", "hidden": [10, 5]},
...                     "DeepLearningClassifier")
>>> p["activation"], p["hidden"]
('RectifierWithDropout', (10, 5))
>>> eff = resolve_effective(p, owner="DeepLearningClassifier", task="classification",
...                         n_classes=3)
>>> eff["hidden_dropout_ratios"], eff["distribution"], eff["loss"], eff["stopping_metric"]
((0.5, 0.5), 'multinomial', 'CrossEntropy', 'logloss')
"""

from __future__ import annotations

from ._constraints import (
    AnyObject,
    Boolean,
    CallableOrNone,
    Constraint,
    FloatSequence,
    IntSequence,
    Interval,
    ModelId,
    NoneValue,
    OneOf,
    Options,
    StrList,
    StrOrNone,
    union,
)
from ._docs import params_docstring, params_markdown
from ._effective import TASKS, check_stopping_metric, resolve_effective
from ._table import CHECKPOINT_MODIFIABLE, PARAMETERS, Param, default_params
from ._validation import canonical, validate_params

__all__ = [
    "AnyObject",
    "Boolean",
    "CHECKPOINT_MODIFIABLE",
    "CallableOrNone",
    "Constraint",
    "FloatSequence",
    "IntSequence",
    "Interval",
    "ModelId",
    "NoneValue",
    "OneOf",
    "Options",
    "PARAMETERS",
    "Param",
    "StrList",
    "StrOrNone",
    "canonical",
    "check_stopping_metric",
    "default_params",
    "params_docstring",
    "params_markdown",
    "resolve_effective",
    "union",
    "validate_params",
]
