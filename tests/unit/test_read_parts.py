"""The pieces of a Dask fit's single read: kept partitions, their size, graphs without
aliases, scoring shares, iteration shares (no cluster needed)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

from dask.sizeof import sizeof  # noqa: E402
from dask._task_spec import Alias  # noqa: E402

from dask_deeplearn.distributed import tasks  # noqa: E402
from dask_deeplearn.distributed.reading import partition_graph  # noqa: E402
from dask_deeplearn.preprocessing import Block  # noqa: E402
from dask_deeplearn.preprocessing import _stats  # noqa: E402


def _frame(n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n).astype(np.float32), "b": rng.integers(0, 9, n),
                         "c": pd.Categorical(rng.choice(["x", "y"], n)),
                         "s": rng.choice(["u", "v", "w"], n).astype(object)})


def test_a_read_keeps_the_used_columns_and_their_statistics():
    frame = _frame()
    plan = _stats.StatsPlan(numeric=("a", "b"), categorical=("c",), response=None,
                            response_kind=None, weights=None, weighted_moments=False,
                            offset=None, level_response=())
    part = tasks.ddl_read(frame, ["a", "b", "c"], _stats.partition_stats, (plan,))
    assert list(part.frame.columns) == ["a", "b", "c"]
    want = _stats.partition_stats(frame[["a", "b", "c"]], plan)
    got = tasks.partial_from_bytes(tasks.ddl_partial(part))
    assert got["n_rows"] == want["n_rows"] == 500
    for col in ("a", "b"):
        np.testing.assert_array_equal(got["num"][col], want["num"][col])
    assert sizeof(part) == part.nbytes == tasks.frame_nbytes(part.frame)


def test_the_partials_of_a_wide_frame_travel_as_one_array_and_come_back_the_same():
    """784 columns: eight numbers each, sent as one (784, 8) array, not 784 arrays."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(200, 784)), columns=[f"p{i}" for i in range(784)])
    frame["g"] = pd.Categorical(rng.choice(["x", "y"], 200))
    cols = tuple(frame.columns[:784])
    plan = _stats.StatsPlan(numeric=cols, categorical=("g",), response=None,
                            response_kind=None, weights=None, weighted_moments=False,
                            offset=None, level_response=())
    part = tasks.ddl_read(frame, list(frame.columns), _stats.partition_stats, (plan,))
    sent = pickle.loads(tasks.ddl_partial(part))
    assert isinstance(sent["num"], tasks.Packed) and sent["num"].values.shape == (784, 8)
    got, want = tasks.partial_from_bytes(tasks.ddl_partial(part)), part.partial
    assert list(got["num"]) == list(cols)
    _same(got, want)
    few = tasks.pack({"k": {"few": np.zeros(8)}})
    assert isinstance(few["k"]["few"], np.ndarray)  # (a short dict stays as it is)
    _same(_stats.combine_stats([got, got], plan), _stats.combine_stats([want, want], plan))


def _same(a, b) -> None:
    """``a`` and ``b`` hold the same values (dicts, lists and arrays compared within)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    else:
        assert a == b or (a != a and b != b), (a, b)


def test_the_measured_size_of_a_kept_partition_is_dasks_for_plain_columns():
    frame = pd.DataFrame(np.zeros((1000, 50), np.float32)).assign(y=np.arange(1000))
    n = tasks.frame_nbytes(frame)
    assert n >= 1000 * (50 * 4 + 8)
    # (Dask's own measure adds a small overhead per column)
    assert abs(n - sizeof(frame)) < 0.05 * n
    mixed = _frame(2000)
    assert tasks.frame_nbytes(mixed) == pytest.approx(sizeof(mixed), rel=0.1)


def test_a_persisted_collection_is_read_without_its_alias_tasks():
    import distributed

    frame = _frame(100)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                            dashboard_address=None) as client:
        persisted = client.persist(dd.from_pandas(frame, npartitions=2))
        held = [f.key for f in distributed.futures_of(persisted)]
        projected = persisted[["a", "b"]].assign(z=persisted["b"] + 1)
        part = projected.to_delayed()[1]
        # Dask reads a persisted collection's partitions through alias tasks
        assert any(isinstance(v, Alias) for v in dict(part.__dask_graph__()).values())
        dsk = partition_graph(part)
        assert not any(isinstance(v, Alias) for v in dsk.values())
        # only partition 1's tasks, reading the held key of partition 1 directly
        assert [k for k, v in dsk.items() if isinstance(v, distributed.Future)] == [held[1]]
        assert held[1] in dsk[part.key].dependencies
        got = client.get(dsk, part.key)
        pd.testing.assert_frame_equal(got, frame.iloc[50:][["a", "b"]].assign(z=frame["b"] + 1))


@pytest.mark.parametrize("rows,n,pieces", [(10_000, 2, 2), (10_000, 4, 4), (1_500, 2, 1),
                                           (0, 2, 0)])
def test_scoring_shares_are_views_covering_every_row_in_order(rows, n, pieces):
    X = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
    block = Block(X=X, y=np.arange(rows, dtype=np.float32), weight=None, offset=None,
                  index=np.arange(rows))
    out = tasks.row_slices(block, n)
    assert len(out) == pieces
    if pieces:
        assert all(np.shares_memory(p.X, X) for p in out)
        np.testing.assert_array_equal(np.concatenate([p.X for p in out]), X)
        np.testing.assert_array_equal(np.concatenate([p.index for p in out]), block.index)
        assert all(p.weight is None for p in out)


@pytest.mark.parametrize("n,sizes,want", [
    (1, {"a": 50, "b": 50}, {"a": 1, "b": 0}),
    (1, {"a": 30, "b": 70}, {"a": 0, "b": 1}),
    (3, {"a": 10, "b": 10, "c": 10}, {"a": 1, "b": 1, "c": 1}),
    (7, {"a": 10, "b": 20}, {"a": 2, "b": 5}),
    (60_000, {"a": 45_000, "b": 15_000}, {"a": 45_000, "b": 15_000}),
    (0, {"a": 5, "b": 5}, {"a": 0, "b": 0}),
    (4, {"a": 0, "b": 0}, {"a": 0, "b": 0}),
])
def test_an_iteration_is_shared_among_workers_without_losing_rows(n, sizes, want):
    from dask_deeplearn.distributed.placement import split_rows

    got = split_rows(n, sizes)
    assert got == want
    assert sum(got.values()) == (n if sum(sizes.values()) else 0)
