"""FlowClassifier: density-ratio classification with one flow per class, as a scikit-learn estimator."""

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_curve
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..flows import make_flow
from ..train.maximum_likelihood import fit_flow


class FlowClassifier(ClassifierMixin, BaseEstimator):
    """One normalizing flow per class, trained by maximum likelihood; Bayes' rule on top.

    log p(k | x) = log p(x | k) + log pi_k - log sum_j p(x | j) pi_j.
    Two classes: the statistic t = ln p(0|x) - ln p(1|x) (the RR Lyrae
    paper's), class 1 where t < cut. More classes: the largest posterior.
    Each class's features are first mapped by that class's own affine map:
    whitened with its mean and (Ledoit-Wolf shrunk) covariance by default, so
    that a fresh flow (the identity) starts as the class's full Gaussian, a
    regularised QDA, and training with validation early stopping adds
    structure only where it helps. Each map's Jacobian is part of its class's
    log-density: ``log_density`` reports densities of the original features.

    Args:
      kind: flow kind for ``make_flow`` (realnvp, maf, nsf, linear, diagonal).
      flow_kwargs: dict of further ``make_flow`` arguments (num_layers, hidden_units, ...).
      epochs: maximum epochs per flow.
      batch_size: int, or one per class (sequence in ``classes_`` order or dict
        class -> size); the paper uses 1000 (background) and 100 (RR Lyrae).
      learning_rate: Adam's initial rate.
      final_learning_rate: if set, polynomial decay with power 1/2 down to it
        over ``epochs`` (the paper: 1e-3 -> 1e-4).
      validation_fraction: per class, held out for early stopping (and the cut).
      patience, min_rel_change: early stopping of each flow (the paper: min_rel_change=1e-6).
      priors: None (empirical class frequencies) or one prior per class.
      cut: float, or "roc" to take the threshold maximising Youden's J = TPR - FPR
        on the validation ROC (two classes).
      standardize: "whiten" (default, full covariance), "diagonal" (mean and
        standard deviation per feature) or False: each class's map before its flow.
      random_state: seed of the splits, the shuffling and each flow's initial
        weights (``make_flow(seed=random_state + k)`` for class k, unless
        ``flow_kwargs`` sets a seed); no global seed is touched. None: random.
      jit_compile: ``fit_flow``'s, for every flow: "auto" (XLA where it
        compiles), True or False. False (plain ``tf.function``) starts faster:
        a short fit of small data can end before XLA's compile pays off.
      verbose: show the training progress.
    Reference: L. Moske, "Advanced methods of data analysis: normalizing
      flows" (2022), one flow per class on astroML's RR Lyrae data, Tables
      II-III (docs/design.md, "Reference experiments"); Papamakarios et al.,
      "Normalizing flows for probabilistic modeling and inference", JMLR 2021.
    Example:
      >>> from sklearn.datasets import make_classification
      >>> from sklearn.model_selection import cross_val_score
      >>> from sklearn.pipeline import make_pipeline
      >>> from sklearn.preprocessing import StandardScaler
      >>> X, y = make_classification(300, n_features=4, random_state=0)
      >>> clf = make_pipeline(StandardScaler(), FlowClassifier("realnvp", {"num_layers": 1}, epochs=3))
      >>> bool(cross_val_score(clf, X, y, cv=2).mean() > 0.7)
      True
    """

    def __init__(self, kind="realnvp", flow_kwargs=None, epochs=100, batch_size=256, learning_rate=1e-3,
                 final_learning_rate=None, validation_fraction=0.1, patience=10, min_rel_change=None,
                 priors=None, cut=0.0, standardize="whiten", random_state=0, jit_compile="auto", verbose=False):
        self.kind = kind
        self.flow_kwargs = flow_kwargs
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.final_learning_rate = final_learning_rate
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.min_rel_change = min_rel_change
        self.priors = priors
        self.cut = cut
        self.standardize = standardize
        self.random_state = random_state
        self.jit_compile = jit_compile
        self.verbose = verbose

    # -- fitting -----------------------------------------------------------
    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"FlowClassifier needs at least two classes, got 1 class: {self.classes_.tolist()}")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
        if self.cut != "roc" and not isinstance(self.cut, (int, float)):
            raise ValueError(f"cut must be a number or 'roc', got {self.cut!r}")
        if self.standardize not in ("whiten", "diagonal", False):
            raise ValueError(f"standardize must be 'whiten', 'diagonal' or False, got {self.standardize!r}")
        n_classes, d = len(self.classes_), X.shape[1]
        self.log_priors_ = np.log(self._priors(y))
        self.mean_, self.whitening_ = np.zeros((n_classes, d)), np.tile(np.eye(d), (n_classes, 1, 1))
        self.flows_, self.histories_, validation = [], [], []
        rng = np.random.default_rng(self.random_state)
        for k, label in enumerate(self.classes_):
            x = X[y == label][rng.permutation(int(np.sum(y == label)))]
            n_val = max(1, int(round(self.validation_fraction * len(x))))
            if len(x) - n_val < 2:
                raise ValueError(f"class {np.asarray(label).item()!r} has {len(x)} samples: too few to train a flow")
            if self.standardize:  # fitted on the training rows only
                self.mean_[k], self.whitening_[k] = _class_map(x[n_val:], self.standardize)
            z = (x - self.mean_[k]) @ self.whitening_[k].T
            train, val = z[n_val:], z[:n_val]
            validation.append((x[:n_val], np.full(n_val, k)))
            seed = None if self.random_state is None else int(self.random_state) + k
            flow = make_flow(self.kind, X.shape[1], **{"seed": seed, **(self.flow_kwargs or {})})
            batch = min(self._batch_size(label, k), len(train))
            history = fit_flow(flow, train, validation_data=(val,), epochs=self.epochs, batch_size=batch,
                               optimizer=self._optimizer(len(train) // batch), patience=self.patience,
                               min_rel_change=self.min_rel_change, seed=int(rng.integers(2 ** 31)),
                               jit_compile=self.jit_compile, verbose=self.verbose)
            self.flows_.append(flow)
            self.histories_.append(history)
        self.log_det_ = np.linalg.slogdet(self.whitening_)[1]
        self.cut_ = self._choose_cut(validation) if self.cut == "roc" else float(self.cut)
        return self

    def _priors(self, y):
        if self.priors is None:
            return np.array([np.mean(y == c) for c in self.classes_])
        priors = np.asarray(self.priors, dtype=np.float64)
        if priors.shape != (len(self.classes_),) or np.any(priors <= 0):
            raise ValueError(f"priors must be {len(self.classes_)} positive numbers, got {self.priors!r}")
        return priors / priors.sum()

    def _batch_size(self, label, k):
        size = self.batch_size
        if isinstance(size, dict):
            if label not in size:
                raise ValueError(f"batch_size has no entry for class {np.asarray(label).item()!r}")
            size = size[label]
        elif not np.isscalar(size):
            if len(size) != len(self.classes_):
                raise ValueError(f"batch_size needs one size per class ({len(self.classes_)}), got {size!r}")
            size = size[k]
        if int(size) < 1:
            raise ValueError(f"batch_size must be positive, got {size!r}")
        return int(size)

    def _optimizer(self, steps_per_epoch):
        rate = self.learning_rate
        if self.final_learning_rate is not None:
            rate = keras.optimizers.schedules.PolynomialDecay(
                self.learning_rate, max(1, self.epochs * steps_per_epoch), self.final_learning_rate, power=0.5)
        return keras.optimizers.Adam(rate)

    def _choose_cut(self, validation):
        if len(self.classes_) != 2:
            raise ValueError("cut='roc' applies to two classes")
        x = np.concatenate([v for v, _ in validation])
        labels = np.concatenate([k for _, k in validation])
        t = self._statistic(x)
        fpr, tpr, thresholds = roc_curve(labels, -t)  # class 1 where t is small
        best = np.argmax(tpr - fpr)
        return float(-thresholds[best]) if np.isfinite(thresholds[best]) else 0.0

    # -- prediction --------------------------------------------------------
    def _check(self, X):
        check_is_fitted(self, "flows_")
        return validate_data(self, X, dtype=np.float64, reset=False)

    def _decide(self, X, cut=None):
        """(log p(x | k), log p(k | x), t or None, class index) through the one Bayes rule."""
        out = bayes_rule(class_log_density(self.flows_, tf.constant(X, tf.float64), self.mean_, self.whitening_,
                                           self.log_det_), tf.constant(self.log_priors_, tf.float64),
                         self.cut_ if cut is None else cut)
        return tuple(None if t is None else t.numpy() for t in out)

    def log_density(self, X):
        """log p(x | k) for every class, (n, K), densities of the original features."""
        return self._decide(self._check(X))[0]

    def predict_log_proba(self, X):
        return self._decide(self._check(X), cut=0.0)[1]

    def predict_proba(self, X):
        return np.exp(self.predict_log_proba(X))

    def _statistic(self, X):
        return self._decide(X, cut=0.0)[2]

    def statistic(self, X):
        """t = ln p(0|x) - ln p(1|x) (two classes); class 1 where t < cut_."""
        check_is_fitted(self, "flows_")
        if len(self.classes_) != 2:
            raise ValueError("the statistic t is defined for two classes")
        return self._statistic(self._check(X))

    def decision_function(self, X):
        """Two classes: cut_ - t (positive means classes_[1]); more: the log posteriors (n, K)."""
        check_is_fitted(self, "flows_")
        if len(self.classes_) == 2:
            return self.cut_ - self.statistic(X)
        return self.predict_log_proba(X)

    def predict(self, X):
        index = self._decide(self._check(X))[3]
        return self.classes_[index]


def class_log_density(flows, x, means, maps, log_dets):
    """log p(x | k), (batch, K): flow k's density of W_k (x - mean_k) plus log|det W_k|.

    The maps and the sum are computed in x's dtype (float64 from
    ``FlowClassifier``, the flows' dtype in its SavedModel), each flow in its
    own. The one implementation, used by ``FlowClassifier`` and its SavedModel.
    """
    dtype = x.dtype
    columns = []
    for flow, m, w, j in zip(flows, means, maps, log_dets):
        z = tf.matmul(x - tf.constant(m, dtype), tf.constant(w, dtype), transpose_b=True)
        columns.append(tf.cast(flow.log_prob(tf.cast(z, flow.compute_dtype)), dtype) + tf.constant(j, dtype))
    return tf.stack(columns, axis=1)


def bayes_rule(log_density, log_priors, cut):
    """Bayes' rule on class log-densities (batch, K) and log-priors (K,).

    Returns (log_density, log_posterior, statistic, index): with two classes
    statistic t = ln p(0|x) - ln p(1|x) and index 1 where t < cut; with more,
    statistic None and index the argmax of the posterior. The one
    implementation, used by ``FlowClassifier`` and its SavedModel.
    """
    joint = log_density + log_priors
    log_posterior = joint - tf.reduce_logsumexp(joint, axis=1, keepdims=True)
    if log_density.shape[1] == 2:
        statistic = log_posterior[:, 0] - log_posterior[:, 1]
        return log_density, log_posterior, statistic, tf.cast(statistic < tf.cast(cut, statistic.dtype), tf.int32)
    return log_density, log_posterior, None, tf.argmax(log_posterior, axis=1, output_type=tf.int32)


def _class_map(x, mode):
    """(mean, W) of a class's affine map z = W (x - mean): whitening or per-feature scaling."""
    from sklearn.covariance import LedoitWolf

    mean = x.mean(0)
    scale = np.diag(1.0 / np.maximum(x.std(0), 1e-9 * (1 + np.abs(x).max())))
    if mode == "diagonal":
        return mean, scale
    # Shrink the CORRELATION matrix (Ledoit-Wolf, towards the identity): it
    # stays invertible with few samples per class, and unlike shrinking the
    # covariance towards a multiple of the identity it does not inflate
    # features that merely have small units.
    corr = LedoitWolf(assume_centered=True).fit((x - mean) @ scale).covariance_
    chol = np.linalg.cholesky(corr + 1e-12 * np.eye(len(corr)))
    return mean, np.linalg.inv(chol) @ scale
