"""Step throughput of the PyTorch FD-CMDIE reference (for comparison with the Go code).

--mode train (default): one step = training-mode forward (random dropout, p = 0.1) + total loss (MAE +
0.1 * contrastive, every partner slot filled) + backward + AdamW (lr 1e-4, wd 0.01 on tensors with >= 2
dims, SPEC 8); Go: BenchmarkTrainStep. --mode infer: one step = evaluation-mode forward under
torch.no_grad() (no loss, no optimizer); Go: BenchmarkPredict. 2 threads, OMP_WAIT_POLICY=PASSIVE.

Batches: one fixed random batch with all-ones masks (Go: BenchmarkTrainStep/<preset>,
BenchmarkPredict/<preset>), or with --padded eight right-padded batches that the steps cycle through
(Go: BenchmarkTrainStep/<preset>-padded, same distribution, other numbers): per sample one
u = min(1, exp(mu + 0.5 z)), z ~ N(0, 1), mu = ln(0.3) - 0.125, and ceil(u * L) real steps (at least 1)
in every modality, the rest zeros with mask 0. Each padded batch is cut, before the forward, to its
longest real length per modality (the trimming PyTorch trainer; exact, the steps cut off are masked in
every sample of the batch).

  /usr/bin/python3 tools/bench_torch.py --preset paper [--steps 5] [--warmup 1] [--padded] [--mode infer]
  /usr/bin/python3 tools/bench_torch.py --preset small [--d-model 32 --batch 16 ...]

Presets (any flag below overrides a preset value):
  paper: d_model 128, heads 4, layers 3, precomputed 768-d text features, batch 32,
         L_t 50, L_a 375, L_v 500, audio 5-d, vision 20-d, k_cl 10
  small: the embedded default run of cmd/fdcmdie: d_model 32, heads 4, layers 2, small NeoBERT text
         encoder (hidden 64, 2 layers, 2 heads, intermediate 128, vocab 280), batch 32, L_t 34, L_a 50,
         L_v 50, audio 5-d, vision 20-d, k_cl 10
Flags: --mode train|infer --padded --steps (timed) --warmup (untimed steps first; both cycle through the
       padded batches from the first) --seed (weights, batches, padded lengths)
       --d-model --heads --layers --batch --lt --la --lv --audio-dim --vision-dim --k-cl
       --text feats|neobert|bert --text-dim (feature width for feats)
       --nb-hidden --nb-layers --nb-heads --nb-intermediate --nb-vocab (NeoBERT/BERT encoder sizes)
Prints one line: torch version, threads, preset, mode, sizes, the median seconds per step and samples/s
from it, then median=, min=, max= (seconds per step over the timed steps) and steps=; with --padded also
real-frac (the fraction of the padded steps, L_t + L_a + L_v, that the samples hold, mean over the 8
batches: Go's real-frac) and run-frac (the fraction that the cut batches run); last blas= and
blas-GFLOP/s= (tools/torchblas.py: the BLAS library torch runs on and its rate on a 1024^3 product).
"""

import os

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fdcmdie_ref as R  # noqa: E402
import torchblas  # noqa: E402

PRESETS = {
    "paper": dict(d_model=128, heads=4, layers=3, batch=32, lt=50, la=375, lv=500, audio_dim=5, vision_dim=20,
                  k_cl=10, text="feats", text_dim=768, nb_hidden=32, nb_layers=2, nb_heads=2,
                  nb_intermediate=96, nb_vocab=30522),
    # The embedded default run of cmd/fdcmdie (train/bench_test.go "small").
    "small": dict(d_model=32, heads=4, layers=2, batch=32, lt=34, la=50, lv=50, audio_dim=5, vision_dim=20,
                  k_cl=10, text="neobert", text_dim=768, nb_hidden=64, nb_layers=2, nb_heads=2,
                  nb_intermediate=128, nb_vocab=280),
}

PADDED_BATCHES = 8
# Fraction u of the padded length that a padded sample holds: log-normal, mean 0.3, log-sd 0.5, capped at 1.
U_MEAN, U_SD = 0.3, 0.5
# (mask, inputs) per modality, in the cut order.
CUT = (("text_mask", ("text_ids", "text_feats")), ("audio_mask", ("audio",)), ("vision_mask", ("vision",)))


def make_optimizer(model):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                             lr=1e-4, betas=(0.9, 0.999), eps=1e-8)


