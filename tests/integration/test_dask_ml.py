"""dask-ml with our estimators on a real multi-process ``LocalCluster``.

dask-ml's ``GridSearchCV`` / ``RandomizedSearchCV`` materialise each fold of a Dask
collection as one pandas or numpy object inside a worker task and call our ``fit`` there;
``Incremental`` calls ``partial_fit`` block by block in worker tasks; ``ParallelPostFit``
scores block-wise. A fit inside a worker task must train in that process (never start or
borrow a cluster from the task). dask-ml's incremental searches (Hyperband,
SuccessiveHalving) are broken on dask >= 2025.3 and are not tested here; our own
successive halving lives in :mod:`dask_deeplearn.model_selection`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")
pytest.importorskip("dask_ml", reason="dask-ml is in the 'test' extra: pip install dask-ml")

from dask_ml.model_selection import GridSearchCV, RandomizedSearchCV  # noqa: E402
from dask_ml.wrappers import Incremental, ParallelPostFit  # noqa: E402

from dask_deeplearn import (  # noqa: E402
    DataError,
    DeepLearningClassifier,
    DeepLearningRegressor,
    InvalidParameterError,
)

TINY = dict(hidden=[8], epochs=2, seed=1, reproducible=True, quiet_mode=True)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    return X, y, df


def test_grid_search_on_a_dask_dataframe_fits_in_the_worker_tasks(client, data):
    X, y, df = data
    ddf = dd.from_pandas(df, npartitions=4)
    dy = dd.from_pandas(pd.Series(y, name="y"), npartitions=4)
    search = GridSearchCV(DeepLearningClassifier(**TINY), {"hidden": [[4], [8]]}, cv=2,
                          scheduler=client)
    with client.as_current():
        search.fit(ddf, dy)
    assert len(search.cv_results_["params"]) == 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    # the refit ran inside a worker task on the whole (materialised) frame: in-process
    assert best.backend_ == "local" and best.state_.processed == 2 * len(df)
    assert list(best.feature_names_in_) == ["a", "b", "c", "d"]
    assert best.score(df, y) > 0.7


def test_randomized_search_on_a_dask_array_gets_float64_blocks_without_names(client, data):
    X, _, _ = data
    target = 2.0 * X[:, 0] - X[:, 2]
    dX = da.from_array(X, chunks=(100, 4))
    dy = da.from_array(target, chunks=100)
    search = RandomizedSearchCV(DeepLearningRegressor(**TINY),
                                {"l2": [0.0, 1e-4, 1e-3], "hidden": [[4], [8]]}, n_iter=2,
                                cv=2, random_state=0, scheduler=client)
    with client.as_current():
        search.fit(dX, dy)
    best = search.best_estimator_
    assert best.backend_ == "local" and best.n_features_in_ == 4
    assert not hasattr(best, "feature_names_in_")
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_parallel_post_fit_scores_dask_arrays_and_frames(client, data):
    X, y, df = data
    with client.as_current():
        on_array = ParallelPostFit(DeepLearningClassifier(**TINY, backend="local"),
                                   scoring="accuracy").fit(X, y)
        score = on_array.score(da.from_array(X, chunks=(100, 4)), da.from_array(y, chunks=100))
        assert score == pytest.approx(on_array.estimator.score(X, y))
        on_frame = ParallelPostFit(DeepLearningClassifier(**TINY, backend="local"),
                                   scoring="accuracy").fit(df, y)
        ddf = dd.from_pandas(df, npartitions=4)
        dy = dd.from_pandas(pd.Series(y, name="y"), npartitions=4)
        assert on_frame.score(ddf, dy) == pytest.approx(on_frame.estimator.score(df, y))
        labels = on_frame.predict(ddf).compute()
        np.testing.assert_array_equal(np.asarray(labels), on_frame.estimator.predict(df))


def test_incremental_partial_fit_counts_one_pass_per_block(client, data):
    X, y, df = data
    dX = da.from_array(X, chunks=(100, 4))
    dy = da.from_array(y, chunks=100)
    with client.as_current():
        inc = Incremental(DeepLearningClassifier(**TINY), scoring="accuracy",
                          random_state=0).fit(dX, dy, classes=[0, 1])
        model = inc.estimator_
        assert model.state_.processed == len(X) and model.n_iter_ == 4
        assert model.backend_ == "local" and len(model.scoring_history_) == 5
        assert inc.score(dX, dy) > 0.6
        # pandas partitions of a Dask DataFrame keep their column names
        frames = Incremental(DeepLearningClassifier(**TINY)).fit(
            dd.from_pandas(df, npartitions=4), dd.from_pandas(pd.Series(y), npartitions=4),
            classes=[0, 1])
        assert list(frames.estimator_.feature_names_in_) == ["a", "b", "c", "d"]
        assert frames.estimator_.state_.processed == len(X)


def _fit_in_task(X, y, **params):
    distributed.get_client()  # a client is reachable from the task: still train in-process
    model = DeepLearningClassifier(**params).fit(X, y)
    return model.backend_, model.nthreads_, model.state_.processed


def test_a_fit_inside_a_worker_task_trains_in_the_worker(client, data):
    X, y, _ = data
    backend, _, processed = client.submit(_fit_in_task, X, y, **TINY).result()
    assert (backend, processed) == ("local", 2 * len(X))
    # Hogwild's nthreads=-1 is the worker's thread count, not every core of the machine
    backend, nthreads, _ = client.submit(_fit_in_task, X, y, **{**TINY, "reproducible": False},
                                         pure=False).result()
    assert (backend, nthreads) == ("local", 1)
    with pytest.raises(InvalidParameterError, match="inside a Dask worker task.*backend='dask'"):
        client.submit(_fit_in_task, X, y, **TINY, backend="dask").result()


def test_partial_fit_on_dask_collections_continues_on_the_cluster(client, data):
    X, y, df = data
    ddf = dd.from_pandas(df, npartitions=4)
    dy = dd.from_pandas(pd.Series(y, name="y"), npartitions=4)
    clf = DeepLearningClassifier(**TINY)
    clf.client = client
    clf.partial_fit(ddf, dy, classes=[0, 1])
    first = clf.state_.processed
    clf.partial_fit(ddf, dy)
    assert clf.backend_ == "dask" and (first, clf.state_.processed) == (len(df), 2 * len(df))
    assert list(clf.classes_) == [0, 1] and clf.score(df, y) > 0.6
    bad = dd.from_pandas(pd.Series(np.where(y == 1, 2, y), name="y"), npartitions=4)
    other = DeepLearningClassifier(**TINY)
    other.client = client
    with pytest.raises(DataError, match="not in classes"):
        other.partial_fit(ddf, bad, classes=[0, 1])
