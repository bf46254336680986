"""Writes fixture_expect.json: what the safetensors reader must find in the
shared NeoBERT fixtures, computed independently with numpy + json.

    /usr/bin/python3 gen_fixture_expect.py [FIXTURES_DIR]

FIXTURES_DIR defaults to the repository's ../shared/fixtures. The header is
parsed by hand (8-byte little-endian length, JSON); values are read with
np.frombuffer. For each tensor the file records dtype, shape, the elements
at a few flat indices (float32 bit patterns for F32, integers for I64) and,
for F32, the float64 sum and sum of squares.
"""
import json
import os
import struct
import sys

import numpy as np

FILES = ["neobert_tiny.safetensors", "neobert_tiny.expected.safetensors"]
NP_TYPES = {"F32": "<f4", "I64": "<i8"}


def describe(path):
    with open(path, "rb") as fh:
        buf = fh.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, info in sorted(header.items()):
        begin, end = info["data_offsets"]
        arr = np.frombuffer(buf[base + begin:base + end], dtype=NP_TYPES[info["dtype"]])
        size = arr.size
        idx = sorted({i for i in (0, 1, size // 2, size - 1) if 0 <= i < size})
        entry = {"dtype": info["dtype"], "shape": info["shape"], "index": idx}
        if info["dtype"] == "F32":
            entry["f32_bits"] = [int(b) for b in arr[idx].view(np.uint32)]
            a64 = arr.astype(np.float64)
            entry["sum"] = float(a64.sum())
            entry["sum_sq"] = float((a64 * a64).sum())
        else:
            entry["int64"] = [int(v) for v in arr[idx]]
        tensors[name] = entry
    return {"metadata": meta, "tensors": tensors}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    fixtures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "..", "shared", "fixtures")
    out = {name: describe(os.path.join(fixtures, name)) for name in FILES}
    with open(os.path.join(here, "fixture_expect.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
