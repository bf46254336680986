"""Go/PyTorch training-step speed ratio on one machine, from one run.

    /usr/bin/python3 tools/speed_ratio.py [--preset small|paper|all] [--steps 3]

Runs the Go benchmark (go test -bench BenchmarkTrainStep/<preset> ./train/, forward + backward +
AdamW on a batch of 32) and tools/bench_torch.py with the same preset (PyTorch 2 threads,
OMP_WAIT_POLICY=PASSIVE), then prints samples/s of both and the ratio Go/PyTorch (> 1: Go faster).
Run it on an otherwise idle machine.
"""

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def go_samples_per_s(preset, steps):
    cmd = ["go", "test", "-run", "^$", "-bench", f"BenchmarkTrainStep/{preset}$", "-benchtime", f"{steps}x", "./train/"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    m = re.search(r"([0-9.]+) samples/s", out)
    if not m:
        sys.exit(f"speed_ratio: no samples/s in the Go benchmark output:\n{out}")
    return float(m.group(1))


def torch_samples_per_s(preset, steps):
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "tools", "bench_torch.py"), "--preset", preset, "--steps", str(steps)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, env=env).stdout
    m = re.search(r"([0-9.]+) samples/s", out)
    if not m:
        sys.exit(f"speed_ratio: no samples/s in bench_torch.py output:\n{out}")
    return float(m.group(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="all", choices=("small", "paper", "all"))
    p.add_argument("--steps", type=int, default=3)
    a = p.parse_args()
    for preset in (("small", "paper") if a.preset == "all" else (a.preset,)):
        go = go_samples_per_s(preset, a.steps)
        pt = torch_samples_per_s(preset, a.steps)
        print(f"{preset}: Go {go:.2f} samples/s, PyTorch {pt:.2f} samples/s, ratio Go/PyTorch {go / pt:.2f}")


if __name__ == "__main__":
    main()
