"""Dask-native training and scoring: the only package that imports ``distributed``.

* :mod:`.cluster`: which cluster a fit uses (a given client, a scheduler address, the
  default client, or an embedded ``LocalCluster``) and the kernel warm-up plugin;
* :mod:`.session`: connecting, the per-worker ``MultiLock``, pandas to Dask;
* :mod:`.reading`: :class:`HeldFrame`, the training frame read once (statistics, then
  blocks from the same read);
* :mod:`.backend`: :class:`DaskBackend`, the training loop's backend on workers (the
  iteration protocol); :mod:`.placement`: which worker trains on which block;
  :mod:`.averaging`: combining the workers' models; :mod:`.recovery`: re-planning after
  a worker loss;
* :mod:`.predict`: lazy scoring of Dask collections with the model sent once per worker;
* :mod:`.tasks`: the functions that run inside worker tasks;
* :mod:`.dashboard`: the live training page on the Dask dashboard (a scheduler route
  module) and how to enable it; :mod:`.monitor`: the events a fit logs for it.
"""

from .backend import DaskBackend, average_states, plan_blocks
from .cluster import connect, current_client, embedded_cluster, warm_up
from .dashboard import dashboard_config, dashboard_env, dashboard_url, page_url
from .reading import HeldFrame
from .session import as_dask, locked_workers, training_session

__all__ = [
    "DaskBackend",
    "average_states",
    "plan_blocks",
    "connect",
    "current_client",
    "embedded_cluster",
    "warm_up",
    "dashboard_config",
    "dashboard_env",
    "dashboard_url",
    "page_url",
    "as_dask",
    "locked_workers",
    "HeldFrame",
    "training_session",
]
