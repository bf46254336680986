"""Go/PyTorch speed ratio on one machine, from one run, row by row.

    /usr/bin/python3 tools/speed_ratio.py [--rows small,paper,...] [--steps 5] [--rounds 1] [--go-test BIN]
        [--python PY]

Rows (--rows, a comma list; default all, in this order):
  small, paper                 training step on one dense batch of 32: Go BenchmarkTrainStep/<preset> vs
                               tools/bench_torch.py --preset <preset>
  small-padded, paper-padded   training step cycling through 8 right-padded batches of 32: Go
                               BenchmarkTrainStep/<preset>-padded (each batch cut to a length bucket) vs
                               bench_torch.py --padded (each batch cut to its longest sample)
  small-infer, paper-infer     inference on one dense batch of 32: Go BenchmarkPredict/<preset> vs
                               bench_torch.py --mode infer

For each row the Go benchmark runs first, then PyTorch, with --steps timed steps each, and again --rounds
times in all, alternating, so that a machine whose speed drifts (shared CPUs) slows both sides alike:
  go test -run '^$' -bench '^<Benchmark>$/^<sub>$' -benchtime <steps>x -count 1 ./train/
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 tools/bench_torch.py --preset <preset> --steps <steps> [...]
(PyTorch on 2 threads). On a machine without Go, --go-test names a test binary built elsewhere with
`go test -c -o BIN ./train/`, run in train/ as `BIN -test.run '^$' -test.bench ... -test.benchtime <steps>x
-test.count 1`; --python names the interpreter that has torch (default /usr/bin/python3). To compare on two
cores of a larger machine, run the whole script under `taskset -c A,B` (Go then takes GOMAXPROCS 2).
Go's samples/s is the mean over its timed steps (one benchmark run, B * N / wall
time; -count 1, as -count n would rebuild the model and rerun the warm-up n times); PyTorch's is from its
median step (its min and max are on its result line). Each command is printed as it runs, with its result
line; then a header line (date, Go and torch versions, torch threads), a line naming PyTorch's BLAS
library and its rate on a 1024^3 product (tools/torchblas.py; with a warning when it is a reference BLAS or
runs at under a quarter of Go's sgemm rate, which makes every ratio meaningless) and the table: samples/s
of both, the ratio Go/PyTorch (> 1: Go faster), Go's cores (CPU time / wall time), Go's limit-frac on
dense training rows (the share of the GEMM-bound limit: three times the forward pass's product FLOPs per
second over the sgemm rate the same benchmark measures on the model's largest product, in slices between its
steps; both rates in GFLOP/s in brackets), and on padded rows
real-frac of both (the fraction of the padded steps the samples hold; the two draw the same distribution).
With several rounds each figure is the median over them, and the ratio (the median of the rounds' own
ratios) and limit-frac carry their lowest and highest in brackets. Run it on an otherwise idle machine.
"""

import argparse
import datetime
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# row -> (Go benchmark, Go sub-benchmark, bench_torch.py flags)
ROWS = {
    "small": ("BenchmarkTrainStep", "small", ["--preset", "small"]),
    "paper": ("BenchmarkTrainStep", "paper", ["--preset", "paper"]),
    "small-padded": ("BenchmarkTrainStep", "small-padded", ["--preset", "small", "--padded"]),
    "paper-padded": ("BenchmarkTrainStep", "paper-padded", ["--preset", "paper", "--padded"]),
    "small-infer": ("BenchmarkPredict", "small", ["--preset", "small", "--mode", "infer"]),
    "paper-infer": ("BenchmarkPredict", "paper", ["--preset", "paper", "--mode", "infer"]),
}


