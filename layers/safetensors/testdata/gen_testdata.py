"""Generates the golden files of the safetensors package tests.

Run from this directory with Debian's /usr/bin/python3 (numpy + json only):

    /usr/bin/python3 gen_testdata.py

Writes
  dtypes.safetensors      every dtype the reader converts, written by the
                          hand-rolled writer below (tensors stored in a
                          shuffled order, header keys in another one);
  dtypes_expect.json      what the reader must return for each tensor, as
                          numpy computes it: float32/float64 bit patterns for
                          ReadFloat32/ReadFloat64, int64 values for ReadInt64;
                          "f16_all.expected" inside dtypes.safetensors holds
                          numpy's float16->float32 of all 65536 patterns;
  write_golden.safetensors  the bytes Write must produce for the tensors of
                          write_golden() below, laid out like the reference
                          Rust implementation (compact JSON, metadata first,
                          tensors in name order, header padded with spaces).
"""
import json
import random
import struct

import numpy as np


def raw_file(entries, metadata, header_order=None):
    """entries: list of (name, dtype, shape, bytes) in data order."""
    header = {}
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    infos = {}
    off = 0
    for name, dtype, shape, data in entries:
        infos[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(data)]}
        off += len(data)
    for name in header_order or [e[0] for e in entries]:
        header[name] = infos[name]
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    return struct.pack("<Q", len(hb)) + hb + b"".join(e[3] for e in entries)


def f32_bits(a):
    return [int(x) for x in np.asarray(a, dtype=np.float32).reshape(-1).view(np.uint32)]


def f64_bits(a):
    return [int(x) for x in np.asarray(a, dtype=np.float64).reshape(-1).view(np.uint64)]


def dtypes():
    rng = np.random.default_rng(7)
    entries, expect = [], {}

    def add(name, dtype, arr, **exp):
        arr = np.ascontiguousarray(arr)
        entries.append((name, dtype, arr.shape, arr.astype(arr.dtype.newbyteorder("<")).tobytes()))
        expect[name] = {"dtype": dtype, "shape": list(arr.shape), **exp}

    # F16: all 65536 bit patterns, and numpy's float32 of each.
    f16_bits = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    f16 = f16_bits.view(np.float16)
    add("f16_all", "F16", f16_bits)
    add("f16_all.expected", "F32", f16.astype(np.float32))
    small = np.array([0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0xC000,
                      0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0x3555], dtype=np.uint16)
    add("f16", "F16", small.reshape(2, 7),
        f32_bits=f32_bits(small.view(np.float16).astype(np.float32)),
        f64_bits=f64_bits(small.view(np.float16).astype(np.float64)))

    # BF16 is the top half of a float32: numpy has no bfloat16, so the
    # expected value is the float32 whose high 16 bits are the pattern.
    bf = np.array([0x3F80, 0xC000, 0x4049, 0x0000, 0x8000, 0x0001, 0x7F7F, 0x7F80,
                   0xFF80, 0x7FC0, 0x3DCD, 0xBE4D], dtype=np.uint16)
    bf_f32 = (bf.astype(np.uint32) << 16).view(np.float32)
    add("bf16", "BF16", bf, f32_bits=f32_bits(bf_f32), f64_bits=f64_bits(bf_f32.astype(np.float64)))

    # F64: rounding to float32 at the edges, plus random values.
    f64 = np.array([0.1, -np.pi, 1e300, -1e300, 1e-50, 2.0**-149, 2.0**-150, 1.5 * 2.0**-149,
                    3.4028235677973366e38, 3.4028234663852886e38, np.inf, -np.inf, np.nan, -0.0,
                    1.0000000596046448, 16777217.0] + list(rng.standard_normal(8) * 1e3))
    with np.errstate(over="ignore"):
        f64_as_f32 = f64.astype(np.float32)
    add("f64", "F64", f64.reshape(4, 6), f32_bits=f32_bits(f64_as_f32), f64_bits=f64_bits(f64))

    f32 = rng.standard_normal((3, 4)).astype(np.float32)
    add("f32", "F32", f32, f32_bits=f32_bits(f32), f64_bits=f64_bits(f32.astype(np.float64)))
    add("scalar", "F32", np.array(2.5, dtype=np.float32), f32_bits=f32_bits([2.5]), f64_bits=f64_bits([2.5]))
    add("empty", "F32", np.zeros((0, 3), dtype=np.float32), f32_bits=[], f64_bits=[])

    ints = {
        "i64": ("I64", np.int64, [0, 1, -1, 2**63 - 1, -2**63, 101]),
        "i32": ("I32", np.int32, [0, -1, 2**31 - 1, -2**31, 30522]),
        "i16": ("I16", np.int16, [0, -1, 2**15 - 1, -2**15]),
        "i8": ("I8", np.int8, [0, -1, 127, -128]),
        "u64": ("U64", np.uint64, [0, 1, 2**63 - 1]),
        "u32": ("U32", np.uint32, [0, 2**32 - 1, 7]),
        "u16": ("U16", np.uint16, [0, 2**16 - 1]),
        "u8": ("U8", np.uint8, [0, 255, 3]),
    }
    for name, (dtype, np_t, vals) in ints.items():
        add(name, dtype, np.array(vals, dtype=np_t), int64=[int(v) for v in vals])
    add("bool", "BOOL", np.array([[True, False, True], [False, False, True]]), int64=[1, 0, 1, 0, 0, 1])
    add("u64_big", "U64", np.array([5, 2**63], dtype=np.uint64))

    data_order = entries[:]
    random.Random(3).shuffle(data_order)
    header_order = sorted(e[0] for e in entries)
    random.Random(4).shuffle(header_order)
    metadata = {"source": "testdata/gen_testdata.py", "note": "h\u00e9llo \u2713 <&> \"q\""}
    with open("dtypes.safetensors", "wb") as fh:
        fh.write(raw_file(data_order, metadata, header_order))
    with open("dtypes_expect.json", "w") as fh:
        json.dump({"metadata": metadata, "tensors": expect}, fh, indent=1, sort_keys=True)
        fh.write("\n")


def write_golden():
    # Keep in sync with TestWriteGolden in write_test.go.
    tensors = {
        "b.weight": ([2, 3], [0.5, -1.25, 3.0, 0.1, -0.0, 1e-8]),
        "a.bias": ([3], [1.0, 2.0, 3.0]),
        "scalar": ([], [7.0]),
        "empty": ([0], []),
        "z": ([1, 1, 2], [3.4028234663852886e38, 1.401298464324817e-45]),
    }
    entries = [(n, "F32", tensors[n][0], np.array(tensors[n][1], dtype="<f4").tobytes())
               for n in sorted(tensors)]
    metadata = {"format": "pt", "config": '{"d_model":32,"note":"<&>"}'}
    with open("write_golden.safetensors", "wb") as fh:
        fh.write(raw_file(entries, metadata))


if __name__ == "__main__":
    dtypes()
    write_golden()
