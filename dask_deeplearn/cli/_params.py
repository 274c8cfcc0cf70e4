"""Model parameters from the command line: ``--param NAME=VALUE`` items and ``--params``
files (JSON, or YAML with PyYAML)."""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path
from typing import Any

from ._errors import CLIError


def _parse_value(text: str) -> Any:
    """A ``--param`` value: JSON when it parses, else Python's True/False/None, else text.

    Parameters
    ----------
    text : str

    Returns
    -------
    object
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    return {"True": True, "False": False, "None": None}.get(text, text)


def parse_param(item: str) -> tuple[str, Any]:
    """Split one ``--param NAME=VALUE`` into the name and the parsed value.

    Parameters
    ----------
    item : str
        ``NAME=VALUE``; VALUE is parsed as JSON when possible (``[32,16]``, ``5``,
        ``0.5``, ``true``, ``null``), otherwise kept as a string (``Tanh``).

    Returns
    -------
    tuple of (str, object)

    Raises
    ------
    CLIError
        No ``=``, or an empty name.

    Examples
    --------
    >>> parse_param("hidden=[32,16]")
    ('hidden', [32, 16])
    >>> parse_param("activation=Tanh")
    ('activation', 'Tanh')
    """
    name, sep, value = item.partition("=")
    name = name.strip()
    if not sep or not name:
        raise CLIError(f"bad --param {item!r}: expected NAME=VALUE (e.g. --param epochs=5)")
    return name, _parse_value(value.strip())


def load_params(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON or YAML file of model parameters (a mapping of name to value).

    Parameters
    ----------
    path : str or PathLike
        ``.yaml`` / ``.yml`` files need PyYAML; anything else is read as JSON.

    Returns
    -------
    dict of str to object

    Raises
    ------
    CLIError
        Missing or unreadable file, bad syntax, YAML without PyYAML, or not a mapping.
    """
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"parameter file {p} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read parameter file {p}: {exc}") from None
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise CLIError(f"cannot read parameter file {p}: YAML needs PyYAML (pip install "
                           "pyyaml); use a JSON file instead") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CLIError(f"parameter file {p} is not valid YAML: {exc}") from None
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CLIError(f"parameter file {p} is not valid JSON: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise CLIError(f"parameter file {p} must hold a mapping of parameter name to value, "
                       f"not {type(data).__name__}")
    return dict(data)


def _model_params(args: argparse.Namespace) -> dict[str, Any]:
    """Parameters of ``train``: ``--params`` file, then ``--param`` items, then ``--quiet``."""
    from ..params import validate_params

    params: dict[str, Any] = {}
    if args.params:
        params.update(load_params(args.params))
    for item in args.param or []:
        name, value = parse_param(item)
        params[name] = value
    if args.quiet:
        params["quiet_mode"] = True
    with warnings.catch_warnings():
        # early check (unknown names, bad values); train() checks again and warns then
        warnings.simplefilter("ignore")
        validate_params(params, "DeepLearningEstimator")
    return params

