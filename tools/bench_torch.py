"""Training-step throughput of the PyTorch FD-CMDIE reference (for comparison with the Go code).

One step = training-mode forward (random dropout, p = 0.1) + total loss (MAE + 0.1 * contrastive
with random bank partners) + backward + AdamW (lr 1e-4, wd 0.01 on tensors with >= 2 dims, SPEC 8),
on a fixed random batch, 2 threads.

  /usr/bin/python3 tools/bench_torch.py --preset paper [--steps 5] [--warmup 1]
  /usr/bin/python3 tools/bench_torch.py --preset small [--d-model 32 --batch 16 ...]

Presets (any flag below overrides a preset value):
  paper: d_model 128, heads 4, layers 3, precomputed 768-d text features, batch 32,
         L_t 50, L_a 375, L_v 500, audio 5-d, vision 20-d, k_cl 10
  small: the embedded default run of cmd/fdcmdie: d_model 32, heads 4, layers 2, small NeoBERT text
         encoder (hidden 64, 2 layers, 2 heads, intermediate 128, vocab 280), batch 32, L_t 34, L_a 50,
         L_v 50, audio 5-d, vision 20-d, k_cl 10
Flags: --d-model --heads --layers --batch --lt --la --lv --audio-dim --vision-dim --k-cl
       --text feats|neobert|bert --text-dim (feature width for feats)
       --nb-hidden --nb-layers --nb-heads --nb-intermediate --nb-vocab (NeoBERT/BERT encoder sizes)
Prints one line: preset, sizes, seconds per step and samples/s.
"""

import os

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fdcmdie_ref as R  # noqa: E402

PRESETS = {
    "paper": dict(d_model=128, heads=4, layers=3, batch=32, lt=50, la=375, lv=500, audio_dim=5, vision_dim=20,
                  k_cl=10, text="feats", text_dim=768, nb_hidden=32, nb_layers=2, nb_heads=2,
                  nb_intermediate=96, nb_vocab=30522),
    # The embedded default run of cmd/fdcmdie (train/bench_test.go "small").
    "small": dict(d_model=32, heads=4, layers=2, batch=32, lt=34, la=50, lv=50, audio_dim=5, vision_dim=20,
                  k_cl=10, text="neobert", text_dim=768, nb_hidden=64, nb_layers=2, nb_heads=2,
                  nb_intermediate=128, nb_vocab=280),
}


def make_optimizer(model):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                             lr=1e-4, betas=(0.9, 0.999), eps=1e-8)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="small", choices=sorted(PRESETS))
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--seed", type=int, default=1111)
    p.add_argument("--text", choices=("feats", "neobert", "bert"))
    for name in ("d-model", "heads", "layers", "batch", "lt", "la", "lv", "audio-dim", "vision-dim", "k-cl",
                 "text-dim", "nb-hidden", "nb-layers", "nb-heads", "nb-intermediate", "nb-vocab"):
        p.add_argument(f"--{name}", type=int)
    a = p.parse_args(argv)
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
    model = R.build_model(cfg, torch.float32, seed=a.seed).train()
    batch = R.random_batch(cfg, s["batch"], s["lt"], s["la"], s["lv"], s["k_cl"], seed=a.seed)
    opt = make_optimizer(model)

    def step():
        opt.zero_grad(set_to_none=True)
        out = model(batch)
        loss = R.total_loss(model, out, batch)["loss"]
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t0) / a.steps
    sizes = " ".join(f"{k}={v}" for k, v in s.items())
    print(f"torch {torch.__version__} threads=2 preset={a.preset} {sizes}: "
          f"{dt:.4f} s/step, {s['batch'] / dt:.1f} samples/s")


if __name__ == "__main__":
    main()
