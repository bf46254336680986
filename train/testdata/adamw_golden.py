#!/usr/bin/python3
"""Generate adamw_golden.json: torch.optim.AdamW on small float32 tensors.

Two parameter groups as SPEC §8 sets them up: "w" (2-D, 3×4) with weight
decay, "b" (1-D, 4) and "tiny" (1-D, 3, gradients near eps so the place
where eps enters matters) with weight_decay=0. Three steps with fixed
gradients; the script records parameters after steps 1 and 3 and the
moments after step 3, for the SPEC defaults and for a config with large
steps.

Run from the package directory:  /usr/bin/python3 testdata/adamw_golden.py
Needs Debian's python3-torch and python3-numpy.
"""
import json
import os

import numpy as np
import torch

CONFIGS = {
    "spec_defaults": dict(lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
    "large_steps": dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
}
SHAPES = {"w": (3, 4), "b": (4,), "tiny": (3,)}
DECAY = {"w": True, "b": False, "tiny": False}
STEPS = 3


def floats(t):
    return [float(x) for x in t.detach().numpy().astype(np.float32).reshape(-1)]


def run(cfg, init, grads):
    params = {n: torch.tensor(init[n], dtype=torch.float32).reshape(SHAPES[n]).requires_grad_(True) for n in SHAPES}
    groups = [
        {"params": [params[n] for n in SHAPES if DECAY[n]], "weight_decay": cfg["weight_decay"]},
        {"params": [params[n] for n in SHAPES if not DECAY[n]], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=cfg["lr"], betas=cfg["betas"], eps=cfg["eps"], foreach=False)
    after = {}
    for step in range(STEPS):
        for n, p in params.items():
            p.grad = torch.tensor(grads[step][n], dtype=torch.float32).reshape(SHAPES[n])
        opt.step()
        if step + 1 in (1, STEPS):
            after[str(step + 1)] = {n: floats(p) for n, p in params.items()}
    state = {}
    for n, p in params.items():
        s = opt.state[p]
        state[n] = {"step": int(s["step"].item()), "exp_avg": floats(s["exp_avg"]), "exp_avg_sq": floats(s["exp_avg_sq"])}
    return after, state


def main():
    rng = np.random.default_rng(8)
    init = {n: rng.normal(0, 1, int(np.prod(s))).astype(np.float32) for n, s in SHAPES.items()}
    grads = []
    for _ in range(STEPS):
        g = {n: rng.normal(0, 0.5, int(np.prod(s))).astype(np.float32) for n, s in SHAPES.items()}
        g["tiny"] = (rng.normal(0, 1, 3) * 1e-8).astype(np.float32)
        grads.append(g)
    out = {
        "shapes": {n: list(s) for n, s in SHAPES.items()},
        "decay": DECAY,
        "init": {n: [float(x) for x in v] for n, v in init.items()},
        "grads": [{n: [float(x) for x in v] for n, v in g.items()} for g in grads],
        "configs": {},
    }
    for name, cfg in CONFIGS.items():
        after, state = run(cfg, init, grads)
        out["configs"][name] = {
            "lr": cfg["lr"], "beta1": cfg["betas"][0], "beta2": cfg["betas"][1],
            "eps": cfg["eps"], "weight_decay": cfg["weight_decay"],
            "after": after, "state": state,
        }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "adamw_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
