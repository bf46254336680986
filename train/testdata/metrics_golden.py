#!/usr/bin/python3
"""Generate metrics_golden.json: inputs and expected SPEC §10 metrics.

The expected values follow MMSA's metricsTop.py (regression): sklearn's
accuracy_score and f1_score(average='weighted'), np.round (half to even),
np.clip, np.corrcoef. Inputs are float32 values written exactly; metrics
are computed in float64 from them.

Run from the package directory:  /usr/bin/python3 testdata/metrics_golden.py
Needs Debian's python3-numpy and python3-sklearn.
"""
import json
import os
import warnings

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

KEYS = ["Acc2Has0", "F1Has0", "Acc2Non0", "F1Non0", "Acc7", "Acc5", "MAE", "Corr"]


def multiclass_acc(p, y):
    return float(np.sum(np.round(p) == np.round(y)) / float(len(y)))


def metrics(pred32, label32):
    p = pred32.astype(np.float64)
    y = label32.astype(np.float64)
    out = {}
    out["MAE"] = float(np.mean(np.absolute(p - y)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corr = np.corrcoef(p, y)[0][1]
    out["CorrUndefined"] = bool(np.isnan(corr))
    out["Corr"] = 0.0 if np.isnan(corr) else float(corr)
    out["Acc7"] = multiclass_acc(np.clip(p, -3.0, 3.0), np.clip(y, -3.0, 3.0))
    out["Acc5"] = multiclass_acc(np.clip(p, -2.0, 2.0), np.clip(y, -2.0, 2.0))

    nz = np.array([i for i, e in enumerate(y) if e != 0], dtype=np.int64)
    out["Non0Undefined"] = len(nz) == 0
    if len(nz) == 0:
        out["Acc2Non0"] = 0.0
        out["F1Non0"] = 0.0
    else:
        t, q = y[nz] > 0, p[nz] > 0
        out["Acc2Non0"] = float(accuracy_score(q, t))
        out["F1Non0"] = float(f1_score(t, q, average="weighted", zero_division=0))
    t, q = y >= 0, p >= 0
    out["Acc2Has0"] = float(accuracy_score(q, t))
    out["F1Has0"] = float(f1_score(t, q, average="weighted", zero_division=0))
    return out


def f32(xs):
    return np.asarray(xs, dtype=np.float32)


def main():
    rng = np.random.default_rng(20261125)
    cases = []

    def add(name, pred, label):
        pred, label = f32(pred), f32(label)
        cases.append({
            "name": name,
            "pred": [float(v) for v in pred],
            "label": [float(v) for v in label],
            "want": metrics(pred, label),
        })

    # Random continuous predictions, some beyond ±3 (clipped for Acc-7 only).
    label = rng.uniform(-3, 3, 200)
    add("random_continuous", label + rng.normal(0, 1.2, 200), label)
    label = rng.uniform(-3, 3, 57)
    add("random_wide", rng.uniform(-4.5, 4.5, 57), label)
    # MOSI-like labels on a 1/3 grid, with exact zeros.
    label = np.round(rng.uniform(-3, 3, 120) * 3) / 3
    label[::7] = 0
    add("grid_labels_with_zeros", label * 0.6 + rng.normal(0, 0.8, 120), label)
    # Half ties: np.round sends ±0.5 to 0, ±1.5 to ±2, ±2.5 to ±2, 3.5 clips to 3.
    add("half_ties_and_zeros",
        [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5, 0.0, 0.0, 1.0, -2.5, 0.49999997, 2.4],
        [0.0, 0.0, 2.0, -1.0, 2.0, -3.0, 3.0, -2.5, 0.0, -0.5, 0.0, -2.0, 0.5, 2.5])
    # Every prediction positive: the negative class is absent from y_pred.
    label = rng.uniform(-3, 3, 40)
    add("negative_absent_from_pred", rng.uniform(0.1, 3, 40), label)
    # Every label positive: the negative class is absent from y_true.
    add("negative_absent_from_label", rng.uniform(-3, 3, 30), rng.uniform(0.2, 3, 30))
    # Constant predictions: Corr undefined.
    add("constant_pred", np.full(25, 0.7), rng.uniform(-3, 3, 25))
    # Constant labels, all exactly zero: Corr and non0 undefined.
    add("all_zero_labels", rng.uniform(-2, 2, 9), np.zeros(9))
    # Tiny inputs.
    add("single_sample", [1.25], [-0.75])
    add("two_samples", [-1.0, 2.0], [0.5, 1.5])
    add("three_perfect", [-2.0, 0.0, 2.75], [-2.0, 0.0, 2.75])

    agg_names = ["random_continuous", "random_wide", "grid_labels_with_zeros"]
    rows = [next(c["want"] for c in cases if c["name"] == n) for n in agg_names]
    aggregate = {
        "cases": agg_names,
        "mean": {k: float(np.mean([r[k] for r in rows])) for k in KEYS},
        "std": {k: float(np.std([r[k] for r in rows], ddof=0)) for k in KEYS},
    }

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics_golden.json")
    with open(path, "w") as f:
        json.dump({"cases": cases, "aggregate": aggregate}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
