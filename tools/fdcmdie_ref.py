"""Independent PyTorch reference of the FD-CMDIE model contract (/work/shared/SPEC.md).

Written from SPEC.md alone so that the Go implementation can be checked against it number for number.
Everything runs in float32 or float64: build the model, then ``model.to(torch.float64)`` and feed
float64 inputs (``build_model(cfg, dtype=...)`` does both).

Contents
  * safetensors reader/writer on numpy (read: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL; write: F64 F32 I64)
  * NeoBERT encoder (SPEC 2), HF-style BertModel encoder (SPEC 2, "w/o NeoBERT")
  * FD-CMDIE (SPEC 1-6) whose ``state_dict()`` keys are the SPEC 7 names
  * contrastive loss (SPEC 4), total loss (SPEC 6), sample-set selection in numpy (SPEC 4)
  * ``/usr/bin/python3 tools/fdcmdie_ref.py --selftest [--thorough]`` (about 1 minute on 2 idle
    cores; --thorough adds a finite-difference check of one element of every parameter tensor of
    four 2-layer variants, a few minutes more)

Readings of the SPEC where it leaves room (the Go side must make the same choices):
  R1  Positional tables. RoPE cos/sin and the sinusoidal PE are computed entirely in float64
      (angle, then cos/sin) and rounded once to float32 for a float32 run; a float64 run keeps the
      float64 tables. RoPE: a = p * theta**(-2i/dh); PE: angle = p / 10000**(2i/d).
  R2  Attention scores are (q @ k^T) / sqrt(dh) (a division), then + (1 - M) * (-1e9) on padded
      keys. A fully masked key row therefore stays finite (no NaN): in float32 s - 1e9 rounds to
      -1e9 for |s| < 32, so the row is a uniform average; in float64 it is softmax(s). Such rows do
      not occur with [CLS]-led text and lengths >= 1.
  R3  BERT encoder: sizes come from the config's ``neobert`` block (hidden_size, num_hidden_layers,
      num_attention_heads, intermediate_size, vocab_size, max_length = max_position_embeddings),
      type_vocab_size 2, LayerNorm eps 1e-12 (norm_eps is ignored), no pooler parameters, no
      dropout inside BERT (SPEC 1 does not list it). Embeddings are (word + token_type[0]) +
      position, then LayerNorm, as HF adds them.
  R4  --no-gap merge: ((G_t + G_v) + G_a) / 3.
  R5  NT-Xent: anchors are identities (s_t^i, s_v^i, s_a^i of the batch sample); the denominator of
      positive (alpha, beta) sums exp(cos/tau) over every other valid pair with the same anchor
      (sum over the others, not total minus self). A positive with no other valid pair with its
      anchor contributes 0 (neither -cos/tau nor log). Masked partner slots take no part.
  R6  Scalars (loss, mae, ...) are written as shape [1] tensors by parity_dump.py.
  R7  Dropout masks may be supplied from outside (DropCtx.masks, a dict site -> multiplier tensor
      holding 0 or 1/(1-p), same shape as the dropped tensor). Sites (module path + tag):
        audio_lstm.drop, vision_lstm.drop                       [B, L, d]  (between the LSTM layers)
        shared_enc.drop.{t,v,a}, private_enc.{t,v,a}.drop       [B, L_m, d]
        cmdie.{l}.dipu.{m}.drop.{g1,x1,g2,x2,g3,x3}             [B, 3|L_m, d] (attention outputs)
        cmdie.{l}.dipu.{m}.ffn.drop.{g,x}                       [B, 3|L_m, 4d] (after the FFN ReLU)
        head.drop                                               [B, d]
      With masks present they are applied whatever the module mode; without them dropout is
      torch's random dropout in training mode and the identity in eval mode.
"""

import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

NEG_MASK = -1e9
MODALITIES = ("t", "v", "a")

# ----------------------------------------------------------------------------- safetensors

_ST_READ = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"), "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_ST_WRITE = {np.dtype("float64"): "F64", np.dtype("float32"): "F32", np.dtype("int64"): "I64"}


def st_read(path):
    """Read a safetensors file. Returns (dict name -> numpy array, metadata dict)."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 8:
        raise ValueError(f"safetensors: {path}: file shorter than 8 bytes")
    (hlen,) = struct.unpack("<Q", raw[:8])
    if 8 + hlen > len(raw):
        raise ValueError(f"safetensors: {path}: header length {hlen} past end of file")
    header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    meta = header.pop("__metadata__", None) or {}
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        buf = raw[base + start:base + end]
        shape = tuple(info["shape"])
        dt = info["dtype"]
        if dt == "BF16":
            bits = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        elif dt in _ST_READ:
            arr = np.frombuffer(buf, dtype=_ST_READ[dt])
        else:
            raise ValueError(f"safetensors: {path}: {name}: unsupported dtype {dt}")
        n = int(np.prod(shape)) if shape else 1
        if arr.size != n:
            raise ValueError(f"safetensors: {path}: {name}: {arr.size} elements for shape {shape}")
        out[name] = arr.reshape(shape).copy()
    return out, meta


def st_write(path, tensors, metadata=None):
    """Write a dict name -> numpy array (float64, float32 or int64) as safetensors."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    off = 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        if arr.dtype not in _ST_WRITE:
            raise ValueError(f"safetensors: {path}: {name}: cannot write dtype {arr.dtype}")
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _ST_WRITE[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(hjson)))
        fh.write(hjson)
        for b in blobs:
            fh.write(b)


# ----------------------------------------------------------------------------- positional tables

_TABLE_CACHE = {}


def _as_dtype(table64, dtype):
    # R1: float64 computation, one rounding to the run dtype.
    return torch.from_numpy(table64.astype(np.float32 if dtype == torch.float32 else np.float64))


