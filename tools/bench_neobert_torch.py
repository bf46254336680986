"""PyTorch counterpart of layers.BenchmarkNeoBERTForward and BenchmarkNeoBERTTrain.

Times one evaluation forward pass of a NeoBERT-base-shaped encoder
(hidden 768, 28 blocks, 12 heads, intermediate 3072 -> SwiGLU width 2048,
vocab 30522, random weights, float32) on 8 sentences of 50 tokens (mask of
all ones), on two CPU threads, and prints the best and median of several
runs and the samples/s of the median.

With --backward it times a fine-tuning step's forward + backward instead:
cost = sum(last * R) for a fixed random R [8, 50, 768], loss.backward() to
every parameter (the embedding table included, dense gradient), gradients
set to None before each run, no optimizer step. NeoBERT has no dropout, so
train mode changes nothing here.

With --padded the 8 sentences hold 7, 12, 15, 9, 5, 11, 14 and 8 real tokens of
50 (as CMU-MOSI's texts under NeoBERT's tokenizer: 5-15), the rest padding
(mask 0), and the batch is cut to its longest sentence (15) before the
forward, as a trimming trainer does (exact: the cut tokens are masked); the
cost reads real tokens only. Go's counterpart is the padded sub-benchmark,
which keeps the 50-token shape and skips padding inside its kernels.

The result line ends with the BLAS library torch runs on and its rate on a
1024^3 product (tools/torchblas.py): a reference BLAS shows there.

Run with Debian's interpreter (python3-torch):
    /usr/bin/python3 tools/bench_neobert_torch.py [--runs 5] [--backward] [--padded]
The Go side:
    go test ./layers -run '^$' -bench NeoBERTForward -benchtime 2x
    go test ./layers -run '^$' -bench 'NeoBERTTrain/dense' -benchtime 2x
    go test ./layers -run '^$' -bench 'NeoBERTTrain/padded' -benchtime 2x
"""
import argparse
import os

# Before torch is imported: idle OpenMP threads sleep instead of spinning,
# which matters on a shared 2-core machine.
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchblas  # noqa: E402

H, LAYERS, HEADS, INTER, VOCAB = 768, 28, 12, 3072, 30522
FFN = 8 * ((2 * INTER // 3 + 7) // 8)
B, L = 8, 50
PADDED_LENGTHS = [7, 12, 15, 9, 5, 11, 14, 8]  # layers.neobertPaddedLengths


def rms_norm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_tables(length, dh, theta=10000.0):
    i = torch.arange(0, dh, 2, dtype=torch.float64)
    a = torch.arange(length, dtype=torch.float64)[:, None] * theta ** (-i / dh)
    return torch.cos(a).float(), torch.sin(a).float()


def rope(x, cos, sin):
    """Interleaved pairs (2i, 2i+1) of x [B, L, heads, dh]."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


def forward(p, ids, mask):
    dh = H // HEADS
    b, n = ids.shape
    cos, sin = rope_tables(n, dh)
    bias = (1.0 - mask)[:, None, None, :] * -1e9
    x = p["embed"][ids]
    for blk in p["blocks"]:
        qkv = F.linear(rms_norm(x, blk["attention_norm"]), blk["qkv"]).view(b, n, HEADS, 3 * dh)
        q, k, v = qkv.split(dh, dim=-1)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        s = q @ k.transpose(-1, -2) / math.sqrt(dh) + bias
        a = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, n, H)
        x = x + F.linear(a, blk["wo"])
        u = F.linear(rms_norm(x, blk["ffn_norm"]), blk["w12"])
        g, val = u.chunk(2, dim=-1)
        x = x + F.linear(F.silu(g) * val, blk["w3"])
    return rms_norm(x, p["layer_norm"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--backward", action="store_true",
                    help="time forward + backward of a scalar cost (fine-tuning) instead of forward only")
    ap.add_argument("--padded", action="store_true",
                    help="sentences of 5-15 real tokens of 50, the batch cut to its longest")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)

    def u(*shape):
        return torch.empty(*shape).uniform_(-0.02, 0.02)

    p = {
        "embed": u(VOCAB, H),
        "layer_norm": torch.ones(H),
        "blocks": [
            {"attention_norm": torch.ones(H), "qkv": u(3 * H, H), "wo": u(H, H),
             "ffn_norm": torch.ones(H), "w12": u(2 * FFN, H), "w3": u(H, FFN)}
            for _ in range(LAYERS)
        ],
    }
    params = [p["embed"], p["layer_norm"]] + [t for blk in p["blocks"] for t in blk.values()]
    ids = torch.randint(1, VOCAB, (B, L))
    mask = torch.ones(B, L)
    r = torch.randn(B, L, H)
    if args.padded:
        mask = (torch.arange(L)[None, :] < torch.tensor(PADDED_LENGTHS)[:, None]).float()
        n = max(PADDED_LENGTHS)
        ids, mask, r = (ids * mask.long())[:, :n], mask[:, :n], (r * mask[..., None])[:, :n]

    if args.backward:
        for t in params:
            t.requires_grad_(True)

        def step():
            for t in params:
                t.grad = None
            loss = (forward(p, ids, mask) * r).sum()
            loss.backward()

        mode = "forward + backward"
    else:
        def step():
            with torch.no_grad():
                forward(p, ids, mask)

        mode = "forward"
    times = []
    step()  # warm-up
    for _ in range(args.runs):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    if args.padded:
        mode += f" (padded: {sum(PADDED_LENGTHS)} real tokens, cut to {max(PADDED_LENGTHS)})"
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}: NeoBERT-base {mode} {B}x{L} tokens: "
          f"best {min(times) * 1e3:.1f} ms, median {med * 1e3:.1f} ms over {args.runs} runs, "
          f"{B / med:.2f} samples/s, {torchblas.describe()}")


if __name__ == "__main__":
    main()
