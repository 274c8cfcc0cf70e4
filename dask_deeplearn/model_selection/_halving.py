"""Budgets of successive halving and Hyperband (Jamieson & Talwalkar 2016; Li et al. 2018).

The resource is epochs. Pure functions, so the schedule can be checked without training.
"""

from __future__ import annotations

import math

__all__ = ["halving_budgets", "hyperband_brackets", "n_survivors"]

_EPS = 1e-9


def n_survivors(n: int, eta: float) -> int:
    """How many of ``n`` candidates a rung keeps: ``max(1, floor(n / eta))``.

    Examples
    --------
    >>> [n_survivors(n, 3) for n in (9, 5, 3, 2, 1)]
    [3, 1, 1, 1, 1]
    """
    return max(1, int(math.floor(n / eta + _EPS)))


def halving_budgets(n: int, min_epochs: float, max_epochs: float,
                    eta: float) -> list[tuple[int, float]]:
    """The rungs of one successive-halving run, if no candidate fails.

    Every rung trains its candidates to a total of ``epochs``; the first holds all ``n``
    candidates at ``min_epochs``; each next rung keeps :func:`n_survivors` of them and
    multiplies the budget by ``eta`` (capped at ``max_epochs``). Once a single candidate
    is left it goes straight to ``max_epochs`` (nothing is left to compare). The run ends
    after the rung trained at ``max_epochs``.

    Parameters
    ----------
    n : int
        Candidates at the first rung.
    min_epochs, max_epochs : float
        First and largest budgets (total epochs per model).
    eta : float
        Reduction factor (> 1).

    Returns
    -------
    list of (int, float)
        ``(candidates, epochs)`` per rung.

    Examples
    --------
    >>> halving_budgets(9, 1, 9, 3)
    [(9, 1.0), (3, 3.0), (1, 9.0)]
    >>> halving_budgets(9, 1, 81, 3)
    [(9, 1.0), (3, 3.0), (1, 81.0)]
    >>> halving_budgets(4, 2, 5, 2)
    [(4, 2.0), (2, 4.0), (1, 5.0)]
    """
    rungs: list[tuple[int, float]] = []
    budget = float(min_epochs)
    while True:
        rungs.append((n, budget))
        if budget >= max_epochs * (1 - _EPS) or n == 0:
            return rungs
        n = n_survivors(n, eta)
        budget = float(max_epochs) if n == 1 else min(budget * eta, float(max_epochs))


def hyperband_brackets(min_epochs: float, max_epochs: float, eta: float) -> list[tuple[int, float]]:
    """Hyperband's brackets: ``(candidates, first budget)`` for ``s = s_max, ..., 0``.

    With ``R = max_epochs / min_epochs``, ``s_max = floor(log_eta R)`` and
    ``B = (s_max + 1) R``, bracket ``s`` starts ``n = ceil(B / R * eta**s / (s + 1))``
    candidates at ``max_epochs * eta**-s`` epochs and halves them up to ``max_epochs``
    (Li et al. 2018, Algorithm 1). The most exploratory bracket comes first; the last one
    trains a few candidates to the full budget straight away.

    Examples
    --------
    >>> hyperband_brackets(1, 9, 3)
    [(9, 1.0), (5, 3.0), (3, 9.0)]
    >>> hyperband_brackets(1, 3, 3)
    [(3, 1.0), (2, 3.0)]
    """
    ratio = float(max_epochs) / float(min_epochs)
    s_max = int(math.floor(math.log(ratio) / math.log(eta) + _EPS)) if ratio > 1 else 0
    out = []
    for s in range(s_max, -1, -1):
        n = int(math.ceil((s_max + 1) * eta**s / (s + 1) - _EPS))
        out.append((n, round(float(max_epochs) * eta ** (-s), 10)))
    return out