def make_batch(s, g, u):
    """Random batch of the padded shape of s with every partner slot filled; sample i holds
    max(1, ceil(u[i] * L)) real steps of every modality, the rest is zeros with mask 0."""
    B, k, d = s["batch"], s["k_cl"], s["d_model"]

    def mask(L):
        real = np.maximum(1, np.ceil(u * L))
        return (np.arange(L)[None, :] < real[:, None]).astype(np.float32)

    b = {"text_mask": mask(s["lt"]), "audio_mask": mask(s["la"]), "vision_mask": mask(s["lv"])}
    if s["text"] == "feats":
        b["text_feats"] = g.standard_normal((B, s["lt"], s["text_dim"])) * b["text_mask"][..., None]
    else:
        b["text_ids"] = g.integers(1, s["nb_vocab"], size=(B, s["lt"])) * b["text_mask"]
    b["audio"] = g.standard_normal((B, s["la"], s["audio_dim"])) * b["audio_mask"][..., None]
    b["vision"] = g.standard_normal((B, s["lv"], s["vision_dim"])) * b["vision_mask"][..., None]
    b["label"] = g.uniform(-3, 3, size=B)
    b["sim_mask"] = np.ones((B, k))
    b["diff_mask"] = np.ones((B, k))
    for m in R.MODALITIES:
        b[f"sim_{m}"] = g.standard_normal((B, k, d))
        b[f"diff_{m}"] = g.standard_normal((B, k, d))
    return {key: torch.tensor(v, dtype=torch.float32) for key, v in b.items()}


def cut(b):
    """b cut on the time axis to its longest real length per modality."""
    out = dict(b)
    for mask, inputs in CUT:
        n = int(b[mask].sum(1).max())
        for key in (mask,) + inputs:
            if key in out:
                out[key] = out[key][:, :n].contiguous()
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="small", choices=sorted(PRESETS))
    p.add_argument("--mode", default="train", choices=("train", "infer"))
    p.add_argument("--padded", action="store_true")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--seed", type=int, default=1111)
    p.add_argument("--text", choices=("feats", "neobert", "bert"))
    for name in ("d-model", "heads", "layers", "batch", "lt", "la", "lv", "audio-dim", "vision-dim", "k-cl",
                 "text-dim", "nb-hidden", "nb-layers", "nb-heads", "nb-intermediate", "nb-vocab"):
        p.add_argument(f"--{name}", type=int)
    a = p.parse_args(argv)
    if a.steps < 1:
        p.error("--steps must be at least 1")
    s = dict(PRESETS[a.preset])
    for k in s:
        v = getattr(a, k, None)
        if v is not None:
            s[k] = v
    torch.set_num_threads(2)
    cfg = {"d_model": s["d_model"], "heads": s["heads"], "layers": s["layers"], "dropout": 0.1,
           "audio_dim": s["audio_dim"], "vision_dim": s["vision_dim"], "text_feats": s["text"] == "feats",
           "text_dim": s["text_dim"], "text_encoder": "bert" if s["text"] == "bert" else "neobert",
           "neobert": {"hidden_size": s["nb_hidden"], "num_hidden_layers": s["nb_layers"],
                       "num_attention_heads": s["nb_heads"], "intermediate_size": s["nb_intermediate"],
                       "vocab_size": s["nb_vocab"], "norm_eps": 1e-5, "max_length": max(512, s["lt"])},
           "k_cl": s["k_cl"]}
    model = R.build_model(cfg, torch.float32, seed=a.seed)
    g = np.random.default_rng(a.seed)
    B, padded_len = s["batch"], s["lt"] + s["la"] + s["lv"]
    if a.padded:
        mu = np.log(U_MEAN) - U_SD ** 2 / 2
        full = [make_batch(s, g, np.minimum(1.0, np.exp(mu + U_SD * g.standard_normal(B))))
                for _ in range(PADDED_BATCHES)]
        batches = [cut(b) for b in full]
        real_frac = np.mean([sum(b[mask].sum().item() for mask, _ in CUT) / (B * padded_len) for b in full])
        run_frac = np.mean([sum(b[mask].shape[1] for mask, _ in CUT) / padded_len for b in batches])
    else:
        batches = [make_batch(s, g, np.ones(B))]

    if a.mode == "train":
        model.train()
        opt = make_optimizer(model)

        def step(batch):
            opt.zero_grad(set_to_none=True)
            out = model(batch)
            loss = R.total_loss(model, out, batch)["loss"]
            loss.backward()
            opt.step()
            return loss.item()
    else:
        model.eval()

        def step(batch):
            with torch.no_grad():
                return model(batch)["pred"]

    for i in range(a.warmup):
        step(batches[i % len(batches)])
    times = []
    for i in range(a.steps):
        t0 = time.perf_counter()
        step(batches[i % len(batches)])
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    sizes = " ".join(f"{k}={v}" for k, v in s.items())
    fracs = f" real-frac={real_frac:.3f} run-frac={run_frac:.3f}" if a.padded else ""
    print(f"torch {torch.__version__} threads={torch.get_num_threads()} preset={a.preset} mode={a.mode} "
          f"padded={int(a.padded)} {sizes}: {med:.4f} s/step, {B / med:.2f} samples/s, "
          f"median={med:.4f} min={min(times):.4f} max={max(times):.4f} steps={a.steps}{fracs} {torchblas.describe()}")


if __name__ == "__main__":
    main()
