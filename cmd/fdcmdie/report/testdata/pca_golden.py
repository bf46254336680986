#!/usr/bin/python3
"""Writes pca_golden.json: PCA2 test cases computed with numpy.

Run from this folder with Debian's python3 (numpy): /usr/bin/python3 pca_golden.py

For each case: the input matrix x (n samples x d features), the two largest
eigenvalues of the sample covariance (divisor n-1) and the projection of the
centred rows on the two leading eigenvectors. The eigenvectors come from
LAPACK (numpy.linalg.eigh) and are cross-checked against an SVD of the centred
data. Sign convention (the one report.PCA2 documents): each eigenvector is
flipped so that its largest-magnitude component (first such index on ties) is
positive.
"""
import json

import numpy as np


def pca2(x):
    xc = x - x.mean(axis=0)
    cov = np.cov(x, rowvar=False)
    w, v = np.linalg.eigh(cov)
    order = np.argsort(w)[::-1][:2]
    w, v = w[order], v[:, order]
    for a in range(2):
        if v[np.argmax(np.abs(v[:, a])), a] < 0:
            v[:, a] = -v[:, a]
    # Cross-check with the SVD of the centred data (same axes up to sign).
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    assert np.allclose(s[:2] ** 2 / (len(x) - 1), w, rtol=1e-10)
    assert np.allclose(np.abs(vt[:2].T), np.abs(v), atol=1e-10)
    return w, xc @ v


def main():
    rng = np.random.default_rng(20240611)
    cases = []
    # Tall: 10 samples of 4 correlated features with distinct variances.
    z = rng.normal(size=(10, 4)) * np.array([3.0, 2.0, 1.0, 0.5])
    mix = np.array([[1.0, 0.3, 0.0, 0.1],
                    [0.2, 1.0, 0.4, 0.0],
                    [0.0, 0.1, 1.0, 0.5],
                    [0.3, 0.0, 0.2, 1.0]])
    cases.append(("tall_10x4", z @ mix + np.array([5.0, -2.0, 0.5, 10.0])))
    # Wide: fewer samples than features.
    cases.append(("wide_5x6", rng.normal(size=(5, 6)) * np.arange(6, 0, -1)))
    # Two clusters in 3-D, the layout of a feature map.
    a = rng.normal(size=(6, 3)) * 0.3 + np.array([2.0, 0.0, 1.0])
    b = rng.normal(size=(6, 3)) * 0.3 - np.array([2.0, 0.0, 1.0])
    cases.append(("clusters_12x3", np.vstack([a, b])))
    # Larger: 40 samples of 16 features with a decaying spectrum, rotated.
    q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    cases.append(("rotated_40x16", (rng.normal(size=(40, 16)) * np.geomspace(4, 0.1, 16)) @ q.T))
    out = []
    for name, x in cases:
        w, proj = pca2(x)
        out.append({"name": name, "x": x.tolist(), "eigenvalues": w.tolist(), "proj": proj.tolist()})
    with open("pca_golden.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
