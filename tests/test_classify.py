"""FlowClassifier: a scikit-learn estimator, Bayes' rule over flows, reports and export."""

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tfp_physflow import FlowClassifier, export_classifier
from tfp_physflow.metrics import classification_fractions, roc
from tfp_physflow.plots import plot_roc, plot_statistic

# jit_compile=False: these tests are about the classifier, not XLA; each fit of a flow would
# otherwise compile, about 2 s, more than its 15 epochs take (this file: 92 -> 57-60
# worker-seconds). The docstring example and the README's run the default ("auto", XLA).
SMALL = dict(flow_kwargs=dict(num_layers=2, hidden_units=(16, 16)), epochs=15, batch_size=64, jit_compile=False)


def blobs(n_per_class, centres, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(c, scale, size=(n, len(c))) for c, n in zip(centres, n_per_class)])
    y = np.concatenate([np.full(n, k) for k, n in enumerate(n_per_class)])
    return x, y


STRETCH = np.array([3.0, 0.5])  # unequal feature scales, so that scaler Jacobians matter
X2, Y2 = blobs([600, 150], [(0.0, 0.0), (3.0, 3.0)])
X2_TEST, Y2_TEST = blobs([600, 150], [(0.0, 0.0), (3.0, 3.0)], seed=1)
X2, X2_TEST = X2 * STRETCH, X2_TEST * STRETCH


@pytest.fixture(scope="module")
def binary():
    """A batch size per class, as in the paper (the rare class gets smaller batches)."""
    return FlowClassifier("realnvp", cut="roc", **{**SMALL, "batch_size": {0: 128, 1: 32}}).fit(X2, Y2)


def test_binary_classification_is_accurate_and_consistent(binary):
    assert binary.score(X2_TEST, Y2_TEST) > 0.93
    proba = binary.predict_proba(X2_TEST)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    t = binary.statistic(X2_TEST)
    np.testing.assert_allclose(t, np.log(proba[:, 0]) - np.log(proba[:, 1]), atol=1e-6)
    np.testing.assert_array_equal(binary.predict(X2_TEST), (t < binary.cut_).astype(int))
    np.testing.assert_allclose(binary.decision_function(X2_TEST), binary.cut_ - t)
    assert np.isfinite(binary.cut_) and binary.cut_ != 0.0


def test_log_density_is_a_density_of_the_original_features(binary):
    """Each class's log_density integrates to 1 over the ORIGINAL feature space:
    its scaler's Jacobian is accounted for (without it the integral would be
    1 / (s1 s2)), whatever the quality of the fit."""
    lo, hi = X2.min(0) - 3 * X2.std(0), X2.max(0) + 3 * X2.std(0)
    a1, a2 = np.linspace(lo[0], hi[0], 401), np.linspace(lo[1], hi[1], 401)
    g1, g2 = np.meshgrid(a1, a2)
    mass = np.exp(binary.log_density(np.stack([g1.ravel(), g2.ravel()], 1))).sum(0)
    mass *= (a1[1] - a1[0]) * (a2[1] - a2[0])
    np.testing.assert_allclose(mass, 1.0, atol=0.02)
    # The maps really rescale (|det W| = 1 / (3 * 0.5)), so a missing Jacobian would be off by ~50 %.
    np.testing.assert_allclose(np.exp(binary.log_det_), 1 / np.prod(STRETCH), rtol=0.15)


@pytest.mark.parametrize("standardize", ["diagonal", False])
def test_other_class_maps(standardize):
    clf = FlowClassifier("realnvp", standardize=standardize, **SMALL).fit(X2, Y2)
    if standardize:
        np.testing.assert_allclose(clf.whitening_, [np.diag(1 / STRETCH)] * 2, rtol=0.15, atol=1e-12)
        assert clf.score(X2_TEST, Y2_TEST) > 0.93
    else:
        np.testing.assert_array_equal(clf.whitening_, [np.eye(2)] * 2)
        np.testing.assert_array_equal(clf.log_det_, 0.0)


def test_multiclass_uses_the_bayes_rule_over_log_posteriors():
    x, y = blobs([200, 200, 200], [(0, 0), (4, 0), (0, 4)])
    xt, yt = blobs([200, 200, 200], [(0, 0), (4, 0), (0, 4)], seed=3)
    clf = FlowClassifier("maf", **SMALL).fit(x, np.array(["a", "b", "c"])[y])
    assert clf.score(xt, np.array(["a", "b", "c"])[yt]) > 0.93
    assert clf.decision_function(xt).shape == (600, 3)
    np.testing.assert_array_equal(clf.predict(xt), clf.classes_[np.argmax(clf.predict_proba(xt), 1)])


