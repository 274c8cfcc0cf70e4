"""Start the dask_deeplearn cluster of ``daskcluster.yaml`` from Python and train on it.

Needs ``pip install dask-kubernetes``, the dask-kubernetes operator installed in the
Kubernetes cluster (https://kubernetes.dask.org) and a kubeconfig. ``KubeCluster`` creates
the ``DaskCluster`` resource, waits for the scheduler, port-forwards to it when this script
runs outside Kubernetes, and deletes the resource when the script ends.

Examples
--------
.. code-block:: console

    $ python deploy/kubernetes/kubecluster.py --print-spec        # the resource, no cluster
    $ python deploy/kubernetes/kubecluster.py --image registry.example.com/dask-deeplearn:0.1.0 \\
          --workers 4 --namespace ml

The script prints the ``scheduler_address=`` to pass to estimators, trains a small
``DeepLearningClassifier`` with ``client=`` to check that the workers train, and keeps the
cluster until Enter is pressed (``--no-wait``: close at once).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

SPEC_FILE = Path(__file__).with_name("daskcluster.yaml")


def load_spec(path: str | Path = SPEC_FILE, *, name: str | None = None,
              image: str | None = None, workers: int | None = None) -> dict[str, Any]:
    """Read the ``DaskCluster`` resource and apply the overrides.

    Parameters
    ----------
    path : str or Path
        A YAML file holding one ``DaskCluster`` resource.
    name : str, optional
        New ``metadata.name`` (the scheduler service's selector follows it).
    image : str, optional
        Image of the scheduler and worker containers.
    workers : int, optional
        Number of worker pods.

    Returns
    -------
    dict
        The resource, ready for ``KubeCluster(custom_cluster_spec=...)``.
    """
    import yaml

    with open(path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    if not isinstance(spec, dict) or spec.get("kind") != "DaskCluster":
        raise ValueError(f"{path} does not hold a DaskCluster resource")
    spec = copy.deepcopy(spec)
    if name is not None:
        spec["metadata"]["name"] = name
        selector = spec["spec"]["scheduler"]["service"]["selector"]
        selector["dask.org/cluster-name"] = name
    if image is not None:
        for role in ("scheduler", "worker"):
            for container in spec["spec"][role]["spec"]["containers"]:
                container["image"] = image
    if workers is not None:
        if workers < 0:
            raise ValueError(f"--workers must be >= 0, got {workers}")
        spec["spec"]["worker"]["replicas"] = workers
    return spec


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    p = argparse.ArgumentParser(
        description="Start the DaskCluster of daskcluster.yaml with dask-kubernetes' "
                    "KubeCluster, print its scheduler address and train a small model on it.")
    p.add_argument("--spec", default=str(SPEC_FILE), metavar="YAML",
                   help="DaskCluster resource file (default: daskcluster.yaml next to "
                        "this script)")
    p.add_argument("--name", help="cluster name (default: the file's metadata.name)")
    p.add_argument("--namespace", help="Kubernetes namespace (default: the kubeconfig's)")
    p.add_argument("--image", help="image of scheduler and workers (default: the file's)")
    p.add_argument("--workers", type=int, help="number of worker pods (default: the file's)")
    p.add_argument("--print-spec", action="store_true",
                   help="print the resulting resource as YAML and exit (no cluster)")
    p.add_argument("--no-wait", action="store_true",
                   help="close the cluster after the check fit instead of waiting for Enter")
    return p


def check_fit(client: Any) -> float:
    """Train a small classifier on the cluster (digits data) and return its test accuracy."""
    import dask.dataframe as dd
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from dask_deeplearn import DeepLearningClassifier

    X, y = load_digits(return_X_y=True, as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    train = dd.from_pandas(X_tr.assign(target=y_tr), npartitions=4)
    features = list(X.columns)
    clf = DeepLearningClassifier(hidden=[64], epochs=5, seed=1, quiet_mode=True)
    clf.fit(train[features], train["target"], client=client)
    return clf.score(X_te, y_te)


def main(argv: list[str] | None = None) -> int:
    """Run the script; returns the exit code."""
    args = build_parser().parse_args(argv)
    spec = load_spec(args.spec, name=args.name, image=args.image, workers=args.workers)
    if args.print_spec:
        import yaml

        print(yaml.safe_dump(spec, sort_keys=False), end="")
        return 0
    try:
        from dask_kubernetes.operator import KubeCluster
    except ImportError:
        print("kubecluster.py: error: needs dask-kubernetes (pip install dask-kubernetes)",
              file=sys.stderr)
        return 2
    from distributed import Client

    kwargs = {"namespace": args.namespace} if args.namespace else {}
    with KubeCluster(custom_cluster_spec=spec, **kwargs) as cluster, Client(cluster) as client:
        print(f"scheduler_address={cluster.scheduler_address!r}")
        print(f"dashboard: {client.dashboard_link}")
        client.wait_for_workers(1, timeout=600)
        print(f"check fit on {len(client.scheduler_info()['workers'])} worker(s): "
              f"test accuracy {check_fit(client):.3f}")
        if not args.no_wait:
            input("Cluster running; press Enter to delete it. ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
