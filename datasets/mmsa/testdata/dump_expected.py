"""Dumps what numpy reads from the MMSA pickles into expected.json.

Run with Debian's interpreter (it has numpy):  /usr/bin/python3 dump_expected.py
The Go tests compare the reader against these facts, so they come from
pickle.load + numpy only, applying MMSA's cleaning by hand: cast to
float32, audio -inf -> 0, NaN -> 0; lengths from *_lengths or, in aligned
files, from the text_bert mask.
"""
import json
import os
import pickle
import sys

import numpy as np
import numpy.core.multiarray
import numpy.core.numeric

# numpy < 1.26 has no numpy._core; good_np2.pkl names it as numpy 2 does.
sys.modules.setdefault("numpy._core", numpy.core)
sys.modules.setdefault("numpy._core.multiarray", numpy.core.multiarray)
sys.modules.setdefault("numpy._core.numeric", numpy.core.numeric)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "fixtures"))
FILES = [
    (FIXTURES, "mmsa_tiny_unaligned.pkl"),
    (FIXTURES, "mmsa_tiny_aligned_50.pkl"),
    (FIXTURES, "mmsa_tiny_unaligned_p5.pkl"),
    (HERE, "good_p4.pkl"),
    (HERE, "good_p2.pkl"),
    (HERE, "good_np2.pkl"),
    (HERE, "warn_padding.pkl"),
]


def positions(mask):
    return [[int(x) for x in p] for p in np.argwhere(mask)]


def picks(a, rng):
    """A few (index, value) pairs: first, last and random elements."""
    flat = [0, a.size - 1] + [int(x) for x in rng.integers(0, a.size, 6)]
    out = []
    for f in flat:
        idx = np.unravel_index(f, a.shape)
        out.append([[int(i) for i in idx], float(a[idx])])
    return out


def facts(s):
    rng = np.random.default_rng(0)
    tb = np.asarray(s["text_bert"])
    text_len = tb[:, 1, :].sum(axis=1).astype(int)
    out = {
        "n": len(s["regression_labels"]),
        "labels": [float(x) for x in np.asarray(s["regression_labels"], np.float32)],
        "ids": [str(x) for x in s["id"]],
        "raw_text": [str(x) for x in s["raw_text"]],
        "text_bert_shape": list(tb.shape),
        "text_bert_dtype": str(tb.dtype),
        "text_ids": tb[:, 0, :].astype(int).tolist(),
        "text_len": text_len.tolist(),
        "lengths_kind": "absent",
    }
    if "audio_lengths" in s:
        out["lengths_kind"] = type(s["audio_lengths"]).__name__
        out["audio_lengths"] = [int(x) for x in s["audio_lengths"]]
        out["vision_lengths"] = [int(x) for x in s["vision_lengths"]]
    else:
        out["audio_lengths"] = text_len.tolist()
        out["vision_lengths"] = text_len.tolist()
    for key in ["audio", "vision", "text"]:
        raw = np.asarray(s[key])
        a = raw.astype(np.float32)
        nan = np.isnan(a)
        neginf = np.isneginf(a) if key == "audio" else np.zeros_like(nan)
        a[nan | neginf] = 0
        out[key] = {
            "shape": list(a.shape),
            "dtype": str(raw.dtype),
            "nan": positions(nan),
            "neginf": positions(neginf),
            "sum": float(a.astype(np.float64).sum()),
            "abs_sum": float(np.abs(a.astype(np.float64)).sum()),
            "picks": picks(a, rng),
        }
        if key != "text":
            lens = out[key + "_lengths"]
            out[key]["bad_padding_rows"] = int(sum(np.any(a[i, lens[i]:] != 0) for i in range(len(a))))
    return out


def main():
    expected = {}
    for folder, name in FILES:
        with open(os.path.join(folder, name), "rb") as f:
            d = pickle.load(f)
        expected[name] = {k: facts(v) for k, v in d.items()}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
