"""Golden values for the BERT encoder tests (layers/bert_test.go).

Run from the repository root with Debian's interpreter (python3-torch and
python3-numpy; the transformers package is not needed):
    /usr/bin/python3 layers/testdata/bert_golden.py
It writes, next to this script,
  bert_tiny.config.json     a HF BertConfig-style config.json
  bert_tiny.safetensors     float32 weights named as bert-base-uncased's file
                            ("bert." prefix, embeddings LayerNorm as gamma/beta,
                            pooler, an MLM-head tensor and the int64
                            position_ids buffer, which a loader must skip)
  bert_golden.json          input ids, mask and the outputs of each layer,
                            computed in float64 from the float32 weights.
The forward pass below follows HF BertModel (modeling_bert.py): embeddings
word + token_type(0) + position, LayerNorm; per layer self-attention with the
additive mask (1 - mask) * finfo.min, output dense, residual + LayerNorm,
intermediate dense + exact erf GELU, output dense, residual + LayerNorm.
"""
import json
import math
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIG = {
    "architectures": ["BertModel"],
    "model_type": "bert",
    "vocab_size": 23,
    "hidden_size": 12,
    "num_hidden_layers": 2,
    "num_attention_heads": 3,
    "intermediate_size": 20,
    "hidden_act": "gelu",
    "max_position_embeddings": 10,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
    "initializer_range": 0.02,
    "position_embedding_type": "absolute",
}


def write_safetensors(path, tensors):
    """Minimal safetensors writer: tensors is a list of (name, numpy array)."""
    header, chunks, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, arr in tensors:
        dtype = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[arr.dtype]
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def make_weights(c, g):
    """HF BertModel state_dict names -> float32 numpy arrays (random, non-trivial)."""
    H, I = c["hidden_size"], c["intermediate_size"]

    def randn(*shape, scale=1.0, shift=0.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift).float().numpy()

    w = {
        "embeddings.word_embeddings.weight": randn(c["vocab_size"], H),
        "embeddings.position_embeddings.weight": randn(c["max_position_embeddings"], H, scale=0.5),
        "embeddings.token_type_embeddings.weight": randn(c["type_vocab_size"], H, scale=0.5),
        "embeddings.LayerNorm.weight": randn(H, scale=0.1, shift=1.0),
        "embeddings.LayerNorm.bias": randn(H, scale=0.1),
    }
    for i in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for name, (o, n) in {
            "attention.self.query": (H, H), "attention.self.key": (H, H), "attention.self.value": (H, H),
            "attention.output.dense": (H, H), "intermediate.dense": (I, H), "output.dense": (H, I),
        }.items():
            w[p + name + ".weight"] = randn(o, n, scale=1 / math.sqrt(n))
            w[p + name + ".bias"] = randn(o, scale=0.1)
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[p + name + ".weight"] = randn(H, scale=0.1, shift=1.0)
            w[p + name + ".bias"] = randn(H, scale=0.1)
    return w


def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def bert_forward(c, w, ids, mask):
    """HF BertModel forward in float64; returns the output of every layer."""
    t = {k: torch.from_numpy(v).double() for k, v in w.items()}
    B, L = ids.shape
    H, heads, eps = c["hidden_size"], c["num_attention_heads"], c["layer_norm_eps"]
    dh = H // heads
    x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)]
    x = x + t["embeddings.position_embeddings.weight"][torch.arange(L)][None]
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], eps)
    ext = (1.0 - mask.double())[:, None, None, :] * torch.finfo(torch.float64).min

    def lin(name, v):
        return v @ t[name + ".weight"].T + t[name + ".bias"]

    hidden = []
    for i in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def heads_of(v):
            return v.view(B, L, heads, dh).permute(0, 2, 1, 3)

        q, k, v = (heads_of(lin(p + "attention.self." + n, x)) for n in ("query", "key", "value"))
        s = q @ k.transpose(-1, -2) / math.sqrt(dh) + ext
        a = (torch.softmax(s, dim=-1) @ v).permute(0, 2, 1, 3).reshape(B, L, H)
        x = layer_norm(lin(p + "attention.output.dense", a) + x,
                       t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"], eps)
        h = torch.nn.functional.gelu(lin(p + "intermediate.dense", x))
        x = layer_norm(lin(p + "output.dense", h) + x,
                       t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"], eps)
        hidden.append(x)
    return hidden


def main():
    g = torch.Generator().manual_seed(20261125)
    c = CONFIG
    w = make_weights(c, g)
    lengths = [7, 4, 2]
    L = max(lengths)
    ids = torch.zeros(len(lengths), L, dtype=torch.long)
    mask = torch.zeros(len(lengths), L, dtype=torch.long)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(1, c["vocab_size"], (n,), generator=g)
        mask[b, :n] = 1
    hidden = bert_forward(c, w, ids, mask)

    stored = []
    for name, arr in w.items():
        if name == "embeddings.LayerNorm.weight":
            name = "embeddings.LayerNorm.gamma"
        elif name == "embeddings.LayerNorm.bias":
            name = "embeddings.LayerNorm.beta"
        stored.append(("bert." + name, arr))
    H = c["hidden_size"]
    stored += [
        ("bert.embeddings.position_ids", np.arange(c["max_position_embeddings"], dtype=np.int64)[None]),
        ("bert.pooler.dense.weight", np.ones((H, H), np.float32)),
        ("bert.pooler.dense.bias", np.zeros(H, np.float32)),
        ("cls.predictions.bias", np.zeros(c["vocab_size"], np.float32)),
    ]
    write_safetensors(os.path.join(HERE, "bert_tiny.safetensors"), stored)
    with open(os.path.join(HERE, "bert_tiny.config.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")
    golden = {
        "ids": ids.reshape(-1).tolist(),
        "mask": mask.reshape(-1).tolist(),
        "batch": len(lengths),
        "length": L,
        "hidden": [h.reshape(-1).tolist() for h in hidden],
    }
    with open(os.path.join(HERE, "bert_golden.json"), "w") as f:
        json.dump(golden, f)
        f.write("\n")


if __name__ == "__main__":
    main()
