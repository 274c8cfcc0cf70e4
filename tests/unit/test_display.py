"""Narrow tables: every line within the width, columns in blocks led by their key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn._display import history_frame, history_text, narrow_table, wrap_words


def _history(n: int = 12) -> pd.DataFrame:
    """An H2O-shaped multinomial scoring history: first row unscored, AUC columns empty."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "timestamp": pd.date_range("2024-01-01", periods=n, freq="s").astype(str),
        "duration": np.linspace(0, 30, n), "training_speed": [np.nan] + [12345.6] * (n - 1),
        "epochs": np.arange(n) * 2.0, "iterations": np.arange(n), "samples": np.arange(n) * 2694,
    })
    for prefix in ("training", "validation"):
        for name in ("rmse", "logloss", "r2", "classification_error"):
            frame[f"{prefix}_{name}"] = [np.nan, *rng.random(n - 1)]
        frame[f"{prefix}_auc"] = np.nan
        frame[f"{prefix}_pr_auc"] = np.nan
    return frame


def _widths(text: str) -> list[int]:
    return [len(line) for line in text.splitlines()]


def test_history_text_fits_100_characters_and_keeps_every_value_column():
    history = _history()
    wide = history.to_string()
    assert max(_widths(wide)) > 200  # what pandas prints
    text = history_text(history)
    assert max(_widths(text)) <= 100
    blocks = text.split("\n\n")
    assert len(blocks) == 2 and all(b.startswith("epochs") for b in blocks)
    header = " ".join(b.splitlines()[0] for b in blocks).split()
    assert "timestamp" not in header and "train_auc" not in header
    assert header.count("epochs") == 2
    assert {"speed", "iter", "train_err", "valid_logloss", "valid_err"} <= set(header)
    assert all(len(b.splitlines()) == len(history) + 1 for b in blocks)
    # the history itself is untouched
    assert list(history.columns) == list(_history().columns)


def test_history_tail_columns_and_width_options():
    history = _history()
    tail = history_text(history, tail=3, width=60)
    assert max(_widths(tail)) <= 60
    assert all(len(b.splitlines()) == 4 for b in tail.split("\n\n"))
    chosen = history_text(history, columns=["epochs", "validation_logloss"])
    assert chosen.splitlines()[0].split() == ["epochs", "valid_logloss"]
    assert history_text(history.iloc[:0]) == "(no scoring history)"
    assert history_text(None) == "(no scoring history)"
    with pytest.raises(ValueError, match=r"columns \['nope'\] are not in the scoring history"):
        history_frame(history, ["epochs", "nope"])
    with pytest.raises(ValueError, match=r"width must be an integer >= 40, got 10"):
        history_text(history, width=10)


def test_narrow_table_repeats_the_index_and_aligns_cells():
    frame = pd.DataFrame(np.arange(60.0).reshape(3, 20) / 7,
                         columns=[f"column_{i}" for i in range(20)],
                         index=pd.Index(["a", "bb", "Total"], name="actual"))
    text = narrow_table(frame, width=80)
    assert max(_widths(text)) <= 80
    blocks = text.split("\n\n")
    assert len(blocks) > 2
    for block in blocks:
        lines = block.splitlines()
        assert lines[0].startswith("actual") and [ln.split()[0] for ln in lines[1:]] == \
            ["a", "bb", "Total"]
    first = blocks[0].splitlines()
    assert first[1].split()[1] == "0" and first[2].split()[1] == f"{20 / 7:.5g}"
    with pytest.raises(ValueError, match=r"key column\(s\) \['x'\] are not in the table"):
        narrow_table(frame, key=["x"])


def test_wrap_words_indents_continuations():
    text = wrap_words("word " * 60, width=50)
    lines = text.splitlines()
    assert max(len(ln) for ln in lines) <= 50 and all(ln.startswith("  ") for ln in lines[1:])
