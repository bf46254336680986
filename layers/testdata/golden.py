"""Golden values for the layers tests, computed with PyTorch.

Run from the repository root with Debian's interpreter:
    /usr/bin/python3 layers/testdata/golden.py > layers/testdata/golden.json
Each case stores its inputs, parameters (PyTorch names and layouts) and the
outputs PyTorch computes in float64.
"""
import json
import math

import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def mha(q_in, kv_in, mask, heads, p):
    """Multi-head attention with biased q/k/v/o, head-major, additive -1e9 key mask."""
    B, Tq, d = q_in.shape
    Tk = kv_in.shape[1]
    dh = d // heads
    q = q_in @ p["q.weight"].T + p["q.bias"]
    k = kv_in @ p["k.weight"].T + p["k.bias"]
    v = kv_in @ p["v.weight"].T + p["v.bias"]
    q = q.view(B, Tq, heads, dh).transpose(1, 2)
    k = k.view(B, Tk, heads, dh).transpose(1, 2)
    v = v.view(B, Tk, heads, dh).transpose(1, 2)
    s = q @ k.transpose(-1, -2) / math.sqrt(dh)
    if mask is not None:
        s = s + (1 - mask)[:, None, None, :] * -1e9
    a = torch.softmax(s, dim=-1) @ v
    a = a.transpose(1, 2).reshape(B, Tq, d)
    return a @ p["o.weight"].T + p["o.bias"]


cases = {}

# Multi-head attention: query length 3, key length 7, one padded key row and
# one sample whose keys are all padding.
B, Tq, Tk, d, heads = 3, 3, 7, 8, 2
p = {f"{n}.{w}": torch.randn(d, d) * 0.5 if w == "weight" else torch.randn(d) * 0.1
     for n in "qkvo" for w in ("weight", "bias")}
xq, xkv = torch.randn(B, Tq, d), torch.randn(B, Tk, d)
mask = torch.ones(B, Tk)
mask[0, 5:] = 0
mask[2, :] = 0
cases["mha"] = {"B": B, "Tq": Tq, "Tk": Tk, "d": d, "heads": heads,
                "params": {k: flat(v) for k, v in p.items()},
                "query": flat(xq), "kv": flat(xkv), "mask": flat(mask),
                "out": flat(mha(xq, xkv, mask, heads, p))}

# 2-layer LSTM, PyTorch nn.LSTM(batch_first=True), eval mode.
B, T, I, H = 2, 5, 3, 4
lstm = torch.nn.LSTM(I, H, num_layers=2, batch_first=True)
x = torch.randn(B, T, I)
out, _ = lstm(x)
cases["lstm"] = {"B": B, "T": T, "in": I, "hidden": H,
                 "params": {k: flat(v) for k, v in lstm.state_dict().items()},
                 "x": flat(x), "out": flat(out)}

# LayerNorm (eps 1e-5) with random affine parameters.
ln = torch.nn.LayerNorm(6, eps=1e-5)
with torch.no_grad():
    ln.weight.copy_(torch.randn(6))
    ln.bias.copy_(torch.randn(6))
x = torch.randn(2, 3, 6) * 3 + 1
cases["layernorm"] = {"params": {k: flat(v) for k, v in ln.state_dict().items()},
                      "x": flat(x), "out": flat(ln(x))}

# Softmax with a key mask, including a fully masked row, in float32 as the model runs.
s = (torch.randn(2, 3, 5) * 10).float()
m = torch.tensor([[1, 1, 0, 1, 0], [0, 0, 0, 0, 0]], dtype=torch.float32)
cases["softmax"] = {"x": flat(s), "mask": flat(m),
                    "out": flat(torch.softmax(s + (1 - m)[:, None, :] * -1e9, dim=-1))}

print(json.dumps(cases))
