"""Documentation generated from the parameter table: numpydoc sections and the README's
Markdown table."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from ._table import _FLOAT_MAX, _TABLE, PARAMETERS


def params_docstring(names: Iterable[str] | None = None, *, header: bool = True) -> str:
    """Render a numpydoc "Parameters" section from the table.

    Parameters
    ----------
    names : iterable of str or None, default=None
        Parameters to document, in this order; None documents all, in table order.
    header : bool, default=True
        Start with the ``Parameters`` / ``----------`` header.

    Returns
    -------
    str
        Lines ``name : type, default=value`` each followed by the indented description.

    Raises
    ------
    KeyError
        If a name is not in :data:`PARAMETERS`.

    Examples
    --------
    >>> print(params_docstring(["epochs"]))  # doctest: +NORMALIZE_WHITESPACE
    Parameters
    ----------
    epochs : float, default=10.0
        Number of passes over the training data, possibly fractional and counting the
        epochs of a checkpoint too (H2O default 10; scikit-learn ``max_iter``).
    """
    selected = list(PARAMETERS) if names is None else list(names)
    lines = ["Parameters", "----------"] if header else []
    for name in selected:
        if name not in PARAMETERS:
            raise KeyError(f"Unknown parameter {name!r}")
        p = PARAMETERS[name]
        lines.append(f"{p.name} : {p.constraint.type_name()}, default={p.default!r}")
        lines.extend(textwrap.wrap(p.doc, width=88, initial_indent="    ",
                                   subsequent_indent="    ", break_on_hyphens=False,
                                   break_long_words=False))
    return "\n".join(lines)


def params_markdown() -> str:
    """Render the whole table as the README's H2O parameter mapping (Markdown).

    One row per parameter in H2O's order: the name (the same in H2O and here), the
    default, the allowed values, whether it may change at a checkpoint restart, and the
    description. Parameters that are not H2O's say so in their description.

    Returns
    -------
    str
        A Markdown table, one line per parameter after the two header lines.

    Examples
    --------
    >>> table = params_markdown()
    >>> table.splitlines()[0]
    '| parameter | default | allowed | checkpoint restart | what it does |'
    >>> len(table.splitlines()) == len(PARAMETERS) + 2
    True
    """

    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| parameter | default | allowed | checkpoint restart | what it does |",
             "|---|---|---|---|---|"]
    for p in _TABLE:
        default = "3.4028235e38" if p.default == _FLOAT_MAX else repr(p.default)
        lines.append(f"| `{p.name}` | `{cell(default)}` | {cell(p.constraint.describe())} | "
                     f"{'may change' if p.checkpoint_modifiable else 'fixed'} | "
                     f"{cell(p.doc)} |")
    return "\n".join(lines)
