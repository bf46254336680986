"""PyTorch counterpart of train.BenchmarkAdamW.

Times one torch.optim.AdamW step (lr 1e-4, betas (0.9, 0.999), eps 1e-8,
weight decay 0.01; the default implementation for CPU tensors) over the
tensors of one NeoBERT-base block (7.1M float32 parameters) on two CPU
threads, and prints the median over several runs in ns per parameter.

Run with Debian's interpreter (python3-torch):
    /usr/bin/python3 tools/bench_adamw_torch.py [--runs 20]
The Go side:
    go test ./train -run '^$' -bench 'AdamW$' -benchtime 20x
"""
import argparse
import os

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

SIZES = [768 * 2304, 768 * 768, 768 * 4096, 2048 * 768, 768, 768]  # train.BenchmarkAdamW


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(1)
    params = [torch.nn.Parameter(torch.randn(n)) for n in SIZES]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    opt.step()  # the state exists from here on, as in Go's timed steps
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        opt.step()
        times.append(time.perf_counter() - start)
    total = sum(SIZES)
    med = statistics.median(times)
    print(f"torch {torch.__version__}, 2 threads: AdamW step over {total} parameters: "
          f"median {med * 1e3:.1f} ms ({med * 1e9 / total:.2f} ns/param), best {min(times) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
