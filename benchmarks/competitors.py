"""Optional competitors of the Fashion-MNIST benchmark: PyTorch (CPU) and H2O-3 itself.

Each ``run_*`` returns a row dict like ``bench_engine.run_ours``: ``samples/s`` (training
rows per second of training time), ``test accuracy``, ``epochs`` (as actually trained) and
``wall s`` (the fit's wall time), plus a ``note``. ``*_missing()`` returns why a competitor
cannot run here ("not installed: ...") or ``None``.

Install (see the runner's docstring)::

    pip install torch==2.13.0     # the CPU build
    pip install h2o               # also needs a Java runtime (JDK 17 here)
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import numpy as np


def _missing(module: str, install: str, check_import: bool) -> str | None:
    """Why ``module`` cannot be used (``None`` if it can); without ``check_import`` only
    whether it is installed (no import: torch takes seconds to import)."""
    if not check_import:
        if importlib.util.find_spec(module) is None:
            return f"not installed (no module named {module!r}); {install}"
        return None
    try:
        importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken install
        return f"not installed ({type(exc).__name__}: {exc}); {install}"
    return None


def torch_missing(check_import: bool = True) -> str | None:
    return _missing("torch", "pip install torch==2.13.0", check_import)


def h2o_missing(check_import: bool = True) -> str | None:
    missing = _missing("h2o", "pip install h2o", check_import)
    if missing:
        return missing
    if shutil.which("java") is None:
        return "not installed: no java on PATH (H2O needs a Java runtime, e.g. JDK 17)"
    return None


def java_version() -> str:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
    except Exception:
        return "n/a"
    first = (out.stderr or out.stdout).strip().splitlines()
    return first[0] if first else "n/a"


def run_torch(X, y, Xt, yt, epochs: int, batch_size: int = 200, threads: int = 2,
              seed: int = 1) -> dict:
    """The same MLP (d-200-200-k, ReLU) in PyTorch on the CPU: Adam (lr 1e-3, scikit-learn's
    default solver and rate), batches of ``batch_size``, shuffled each epoch, inputs
    standardised as for scikit-learn; the training loop alone is timed."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std[std == 0] = 1.0
    Xs = torch.from_numpy(((X - mean) / std).astype(np.float32))
    Xts = torch.from_numpy(((Xt - mean) / std).astype(np.float32))
    classes = np.unique(y)
    ys = torch.from_numpy(np.searchsorted(classes, y).astype(np.int64))
    model = nn.Sequential(nn.Linear(X.shape[1], 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(),
                          nn.Linear(200, len(classes)))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    n = len(Xs)
    model.train()
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xs[idx]), ys[idx])
            loss.backward()
            opt.step()
    wall = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        pred = classes[model(Xts).argmax(dim=1).numpy()]
    return {"samples/s": n * epochs / wall, "test accuracy": float(np.mean(pred == yt)),
            "epochs": float(epochs), "wall s": wall,
            "note": f"torch {torch.__version__}, Adam lr 1e-3, batch {batch_size}, "
                    f"{threads} threads"}


def _free_port_pair() -> int:
    """A port ``p`` with ``p`` and ``p + 1`` free (H2O's REST and internal ports)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for H2O")


def _write_csv(path: str, X, y) -> None:
    """Integer pixels (as in the IDX files) or floats, with a header; label last."""
    import pandas as pd

    frame = pd.DataFrame(X.astype(np.int64) if np.all(X == np.round(X)) else X,
                         columns=[f"p{i}" for i in range(X.shape[1])])
    frame["label"] = y
    frame.to_csv(path, index=False)


def _speed(value) -> float:
    """H2O's training_speed cell: ``"1134 obs/sec"`` (or a number)."""
    if isinstance(value, (int, float, np.floating)):
        return float(value)
    m = re.search(r"[-+]?\d[\d,]*\.?\d*(?:[eE][-+]?\d+)?", str(value))
    if not m:
        raise ValueError(f"cannot read a speed from {value!r}")
    return float(m.group(0).replace(",", ""))


def run_h2o(X, y, Xt, yt, epochs: float, threads: int = 2, max_mem: str = "4G",
            seed: int = 1, log=print) -> dict:
    """H2O-3's ``H2ODeepLearningEstimator`` with its defaults (and ``epochs``, ``seed``) on
    its own local H2O (``nthreads``, a free port, assertions off as in production, quiet),
    shut down at the end, also on error.

    Samples/s is the ``training_speed`` of the last scoring-history row (H2O's own
    figure: samples over training time, scoring excluded); test accuracy is the top-1 hit
    ratio of ``model_performance`` on the test frame, checked against the accuracy of
    ``model.predict``.
    """
    import h2o
    from h2o.estimators import H2ODeepLearningEstimator

    tmp = tempfile.mkdtemp(prefix="bench_h2o_")
    port = _free_port_pair()
    started = False
    try:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            h2o.init(ip="127.0.0.1", port=port, nthreads=threads, max_mem_size=max_mem,
                     ice_root=tmp, log_dir=os.path.join(tmp, "logs"), enable_assertions=False,
                     strict_version_check=False, bind_to_localhost=True, verbose=False,
                     name=f"bench_{os.getpid()}_{port}")
        started = True
        h2o.no_progress()
        log(f"  H2O {h2o.__version__} up on port {port} in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        train_csv, test_csv = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
        _write_csv(train_csv, X, y)
        _write_csv(test_csv, Xt, yt)
        train = h2o.import_file(train_csv)
        test = h2o.import_file(test_csv)
        train["label"] = train["label"].asfactor()
        test["label"] = test["label"].asfactor()
        log(f"  H2O frames {train.shape} and {test.shape} loaded in "
            f"{time.perf_counter() - t0:.1f} s")
        model = H2ODeepLearningEstimator(epochs=epochs, seed=seed)
        t0 = time.perf_counter()
        model.train(x=[c for c in train.columns if c != "label"], y="label",
                    training_frame=train)
        wall = time.perf_counter() - t0
        actual = model.actual_params
        history = model.scoring_history()
        last = history.iloc[-1]
        perf = model.model_performance(test)
        hit = perf.hit_ratio_table()
        acc = float(hit.cell_values[0][1])
        # cross-check with the predicted labels (argmax, as the top-1 hit ratio)
        pred = model.predict(test)["predict"].as_data_frame(use_pandas=True)["predict"]
        acc_pred = float(np.mean(pred.astype(str).astype(float).astype(np.int64).to_numpy()
                                 == np.asarray(yt).astype(np.int64)))
        if abs(acc - acc_pred) > 2.0 / len(yt):
            raise RuntimeError(f"H2O's top-1 hit ratio {acc} and its predictions' accuracy "
                               f"{acc_pred} disagree")
        return {"samples/s": _speed(last["training_speed"]), "test accuracy": acc,
                "epochs": float(last["epochs"]), "wall s": wall,
                "note": f"h2o {h2o.__version__}, defaults: activation {actual['activation']}, "
                        f"hidden {list(actual['hidden'])}, adaptive_rate "
                        f"{actual['adaptive_rate']}, mini_batch_size "
                        f"{actual['mini_batch_size']}; {threads} threads, JVM assertions off; "
                        f"{len(history)} scoring-history rows"}
    finally:
        if started:
            with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
                h2o.cluster().shutdown()
        with contextlib.suppress(Exception):
            conn = h2o.connection()
            server = getattr(conn, "local_server", None) if conn is not None else None
            if server is not None:
                server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