def run(cmd, env=None, cwd=ROOT):
    """Run cmd in cwd (the repository root) after printing it; its stdout (exits on failure)."""
    shown = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    print(f"$ {shown + ' ' if shown else ''}{shlex.join(cmd)}", flush=True)
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if r.returncode:
        sys.exit(f"speed_ratio: exit status {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout


def go_bench(bench, sub, steps, binary):
    """Metrics (unit -> value) of one Go benchmark run, and the CPU line of its output."""
    if binary:
        out = run([binary, "-test.run", "^$", "-test.bench", f"^{bench}$/^{sub}$", "-test.benchtime", f"{steps}x",
                   "-test.count", "1"], cwd=os.path.join(ROOT, "train"))
    else:
        out = run(["go", "test", "-run", "^$", "-bench", f"^{bench}$/^{sub}$", "-benchtime", f"{steps}x",
                   "-count", "1", "./train/"])
    cpu = re.search(r"^cpu: (.*)$", out, re.M)
    for line in out.splitlines():
        f = line.split()
        if f and f[0].startswith(f"{bench}/{sub}") and "samples/s" in f:
            print(f"  {line.strip()}", flush=True)
            return {unit: float(v) for v, unit in zip(f[2::2], f[3::2])}, cpu and cpu.group(1)
    sys.exit(f"speed_ratio: no samples/s in the Go benchmark output:\n{out}")


def torch_bench(python, flags, steps):
    """samples/s, real-frac (or None), torch version, threads and (BLAS library, its GFLOP/s) (or None) of one
    bench_torch.py run."""
    out = run([python, os.path.join("tools", "bench_torch.py"), *flags, "--steps", str(steps)],
              env={"OMP_WAIT_POLICY": "PASSIVE"})
    m = re.search(r"^torch (\S+) threads=(\d+) .*?([0-9.]+) samples/s", out, re.M)
    if not m:
        sys.exit(f"speed_ratio: no samples/s in bench_torch.py output:\n{out}")
    print(f"  {m.string[m.start():].splitlines()[0]}", flush=True)
    frac = re.search(r"real-frac=([0-9.]+)", out)
    blas = re.search(r"blas=(\S+) blas-GFLOP/s=([0-9.]+)", out)
    blas = blas and (blas.group(1), float(blas.group(2)))
    return float(m.group(3)), frac and float(frac.group(1)), m.group(1), int(m.group(2)), blas


def spread(xs):
    """' [lowest-highest]' of several values, or nothing for one."""
    return f" [{min(xs):.2f}-{max(xs):.2f}]" if len(xs) > 1 else ""


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default=",".join(ROWS), help="comma list of rows (default: all)")
    p.add_argument("--steps", type=int, default=5, help="timed steps of each benchmark (default 5)")
    p.add_argument("--rounds", type=int, default=1, help="Go and PyTorch runs of each row, alternating (default 1)")
    p.add_argument("--go-test", default="", help="a test binary of ./train/ to run instead of go test")
    p.add_argument("--python", default="/usr/bin/python3", help="the Python that has torch")
    a = p.parse_args()
    rows = [r.strip() for r in a.rows.split(",") if r.strip()]
    bad = [r for r in rows if r not in ROWS]
    if bad or not rows:
        p.error(f"--rows: unknown {', '.join(bad) or '(none given)'}; rows are {', '.join(ROWS)}")
    if a.steps < 1:
        p.error("--steps must be at least 1")
    if a.rounds < 1:
        p.error("--rounds must be at least 1")
    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    binary = a.go_test and os.path.abspath(a.go_test)
    go_version = f"test binary {a.go_test}"
    if shutil.which("go"):
        go_version = run(["go", "version", *([binary] if binary else [])]).strip()
    table, cpu, blas, peaks = [], None, [], []
    for row in rows:
        bench, sub, flags = ROWS[row]
        gos, pts = [], []
        for _ in range(a.rounds):
            go, cpu = go_bench(bench, sub, a.steps, binary)
            pt, pt_frac, torch_version, threads, b = torch_bench(a.python, flags, a.steps)
            if b:
                blas.append(b)
            gos.append(go)
            pts.append(pt)
        med = statistics.median
        ratios = [g["samples/s"] / pt for g, pt in zip(gos, pts)]
        cores = f"{med(g['cores'] for g in gos):.2f}" if "cores" in go else "-"
        frac = f"{go['real-frac']:.3f} / {pt_frac:.3f}" if "--padded" in flags else "-"
        limit = "-"
        if "limit-frac" in go:
            fr = [g["limit-frac"] for g in gos]
            limit = (f"{med(fr):.2f}{spread(fr)} ({med(g['GFLOP/s'] for g in gos):.0f} / "
                     f"{med(g['peak-GFLOP/s'] for g in gos):.0f})")
            peaks += [g["peak-GFLOP/s"] for g in gos]
        table.append(f"| {row} | {med(g['samples/s'] for g in gos):.2f} | {med(pts):.2f} | "
                     f"{med(ratios):.2f}{spread(ratios)} | {cores} | {limit} | {frac} |")
    rounds = f", {a.rounds} rounds" if a.rounds > 1 else ""
    print(f"\n{date}, {go_version}, torch {torch_version} threads={threads}, {a.steps} steps{rounds}, "
          f"{len(os.sched_getaffinity(0))} of {os.cpu_count()} CPUs, {cpu or 'CPU unknown'}")
    if blas:
        rates = sorted(r for _, r in blas)
        lib, rate = blas[0][0], rates[len(rates) // 2]
        print(f"PyTorch's BLAS: {lib}, {rate:.0f} GFLOP/s on a 1024^3 product (median over rows)"
              + (f"; Go's sgemm {max(peaks):.0f} GFLOP/s on the model's largest product" if peaks else ""))
        if lib.startswith("blas/") or (peaks and rate < max(peaks) / 4):
            print("WARNING: PyTorch multiplies on a reference BLAS or at a fraction of this machine's rate: its "
                  "times, and the ratios below, say little. On Debian, install libopenblas0-pthread (or "
                  "libopenblas-dev) and run again.")
    print("| row | Go samples/s | PyTorch samples/s | Go/PyTorch | Go cores | Go limit-frac | real-frac Go / PyTorch |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(table))


if __name__ == "__main__":
    main()