def rope_tables(length, dh, theta, dtype):
    """cos, sin tables [length, dh/2] for interleaved RoPE: a = p * theta**(-2i/dh)."""
    key = ("rope", length, dh, float(theta), dtype)
    if key not in _TABLE_CACHE:
        p = np.arange(length, dtype=np.float64)[:, None]
        i = np.arange(dh // 2, dtype=np.float64)[None, :]
        ang = p * np.power(float(theta), -2.0 * i / dh)
        _TABLE_CACHE[key] = (_as_dtype(np.cos(ang), dtype), _as_dtype(np.sin(ang), dtype))
    return _TABLE_CACHE[key]


def sinusoidal_pe(length, d, dtype):
    """PE[p, 2i] = sin(p / 10000**(2i/d)), PE[p, 2i+1] = cos(...); [length, d]."""
    key = ("pe", length, d, dtype)
    if key not in _TABLE_CACHE:
        p = np.arange(length, dtype=np.float64)[:, None]
        i = np.arange((d + 1) // 2, dtype=np.float64)[None, :]
        ang = p / np.power(10000.0, 2.0 * i / d)
        pe = np.zeros((length, d), dtype=np.float64)
        pe[:, 0::2] = np.sin(ang)[:, : (d + 1) // 2]
        pe[:, 1::2] = np.cos(ang)[:, : d // 2]
        _TABLE_CACHE[key] = _as_dtype(pe, dtype)
    return _TABLE_CACHE[key]


def key_mask_bias(mask):
    """[B, Lk] 1/0 mask -> additive bias [B, 1, 1, Lk]: 0 for real keys, -1e9 for padding (R2)."""
    return ((1.0 - mask) * NEG_MASK)[:, None, None, :]


def pool(x, mask):
    """Masked mean over time: sum_t M_t X_t / max(sum_t M_t, 1). x [B, L, d], mask [B, L]."""
    num = (x * mask[..., None]).sum(1)
    den = mask.sum(1).clamp_min(1.0)
    return num / den[:, None]


# ----------------------------------------------------------------------------- dropout with external masks

class DropCtx:
    """Shared dropout state. masks: None, or dict site -> multiplier tensor (R7).
    record: None, or a dict that receives every mask drawn in training mode (so they can be replayed)."""

    def __init__(self):
        self.masks = None
        self.record = None


class Drop(nn.Module):
    """Dropout whose mask can come from DropCtx (site = module path, set by FDCMDIE)."""

    def __init__(self, p, ctx):
        super().__init__()
        self.p = float(p)
        self.site = None
        self.__dict__["ctx"] = ctx  # not a submodule

    def forward(self, x, tag=None):
        site = self.site if tag is None else f"{self.site}.{tag}"
        ctx = self.ctx
        if ctx.masks is not None:
            if site not in ctx.masks:
                raise KeyError(f"dropout mask for site {site!r} missing")
            m = ctx.masks[site]
            if tuple(m.shape) != tuple(x.shape):
                raise ValueError(f"dropout mask {site}: shape {tuple(m.shape)} != {tuple(x.shape)}")
            return x * m.to(x.dtype)
        if not self.training or self.p == 0.0:
            return x
        if ctx.record is not None:
            keep = (torch.rand(x.shape, dtype=torch.float64) >= self.p).to(x.dtype)
            m = keep / (1.0 - self.p)
            ctx.record[site] = m.detach().clone()
            return x * m
        return F.dropout(x, self.p, True)


# ----------------------------------------------------------------------------- NeoBERT (SPEC 2)

def swiglu_hidden(intermediate):
    """F = 8 * ceil(int(2 * intermediate / 3) / 8)."""
    return 8 * ((int(2 * intermediate / 3) + 7) // 8)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class SwiGLU(nn.Module):
    def __init__(self, hidden, intermediate):
        super().__init__()
        self.f = swiglu_hidden(intermediate)
        self.w12 = nn.Linear(hidden, 2 * self.f, bias=False)
        self.w3 = nn.Linear(self.f, hidden, bias=False)

    def forward(self, x):
        u = self.w12(x)
        return self.w3(F.silu(u[..., : self.f]) * u[..., self.f:])


class NeoBERTBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.theta = c.get("rope_theta", 10000.0)
        self.attention_norm = RMSNorm(h, c["norm_eps"])
        self.qkv = nn.Linear(h, 3 * h, bias=False)
        self.wo = nn.Linear(h, h, bias=False)
        self.ffn_norm = RMSNorm(h, c["norm_eps"])
        self.ffn = SwiGLU(h, c["intermediate_size"])

    def attn(self, x, bias):
        B, L, H = x.shape
        nh = self.heads
        dh = H // nh
        qkv = self.qkv(x).view(B, L, nh, 3 * dh)              # per-head [q|k|v] chunks
        q, k, v = qkv[..., :dh], qkv[..., dh:2 * dh], qkv[..., 2 * dh:]
        cos, sin = rope_tables(L, dh, self.theta, x.dtype)
        cos, sin = cos[None, :, None, :], sin[None, :, None, :]

        def rope(t):                                           # interleaved pairs (2i, 2i+1)
            t = t.reshape(B, L, nh, dh // 2, 2)
            x0, x1 = t[..., 0], t[..., 1]
            return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), -1).reshape(B, L, nh, dh)

        q, k = rope(q).transpose(1, 2), rope(k).transpose(1, 2)  # (B, nh, L, dh)
        v = v.transpose(1, 2)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(dh) + bias
        o = torch.softmax(s, -1) @ v                            # (B, nh, L, dh)
        return self.wo(o.transpose(1, 2).reshape(B, L, H))

    def forward(self, x, bias):
        x = x + self.attn(self.attention_norm(x), bias)
        return x + self.ffn(self.ffn_norm(x))


class NeoBERT(nn.Module):
    """NeoBERT encoder; state_dict names = released names without the "model." prefix."""

    def __init__(self, c):
        super().__init__()
        self.encoder = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.transformer_encoder = nn.ModuleList([NeoBERTBlock(c) for _ in range(c["num_hidden_layers"])])
        self.layer_norm = RMSNorm(c["hidden_size"], c["norm_eps"])
        for m in self.modules():                              # official init
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.uniform_(m.weight, -0.02, 0.02)

    def forward(self, ids, mask, hidden_states=None):
        x = self.encoder(ids)
        bias = key_mask_bias(mask.to(x.dtype))
        for blk in self.transformer_encoder:
            x = blk(x, bias)
            if hidden_states is not None:
                hidden_states.append(x)
        return self.layer_norm(x)


def neobert_state_from_release(tensors):
    """Released checkpoint names -> NeoBERT module names (drop "model.", drop decoder.*)."""
    return {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}


# ----------------------------------------------------------------------------- BERT (SPEC 2, R3)

class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], h)
        self.position_embeddings = nn.Embedding(c["max_length"], h)
        self.token_type_embeddings = nn.Embedding(2, h)
        self.LayerNorm = nn.LayerNorm(h, eps=1e-12)

    def forward(self, ids):
        L = ids.shape[1]
        if L > self.position_embeddings.num_embeddings:
            raise ValueError(f"bert: sequence length {L} > max_length {self.position_embeddings.num_embeddings}")
        x = self.word_embeddings(ids) + self.token_type_embeddings.weight[0]
        x = x + self.position_embeddings.weight[:L]
        return self.LayerNorm(x)


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)

    def forward(self, x, bias):
        B, L, H = x.shape
        nh, dh = self.heads, H // self.heads
        q = self.query(x).view(B, L, nh, dh).transpose(1, 2)
        k = self.key(x).view(B, L, nh, dh).transpose(1, 2)
        v = self.value(x).view(B, L, nh, dh).transpose(1, 2)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(dh) + bias
        return (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, L, H)


class BertDenseNorm(nn.Module):
    """LayerNorm(dense(h) + inp), post-LN: HF's BertSelfOutput (n_in = hidden)
    and BertOutput (n_in = intermediate), with their parameter names."""

    def __init__(self, n_in, c):
        super().__init__()
        self.dense = nn.Linear(n_in, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=1e-12)

    def forward(self, h, inp):
        return self.LayerNorm(self.dense(h) + inp)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        setattr(self, "self", BertSelfAttention(c))
        self.output = BertDenseNorm(c["hidden_size"], c)

    def forward(self, x, bias):
        return self.output(getattr(self, "self")(x, bias), x)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return F.gelu(self.dense(x))                          # erf GELU


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertDenseNorm(c["intermediate_size"], c)

    def forward(self, x, bias):
        a = self.attention(x, bias)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])


