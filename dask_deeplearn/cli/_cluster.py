"""The Dask client a command runs on: a scheduler address, an embedded cluster, or none."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from ._errors import CLIError


@contextlib.contextmanager
def _client(address: str | None, *, embedded: bool) -> Iterator[Any]:
    """A client to ``address``; else an embedded cluster (or None when not ``embedded``)."""
    if address is None and not embedded:
        yield None
        return
    from distributed import Client

    if address is not None:
        try:
            client = Client(address, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise CLIError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    from ..distributed import embedded_cluster

    cluster = embedded_cluster()
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()

