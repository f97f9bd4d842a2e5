"""Density classification: FlowClassifier against the generative classifiers in use today.

Data that ships offline: scikit-learn's digits (10 classes) and breast cancer
(2 classes), and the RR Lyrae stars of ../shared/data (type ab against type
c). Every classifier sees the same features: standardised, and for the two
scikit-learn sets reduced by PCA (fitted on the training split) to
``--components`` dimensions. Fixed split: 30 % test, stratified, seed 0.

Baselines: Gaussian naive Bayes, QDA (regularised), a KDE Bayes classifier
(bandwidth per class by 3-fold cross-validation) and a Gaussian-mixture Bayes
classifier (components per class by BIC). Printed: test accuracy and log-loss.

The RR Lyrae paper's own experiment (RR Lyrae against ~92,658 Stripe 82
standard stars, Table III) needs the background catalogue
stripe82calibStars_v2.6.dat.gz (about 100 MB, not shipped): with
``--background PATH`` (or the file in $PHYSFLOW_DATA or astroML's data home)
that experiment runs too and prints its Table III beside the paper's.

    python examples/density_classification.py --quick
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
from sklearn.metrics import accuracy_score, log_loss
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KernelDensity
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PAPER_TABLE_III = {"Real NVP": (0.9870, 0.0126, 0.0003), "MADE": (0.9831, 0.0166, 0.0002)}


class DensityBayes(ClassifierMixin, BaseEstimator):
    """Bayes classifier over one scikit-learn density estimator per class ("kde" or "gmm")."""

    def __init__(self, density="kde"):
        self.density = density

    def _fit_density(self, x):
        if self.density == "kde":
            search = GridSearchCV(KernelDensity(), {"bandwidth": np.geomspace(0.05, 3.0, 20)}, cv=3)
            return search.fit(x).best_estimator_
        fits = [GaussianMixture(k, reg_covar=1e-3, random_state=0).fit(x) for k in range(1, 6) if k <= len(x) // 10]
        return min(fits, key=lambda g: g.bic(x))

    def fit(self, x, y):
        self.classes_ = np.unique(y)
        self.densities_ = [self._fit_density(x[y == c]) for c in self.classes_]
        self.log_priors_ = np.log([np.mean(y == c) for c in self.classes_])
        return self

    def predict_proba(self, x):
        joint = np.stack([d.score_samples(x) for d in self.densities_], 1) + self.log_priors_
        return np.exp(joint - logsumexp(joint, 1, keepdims=True))

    def predict(self, x):
        return self.classes_[np.argmax(self.predict_proba(x), 1)]


def classifiers(quick, n_features):
    import tfp_physflow as pf

    flow = dict(epochs=60 if quick else 300, batch_size=64, patience=15, learning_rate=1e-3,
                final_learning_rate=1e-4)
    return {
        "Gaussian naive Bayes": GaussianNB(),
        "QDA": QuadraticDiscriminantAnalysis(reg_param=0.05),
        "KDE Bayes (CV bandwidth)": DensityBayes("kde"),
        "GMM Bayes (BIC)": DensityBayes("gmm"),
        "FlowClassifier maf": pf.FlowClassifier(
            "maf", flow_kwargs=dict(num_layers=3, hidden_units=(4 * n_features, 4 * n_features)), **flow),
        "FlowClassifier realnvp": pf.FlowClassifier(
            "realnvp", flow_kwargs=dict(num_layers=4, hidden_units=(64, 64)), **flow),
    }


def compare(name, x, y, args):
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    steps = [StandardScaler()] + ([PCA(args.components, random_state=0)] if x.shape[1] > args.components else [])
    prep = make_pipeline(*steps).fit(x_train)
    x_train, x_test = prep.transform(x_train), prep.transform(x_test)
    print(f"\n{name}: {len(x_train)} train / {len(x_test)} test, {x_train.shape[1]} features, "
          f"{len(np.unique(y))} classes")
    print(f"  {'classifier':28} {'accuracy':>9} {'log-loss':>9} {'seconds':>8}")
    results = {}
    for label, clf in classifiers(args.quick, x_train.shape[1]).items():
        start = time.perf_counter()
        clf.fit(x_train, y_train)
        proba = np.clip(clf.predict_proba(x_test), 1e-15, 1.0)
        acc, loss = accuracy_score(y_test, clf.predict(x_test)), log_loss(y_test, proba, labels=clf.classes_)
        results[label] = (acc, loss)
        print(f"  {label:28} {acc:9.4f} {loss:9.4f} {time.perf_counter() - start:8.1f}", flush=True)
    best = max(results, key=lambda k: (results[k][0], -results[k][1]))
    print(f"  best accuracy: {best}")
    return results


def rr_lyrae_against_background(args, out):
    import tfp_physflow as pf

    try:
        x, y = pf.data.load_rrlyrae_combined(SHARED / "rrlyrae" if SHARED.exists() else None, args.background)
    except FileNotFoundError as err:
        print(f"\nRR Lyrae against Stripe 82 background (the paper's Table III): skipped. {err}")
        return
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    print(f"\nRR Lyrae against Stripe 82 background: {len(x_train)} train / {len(x_test)} test")
    for label, kind, kwargs in (("Real NVP", "realnvp", dict(num_layers=8, hidden_units=(100,) * 4)),
                                ("MADE", "maf", dict(num_layers=8, hidden_units=(200, 200)))):
        clf = pf.FlowClassifier(kind, flow_kwargs=kwargs, epochs=30 if args.quick else 500,
                                batch_size={0: 1000, 1: 100}, learning_rate=1e-3, final_learning_rate=1e-4,
                                min_rel_change=1e-6, patience=None, verbose=not args.quick).fit(x_train, y_train)
        table = pf.metrics.classification_fractions(y_test, clf.predict(x_test))
        paper = PAPER_TABLE_III[label]
        print(f"  {label:9} correctly classified {table['correctly_classified']:.4f} (paper {paper[0]:.4f})  "
              f"false positive {table['false_positive']:.4f} ({paper[1]:.4f})  "
              f"false negative {table['false_negative']:.4f} ({paper[2]:.4f})")
        t = clf.statistic(x_test)
        pf.plots.plot_statistic(t, y_test, names=("background", "RR Lyrae")).savefig(
            os.path.join(out, f"statistic_{kind}.png"))
        pf.plots.plot_roc(y_test, -t, label=label).savefig(os.path.join(out, f"roc_{kind}.png"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument("--components", type=int, default=10, help="PCA dimensions for digits and breast cancer")
    parser.add_argument("--background", default=None, help="path of stripe82calibStars_v2.6.dat[.gz]")
    parser.add_argument("--out", default="out/density_classification", help="folder for figures")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    import tfp_physflow as pf

    digits, cancer = load_digits(), load_breast_cancer()
    compare("digits", digits.data, digits.target, args)
    compare("breast cancer", cancer.data, cancer.target, args)
    rr = pf.data.load_rrlyrae(SHARED / "rrlyrae" if SHARED.exists() else None)
    compare("RR Lyrae type ab (0) against type c (1)", rr["colours"], (rr["type"] == "c").astype(int), args)
    rr_lyrae_against_background(args, args.out)


if __name__ == "__main__":
    main()
