"""Writes the small MMSA-like pickles the Go tests read (good and broken).

Run from anywhere with Debian's interpreter:  /usr/bin/python3 make_pickles.py
Each file is a tiny split dict in MMSA's layout (SPEC §9) with one defect,
or a good file in a different encoding (protocol 2, numpy 2 module names,
float text_bert, padding in the middle). The expected error for each broken file is in
../read_test.go.
"""
import copy
import os
import pickle
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
T_A, T_V, L = 6, 7, 8  # audio steps, vision steps, text length


def split(n, seed):
    rng = np.random.default_rng(seed)
    alen = [int(x) for x in rng.integers(1, T_A + 1, n)]
    vlen = [int(x) for x in rng.integers(1, T_V + 1, n)]
    audio = np.zeros((n, T_A, 3), np.float32)
    vision = np.zeros((n, T_V, 4), np.float64)
    for i in range(n):
        audio[i, : alen[i]] = rng.standard_normal((alen[i], 3))
        vision[i, : vlen[i]] = rng.standard_normal((vlen[i], 4))
    tlen = rng.integers(3, L + 1, n)
    tb = np.zeros((n, 3, L), np.int64)
    for i in range(n):
        tb[i, 0, : tlen[i]] = rng.integers(1000, 3000, tlen[i])
        tb[i, 0, 0], tb[i, 0, tlen[i] - 1] = 101, 102
        tb[i, 1, : tlen[i]] = 1
    return {
        "raw_text": np.array(["sentence %d" % i for i in range(n)]),
        "id": ["v%d$_$%d" % (seed, i) for i in range(n)],
        "audio": audio,
        "vision": vision,
        "text": rng.standard_normal((n, L, 16)).astype(np.float32),
        "text_bert": tb,
        "annotations": ["Neutral"] * n,
        "regression_labels": rng.uniform(-3, 3, n).astype(np.float32),
        "audio_lengths": alen,
        "vision_lengths": np.array(vlen, np.int64),
    }


def good():
    return {"train": split(3, 1), "valid": split(2, 2), "test": split(2, 3)}


def write(name, obj, protocol=4, **kw):
    with open(os.path.join(HERE, name), "wb") as f:
        pickle.dump(obj, f, protocol=protocol, **kw)


class Numpy2Pickler(pickle.Pickler):
    """Pickles arrays the way numpy 2 does: modules numpy._core.*."""

    def reducer_override(self, obj):
        if not isinstance(obj, (np.ndarray, np.generic)):
            return NotImplemented
        rv = list(obj.__reduce_ex__(5))
        rv[0] = FAKE[rv[0].__name__]
        return tuple(rv)


FAKE = {}
for mod, fn in [
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
]:
    m = sys.modules.setdefault(mod, types.ModuleType(mod))
    f = types.FunctionType((lambda *a: None).__code__, {}, fn)
    f.__module__, f.__qualname__ = mod, fn
    setattr(m, fn, f)
    FAKE[fn] = f
sys.modules.setdefault("numpy._core", types.ModuleType("numpy._core"))


def main():
    write("good_p4.pkl", good())
    write("good_p2.pkl", good(), protocol=2)
    d = good()
    for s in d.values():
        s["raw_text"] = np.array(list(s["raw_text"]), dtype=object)
    with open(os.path.join(HERE, "good_np2.pkl"), "wb") as f:
        Numpy2Pickler(f, protocol=5).dump(d)

    d = good()
    for s in d.values():
        s["text_bert"] = s["text_bert"].astype(np.float64)  # as some MMSA files store it
    write("good_textbert_float.pkl", d)

    d = good()
    a = d["train"]["audio"]
    d["train"]["audio_lengths"][1] = 1
    a[1, 1:] = 0
    a[1, 3, 2] = 0.5  # non-zero past the length: padding not at the end
    write("warn_padding.pkl", d)

    bad = {}
    d = good(); del d["valid"]; bad["bad_missing_valid.pkl"] = d
    d = good(); del d["train"]["regression_labels"]; bad["bad_missing_labels.pkl"] = d
    d = good(); d["train"]["audio"] = d["train"]["audio"][:, :, 0]; bad["bad_audio_rank2.pkl"] = d
    d = good(); d["test"]["vision"] = d["test"]["vision"][:1]; bad["bad_vision_n.pkl"] = d
    d = good(); d["valid"]["text_bert"] = d["valid"]["text_bert"][:, :2]; bad["bad_text_bert_shape.pkl"] = d
    d = good(); d["train"]["audio_lengths"][1] = T_A + 3; bad["bad_length_high.pkl"] = d
    d = good(); d["valid"]["vision_lengths"][0] = -1; bad["bad_length_neg.pkl"] = d
    d = good(); d["test"]["regression_labels"][1] = 3.5; bad["bad_label_high.pkl"] = d
    d = good(); d["train"]["regression_labels"][2] = np.nan; bad["bad_label_nan.pkl"] = d
    d = good(); del d["test"]["vision_lengths"]; bad["bad_lengths_one.pkl"] = d
    d = good(); d["valid"]["text_bert"][1, 1, 2] = 2; bad["bad_mask.pkl"] = d
    d = good(); d["train"]["evil"] = os.system; bad["bad_global.pkl"] = d
    for name, obj in bad.items():
        write(name, obj)
    write("bad_not_dict.pkl", [good()])
    bufs = []
    write("bad_out_of_band.pkl", good(), protocol=5, buffer_callback=bufs.append)


if __name__ == "__main__":
    main()