def test_priors_move_the_decision(binary):
    params = {k: v for k, v in binary.get_params().items() if k != "priors"}
    rare = FlowClassifier(**params, priors=[0.999, 0.001]).fit(X2, Y2)
    even = FlowClassifier(**{**params, "cut": 0.0}).fit(X2, Y2)
    rare.cut_ = 0.0
    assert rare.predict(X2_TEST).sum() < even.predict(X2_TEST).sum()


def test_the_paper_schedule_decays_to_the_final_rate():
    clf = FlowClassifier("realnvp", final_learning_rate=1e-4, min_rel_change=1e-6, **{**SMALL, "epochs": 5,
                                                                                         "patience": None})
    clf.fit(X2, Y2)
    for history in clf.histories_:
        rates = history["learning_rate"]
        assert np.all(np.diff(rates) < 0) and rates[-1] == pytest.approx(1e-4, rel=1e-3)


def test_scikit_learn_clone_pipeline_and_cross_validation():
    clf = FlowClassifier("realnvp", **SMALL)
    assert clone(clf).get_params() == clf.get_params()
    assert clone(clf).set_params(epochs=3).epochs == 3 and clf.epochs == SMALL["epochs"]
    scores = cross_val_score(make_pipeline(StandardScaler(), clf), X2, Y2, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.9)


@pytest.mark.parametrize("kwargs, fit_args, message", [
    (dict(), (X2, np.zeros(len(X2))), "at least two classes"),
    (dict(priors=[1.0]), (X2, Y2), "priors must be 2 positive numbers"),
    (dict(batch_size=[10, 20, 30]), (X2, Y2), "one size per class"),
    (dict(batch_size={0: 10}), (X2, Y2), "no entry for class 1"),
    (dict(cut="best"), (X2, Y2), "cut must be"),
    (dict(validation_fraction=1.5), (X2, Y2), "validation_fraction"),
    (dict(standardize="pca"), (X2, Y2), "standardize must be"),
    (dict(), (X2[:3], [0, 1, 1]), "too few"),
])
def test_bad_settings_raise_value_errors(kwargs, fit_args, message):
    with pytest.raises(ValueError, match=message):
        FlowClassifier(**{**SMALL, **kwargs}).fit(*fit_args)


def test_predicting_with_the_wrong_feature_count_raises(binary):
    with pytest.raises(ValueError, match="X has 3 features"):
        binary.predict(np.zeros((2, 3)))


def test_reports_and_plots(binary):
    fractions = classification_fractions([0, 0, 1, 1], [0, 1, 1, 0])
    assert fractions == {"correctly_classified": 0.5, "false_positive": 0.25, "false_negative": 0.25}
    assert roc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])[2] == 1.0
    assert "AUC" in plot_roc(Y2_TEST, binary.decision_function(X2_TEST)).axes[0].get_legend().get_texts()[0].get_text()
    fig = plot_statistic(binary.statistic(X2_TEST), Y2_TEST, cut=binary.cut_)
    assert len(fig.axes[0].patches) == 2


LOAD = """
import json, sys
import numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
out = m.signatures["classify"](x=tf.constant(np.load(sys.argv[2]), tf.float32))
print(json.dumps({k: v.numpy().tolist() for k, v in out.items()} | {"loaded": "tfp_physflow" in sys.modules}))
"""


def test_export_classify_signature_without_tfp_physflow(binary, tmp_path):
    export_classifier(binary, tmp_path / "clf")
    np.save(tmp_path / "x.npy", X2_TEST[:50].astype("float32"))
    run = subprocess.run([sys.executable, "-c", LOAD, str(tmp_path / "clf"), str(tmp_path / "x.npy")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["loaded"] is False
    np.testing.assert_allclose(out["log_density"], binary.log_density(X2_TEST[:50]), atol=1e-4)
    np.testing.assert_allclose(out["statistic"], binary.statistic(X2_TEST[:50]), atol=1e-4)
    np.testing.assert_array_equal(out["label"], binary.predict(X2_TEST[:50]))
