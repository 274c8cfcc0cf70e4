"""Autoencoders, anomaly detection, deep features, pretraining, user weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from dask_deeplearn import (
    DeepLearningAutoEncoder,
    DeepLearningClassifier,
    DeepLearningEstimator,
    DeepLearningRegressor,
    InvalidParameterError,
    load_model,
)
from dask_deeplearn.network import hidden_activations

QUIET = dict(quiet_mode=True, reproducible=True)


def _heartbeats(n: int, rng: np.random.Generator, length: int = 120) -> np.ndarray:
    """ECG-like beats: P wave, Q dip, R peak, S dip, T wave, with jitter and noise."""
    t = np.linspace(0, 1, length)
    out = []
    for _ in range(n):
        s = rng.normal(0, 0.003)
        a = 1 + rng.normal(0, 0.05)
        sig = (0.15 * np.exp(-((t - 0.2 - s) / 0.04) ** 2)
               - 0.1 * np.exp(-((t - 0.38 - s) / 0.01) ** 2)
               + a * np.exp(-((t - 0.4 - s) / 0.025) ** 2)
               - 0.2 * np.exp(-((t - 0.43 - s) / 0.01) ** 2)
               + 0.3 * np.exp(-((t - 0.7 - s) / 0.06) ** 2))
        out.append(sig + rng.normal(0, 0.005, length))
    return np.array(out)


@pytest.fixture(scope="module")
def correlated():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(1500, 4)), columns=["a", "b", "c", "d"])
    X["e"] = 2.0 * X["a"] + 1.0
    X["f"] = pd.Categorical(np.where(X["b"] > 0, "up", "down"))
    return X


@pytest.fixture(scope="module")
def ae(correlated):
    return DeepLearningAutoEncoder(hidden=[8], activation="Tanh", epochs=10, seed=1,
                                   **QUIET).fit(correlated)


def test_booklet_anomaly_detection_ranks_every_distorted_beat_above_every_normal_one():
    rng = np.random.default_rng(0)
    train = _heartbeats(300, rng)
    normal = _heartbeats(40, rng)
    bad = _heartbeats(5, rng)
    bad[0, 40:55] = 0.0                  # missing QRS complex
    bad[1] = -bad[1]                     # inverted beat
    bad[2, 80:90] += 0.8                 # extra spike
    bad[3] = np.roll(bad[3], 30)         # shifted rhythm
    bad[4] = bad[4] * 0.3                # weak beat
    model = DeepLearningAutoEncoder(hidden=[50, 20, 50], activation="Tanh", l1=1e-4,
                                    epochs=100, seed=1, **QUIET).fit(train)
    err = model.anomaly(np.vstack([normal, bad]))["Reconstruction.MSE"].to_numpy()
    assert err[40:].min() > err[:40].max(), (err[:40].max(), err[40:])


def test_unsupervised_pretraining_beats_random_init_on_few_labels():
    X, y = load_digits(return_X_y=True)
    idx = np.random.default_rng(0).permutation(len(X))
    unlabelled, labelled, test = idx[:1000], idx[:60], idx[1000:]
    kw = dict(hidden=[64], activation="Tanh", seed=2, ignore_const_cols=False, **QUIET)
    ae = DeepLearningAutoEncoder(epochs=50, **kw).fit(X[unlabelled])
    pre = DeepLearningClassifier(pretrained_autoencoder=ae, epochs=20, **kw).fit(X[labelled],
                                                                                y[labelled])
    rnd = DeepLearningClassifier(epochs=20, **kw).fit(X[labelled], y[labelled])
    acc_pre, acc_rnd = pre.score(X[test], y[test]), rnd.score(X[test], y[test])
    assert acc_pre >= acc_rnd + 0.02, (acc_pre, acc_rnd)
    # the hidden layer starts from the autoencoder's (then fine-tuned)
    spec = ae.state_.spec
    np.testing.assert_array_equal(
        DeepLearningClassifier(pretrained_autoencoder=ae, epochs=0, **kw)
        .fit(X[labelled], y[labelled]).state_.W[:spec.w_off[1]], ae.state_.W[:spec.w_off[1]])


def test_history_starts_with_the_untrained_model_and_tracks_the_mse(ae):
    h = ae.scoring_history_
    assert list(h.columns[-2:]) == ["training_rmse", "training_mse"]
    assert h.loc[0, "iterations"] == 0 and h.loc[0, "epochs"] == 0.0
    assert np.isfinite(h.loc[0, "training_mse"])
    assert h["training_mse"].iloc[-1] < h.loc[0, "training_mse"] / 5
    assert ae.params_["stopping_metric"] == "MSE"
    assert ae.training_metrics_.category == "AutoEncoder"
    assert ae.summary_.startswith("auto-encoder, gaussian distribution")


def test_anomaly_is_the_mean_of_the_per_feature_errors(ae, correlated):
    mse = ae.anomaly(correlated)
    per = ae.anomaly(correlated, per_feature=True)
    names = list(ae.data_info_.input_names)
    assert list(mse.columns) == ["Reconstruction.MSE"]
    assert list(per.columns) == [f"reconstr_{n}.SE" for n in names]
    np.testing.assert_allclose(per.mean(axis=1), mse["Reconstruction.MSE"], rtol=1e-12)
    assert ae.model_performance(correlated).mse == pytest.approx(mse.to_numpy().mean())


def test_predict_gives_reconstructions_in_original_units(ae, correlated):
    rec = ae.predict(correlated)
    assert list(rec.columns) == [f"reconstr_{n}" for n in ae.data_info_.input_names]
    assert rec.index.equals(correlated.index)
    # numerics come back in their own units: e = 2a + 1 is reconstructed as such
    assert np.median(np.abs(rec["reconstr_e"] - (2 * rec["reconstr_a"] + 1))) < 0.1
    assert np.corrcoef(rec["reconstr_a"], correlated["a"])[0, 1] > 0.95
    assert abs(rec["reconstr_e"].mean() - correlated["e"].mean()) < 0.2


def test_deepfeatures_are_scoring_mode_hidden_activations_of_any_model(correlated):
    y = correlated["a"] + correlated["c"]
    reg = DeepLearningRegressor(hidden=[6, 4], activation="RectifierWithDropout",
                                hidden_dropout_ratios=[0.5, 0.2], epochs=2, seed=3,
                                **QUIET).fit(correlated.drop(columns="e"), y)
    X = correlated.drop(columns="e")
    for layer, width in ((0, 6), (1, 4)):
        df = reg.deepfeatures(X, layer)
        assert list(df.columns) == [f"DF.L{layer + 1}.C{j + 1}" for j in range(width)]
        spec = reg.state_.spec
        want = hidden_activations(spec, reg.state_.W, reg.state_.B,
                                  reg.data_info_.transform_X(X), dtype=np.float64)[layer]
        np.testing.assert_allclose(df.to_numpy(), want)
    with pytest.raises(InvalidParameterError, match=r"layer=2 .*allowed: 0 to 1"):
        reg.deepfeatures(X, 2)


def test_h2o_compat_skips_the_output_activation_derivative(correlated):
    kw = dict(hidden=[4], activation="Tanh", epochs=1, seed=5, **QUIET)
    exact = DeepLearningAutoEncoder(**kw).fit(correlated)
    h2o = DeepLearningAutoEncoder(h2o_compat=True, **kw).fit(correlated)
    # same start, different gradients: the models differ, both learn
    assert not np.array_equal(exact.state_.W, h2o.state_.W)
    for m in (exact, h2o):
        assert m.scoring_history_["training_mse"].iloc[-1] < \
            m.scoring_history_["training_mse"].iloc[0]


def test_h2o_style_autoencoder_and_errors(correlated):
    h2o = DeepLearningEstimator(autoencoder=True, hidden=[3], epochs=2, seed=1, **QUIET)
    h2o.train(x=["a", "b", "e"], training_frame=correlated)
    assert list(h2o.predict(correlated.head(3)).columns) == ["reconstr_a", "reconstr_b",
                                                               "reconstr_e"]
    assert h2o.model_performance(correlated).category == "AutoEncoder"
    assert h2o.anomaly(correlated).shape == (len(correlated), 1)
    # a response is ignored with a warning, as in H2O
    with pytest.warns(UserWarning, match="learns without a response: y='a' is ignored"):
        DeepLearningEstimator(autoencoder=True, hidden=[3], epochs=1, seed=1, **QUIET).train(
            y="a", training_frame=correlated)
    with pytest.raises(InvalidParameterError, match="MaxoutWithDropout activation is not "
                                                    "supported for autoencoders"):
        DeepLearningAutoEncoder(activation="MaxoutWithDropout").fit(correlated)
    with pytest.raises(InvalidParameterError, match="stopping_metric"):
        DeepLearningAutoEncoder(stopping_metric="logloss").fit(correlated)
    clf = DeepLearningEstimator(hidden=[3], epochs=1, seed=1, **QUIET).train(
        x=["a", "b"], y="f", training_frame=correlated)
    with pytest.raises(InvalidParameterError, match="anomaly needs an autoencoder"):
        clf.anomaly(correlated)


def test_pretrained_autoencoder_errors_name_the_layer_and_shapes(ae, correlated):
    y = correlated["a"]
    with pytest.raises(InvalidParameterError, match=r"layer 0 .*\(8, 8\) in the autoencoder "
                                                    r"but \(8, 7\) in this model"):
        DeepLearningRegressor(hidden=[8], activation="Tanh", pretrained_autoencoder=ae).fit(
            correlated.drop(columns="e"), y)
    with pytest.raises(InvalidParameterError, match="must be an autoencoder"):
        reg = DeepLearningRegressor(hidden=[2], epochs=1, **QUIET).fit(correlated[["a"]], y)
        DeepLearningRegressor(pretrained_autoencoder=reg).fit(correlated[["a"]], y)


def test_exported_weights_load_back_and_score_exactly_with_zero_epochs(correlated):
    X, y = correlated.drop(columns="e"), correlated["f"]
    X = X.drop(columns="f")
    clf = DeepLearningClassifier(hidden=[5], epochs=2, seed=4, export_weights_and_biases=True,
                                 **QUIET).fit(X, y)
    W, B = clf.weights_, clf.biases_
    assert [w.shape for w in W] == [(5, 4), (2, 5)] and list(W[0].columns) == list("abcd")
    # H2O frames arrive in any column order: matched by name
    shuffled = [W[0][["d", "b", "a", "c"]], W[1]]
    copy = DeepLearningClassifier(hidden=[5], epochs=0, initial_weights=shuffled,
                                  initial_biases=B, **QUIET).fit(X, y)
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(AttributeError, match="export_weights_and_biases=True"):
        copy.weights_  # noqa: B018
    with pytest.raises(InvalidParameterError, match=r"initial_weights\[1\].*\(2, 4\)"):
        DeepLearningClassifier(hidden=[5], initial_weights=[W[0], np.zeros((2, 4))],
                               initial_biases=B).fit(X, y)


def test_autoencoder_model_files_round_trip(ae, correlated, tmp_path):
    ae.save(tmp_path / "ae.zip")
    back = load_model(tmp_path / "ae.zip")
    assert isinstance(back, DeepLearningAutoEncoder)
    pd.testing.assert_frame_equal(back.anomaly(correlated), ae.anomaly(correlated))
    pd.testing.assert_frame_equal(back.predict(correlated), ae.predict(correlated))


def test_transform_and_score_for_pipelines(ae, correlated):
    code = ae.transform(correlated)
    assert code.shape == (len(correlated), 8)
    assert ae.score(correlated) == pytest.approx(-ae.anomaly(correlated).to_numpy().mean())


def test_sparse_autoencoder_pulls_mean_activations_to_the_target(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 10))
    X[:, 5:] = X[:, :5] + 0.1 * rng.normal(size=(1500, 5))
    kw = dict(hidden=[20], activation="Tanh", epochs=5, seed=1, **QUIET)
    plain = DeepLearningAutoEncoder(**kw).fit(X)
    sparse = DeepLearningAutoEncoder(sparsity_beta=0.1, average_activation=-0.5, **kw).fit(X)
    assert abs(plain.deepfeatures(X, 0).to_numpy().mean()) < 0.2
    assert sparse.deepfeatures(X, 0).to_numpy().mean() == pytest.approx(-0.5, abs=0.05)
    assert sparse.state_.AA.shape == (sparse.state_.spec.n_biases,)
    assert np.abs(sparse.state_.AA[:20] + 0.5).max() < 0.1
    sparse.save(tmp_path / "sparse")
    np.testing.assert_array_equal(load_model(tmp_path / "sparse").state_.AA, sparse.state_.AA)
    with pytest.raises(InvalidParameterError, match="sparsity_beta is only used by autoencoders"):
        DeepLearningRegressor(sparsity_beta=0.1).fit(X, X[:, 0])


def test_stacked_pretraining_initialises_every_hidden_layer():
    from dask_deeplearn import pretrain_stacked

    X, y = load_digits(return_X_y=True)
    kw = dict(activation="Tanh", seed=3, ignore_const_cols=False, **QUIET)
    weights, biases = pretrain_stacked(X[:800], [32, 16], epochs=5, **kw)
    assert [None if w is None else w.shape for w in weights] == [(32, 64), (16, 32), None]
    start = DeepLearningClassifier(hidden=[32, 16], epochs=0, initial_weights=weights,
                                   initial_biases=biases, **kw).fit(X[800:900], y[800:900])
    spec = start.state_.spec
    for layer in (0, 1):
        np.testing.assert_array_equal(spec.layer_weights(start.state_.W, layer)[:, 0, :],
                                      weights[layer].to_numpy())
    tuned = DeepLearningClassifier(hidden=[32, 16], epochs=30, initial_weights=weights,
                                   initial_biases=biases, **kw).fit(X[800:1000], y[800:1000])
    assert tuned.score(X[1000:], y[1000:]) > 0.6  # fine-tuning starts from them and learns
    with pytest.raises(InvalidParameterError, match="non-empty list"):
        pretrain_stacked(X, [])


def test_autoencoder_plots_render(ae, correlated, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    for name, ax in (("anomaly", ae.plot_anomaly(correlated, threshold=0.01)),
                     ("history", ae.plot_scoring_history("MSE"))):
        path = tmp_path / f"{name}.png"
        ax.figure.savefig(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
    summary = ae.summary()
    assert list(summary["type"]) == ["Input", "Tanh", "Tanh"]
    assert summary.attrs["title"].startswith("auto-encoder")


def test_denoising_reconstructs_the_clean_input_not_the_dropped_one():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(2000, 3))
    X = np.hstack([base, base, base])  # every value appears three times
    ae = DeepLearningAutoEncoder(hidden=[12], activation="Tanh", input_dropout_ratio=0.5,
                                 epochs=10, seed=1, **QUIET).fit(X)
    # the target is the un-dropped row, so the network learns to fill in a dropped value
    # from its copies (trained on the dropped row as target, it would learn to echo 0)
    corrupt = X.copy()
    corrupt[:, 0] = 0.0
    filled = ae.predict(corrupt).to_numpy()[:, 0]
    assert np.corrcoef(filled, X[:, 0])[0, 1] > 0.8
