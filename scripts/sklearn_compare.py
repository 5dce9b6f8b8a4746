#!/usr/bin/python3
"""Score Vigil's anomaly quality data sets with scikit-learn's IsolationForest.

For each CSV under internal/anomaly/testdata/datasets/ (feature columns plus an
"outlier" column of 0/1), fit IsolationForest on all rows with the parameters
below, once per seed, score the same rows and print the ROC AUC (mean and per
seed). With --write, record the results in internal/anomaly/testdata/sklearn_auc.json,
which the Go test TestSklearnParity compares its own AUC against (within 0.02).

Needs the system python3 with Debian's python3-sklearn:
    apt-get install -y python3-sklearn
    /usr/bin/python3 scripts/sklearn_compare.py [--write]
"""

import argparse
import csv
import glob
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTDATA = os.path.join(ROOT, "internal", "anomaly", "testdata")

N_ESTIMATORS = 100
MAX_SAMPLES = 256
SEEDS = [0, 1, 2, 3, 4]
LABEL = "outlier"


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    li = head.index(LABEL)
    X = np.array([[float(v) for i, v in enumerate(r) if i != li] for r in body])
    y = np.array([int(r[li]) for r in body])
    return X, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write testdata/sklearn_auc.json")
    args = ap.parse_args()

    out = {
        "sklearn": sklearn.__version__,
        "params": {"n_estimators": N_ESTIMATORS, "max_samples": MAX_SAMPLES,
                   "contamination": "auto", "seeds": SEEDS},
        "datasets": {},
    }
    print(f"scikit-learn {sklearn.__version__}, n_estimators={N_ESTIMATORS}, "
          f"max_samples={MAX_SAMPLES}, seeds={SEEDS}")
    for path in sorted(glob.glob(os.path.join(TESTDATA, "datasets", "*.csv"))):
        name = os.path.splitext(os.path.basename(path))[0]
        X, y = load(path)
        aucs = []
        for seed in SEEDS:
            clf = IsolationForest(n_estimators=N_ESTIMATORS, max_samples=MAX_SAMPLES,
                                  contamination="auto", random_state=seed)
            clf.fit(X)
            # score_samples is −score: higher means more normal.
            aucs.append(roc_auc_score(y, -clf.score_samples(X)))
        mean = float(np.mean(aucs))
        out["datasets"][name] = {
            "rows": int(X.shape[0]), "features": int(X.shape[1]), "outliers": int(y.sum()),
            "auc": [round(a, 6) for a in aucs], "auc_mean": round(mean, 6),
            "auc_std": round(float(np.std(aucs)), 6),
        }
        print(f"{name:8s} rows={X.shape[0]} features={X.shape[1]} outliers={int(y.sum())} "
              f"AUC {mean:.4f} ± {np.std(aucs):.4f}  ({' '.join(f'{a:.4f}' for a in aucs)})")
    if args.write:
        dst = os.path.join(TESTDATA, "sklearn_auc.json")
        with open(dst, "w") as f:
            json.dump(out, f, indent=2, sort_keys=True)
            f.write("\n")
        print(f"wrote {os.path.relpath(dst, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
