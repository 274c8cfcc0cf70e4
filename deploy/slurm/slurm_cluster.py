"""Train a dask_deeplearn model on Dask workers started as SLURM jobs (dask-jobqueue).

Run it on a login node (needs ``pip install dask-jobqueue`` and ``sbatch`` on the PATH).
The Dask scheduler runs inside this process; each ``--jobs`` SLURM job runs one ``dask
worker`` process with all of its ``--cores`` as threads (the layout Hogwild wants: one
worker process per machine, every core updating one shared model). The script submits the
jobs, waits for the workers, trains with ``client=`` and saves the model; the jobs are
cancelled when it ends.

Examples
--------
.. code-block:: console

    $ python deploy/slurm/slurm_cluster.py --dry-run --cores 32 --memory 120GB
    $ python deploy/slurm/slurm_cluster.py --queue compute --account myproj --jobs 4 \\
          --cores 32 --memory 120GB --walltime 02:00:00 \\
          --train /shared/higgs.parquet --y label --classification \\
          --param hidden=[200,200] --param epochs=10 --output /shared/models/higgs.zip

Without ``--train`` it trains a small classifier on scikit-learn's digits data, to check
that the workers start and train. ``--dry-run`` prints the SLURM job script and exits.
The training file must be on a filesystem the compute nodes see (workers read it).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

#: the dask_deeplearn page served by the scheduler's dashboard (when the module exists)
DASHBOARD_MODULE = "dask_deeplearn.distributed.dashboard"


def scheduler_routes() -> list[str]:
    """Dask's scheduler HTTP routes plus the dask_deeplearn page, when it is installed.

    The scheduler of a ``SLURMCluster`` runs in this process, so the route is enabled with
    ``dask.config`` here (a scheduler started with ``dask scheduler`` reads the environment
    variable ``DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES`` instead; see README.md).

    Returns
    -------
    list of str
    """
    import dask
    import distributed  # noqa: F401  (loads distributed's configuration defaults)

    routes = list(dask.config.get("distributed.scheduler.http.routes"))
    if DASHBOARD_MODULE not in routes and importlib.util.find_spec(DASHBOARD_MODULE):
        routes.append(DASHBOARD_MODULE)
    return routes


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    p = argparse.ArgumentParser(
        description="Start Dask workers as SLURM jobs (dask-jobqueue SLURMCluster, one "
                    "worker process per job using all its cores) and train a "
                    "dask_deeplearn model on them.")
    g = p.add_argument_group("SLURM jobs")
    g.add_argument("--queue", help="SLURM partition (sbatch -p); default: the site's")
    g.add_argument("--account", help="SLURM account (sbatch -A)")
    g.add_argument("--jobs", type=int, default=2,
                   help="number of SLURM jobs = Dask workers (default: 2)")
    g.add_argument("--cores", type=int, default=8,
                   help="cores per job = threads of its worker (default: 8)")
    g.add_argument("--memory", default="32GB", help="memory per job (default: 32GB)")
    g.add_argument("--walltime", default="01:00:00", help="time limit per job (default: 1h)")
    g.add_argument("--interface", help="network interface of the workers, e.g. ib0")
    g.add_argument("--local-directory", default="${TMPDIR:-/tmp}",
                   help="workers' scratch directory on the compute node, expanded by the "
                        "job's shell (default: ${TMPDIR:-/tmp})")
    g.add_argument("--job-extra", action="append", default=[], metavar="DIRECTIVE",
                   help="extra #SBATCH directive, e.g. --job-extra=--exclusive (repeatable)")
    g.add_argument("--prologue", action="append", default=[], metavar="COMMAND",
                   help="shell line run before the worker starts, e.g. "
                        "'module load python/3.11' or 'source ~/venv/bin/activate' "
                        "(repeatable)")
    g.add_argument("--dry-run", action="store_true",
                   help="print the SLURM job script and exit (submits nothing)")
    t = p.add_argument_group("training")
    t.add_argument("--train", metavar="PATH",
                   help="training data on a shared filesystem: CSV file(s) or Parquet "
                        "(default: scikit-learn's digits, as a check)")
    t.add_argument("--y", metavar="COLUMN", help="response column (required with --train)")
    t.add_argument("--classification", action="store_true",
                   help="treat the response as categorical (train a classifier)")
    t.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="model parameter as in `dask-deeplearn train --param` (repeatable)")
    t.add_argument("--output", metavar="MODEL_PATH",
                   help="where to save the model (.zip file or directory)")
    return p


def make_cluster(args: argparse.Namespace) -> Any:
    """The ``SLURMCluster`` of ``args`` (no job is submitted until ``scale``)."""
    import dask
    from dask_jobqueue import SLURMCluster

    dask.config.set({"distributed.scheduler.http.routes": scheduler_routes()})
    prologue = [
        # compiled Numba kernels on node-local disk: a restarted worker reuses them
        'export NUMBA_CACHE_DIR="${TMPDIR:-/tmp}/numba-cache-$USER"',
        *args.prologue,
    ]
    return SLURMCluster(
        queue=args.queue,
        account=args.account,
        cores=args.cores,
        processes=1,  # one worker process per job with all cores as Hogwild threads
        memory=args.memory,
        walltime=args.walltime,
        interface=args.interface,
        local_directory=args.local_directory,
        job_extra_directives=list(args.job_extra),
        job_script_prologue=prologue,
    )


def train(args: argparse.Namespace, client: Any) -> Any:
    """Train on the cluster of ``client``: the ``--train`` data, else the digits check."""
    import dask.dataframe as dd

    from dask_deeplearn import DeepLearningEstimator
    from dask_deeplearn.cli import parse_param

    params = dict(parse_param(item) for item in args.param)
    if args.train:
        path = Path(args.train)
        parquet = path.is_dir() or path.suffix.lower() in (".parquet", ".pq")
        frame = dd.read_parquet(args.train) if parquet else dd.read_csv(args.train)
        y = args.y
    else:
        import pandas as pd
        from sklearn.datasets import load_digits

        X, target = load_digits(return_X_y=True, as_frame=True)
        frame = dd.from_pandas(X.assign(target=pd.Categorical(target)), npartitions=4)
        y = "target"
        params = {"hidden": [64], "epochs": 5, "seed": 1, **params}
    if args.classification:
        frame = frame.categorize(columns=[y])
    model = DeepLearningEstimator(**params)
    model.train(y=y, training_frame=frame, client=client)
    return model


def main(argv: list[str] | None = None) -> int:
    """Run the script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.train and not args.y:
        parser.error("--train needs --y")
    if args.jobs < 1 or args.cores < 1:
        parser.error("--jobs and --cores must be at least 1")
    try:
        import dask_jobqueue  # noqa: F401
    except ImportError:
        parser.error("needs dask-jobqueue (pip install dask-jobqueue)")
    from distributed import Client

    with make_cluster(args) as cluster:
        if args.dry_run:
            print(cluster.job_script())
            return 0
        cluster.scale(jobs=args.jobs)
        with Client(cluster) as client:
            print(f"scheduler_address={cluster.scheduler_address!r}")
            print(f"dashboard: {client.dashboard_link}")
            print(f"waiting for {args.jobs} SLURM job(s) to start their workers ...")
            client.wait_for_workers(args.jobs)
            model = train(args, client)
            print(model.summary_)
            print(model.model_performance())
            if args.output:
                print(f"model saved to {model.save(args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
