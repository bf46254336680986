"""What PyTorch's matrix products run on, for the benchmark scripts' result lines.

A Go/PyTorch ratio means little when PyTorch runs on the reference BLAS: on Debian, python3-torch
without libopenblas0 installed multiplies through /usr/lib/x86_64-linux-gnu/blas/libblas.so.3, some
ten times slower than OpenBLAS, and torch.__config__ says BLAS_INFO=generic either way. describe()
names the BLAS library the process has loaded and measures the rate torch reaches on a 1024^3
float32 product on its threads, so that such a run shows itself on every result line.
"""

import os
import time

import torch


def library():
    """The BLAS shared library this process has mapped: OpenBLAS, MKL or BLIS by name, else a plain
    libblas with its folder (Debian's reference BLAS is blas/libblas.so.3), 'built-in' when none is
    (a build that links its BLAS into torch, as pip's MKL builds do), or 'unknown' without /proc."""
    try:
        with open("/proc/self/maps") as f:
            paths = {fields[-1] for fields in map(str.split, f) if len(fields) > 5}
    except OSError:
        return "unknown"
    names = sorted(os.path.basename(p) for p in paths)
    for key in ("openblas", "mkl", "blis"):
        hits = [n for n in names if key in n]
        if hits:
            return hits[0]
    hits = sorted(p for p in paths if os.path.basename(p).startswith("libblas."))
    if hits:
        return "/".join(hits[0].split("/")[-2:])
    return "built-in"


def describe():
    """'blas=<library> blas-GFLOP/s=<rate>': the library and torch's float32 rate on a 1024^3 product
    (three warm-up products, then at least five timed ones over at least half a second)."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    n, t0 = 0, time.perf_counter()
    while n < 5 or time.perf_counter() - t0 < 0.5:
        a @ b
        n += 1
    rate = 2 * 1024 ** 3 * n / (time.perf_counter() - t0) / 1e9
    return f"blas={library()} blas-GFLOP/s={rate:.0f}"
