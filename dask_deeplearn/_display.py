"""Tables printed for a terminal: at most ``width`` characters a line.

:func:`narrow_table` renders any DataFrame in blocks of columns that each fit the width,
every block repeating the key columns (the index, or named columns such as ``epochs``) so
each line can still be read on its own. :func:`history_frame` shortens H2O's scoring
history for printing (no timestamp, no column without a value, short headers) and
:func:`history_text` renders it. The scoring history itself is never changed: these
return new frames and strings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only annotations: importing this module stays cheap (the CLI's --help)
    import pandas as pd

__all__ = ["WIDTH", "narrow_table", "history_frame", "history_text", "wrap_words"]

#: the widest line printed by the demo, the command line and ``print(model)``
WIDTH = 100

#: the narrowest ``width`` accepted (a key column and one value column always fit)
_MIN_WIDTH = 40

#: the short headers of the printed scoring history (H2O's names otherwise)
_SHORT = (("training_", "train_"), ("validation_", "valid_"),
          ("cross_validation_", "xval_"), ("classification_error", "err"),
          ("mean_per_class_error", "mpce"), ("mean_residual_deviance", "deviance"))
_RENAMED = {"training_speed": "speed", "iterations": "iter"}


def _check_width(width: int) -> int:
    if isinstance(width, bool) or not isinstance(width, int) or width < _MIN_WIDTH:
        raise ValueError(f"width must be an integer >= {_MIN_WIDTH}, got {width!r}")
    return width


def _cell(value: Any, na_rep: str, float_format: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return na_rep
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "0" if value == 0 else format(value, float_format)
    return str(value)


def _column(header: Any, values: Any, na_rep: str, float_format: str) -> list[str]:
    """The header then the cells of one column, right-aligned to their widest."""
    cells = [str(header)] + [_cell(v, na_rep, float_format) for v in values]
    w = max(len(c) for c in cells)
    return [c.rjust(w) for c in cells]


def _blocks(key: list[list[str]], rest: list[list[str]], width: int) -> list[list[list[str]]]:
    """Split ``rest`` into consecutive groups that fit ``width`` after the ``key`` columns."""
    key_w = sum(len(c[0]) + 2 for c in key)  # the key columns and the gap after each
    groups: list[list[list[str]]] = []
    used = 0
    for col in rest:
        w = len(col[0])
        if groups and used + 2 + w <= width:
            groups[-1].append(col)
            used += 2 + w
        else:
            groups.append([col])
            used = key_w + w
    return groups or [[]]


def narrow_table(frame: pd.DataFrame, *, width: int = WIDTH, key: Sequence[str] = (),
                 index: bool = True, na_rep: str = "", float_format: str = ".5g") -> str:
    """Render ``frame`` as text whose lines are at most ``width`` characters.

    The columns are laid out left to right; when they do not fit in one line they are
    split into blocks (separated by a blank line), each starting with the index (when
    ``index``) and the ``key`` columns.

    Parameters
    ----------
    frame : pandas.DataFrame
    width : int, default=100
        The longest line allowed (at least 40).
    key : sequence of str, default=()
        Columns repeated at the start of every block (kept in ``frame``'s order).
    index : bool, default=True
        Show the index as the first key column (headed by its name).
    na_rep : str, default=""
        What a missing value shows.
    float_format : str, default=".5g"
        Format of float cells (``format(value, float_format)``).

    Returns
    -------
    str
        The table; a line longer than ``width`` only when one key column and one other
        column alone are wider.

    Raises
    ------
    ValueError
        ``width`` is not an integer >= 40, or a ``key`` column is not in ``frame``.
    """
    _check_width(width)
    missing = [k for k in key if k not in frame.columns]
    if missing:
        raise ValueError(f"key column(s) {missing} are not in the table "
                         f"(columns: {[str(c) for c in frame.columns]})")
    key_cols = [_column(frame.index.name or "", frame.index, na_rep, float_format)
                ] if index else []
    names = list(frame.columns)
    key_cols += [_column(c, frame[c].tolist(), na_rep, float_format) for c in names
                 if c in key]
    rest = [_column(c, frame[c].tolist(), na_rep, float_format) for c in names
            if c not in key]
    texts = []
    for group in _blocks(key_cols, rest, width):
        cols = key_cols + group
        if index and cols:  # the index is left-aligned, as pandas prints it
            w = len(cols[0][0])
            cols = [[c.strip().ljust(w) for c in cols[0]]] + cols[1:]
        lines = ["  ".join(parts).rstrip() for parts in zip(*cols)] if cols else []
        texts.append("\n".join(lines))
    return "\n\n".join(texts)


def history_frame(history: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The scoring history as printed: a new frame, ``history`` is not changed.

    Drops the ``timestamp`` and every column without any value, and shortens the
    headers (``training_`` to ``train_``, ``validation_`` to ``valid_``,
    ``classification_error`` to ``err``, ``training_speed`` to ``speed``,
    ``iterations`` to ``iter``, ...).

    Parameters
    ----------
    history : pandas.DataFrame
        H2O's scoring history (``model.scoring_history_``).
    columns : sequence of str, optional
        Keep only these columns of ``history`` (H2O's names), in this order.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        A name in ``columns`` is not a column of ``history``.
    """
    if columns is not None:
        missing = [c for c in columns if c not in history.columns]
        if missing:
            raise ValueError(f"columns {missing} are not in the scoring history "
                             f"(columns: {[str(c) for c in history.columns]})")
        shown = history[list(columns)]
    else:
        shown = history.drop(columns=[c for c in ("timestamp",) if c in history.columns])
        shown = shown.loc[:, shown.notna().any(axis=0)]
    return shown.rename(columns=_short_name)


def _short_name(name: Any) -> Any:
    if not isinstance(name, str):
        return name
    if name in _RENAMED:
        return _RENAMED[name]
    for old, new in _SHORT:
        name = name.replace(old, new)
    return name


def history_text(history: pd.DataFrame | None, *, width: int = WIDTH, tail: int | None = None,
                 columns: Sequence[str] | None = None) -> str:
    """The scoring history as text of at most ``width`` characters a line.

    Parameters
    ----------
    history : pandas.DataFrame or None
        H2O's scoring history (``model.scoring_history_``).
    width : int, default=100
    tail : int, optional
        Show only the last ``tail`` rows (columns without any value are those of the
        whole history).
    columns : sequence of str, optional
        Show only these columns (see :func:`history_frame`).

    Returns
    -------
    str
        ``"(no scoring history)"`` for an empty history; else the table in blocks of
        columns, each led by ``epochs``.
    """
    _check_width(width)
    if history is None or len(history) == 0:
        return "(no scoring history)"
    shown = history_frame(history, columns)
    if tail is not None:
        shown = shown.tail(tail)
    key = [c for c in ("epochs",) if c in shown.columns]
    return narrow_table(shown, width=width, key=key, index=False)


def wrap_words(text: str, width: int = WIDTH, indent: str = "  ") -> str:
    """``text`` wrapped at ``width`` on spaces and ", " (continuation lines indented).

    Parameters
    ----------
    text : str
    width : int, default=100
    indent : str, default="  "

    Returns
    -------
    str
    """
    import textwrap

    return textwrap.fill(text, width=_check_width(width), subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)
