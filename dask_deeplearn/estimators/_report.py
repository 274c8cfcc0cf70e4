"""H2O's model report: what ``print(model)`` shows for a fitted ``DeepLearningEstimator``.

The report has H2O's sections in H2O's order: "Model Details" (class, model key), the
"Status of Neuron Layers" summary, one "ModelMetrics<Category>: deeplearning" block per
frame (train, validation, cross-validation), the "Cross-Validation Metrics Summary", the
last rows of the "Scoring History" and the first rows of the "Variable Importances".
:func:`report_text` renders it as text (``__repr__``), :func:`report_html` as HTML
(Jupyter's ``_repr_html_``).
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from .._display import history_frame, narrow_table, wrap_words

__all__ = ["report_items", "report_text", "report_html"]

#: rows of the scoring history (its last ones) and of the variable importances (the first)
HISTORY_TAIL = 10
VARIMP_HEAD = 10


def _metrics_lines(metrics: Any, on: str) -> list[str]:
    """H2O's metrics block: its title and "Reported on" line, then the values."""
    body = repr(metrics).splitlines()[3:]  # after our title, nobs line and blank line
    return [f"ModelMetrics{metrics.category}: deeplearning",
            f"** Reported on {on} data. **", "", *body]


def report_items(model: Any) -> list[tuple[str, Any]]:
    """The report's sections as ``(kind, value)``: ``"text"`` lines or a titled table.

    Parameters
    ----------
    model : DeepLearningEstimator
        A fitted estimator.

    Returns
    -------
    list of tuple
        ``("text", list of str)`` or ``("table", (title, pandas.DataFrame))``.
    """
    key = model.params_.get("model_id") or getattr(model, "model_id", None)
    items: list[tuple[str, Any]] = [("text", [
        "Model Details", "=============",
        f"{type(model).__name__} : Deep Learning", f"Model Key: {key}"])]
    summary = model.summary()
    items.append(("table", (f"Status of Neuron Layers: {summary.attrs.get('title', '')}",
                            summary)))
    sources = [("train", model.training_metrics_),
               ("validation", model.validation_metrics_),
               ("cross-validation", getattr(model, "cross_validation_metrics_", None))]
    for on, metrics in sources:
        if metrics is not None:
            items.append(("text", _metrics_lines(metrics, on)))
    cv_summary = getattr(model, "cross_validation_metrics_summary_", None)
    if cv_summary is not None:
        items.append(("table", ("Cross-Validation Metrics Summary:", cv_summary)))
    history = model.scoring_history_
    if len(history):
        # printed without the timestamp and the columns that hold no value, short headers
        shown = history_frame(history).tail(HISTORY_TAIL)
        more = f" (last {len(shown)} of {len(history)} rows)" if len(shown) < len(history) else ""
        items.append(("table", (f"Scoring History:{more}", shown)))
    if bool(model.params_.get("variable_importances", True)):
        vi = model.varimp(use_pandas=True)
        shown = vi.head(VARIMP_HEAD)
        more = f" (first {len(shown)} of {len(vi)} rows)" if len(shown) < len(vi) else ""
        items.append(("table", (f"Variable Importances:{more}", shown)))
    return items


def _table_text(table: pd.DataFrame) -> str:
    # at most 100 characters a line: wide tables in blocks of columns, each led by the
    # index (and by ``epochs`` in the scoring history)
    return narrow_table(table, key=[c for c in ("epochs",) if c in table.columns])


def report_text(model: Any) -> str:
    """The report as text (what ``print(model)`` shows), no line over 100 characters."""
    blocks = []
    for kind, value in report_items(model):
        if kind == "text":
            blocks.append("\n".join(value))
        else:
            title, table = value
            blocks.append(f"{wrap_words(title)}\n{_table_text(table)}")
    return "\n\n".join(blocks)


def report_html(model: Any) -> str:
    """The report as HTML (Jupyter's rendering of a fitted model)."""
    parts = ['<div class="dask-deeplearn-model-report">']
    for kind, value in report_items(model):
        if kind == "text":
            first, *rest = value
            if first == "Model Details":
                parts.append("<h3>Model Details</h3>")
                parts.append("<p>" + "<br>".join(html.escape(v) for v in rest[1:]) + "</p>")
            else:
                parts.append(f"<h4>{html.escape(first)}</h4>")
                parts.append("<pre>" + html.escape("\n".join(rest)) + "</pre>")
        else:
            title, table = value
            parts.append(f"<h4>{html.escape(title)}</h4>")
            parts.append(table.to_html(na_rep=""))
    parts.append("</div>")
    return "\n".join(parts)
