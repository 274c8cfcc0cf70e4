"""The registry of H2O's distributions: task, link and the kernels' code of each.

One table, read by the parameter rules, the preprocessing (which responses are
standardised), the kernels (the gradient each code selects), the scoring and the
exporters (the output link) and the metrics (the deviance of each regression
distribution). A pure-Python leaf module: it imports nothing of the package.

Examples
--------
>>> DISTRIBUTIONS["poisson"].link, DISTRIBUTIONS["poisson"].task
('log', 'regression')
>>> sorted(LOG_LINK)
['gamma', 'poisson', 'tweedie']
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Distribution", "DISTRIBUTIONS", "REGRESSION_DISTRIBUTIONS", "LOG_LINK",
           "IDENTITY_LINK", "KERNEL_CODES"]


@dataclass(frozen=True)
class Distribution:
    """One distribution of H2O's ``distribution`` parameter (lower case).

    Attributes
    ----------
    name : str
        H2O's name, lower case.
    task : {"classification", "regression"}
        The responses it models.
    link : {"identity", "log", "softmax"}
        How the network's output becomes a prediction: as it is, ``exp`` (capped at
        1e19, as H2O does), or the softmax over the classes.
    code : int
        The code the Numba kernels dispatch the output gradient on.
    """

    name: str
    task: str
    link: str
    code: int


#: every distribution H2O's Deep Learning trains with, in H2O's order
DISTRIBUTIONS: dict[str, Distribution] = {d.name: d for d in (
    Distribution("bernoulli", "classification", "softmax", 7),
    Distribution("multinomial", "classification", "softmax", 7),
    Distribution("gaussian", "regression", "identity", 0),
    Distribution("poisson", "regression", "log", 4),
    Distribution("gamma", "regression", "log", 5),
    Distribution("laplace", "regression", "identity", 1),
    Distribution("quantile", "regression", "identity", 2),
    Distribution("huber", "regression", "identity", 3),
    Distribution("tweedie", "regression", "log", 6),
)}

#: the regression distributions (their deviances are H2O's regression metrics)
REGRESSION_DISTRIBUTIONS: tuple[str, ...] = tuple(
    name for name, d in DISTRIBUTIONS.items() if d.task == "regression")
#: distributions whose predictions are ``min(1e19, exp(output))``
LOG_LINK: frozenset[str] = frozenset(n for n, d in DISTRIBUTIONS.items() if d.link == "log")
#: regression distributions with an identity link (their response may be standardised);
#: ``"auto"`` resolves to gaussian for a numeric response
IDENTITY_LINK: frozenset[str] = frozenset(
    {"auto"} | {n for n, d in DISTRIBUTIONS.items() if d.link == "identity"})
#: distribution name -> the kernels' code
KERNEL_CODES: dict[str, int] = {name: d.code for name, d in DISTRIBUTIONS.items()}
