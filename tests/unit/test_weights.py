"""Tests for :mod:`dask_deeplearn.weights` (weight frames, initial weights, pretraining)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn.network import NetworkSpec, forward, init_state
from dask_deeplearn.preprocessing import DataInfo
from dask_deeplearn.weights import apply_initial_weights, transfer_pretrained, weights_frames

# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def di() -> DataInfo:
    frame = pd.DataFrame(
        {
            "c": pd.Categorical(["a", "b", None, "a", "b"], categories=["a", "b"]),
            "x": [1.0, 2.0, 3.0, 4.0, 5.0],
            "z": [0.5, -1.0, 2.0, 0.0, 1.0],
            "y": ["p", "q", "p", "q", "p"],
        }
    )
    info = DataInfo.fit(frame, response="y")
    assert info.input_names == ["c.a", "c.b", "c.missing(NA)", "x", "z"]
    return info


def make_spec(hidden: tuple[int, ...] = (3,), activation: str = "Rectifier", n_in: int = 5,
              n_out: int = 2, output: str = "softmax") -> NetworkSpec:
    return NetworkSpec(units=(n_in, *hidden, n_out), activation=activation, output=output,
                       hidden_dropout_ratios=(0.0,) * len(hidden))


def randomized(state, seed: int = 99):  # noqa: ANN001, ANN201 - tiny test helper
    """A copy of ``state`` with every weight and bias set to a fresh random value."""
    rng = np.random.default_rng(seed)
    out = state.copy()
    out.W[:] = rng.normal(size=out.W.size).astype(np.float32)
    out.B[:] = rng.normal(size=out.B.size).astype(np.float32)
    return out


# --------------------------------------------------------------------------- weights_frames


def test_frames_layout_and_names(di: DataInfo) -> None:
    spec = make_spec(hidden=(4, 3))
    state = init_state(spec, seed=1)
    ws, bs = weights_frames(state, di)
    assert len(ws) == len(bs) == spec.n_layers == 3
    assert [w.shape for w in ws] == [(4, 5), (3, 4), (2, 3)]
    assert list(ws[0].columns) == di.input_names
    assert list(ws[1].columns) == ["C1", "C2", "C3", "C4"]
    assert list(ws[2].columns) == ["C1", "C2", "C3"]
    assert all(list(b.columns) == ["C1"] for b in bs)
    assert [b.shape for b in bs] == [(4, 1), (3, 1), (2, 1)]
    for l in range(spec.n_layers):
        np.testing.assert_array_equal(ws[l].to_numpy(), spec.layer_weights(state.W, l)[:, 0, :])
        np.testing.assert_array_equal(bs[l]["C1"].to_numpy(), spec.layer_biases(state.B, l)[:, 0])
    # H2O bias init: 0.5 first hidden, 1.0 deeper hidden, 0 output
    assert set(bs[0]["C1"]) == {0.5} and set(bs[1]["C1"]) == {1.0} and set(bs[2]["C1"]) == {0.0}
    # copies, not views
    ws[0].iloc[0, 0] = 123.0
    assert state.W[0] != 123.0


def test_frames_without_data_info_use_c_names() -> None:
    state = init_state(make_spec(), seed=1)
    ws, _ = weights_frames(state, None)
    assert list(ws[0].columns) == ["C1", "C2", "C3", "C4", "C5"]


def test_frames_data_info_width_mismatch(di: DataInfo) -> None:
    state = init_state(make_spec(n_in=4), seed=1)
    with pytest.raises(ValueError, match=r"data_info has 5 expanded inputs .* 4 input units"):
        weights_frames(state, di)


def test_maxout_frames_are_h2o_interleaved(di: DataInfo) -> None:
    spec = make_spec(hidden=(3,), activation="Maxout")
    state = randomized(init_state(spec, seed=1))
    ws, bs = weights_frames(state, di)
    assert ws[0].shape == (6, 5) and bs[0].shape == (6, 1)
    assert ws[1].shape == (2, 3) and bs[1].shape == (2, 1)
    w3 = spec.layer_weights(state.W, 0)  # (rows, k, cols)
    b2 = spec.layer_biases(state.B, 0)  # (rows, k)
    # H2O flat order: weight of unit r, input j, channel c at 2*(r*m + j) + c
    m = spec.units[0]
    h2o_flat = np.empty(2 * 3 * m, np.float32)
    for r in range(3):
        for j in range(m):
            for c in range(2):
                h2o_flat[2 * (r * m + j) + c] = w3[r, c, j]
                # our frame: row 2*r + c, column j
                assert ws[0].iloc[2 * r + c, j] == w3[r, c, j]
            assert bs[0].iloc[2 * r, 0] == b2[r, 0] and bs[0].iloc[2 * r + 1, 0] == b2[r, 1]
    # the frame is H2O's interleaved array with the channel moved next to the unit
    np.testing.assert_array_equal(
        h2o_flat.reshape(3, m, 2).transpose(0, 2, 1).reshape(6, m), ws[0].to_numpy()
    )


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("activation", ["Rectifier", "Tanh", "Maxout", "MaxoutWithDropout"])
def test_round_trip_reproduces_state_exactly(di: DataInfo, activation: str) -> None:
    spec = make_spec(hidden=(4, 3), activation=activation)
    source = randomized(init_state(spec, seed=1), seed=7)
    target = init_state(spec, seed=2)
    ws, bs = weights_frames(source, di)
    out = apply_initial_weights(target, di, ws, bs)
    np.testing.assert_array_equal(out.W, source.W)
    np.testing.assert_array_equal(out.B, source.B)
    assert out.W.dtype == np.float32 and out.B.dtype == np.float32
    # target untouched, optimiser state zero
    assert not np.array_equal(target.W, source.W)
    assert not out.OW.any() and not out.OB.any()
    assert out.W is not target.W


def test_round_trip_with_shuffled_layer0_columns(di: DataInfo) -> None:
    spec = make_spec(hidden=(3,), activation="Maxout")
    source = randomized(init_state(spec, seed=1))
    ws, bs = weights_frames(source, di)
    shuffled = ws[0][["z", "c.missing(NA)", "x", "c.b", "c.a"]]
    out = apply_initial_weights(init_state(spec, seed=3), di, [shuffled, ws[1]], bs)
    np.testing.assert_array_equal(out.W, source.W)
    np.testing.assert_array_equal(out.B, source.B)
    X = di.transform_X(pd.DataFrame({"c": ["a", "b"], "x": [1.0, 5.0], "z": [0.0, 1.0]}))
    np.testing.assert_array_equal(forward(spec, out.W, out.B, X),
                                  forward(spec, source.W, source.B, X))


def test_numpy_entries_partial_layers_and_bias_shapes(di: DataInfo) -> None:
    spec = make_spec(hidden=(4, 3))
    base = init_state(spec, seed=1)
    w1 = np.arange(12, dtype=np.float64).reshape(3, 4) / 7.0
    b1 = np.array([[0.1], [0.2], [0.3]])  # (rows, 1)
    out = apply_initial_weights(base, di, [None, w1, None], [None, b1, None])
    np.testing.assert_array_equal(spec.layer_weights(out.W, 1)[:, 0, :], w1.astype(np.float32))
    np.testing.assert_array_equal(spec.layer_biases(out.B, 1)[:, 0], b1[:, 0].astype(np.float32))
    for l in (0, 2):  # None keeps the random init
        np.testing.assert_array_equal(spec.layer_weights(out.W, l), spec.layer_weights(base.W, l))
        np.testing.assert_array_equal(spec.layer_biases(out.B, l), spec.layer_biases(base.B, l))
    # 1-D biases, a Series, and an unlabelled layer-0 frame taken by position
    w0 = np.ones((4, 5))
    out2 = apply_initial_weights(base, di, (pd.DataFrame(w0), None, None),
                                 (pd.Series([1.0, 2, 3, 4]), None, None))
    np.testing.assert_array_equal(spec.layer_weights(out2.W, 0)[:, 0, :], w0)
    np.testing.assert_array_equal(spec.layer_biases(out2.B, 0)[:, 0], [1, 2, 3, 4])
    # whole lists None -> unchanged copy
    out3 = apply_initial_weights(base, di, None, None)
    np.testing.assert_array_equal(out3.W, base.W)
    np.testing.assert_array_equal(out3.B, base.B)


def test_labelled_layer0_frame_positional_without_data_info() -> None:
    spec = make_spec()
    source = randomized(init_state(spec, seed=1))
    ws, bs = weights_frames(source, None)
    out = apply_initial_weights(init_state(spec, seed=5), None, ws, bs)
    np.testing.assert_array_equal(out.W, source.W)
    np.testing.assert_array_equal(out.B, source.B)


# --------------------------------------------------------------------------- errors


def test_list_length_errors(di: DataInfo) -> None:
    spec = make_spec(hidden=(4, 3))
    state = init_state(spec, seed=1)
    ws, bs = weights_frames(state, di)
    with pytest.raises(ValueError, match=r"initial_weights has 2 entries .* 3 weight layers"):
        apply_initial_weights(state, di, ws[:2], bs)
    with pytest.raises(ValueError, match=r"initial_biases has 4 entries .* 3 weight layers"):
        apply_initial_weights(state, di, ws, bs + [None])
    with pytest.raises(ValueError, match=r"initial_weights must be a list .* 3 entries"):
        apply_initial_weights(state, di, ws[0], bs)


def test_weights_and_biases_must_be_given_together(di: DataInfo) -> None:
    spec = make_spec(hidden=(4, 3))
    state = init_state(spec, seed=1)
    ws, bs = weights_frames(state, di)
    msg = "initial_weights[1] is given but initial_biases[1] is None"
    with pytest.raises(ValueError, match=re.escape(msg)):
        apply_initial_weights(state, di, [None, ws[1], None], [None, None, None])
    msg = "initial_biases[2] is given but initial_weights[2] is None"
    with pytest.raises(ValueError, match=re.escape(msg)):
        apply_initial_weights(state, di, None, [None, None, bs[2]])


def test_weight_shape_errors_name_entry_layer_and_shapes(di: DataInfo) -> None:
    spec = make_spec(hidden=(4, 3))
    state = init_state(spec, seed=1)
    ws, bs = weights_frames(state, di)
    bad = [ws[0], np.zeros((4, 3)), ws[2]]
    with pytest.raises(ValueError) as err:
        apply_initial_weights(state, di, bad, bs)
    msg = str(err.value)
    assert "initial_weights[1]" in msg and "layer 1" in msg
    assert "(4, 3)" in msg and "(3, 4)" in msg
    # transposed layer-0 numpy array
    with pytest.raises(ValueError) as err:
        apply_initial_weights(state, di, [ws[0].to_numpy().T, None, None], [bs[0], None, None])
    msg = str(err.value)
    assert "initial_weights[0]" in msg and "layer 0" in msg and "(5, 4)" in msg and "(4, 5)" in msg


def test_maxout_shape_error_mentions_channels(di: DataInfo) -> None:
    spec = make_spec(hidden=(3,), activation="Maxout")
    state = init_state(spec, seed=1)
    with pytest.raises(ValueError) as err:
        apply_initial_weights(state, di, [np.zeros((3, 5)), None], [np.zeros(6), None])
    msg = str(err.value)
    assert "initial_weights[0]" in msg and "(3, 5)" in msg and "(6, 5)" in msg and "Maxout" in msg
    with pytest.raises(ValueError) as err:
        apply_initial_weights(state, di, [np.zeros((6, 5)), None], [np.zeros(3), None])
    msg = str(err.value)
    assert "initial_biases[0]" in msg and "(3,)" in msg and "(6,)" in msg and "(6, 1)" in msg


def test_bias_shape_errors(di: DataInfo) -> None:
    spec = make_spec(hidden=(4, 3))
    state = init_state(spec, seed=1)
    ws, bs = weights_frames(state, di)
    with pytest.raises(ValueError) as err:
        apply_initial_weights(state, di, ws, [bs[0], np.zeros((3, 2)), bs[2]])
    msg = str(err.value)
    assert "initial_biases[1]" in msg and "layer 1" in msg and "(3, 2)" in msg and "(3,)" in msg
    two_cols = pd.DataFrame({"C1": [0.0, 0.0], "C2": [0.0, 0.0]})
    with pytest.raises(ValueError) as err:
        apply_initial_weights(state, di, ws, [bs[0], bs[1], two_cols])
    msg = str(err.value)
    assert "initial_biases[2]" in msg and "(2, 2)" in msg and "(2,)" in msg


def test_layer0_name_mismatch_errors(di: DataInfo) -> None:
    spec = make_spec()
    state = init_state(spec, seed=1)
    ws, bs = weights_frames(state, di)
    missing = ws[0].drop(columns=["x"])
    with pytest.raises(ValueError) as err:
        apply_initial_weights(state, di, [missing, ws[1]], bs)
    msg = str(err.value)
    assert "initial_weights[0]" in msg and "missing" in msg and "'x'" in msg
    assert "data_info.input_names" in msg and "'c.missing(NA)'" in msg
    extra = ws[0].assign(w=0.0)
    with pytest.raises(ValueError) as err:
        apply_initial_weights(state, di, [extra, ws[1]], bs)
    msg = str(err.value)
    assert "initial_weights[0]" in msg and "not model inputs" in msg and "'w'" in msg
    renamed = ws[0].rename(columns={"c.missing(NA)": "c.NA"})
    with pytest.raises(ValueError) as err:
        apply_initial_weights(state, di, [renamed, ws[1]], bs)
    msg = str(err.value)
    assert "'c.missing(NA)'" in msg and "'c.NA'" in msg


def test_non_finite_and_non_numeric_values(di: DataInfo) -> None:
    spec = make_spec()
    state = init_state(spec, seed=1)
    ws, bs = weights_frames(state, di)
    w = ws[1].copy()
    w.iloc[1, 2] = np.nan
    with pytest.raises(ValueError, match=re.escape("initial_weights[1] has 1 non-finite value(s)")):
        apply_initial_weights(state, di, [ws[0], w], bs)
    b = np.array([0.0, np.inf, 0.0])
    with pytest.raises(ValueError, match=re.escape("initial_biases[0] has 1 non-finite")):
        apply_initial_weights(state, di, [ws[0], None], [b, None])
    huge = np.full((2, 3), 1e300)  # finite in float64, inf in float32
    with pytest.raises(ValueError, match=re.escape("initial_weights[1] has 6 non-finite")):
        apply_initial_weights(state, di, [None, huge], [None, bs[1]])
    text = pd.DataFrame([["a"] * 3] * 2)
    with pytest.raises(ValueError, match=re.escape("initial_weights[1] must hold numbers")):
        apply_initial_weights(state, di, [None, text], [None, bs[1]])


# --------------------------------------------------------------------------- pretrained


def test_transfer_pretrained_copies_hidden_layers() -> None:
    spec = make_spec(hidden=(4, 3), activation="Tanh")
    ae_spec = NetworkSpec(units=(5, 4, 3, 5), activation="Tanh", output="linear",
                          hidden_dropout_ratios=(0.0, 0.0))
    ae = randomized(init_state(ae_spec, seed=11), seed=5)
    ae.OW[:] = 1.0
    state = init_state(spec, seed=1)
    state.B[spec.b_off[2]:] = 0.7  # so the zeroing is visible
    out = transfer_pretrained(state, ae)
    for l in (0, 1):
        np.testing.assert_array_equal(spec.layer_weights(out.W, l), ae_spec.layer_weights(ae.W, l))
        np.testing.assert_array_equal(spec.layer_biases(out.B, l), ae_spec.layer_biases(ae.B, l))
    np.testing.assert_array_equal(spec.layer_weights(out.W, 2), spec.layer_weights(state.W, 2))
    assert not spec.layer_biases(out.B, 2).any()
    assert not out.OW.any() and not out.OB.any() and out.processed == 0
    assert out.OW.shape == (2, spec.n_weights) and out.OB.shape == (2, spec.n_biases)
    # inputs untouched
    assert (state.B[spec.b_off[2]:] == np.float32(0.7)).all()
    assert not np.array_equal(state.W[: spec.w_off[2]], out.W[: spec.w_off[2]])


def test_transfer_pretrained_shape_errors() -> None:
    spec = make_spec(hidden=(4, 3))
    state = init_state(spec, seed=1)
    ae = init_state(NetworkSpec(units=(5, 4, 2, 5), activation="Rectifier", output="linear",
                                hidden_dropout_ratios=(0.0, 0.0)), seed=2)
    with pytest.raises(ValueError) as err:
        transfer_pretrained(state, ae)
    msg = str(err.value)
    assert msg.startswith("pretrained_autoencoder: layer 1")
    assert "shape (2, 4) in the autoencoder but (3, 4) in this model" in msg
    wide = init_state(NetworkSpec(units=(6, 4, 3, 6), activation="Rectifier", output="linear",
                                  hidden_dropout_ratios=(0.0, 0.0)), seed=2)
    with pytest.raises(ValueError) as err:
        transfer_pretrained(state, wide)
    msg = str(err.value)
    assert "layer 0" in msg and "(4, 6) in the autoencoder but (4, 5) in this model" in msg
    assert "input widths differ" in msg
    shallow = init_state(NetworkSpec(units=(5, 4, 5), activation="Rectifier", output="linear",
                                     hidden_dropout_ratios=(0.0,)), seed=2)
    with pytest.raises(ValueError) as err:
        transfer_pretrained(state, shallow)
    msg = str(err.value)
    assert "pretrained_autoencoder" in msg and "1 hidden layer" in msg and "has 2" in msg
    with pytest.raises(ValueError, match="pretrained_autoencoder must provide a ModelState"):
        transfer_pretrained(state, "not a state")  # type: ignore[arg-type]