class BertModel(nn.Module):
    """HF BertModel without pooler; last_hidden_state is returned."""

    def __init__(self, c):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        for m in self.modules():                              # HF init
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, ids, mask):
        x = self.embeddings(ids)
        bias = key_mask_bias(mask.to(x.dtype))
        for lyr in self.encoder.layer:
            x = lyr(x, bias)
        return x


# ----------------------------------------------------------------------------- FD-CMDIE parts

class SLSTM(nn.LSTM):
    """2-layer unidirectional LSTM, batch_first, hidden d; names weight_ih_l0 ... as nn.LSTM.
    Uses nn.LSTM itself unless dropout masks are supplied or recorded; then a step loop with the
    same equations (gate order i, f, g, o) applies the between-layer mask."""

    def __init__(self, in_dim, d, p, ctx):
        super().__init__(in_dim, d, num_layers=2, batch_first=True, dropout=float(p))
        self.drop = Drop(p, ctx)

    def forward(self, x):
        ctx = self.drop.ctx
        if ctx.masks is None and not (self.training and ctx.record is not None and self.dropout > 0):
            # nn.LSTM's kernel, with the weights fetched by name (not the cached _flat_weights) so
            # that stateless.functional_call (used by the gradcheck) swaps them too.
            h0 = x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)
            weights = [getattr(self, n) for n in self._flat_weights_names]
            out = torch._VF.lstm(x, (h0, h0), weights, True, self.num_layers, float(self.dropout),
                                 self.training, False, True)
            return out[0]
        return self.step_loop(x)

    def step_loop(self, x):
        h_seq = x
        for k in range(self.num_layers):
            if k > 0:
                h_seq = self.drop(h_seq)
            w_ih, w_hh = getattr(self, f"weight_ih_l{k}"), getattr(self, f"weight_hh_l{k}")
            b_ih, b_hh = getattr(self, f"bias_ih_l{k}"), getattr(self, f"bias_hh_l{k}")
            xin = h_seq @ w_ih.t() + b_ih
            B, L, _ = x.shape
            h = x.new_zeros(B, self.hidden_size)
            c = x.new_zeros(B, self.hidden_size)
            outs = []
            for t in range(L):
                gates = xin[:, t] + (h @ w_hh.t() + b_hh)
                i, f, g, o = gates.chunk(4, -1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                outs.append(h)
            h_seq = torch.stack(outs, 1)
        return h_seq


class Enc(nn.Module):
    """Decoupling encoder: Dropout(Tanh(Linear(LN(x))))."""

    def __init__(self, d, p, ctx):
        super().__init__()
        self.norm = nn.LayerNorm(d, eps=1e-5)
        self.linear = nn.Linear(d, d)
        self.drop = Drop(p, ctx)

    def forward(self, x, tag=None):
        return self.drop(torch.tanh(self.linear(self.norm(x))), tag)


class MHA(nn.Module):
    """Multi-head attention, biased q/k/v/o, head-major, scores/sqrt(d/h) + key mask bias."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)

    def forward(self, xq, xkv, kv_mask=None):
        B, Lq, d = xq.shape
        Lk = xkv.shape[1]
        nh = self.heads
        dh = d // nh
        q = self.q(xq).view(B, Lq, nh, dh).transpose(1, 2)     # (B, nh, Lq, dh)
        k = self.k(xkv).view(B, Lk, nh, dh).transpose(1, 2)
        v = self.v(xkv).view(B, Lk, nh, dh).transpose(1, 2)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)          # (B, nh, Lq, Lk)
        if kv_mask is not None:
            s = s + key_mask_bias(kv_mask)
        o = torch.softmax(s, -1) @ v
        return self.o(o.transpose(1, 2).reshape(B, Lq, d))


class FFN(nn.Module):
    def __init__(self, d, p, ctx):
        super().__init__()
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)
        self.drop = Drop(p, ctx)

    def forward(self, x, tag):
        return self.fc2(self.drop(torch.relu(self.fc1(x)), tag))


class DIPU(nn.Module):
    """SPEC 5 DIPU; MHA_c (cross) and MHA_s (self) each shared by both directions."""

    def __init__(self, d, heads, p, ctx, crossatt2):
        super().__init__()
        self.crossatt2 = crossatt2
        names = ["g0", "x0", "g1", "x1", "g2", "x2"] + (["g3", "x3"] if crossatt2 else [])
        for n in names:
            setattr(self, f"norm_{n}", nn.LayerNorm(d, eps=1e-5))
        self.cross = MHA(d, heads)
        setattr(self, "self", MHA(d, heads))
        self.ffn = FFN(d, p, ctx)
        self.drop = Drop(p, ctx)

    def forward(self, G, X, M):
        mha_s = getattr(self, "self")
        Gh = self.norm_g0(G + sinusoidal_pe(G.shape[1], G.shape[2], G.dtype))
        Xh = self.norm_x0(X + sinusoidal_pe(X.shape[1], X.shape[2], X.dtype))
        G1 = self.norm_g1(Gh + self.drop(self.cross(Gh, Xh, M), "g1"))
        X1 = self.norm_x1(Xh + self.drop(self.cross(Xh, Gh), "x1"))
        G2 = self.norm_g2(G1 + self.drop(mha_s(G1, G1), "g2"))
        X2 = self.norm_x2(X1 + self.drop(mha_s(X1, X1, M), "x2"))
        if self.crossatt2:                                     # eq. 21-22: kv are the PE'd inputs
            G3 = self.norm_g3(G2 + self.drop(self.cross(G2, Xh, M), "g3"))
            X3 = self.norm_x3(X2 + self.drop(self.cross(X2, Gh), "x3"))
        else:
            G3, X3 = G2, X2
        return G3 + self.ffn(G3, "g"), X3 + self.ffn(X3, "x")


class TwoLayer(nn.Module):
    """fc2(act(fc1(x))), 3d -> d -> 1: GAP's gates (act relu) and its score (act tanh)."""

    def __init__(self, d, act):
        super().__init__()
        self.fc1 = nn.Linear(3 * d, d)
        self.fc2 = nn.Linear(d, 1)
        self.act = act

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class GAP(nn.Module):
    """SPEC 5 GAP: per-modality LN, sigmoid gate on the normalized feature, shared score, softmax."""

    def __init__(self, d):
        super().__init__()
        self.norm = nn.ModuleDict({m: nn.LayerNorm(d, eps=1e-5) for m in MODALITIES})
        self.gate = nn.ModuleDict({m: TwoLayer(d, torch.relu) for m in MODALITIES})
        self.score = TwoLayer(d, torch.tanh)

    def forward(self, Gs):
        gated, scores = [], []
        for m, G in zip(MODALITIES, Gs):
            N = self.norm[m](G)                                      # [B, 3, d]
            g = torch.sigmoid(self.gate[m](N.flatten(1)))            # [B, 1]
            Gp = g[:, :, None] * N                                    # eq. 26
            gated.append(Gp)
            scores.append(self.score(Gp.flatten(1)))                 # [B, 1]
        alpha = torch.softmax(torch.cat(scores, 1), 1)               # [B, 3]
        out = alpha[:, 0, None, None] * gated[0]
        out = out + alpha[:, 1, None, None] * gated[1]
        out = out + alpha[:, 2, None, None] * gated[2]
        return out, alpha


class CMDIELayer(nn.Module):
    def __init__(self, d, heads, p, ctx, crossatt2, use_gap):
        super().__init__()
        self.dipu = nn.ModuleDict({m: DIPU(d, heads, p, ctx, crossatt2) for m in MODALITIES})
        if use_gap:
            self.gap = GAP(d)

    def forward(self, G, X, M):
        Gs, Xn = [], {}
        for m in MODALITIES:
            Gm, Xn[m] = self.dipu[m](G, X[m], M[m])
            Gs.append(Gm)
        if hasattr(self, "gap"):
            Gn, alpha = self.gap(Gs)
        else:
            Gn, alpha = ((Gs[0] + Gs[1]) + Gs[2]) / 3.0, None   # R4
        return Gn, Xn, alpha


class Head(nn.Module):
    def __init__(self, d, p, ctx):
        super().__init__()
        self.fc1 = nn.Linear(6 * d, d)
        self.fc2 = nn.Linear(d, 1)
        self.drop = Drop(p, ctx)

    def forward(self, z):
        return self.fc2(self.drop(torch.relu(self.fc1(z))))[:, 0]


# ----------------------------------------------------------------------------- config and model

NEOBERT_RELEASED = {"hidden_size": 768, "num_hidden_layers": 28, "num_attention_heads": 12,
                    "intermediate_size": 3072, "vocab_size": 30522, "norm_eps": 1e-5, "max_length": 4096}


def default_config():
    """SPEC 7 config with SPEC defaults."""
    return {
        "d_model": 128, "heads": 4, "layers": 3, "dropout": 0.1,
        "audio_dim": 5, "vision_dim": 20, "text_feats": False, "text_dim": 768,
        "text_encoder": "neobert", "neobert": dict(NEOBERT_RELEASED),
        "no_gap": False, "no_crossatt2": False, "no_cmdie": False, "no_cl": False,
        "tau": 0.5, "margin": 0.5, "lambda_tri": 0.1, "lambda_cl": 0.1, "k_cl": 10,
    }


def merge_config(cfg):
    out = default_config()
    for k, v in (cfg or {}).items():
        if k == "neobert" and isinstance(v, dict):
            out["neobert"] = dict(out["neobert"], **v)
        else:
            out[k] = v
    return out


class FDCMDIE(nn.Module):
    """FD-CMDIE (SPEC 1-6); state_dict keys are the SPEC 7 names."""

    def __init__(self, cfg):
        super().__init__()
        cfg = merge_config(cfg)
        self.cfg = cfg
        d, h, p = cfg["d_model"], cfg["heads"], cfg["dropout"]
        if d % h:
            raise ValueError(f"config: d_model {d} not divisible by heads {h}")
        self.dctx = DropCtx()
        ctx = self.dctx
        if cfg["text_feats"]:
            text_dim = cfg["text_dim"]
        else:
            nb = cfg["neobert"]
            if cfg["text_encoder"] == "neobert":
                self.text_encoder = NeoBERT(nb)
            elif cfg["text_encoder"] == "bert":
                self.text_encoder = BertModel(nb)
            else:
                raise ValueError(f"config: text_encoder {cfg['text_encoder']!r}")
            text_dim = nb["hidden_size"]
        self.text_proj = nn.Linear(text_dim, d)
        self.audio_lstm = SLSTM(cfg["audio_dim"], d, p, ctx)
        self.vision_lstm = SLSTM(cfg["vision_dim"], d, p, ctx)
        self.shared_enc = Enc(d, p, ctx)
        self.private_enc = nn.ModuleDict({m: Enc(d, p, ctx) for m in MODALITIES})
        if not cfg["no_cmdie"]:
            self.cmdie = nn.ModuleList([
                CMDIELayer(d, h, p, ctx, not cfg["no_crossatt2"], not cfg["no_gap"])
                for _ in range(cfg["layers"])])
        self.head = Head(d, p, ctx)
        for name, mod in self.named_modules():
            if isinstance(mod, Drop):
                mod.site = name

    def forward(self, batch):
        """batch: dict of tensors (see SPEC 1). Returns a dict with pred [B], pooled s_*, d_*, f_*
        [B, d], r [B, 3d] and alpha (list of [B, 3] per layer, or None entries under no_gap)."""
        cfg = self.cfg
        dt = self.text_proj.weight.dtype
        M = {"t": batch["text_mask"].to(dt), "a": batch["audio_mask"].to(dt), "v": batch["vision_mask"].to(dt)}
        if cfg["text_feats"]:
            ft_raw = batch["text_feats"].to(dt)
        else:
            ft_raw = self.text_encoder(batch["text_ids"].long(), M["t"])
        Fm = {"t": self.text_proj(ft_raw),
              "v": self.vision_lstm(batch["vision"].to(dt)),
              "a": self.audio_lstm(batch["audio"].to(dt))}
        out = {}
        S, D = {}, {}
        for m in MODALITIES:
            S[m] = self.shared_enc(Fm[m], m)
            D[m] = self.private_enc[m](Fm[m])
            out[f"s_{m}"] = pool(S[m], M[m])
            out[f"d_{m}"] = pool(D[m], M[m])
            out[f"f_{m}"] = pool(Fm[m], M[m])
        out["r"] = torch.cat([out["f_t"], out["f_v"], out["f_a"]], 1)
        out["alpha"] = []
        if cfg["no_cmdie"]:
            z = torch.cat([out[k] for k in ("s_t", "s_v", "s_a", "d_t", "d_v", "d_a")], 1)
        else:
            G = torch.stack([out["s_t"], out["s_v"], out["s_a"]], 1)  # [B, 3, d]
            X = dict(D)
            for layer in self.cmdie:
                G, X, alpha = layer(G, X, M)
                out["alpha"].append(alpha)
            z = torch.cat([G.flatten(1)] + [pool(X[m], M[m]) for m in MODALITIES], 1)
        out["pred"] = self.head(z)
        return out


def build_model(cfg, dtype=torch.float32, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    return FDCMDIE(cfg).to(dtype)


# ----------------------------------------------------------------------------- losses (SPEC 4, 6)

def cos_sim(a, b):
    """a.b / (max(|a|, 1e-8) * max(|b|, 1e-8)) over the last axis (broadcasting)."""
    na = torch.sqrt((a * a).sum(-1)).clamp_min(1e-8)
    nb = torch.sqrt((b * b).sum(-1)).clamp_min(1e-8)
    return (a * b).sum(-1) / (na * nb)


def _nt_anchor(c, valid, is_pos, tau):
    """c, valid [B, C] cosines and 0/1 slot validity of all pairs of one anchor; is_pos [C] bool.
    Returns sum over valid positives of -c/tau + log(sum over the other valid pairs exp(c/tau))."""
    C = c.shape[1]
    e = torch.exp(c / tau) * valid                                     # [B, C]
    others = (1.0 - torch.eye(C, dtype=c.dtype))[is_pos]               # [P, C]
    den = (e[:, None, :] * others[None]).sum(-1)                       # [B, P]
    cnt = (valid[:, None, :] * others[None]).sum(-1)                   # [B, P]
    has = cnt > 0
    den_safe = torch.where(has, den, torch.ones_like(den))
    term = -c[:, is_pos] / tau + torch.log(den_safe)
    w = valid[:, is_pos] * has.to(c.dtype)
    return (w * term).sum(-1)


def contrastive_loss(s, dvec, sim, sim_mask, diff, diff_mask, tau=0.5, margin=0.5, lambda_tri=0.1):
    """SPEC 4. s, dvec: dicts m -> [B, d] (s_m, d_m); sim, diff: dicts m -> [B, k, d] partner
    similarity features; sim_mask, diff_mask [B, k] (1 = slot filled). k may be 0.
    Returns dict l_cl, l_nt (mean), l_tri (mean), nt [B], tri [B]."""
    B = s["t"].shape[0]
    dtp = s["t"].dtype
    one = s["t"].new_ones(B, 1)
    nt = s["t"].new_zeros(B)
    for m in MODALITIES:
        cs, vs, pos = [], [], []
        if m == "t":                                                   # (s_t, s_v), (s_t, s_a)
            cs += [cos_sim(s["t"], s["v"])[:, None], cos_sim(s["t"], s["a"])[:, None]]
            vs += [one, one]
            pos += [True, True]
        ks = sim[m].shape[1]
        cs.append(cos_sim(s[m][:, None, :], sim[m]))
        vs.append(sim_mask.to(dtp))
        pos += [True] * ks
        if m == "t":                                                   # (s_t, d_t), (s_t, d_v), (s_t, d_a)
            cs += [cos_sim(s["t"], dvec[n])[:, None] for n in MODALITIES]
            vs += [one, one, one]
            pos += [False] * 3
        kd = diff[m].shape[1]
        cs.append(cos_sim(s[m][:, None, :], diff[m]))
        vs.append(diff_mask.to(dtp))
        pos += [False] * kd
        if not any(pos):
            continue
        nt = nt + _nt_anchor(torch.cat(cs, 1), torch.cat(vs, 1), torch.tensor(pos), tau)
    tri = s["t"].new_zeros(B)
    for pm in ("v", "a"):
        cp = cos_sim(s["t"], s[pm])
        for nm in MODALITIES:
            cn = cos_sim(s["t"], dvec[nm])
            tri = tri + torch.relu((1.0 - cp) - (1.0 - cn) + margin)
    l_nt, l_tri = nt.mean(), tri.mean()
    return {"l_cl": l_nt + lambda_tri * l_tri, "l_nt": l_nt, "l_tri": l_tri, "nt": nt, "tri": tri}


def total_loss(model, out, batch):
    """SPEC 6: L = mean|y - y_hat| + lambda_cl * L_cl (lambda_cl = 0 and no L_cl under no_cl)."""
    cfg = model.cfg
    y = batch["label"].to(out["pred"].dtype)
    mae = (y - out["pred"]).abs().mean()
    res = {"mae": mae}
    if cfg["no_cl"]:
        res["l_cl"] = mae.new_zeros(())
        res["l_nt"] = mae.new_zeros(())
        res["l_tri"] = mae.new_zeros(())
        res["loss"] = mae
        return res
    dt = mae.dtype
    s = {m: out[f"s_{m}"] for m in MODALITIES}
    dv = {m: out[f"d_{m}"] for m in MODALITIES}
    B, d = s["t"].shape
    sim = {m: batch.get(f"sim_{m}", torch.zeros(B, 0, d)).to(dt) for m in MODALITIES}
    diff = {m: batch.get(f"diff_{m}", torch.zeros(B, 0, d)).to(dt) for m in MODALITIES}
    sm = batch.get("sim_mask", torch.zeros(B, sim["t"].shape[1])).to(dt)
    dm = batch.get("diff_mask", torch.zeros(B, diff["t"].shape[1])).to(dt)
    cl = contrastive_loss(s, dv, sim, sm, diff, dm, cfg["tau"], cfg["margin"], cfg["lambda_tri"])
    res.update(l_cl=cl["l_cl"], l_nt=cl["l_nt"], l_tri=cl["l_tri"])
    res["loss"] = mae + cfg["lambda_cl"] * cl["l_cl"]
    return res


# ----------------------------------------------------------------------------- sample sets (numpy)

def label_class(y):
    """round_half_even(clip(y, -3, 3)) as int (7 classes -3..3)."""
    return np.rint(np.clip(np.asarray(y, dtype=np.float64), -3.0, 3.0)).astype(np.int64)


def select_sample_sets(r, labels, k_cl, chunk=1024):
    """SPEC 4 sample sets. r [N, 3d] retrieval vectors, labels [N].
    Returns sim_idx, diff_idx [N, k_cl] int64 (-1 = empty slot) and sim_mask, diff_mask [N, k_cl].
    similar: same class, j != i, highest float64 cosine first; different: other class, lowest first;
    ties to the lower index."""
    r = np.asarray(r, dtype=np.float64)
    cls = label_class(labels)
    N = r.shape[0]
    nrm = np.maximum(np.sqrt((r * r).sum(1)), 1e-8)
    idx = np.arange(N)
    sim_idx = -np.ones((N, k_cl), dtype=np.int64)
    diff_idx = -np.ones((N, k_cl), dtype=np.int64)
    for s0 in range(0, N, chunk):
        rows = np.arange(s0, min(N, s0 + chunk))
        cosm = (r[rows] @ r.T) / (nrm[rows, None] * nrm[None, :])
        for a, i in enumerate(rows):
            same = (cls == cls[i]) & (idx != i)
            cand = idx[same]
            order = np.lexsort((cand, -cosm[a, cand]))[:k_cl]
            sim_idx[i, :len(order)] = cand[order]
            cand = idx[cls != cls[i]]
            order = np.lexsort((cand, cosm[a, cand]))[:k_cl]
            diff_idx[i, :len(order)] = cand[order]
    return sim_idx, diff_idx, (sim_idx >= 0).astype(np.float32), (diff_idx >= 0).astype(np.float32)


def gather_partners(bank_s, idx):
    """bank_s: dict m -> [N, d] stored similarity features; idx [B, k] (-1 = empty).
    Returns dict m -> [B, k, d] with zeros in empty slots."""
    out = {}
    safe = np.where(idx >= 0, idx, 0)
    for m, arr in bank_s.items():
        g = np.asarray(arr)[safe]
        g[idx < 0] = 0
        out[m] = g
    return out


# ----------------------------------------------------------------------------- self-test

def expected_param_names(cfg):
    """SPEC 7 name list, generated from the SPEC's patterns (independent of the module tree)."""
    cfg = merge_config(cfg)
    names = []
    if not cfg["text_feats"]:
        nb = cfg["neobert"]
        if cfg["text_encoder"] == "neobert":
            names.append("text_encoder.encoder.weight")
            for i in range(nb["num_hidden_layers"]):
                p = f"text_encoder.transformer_encoder.{i}."
                names += [p + "attention_norm.weight", p + "ffn_norm.weight", p + "qkv.weight",
                          p + "wo.weight", p + "ffn.w12.weight", p + "ffn.w3.weight"]
            names.append("text_encoder.layer_norm.weight")
        else:
            e = "text_encoder.embeddings."
            names += [e + "word_embeddings.weight", e + "position_embeddings.weight",
                      e + "token_type_embeddings.weight", e + "LayerNorm.weight", e + "LayerNorm.bias"]
            for i in range(nb["num_hidden_layers"]):
                p = f"text_encoder.encoder.layer.{i}."
                for sub in ("attention.self.query", "attention.self.key", "attention.self.value",
                            "attention.output.dense", "attention.output.LayerNorm",
                            "intermediate.dense", "output.dense", "output.LayerNorm"):
                    names += [p + sub + ".weight", p + sub + ".bias"]
    wb = (".weight", ".bias")
    names += ["text_proj" + s for s in wb]
    for mod in ("audio_lstm", "vision_lstm"):
        for k in (0, 1):
            names += [f"{mod}.{w}_l{k}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    names += ["shared_enc.norm" + s for s in wb] + ["shared_enc.linear" + s for s in wb]
    for m in MODALITIES:
        names += [f"private_enc.{m}.norm" + s for s in wb] + [f"private_enc.{m}.linear" + s for s in wb]
    if not cfg["no_cmdie"]:
        norms = ["g0", "x0", "g1", "x1", "g2", "x2"] + ([] if cfg["no_crossatt2"] else ["g3", "x3"])
        for l in range(cfg["layers"]):
            for m in MODALITIES:
                p = f"cmdie.{l}.dipu.{m}."
                names += [p + f"norm_{n}" + s for n in norms for s in wb]
                names += [p + f"{a}.{q}" + s for a in ("cross", "self") for q in "qkvo" for s in wb]
                names += [p + f"ffn.{f}" + s for f in ("fc1", "fc2") for s in wb]
            if not cfg["no_gap"]:
                p = f"cmdie.{l}.gap."
                names += [p + f"norm.{m}" + s for m in MODALITIES for s in wb]
                names += [p + f"gate.{m}.{f}" + s for m in MODALITIES for f in ("fc1", "fc2") for s in wb]
                names += [p + f"score.{f}" + s for f in ("fc1", "fc2") for s in wb]
    names += ["head.fc1" + s for s in wb] + ["head.fc2" + s for s in wb]
    return names


def random_batch(cfg, B, Lt, La, Lv, k_cl, seed, dtype=torch.float32, empty_rows=True):
    """Random right-padded batch for cfg (ids or features), with partners and masks."""
    cfg = merge_config(cfg)
    g = np.random.default_rng(seed)
    d = cfg["d_model"]

    def mask(L):
        lens = g.integers(1, L + 1, size=B)
        lens[0] = L
        return (np.arange(L)[None, :] < lens[:, None]).astype(np.float64)

    b = {"text_mask": mask(Lt), "audio_mask": mask(La), "vision_mask": mask(Lv)}
    if cfg["text_feats"]:
        b["text_feats"] = g.standard_normal((B, Lt, cfg["text_dim"])) * b["text_mask"][..., None]
    else:
        V = cfg["neobert"]["vocab_size"]
        ids = g.integers(3, V, size=(B, Lt)).astype(np.float64)
        ids[:, 0] = 1
        lens = b["text_mask"].sum(1).astype(int)
        for i in range(B):
            if lens[i] > 1:
                ids[i, lens[i] - 1] = 2
        b["text_ids"] = ids * b["text_mask"]
    b["audio"] = g.standard_normal((B, La, cfg["audio_dim"])) * b["audio_mask"][..., None]
    b["vision"] = g.standard_normal((B, Lv, cfg["vision_dim"])) * b["vision_mask"][..., None]
    b["label"] = np.round(g.uniform(-3, 3, size=B) * 2) / 2
    sm = (g.uniform(size=(B, k_cl)) < 0.8).astype(np.float64)
    dm = (g.uniform(size=(B, k_cl)) < 0.8).astype(np.float64)
    if empty_rows and B >= 3 and k_cl >= 1:
        sm[1], dm[1] = 0, 0                   # no partners at all
        sm[2], dm[2] = 0, 0
        sm[2, 0] = 1                          # one similar, no different: v/a positives have empty denominators
    b["sim_mask"], b["diff_mask"] = sm, dm
    for m in MODALITIES:
        b[f"sim_{m}"] = g.standard_normal((B, k_cl, d)) * sm[..., None]
        b[f"diff_{m}"] = g.standard_normal((B, k_cl, d)) * dm[..., None]
    return {k: torch.tensor(v, dtype=dtype) for k, v in b.items()}


def _loop_contrastive(s, dv, sim, sm, diff, dm, tau, margin, lambda_tri):
    """Pair-list version of SPEC 4 in plain Python float64 (independent of the vectorized one)."""
    def c(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        return float(a @ b) / (max(np.linalg.norm(a), 1e-8) * max(np.linalg.norm(b), 1e-8))

    B = s["t"].shape[0]
    nts, tris = [], []
    for i in range(B):
        P, N = [], []                                         # (anchor id, cos)
        P += [("t", c(s["t"][i], s["v"][i])), ("t", c(s["t"][i], s["a"][i]))]
        for j in range(sm.shape[1]):
            if sm[i, j]:
                P += [(m, c(s[m][i], sim[m][i, j])) for m in MODALITIES]
        N += [("t", c(s["t"][i], dv[m][i])) for m in MODALITIES]
        for j in range(dm.shape[1]):
            if dm[i, j]:
                N += [(m, c(s[m][i], diff[m][i, j])) for m in MODALITIES]
        allp = P + N
        tot = 0.0
        for pi, (anc, cp) in enumerate(P):
            den = [math.exp(cg / tau) for gi, (a2, cg) in enumerate(allp) if a2 == anc and gi != pi]
            if den:
                tot += -cp / tau + math.log(sum(den))
        nts.append(tot)
        tri = 0.0
        for pm in ("v", "a"):
            for nm in MODALITIES:
                tri += max(0.0, (1 - c(s["t"][i], s[pm][i])) - (1 - c(s["t"][i], dv[nm][i])) + margin)
        tris.append(tri)
    return float(np.mean(nts)) + lambda_tri * float(np.mean(tris)), np.array(nts), np.array(tris)


def tiny_config(**kw):
    cfg = {"d_model": 8, "heads": 2, "layers": 2, "dropout": 0.1, "audio_dim": 3, "vision_dim": 4,
           "text_feats": False, "text_dim": 6, "text_encoder": "neobert",
           "neobert": {"hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "intermediate_size": 12, "vocab_size": 11, "norm_eps": 1e-5, "max_length": 16},
           "k_cl": 2}
    cfg.update(kw)
    return merge_config(cfg)


def selftest(fixtures="/work/shared/fixtures", thorough=False):
    import os
    import time
    from torch.nn.utils.stateless import functional_call

    ok = True

    def report(name, passed, detail):
        nonlocal ok
        ok &= bool(passed)
        print(f"[{'PASS' if passed else 'FAIL'}] {name}: {detail}")

    # 1. NeoBERT fixture
    wpath = os.path.join(fixtures, "neobert_tiny.safetensors")
    if os.path.exists(wpath):
        c = json.load(open(os.path.join(fixtures, "neobert_tiny.config.json")))
        nbc = {k: c[k] for k in NEOBERT_RELEASED}
        w, _ = st_read(wpath)
        exp, meta = st_read(os.path.join(fixtures, "neobert_tiny.expected.safetensors"))
        for dtype in (torch.float32, torch.float64):
            net = NeoBERT(nbc).to(dtype)
            net.load_state_dict({k: torch.from_numpy(v).to(dtype) for k, v in neobert_state_from_release(w).items()})
            hs = []
            with torch.no_grad():
                y = net(torch.from_numpy(exp["input_ids"]), torch.from_numpy(exp["attention_mask"]), hs)
            for name, got in [("last_hidden_state", y)] + [(f"hidden_states.{i}", h) for i, h in enumerate(hs)]:
                e = torch.from_numpy(exp[name]).double()
                g64 = got.double()
                rel_max = ((g64 - e).abs().max() / e.abs().max()).item()
                rel_fro = ((g64 - e).norm() / e.norm()).item()
                report(f"neobert fixture {name} {str(dtype)[6:]}", rel_max <= 1e-4 and rel_fro <= 1e-4,
                       f"max|d|/max|e| = {rel_max:.3e}, ||d||/||e|| = {rel_fro:.3e}")
        # padding invariance: real tokens do not depend on right padding
        net = NeoBERT(nbc)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in neobert_state_from_release(w).items()})
        ids, am = torch.from_numpy(exp["input_ids"]), torch.from_numpy(exp["attention_mask"])
        with torch.no_grad():
            full = net(ids, am)
            n0 = int(am[0].sum())
            single = net(ids[:1, :n0], am[:1, :n0])
        dmax = (full[0, :n0] - single[0]).abs().max().item()
        report("neobert right-padding invariance", dmax <= 1e-5, f"max|d| = {dmax:.3e}")
    else:
        report("neobert fixture", True, f"skipped, {wpath} absent")

    # 2. parameter names per switch (against the SPEC 7 pattern list)
    base = tiny_config()
    variants = {"default": {}, "no_gap": {"no_gap": True}, "no_crossatt2": {"no_crossatt2": True},
                "no_cmdie": {"no_cmdie": True}, "no_cl": {"no_cl": True}, "text_feats": {"text_feats": True},
                "bert": {"text_encoder": "bert"}}
    keys = {}
    for vn, kw in variants.items():
        cfg = dict(base, **kw)
        m = FDCMDIE(cfg)
        got = list(m.state_dict().keys())
        exp_names = expected_param_names(cfg)
        keys[vn] = set(got)
        report(f"param names {vn}", sorted(got) == sorted(exp_names) and len(got) == len(set(got)),
               f"{len(got)} tensors")
    dflt = keys["default"]
    checks = [
        ("no_cmdie drops exactly cmdie.*", dflt - keys["no_cmdie"] == {k for k in dflt if k.startswith("cmdie.")}
         and keys["no_cmdie"] <= dflt),
        ("no_gap drops exactly cmdie.{l}.gap.*", dflt - keys["no_gap"] == {k for k in dflt if ".gap." in k}
         and keys["no_gap"] <= dflt),
        ("no_crossatt2 drops exactly norm_g3/norm_x3", dflt - keys["no_crossatt2"]
         == {k for k in dflt if ".norm_g3." in k or ".norm_x3." in k} and keys["no_crossatt2"] <= dflt),
        ("text features drop exactly text_encoder.*",
         keys["text_feats"] == {k for k in dflt if not k.startswith("text_encoder.")}),
        ("no_cl keeps the parameter set", keys["no_cl"] == dflt),
    ]
    for n, passed in checks:
        report(n, passed, "")

    # 3. contrastive loss vs pair-list loop
    torch.manual_seed(0)
    rb = random_batch(tiny_config(), 5, 4, 4, 4, 3, seed=3, dtype=torch.float64)
    s = {m: torch.randn(5, 8, dtype=torch.float64) for m in MODALITIES}
    dv = {m: torch.randn(5, 8, dtype=torch.float64) for m in MODALITIES}
    sim = {m: rb[f"sim_{m}"] for m in MODALITIES}
    diff = {m: rb[f"diff_{m}"] for m in MODALITIES}
    cl = contrastive_loss(s, dv, sim, rb["sim_mask"], diff, rb["diff_mask"], 0.5, 0.5, 0.1)
    ref, ref_nt, ref_tri = _loop_contrastive({k: v.numpy() for k, v in s.items()}, {k: v.numpy() for k, v in dv.items()},
                                             {k: v.numpy() for k, v in sim.items()}, rb["sim_mask"].numpy(),
                                             {k: v.numpy() for k, v in diff.items()}, rb["diff_mask"].numpy(), 0.5, 0.5, 0.1)
    dd = max(abs(cl["l_cl"].item() - ref), np.abs(cl["nt"].numpy() - ref_nt).max(), np.abs(cl["tri"].numpy() - ref_tri).max())
    report("contrastive loss vs pair-list loop (f64)", dd <= 1e-12, f"max|d| = {dd:.3e}, L_cl = {ref:.10f}")

    # 4. sample-set selection on a hand-made case
    r = np.array([[1, 0], [1, 0.1], [1, 0.1], [0, 1], [-1, 0], [1, -0.2]], dtype=np.float64)
    y = np.array([0.4, -0.5, 0.49, 1.5, 2.5, 0.0])   # classes 0, -0 (half-even), 0, 2, 2, 0
    si, di, smk, dmk = select_sample_sets(r, y, 2)
    exp_si = np.array([[1, 2], [2, 0], [1, 0], [4, -1], [3, -1], [0, 1]])
    exp_di = np.array([[4, 3], [4, 3], [4, 3], [5, 0], [0, 1], [4, 3]])
    report("sample-set selection (ties to lower index, half-even classes)",
           (si == exp_si).all() and (di == exp_di).all() and (smk == (exp_si >= 0)).all(),
           f"similar={si.tolist()} different={di.tolist()}")

    # 4b. safetensors round trip and the BF16/F16 decoders (hand-made header and bytes)
    import tempfile
    with tempfile.TemporaryDirectory() as td:
        pth = os.path.join(td, "t.safetensors")
        src = {"a": np.arange(6, dtype=np.float32).reshape(2, 3) / 7, "b": np.array([1e-300, -2.5]),
               "c": np.array([[3, -4]], dtype=np.int64), "s": np.zeros((0,), dtype=np.float32)}
        st_write(pth, src, {"config": "{}"})
        back, meta = st_read(pth)
        rt = all(back[k].dtype == v.dtype and np.array_equal(back[k], v) for k, v in src.items()) and meta == {"config": "{}"}
        hdr = json.dumps({"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]},
                          "b": {"dtype": "BF16", "shape": [3], "data_offsets": [4, 10]}}).encode()
        with open(pth, "wb") as fh:
            fh.write(struct.pack("<Q", len(hdr)) + hdr + struct.pack("<5H", 0x3C00, 0xC500, 0x3F80, 0xC000, 0x4049))
        hb, _ = st_read(pth)
        dec = hb["h"].astype(np.float64).tolist() == [1.0, -5.0] and hb["b"].tolist() == [1.0, -2.0, 3.140625]
    report("safetensors round trip + F16/BF16 decode", rt and dec, f"F16 {hb['h'].tolist()}, BF16 {hb['b'].tolist()}")
    bank = {"t": np.arange(12, dtype=np.float32).reshape(4, 3) + 1}
    gp = gather_partners(bank, np.array([[2, -1], [0, 3]]))["t"]
    report("gather_partners (empty slot -> zeros)",
           gp.tolist() == [[[7, 8, 9], [0, 0, 0]], [[1, 2, 3], [10, 11, 12]]], f"{gp.tolist()}")

    # 5. LSTM step loop equals nn.LSTM
    lstm = SLSTM(3, 6, 0.0, DropCtx()).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    dl = max((lstm(x) - lstm.step_loop(x)).abs().max().item(),
             (lstm(x) - nn.LSTM.forward(lstm, x)[0]).abs().max().item())
    report("LSTM step loop == SLSTM == nn.LSTM.forward (f64)", dl <= 1e-12, f"max|d| = {dl:.3e}")

    # 6. eval determinism and float32/float64 agreement
    for tname in ("neobert", "bert", "feats"):
        kw = {"text_feats": True} if tname == "feats" else {"text_encoder": tname}
        cfg = tiny_config(**kw)
        m32 = build_model(cfg, torch.float32, seed=1).eval()
        b32 = random_batch(cfg, 4, 5, 6, 7, 2, seed=2)
        with torch.no_grad():
            o1, o2 = m32(b32), m32(b32)
            l1 = total_loss(m32, o1, b32)["loss"]
        same = torch.equal(o1["pred"], o2["pred"]) and all(torch.equal(a, b) for a, b in zip(o1["alpha"], o2["alpha"]))
        m64 = build_model(cfg, torch.float64, seed=1).eval()
        m64.load_state_dict({k: v.double() for k, v in m32.state_dict().items()})
        b64 = {k: v.double() for k, v in b32.items()}
        with torch.no_grad():
            o64 = m64(b64)
            l64 = total_loss(m64, o64, b64)["loss"]
        dp = (o1["pred"].double() - o64["pred"]).abs().max().item()
        report(f"eval deterministic + f32~f64 ({tname})", same and dp <= 1e-5,
               f"bitwise equal={same}, max|pred32-pred64| = {dp:.2e}, loss32={l1.item():.7f} loss64={l64.item():.7f}")

    # 7. external dropout masks: record in train mode, replay, all-ones masks == eval
    cfg = tiny_config()
    m = build_model(cfg, torch.float64, seed=4).train()
    b = random_batch(cfg, 3, 4, 5, 5, 2, seed=5, dtype=torch.float64)
    m.dctx.record = {}
    torch.manual_seed(9)
    o_rec = m(b)
    masks = m.dctx.record
    m.dctx.record = None
    m.dctx.masks = masks
    o_rep = m.eval()(b)
    m.dctx.masks = {k: torch.ones_like(v) for k, v in masks.items()}
    o_one = m(b)
    m.dctx.masks = None
    o_eval = m(b)
    r1 = (o_rec["pred"] - o_rep["pred"]).abs().max().item()
    r2 = (o_one["pred"] - o_eval["pred"]).abs().max().item()
    r3 = (o_rec["pred"] - o_eval["pred"]).abs().max().item()
    report("dropout mask record/replay", r1 == 0.0 and r2 <= 1e-12 and r3 > 1e-6,
           f"{len(masks)} sites, replay |d|={r1:.1e}, ones-vs-eval |d|={r2:.1e}, train-vs-eval |d|={r3:.2e}")

    # 8. gradcheck (float64) of the full loss wrt every parameter: torch.autograd.gradcheck in full
    # mode on a 1-layer model; on 2-layer ablation variants fast mode (with thorough=True also a
    # central difference on one random element of every parameter tensor).
    for tname, kw, fast in (("neobert, 1 layer", {"layers": 1}, False),
                            ("neobert", {}, True),
                            ("bert+no_gap", {"text_encoder": "bert", "no_gap": True}, True),
                            ("feats+no_crossatt2", {"text_feats": True, "no_crossatt2": True}, True),
                            ("no_cmdie", {"no_cmdie": True}, True)):
        cfg = tiny_config(d_model=4, dropout=0.0, **kw)
        cfg["neobert"] = dict(cfg["neobert"], hidden_size=4, intermediate_size=6, vocab_size=7)
        m = build_model(cfg, torch.float64, seed=6).eval()
        b = random_batch(cfg, 3, 4, 3, 3, 2, seed=7, dtype=torch.float64)
        names = [n for n, _ in m.named_parameters()]
        params = tuple(p.detach().clone().requires_grad_(True) for _, p in m.named_parameters())

        def f(*ps):
            o = functional_call(m, dict(zip(names, ps)), (b,))
            return total_loss(m, o, b)["loss"]

        t0 = time.time()
        passed = torch.autograd.gradcheck(f, params, eps=1e-6, atol=1e-7, rtol=1e-5, fast_mode=fast,
                                          raise_exception=False)
        loss = f(*params)
        grads = torch.autograd.grad(loss, params)
        worst = 0.0
        if fast and thorough:
            gen = torch.Generator().manual_seed(0)
            with torch.no_grad():
                for p, gp in zip(params, grads):
                    j = int(torch.randint(p.numel(), (1,), generator=gen))
                    old = p.view(-1)[j].item()
                    p.view(-1)[j] = old + 1e-6
                    lp = f(*params).item()
                    p.view(-1)[j] = old - 1e-6
                    lm = f(*params).item()
                    p.view(-1)[j] = old
                    an = gp.view(-1)[j].item()
                    worst = max(worst, abs((lp - lm) / 2e-6 - an) / max(1.0, abs(an)))
        n_el = sum(p.numel() for p in params)
        extra = f", max rel|fd-analytic| over one element per tensor = {worst:.2e}" if fast and thorough else ""
        report(f"gradcheck full loss f64 ({tname}, {'fast' if fast else 'full'} mode)", passed and worst <= 1e-6,
               f"{len(params)} tensors / {n_el} scalars, loss={loss.item():.10f}{extra}, {time.time() - t0:.1f}s")

    print("SELFTEST", "OK" if ok else "FAILED")
    return ok


if __name__ == "__main__":
    if "--selftest" in sys.argv[1:]:
        torch.set_num_threads(2)
        sys.exit(0 if selftest(thorough="--thorough" in sys.argv[1:]) else 1)
    print(__doc__)
