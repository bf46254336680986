"""Parity dumps of the PyTorch FD-CMDIE reference (tools/fdcmdie_ref.py) for the Go implementation.

Run with Debian's interpreter: /usr/bin/python3 tools/parity_dump.py ...

  run   --ckpt MODEL.safetensors --batch BATCH.safetensors --out OUT.safetensors [--dtype float32|float64]
        Loads a checkpoint whose __metadata__["config"] is the SPEC 7 config JSON (tensor names = SPEC 7
        names, any float dtype) and a batch file, runs one forward in eval mode (dropout off) and the
        backward of the total loss, and writes OUT with, in the run dtype:
          pred [B]; loss, mae, l_cl, l_nt, l_tri [1] (l_* are 0 under no_cl);
          s_t s_v s_a d_t d_v d_a f_t f_v f_a [B, d] (f_m = pool(F_m, M_m)), r [B, 3d];
          alpha_{l} [B, 3] for each CMDIE layer l (absent under no_gap / no_cmdie);
          grad.<param name> for every parameter (same shape as the parameter).
        Batch tensors (F32 or F64; ids stored as floats):
          text_ids [B, L_t] or text_feats [B, L_t, H_t]; text_mask [B, L_t]; audio [B, L_a, D_a];
          audio_mask [B, L_a]; vision [B, L_v, D_v]; vision_mask [B, L_v]; label [B];
          sim_t sim_v sim_a diff_t diff_v diff_a [B, k_cl, d]; sim_mask diff_mask [B, k_cl]
          (partner tensors may be absent: no partners).
        Optional dropmask.<site> tensors: dropout multipliers (0 or 1/(1-p)) for every dropout site
        (list in fdcmdie_ref.py, reading R7); when present they are applied (training-mode dropout
        replayed exactly), otherwise dropout is off.

  make  --dir DIR [--seed 1] [--text neobert|bert|feats] [--no-gap] [--no-crossatt2] [--no-cmdie]
        [--no-cl] [--d-model 16] [--heads 2] [--layers 2] [--batch 4] [--lt 7] [--la 9] [--lv 8]
        [--audio-dim 5] [--vision-dim 6] [--text-dim 12] [--k-cl 3] [--dropout-masks] [--f64-only]
        Creates, from the seed, DIR/model.safetensors (F32, PyTorch default init, config in metadata),
        DIR/batch.safetensors (F32, right-padded random batch with partners; rows 1 and 2 exercise
        empty partner sets) and the dumps of `run` on them: DIR/expected_f32.safetensors and
        DIR/expected_f64.safetensors (same F32 inputs, computed in float64). With --dropout-masks the
        batch also holds dropmask.<site> tensors drawn in a training-mode pass, and both dumps use them.
        --f64-only writes only the float64 dump (the paper-size parity matrix needs no other).
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fdcmdie_ref as R  # noqa: E402


def load_checkpoint(path, dtype):
    tensors, meta = R.st_read(path)
    if "config" not in meta:
        raise ValueError(f"parity_dump: {path}: no __metadata__['config']")
    cfg = json.loads(meta["config"])
    model = R.FDCMDIE(cfg).to(dtype)
    want = model.state_dict()
    missing = sorted(set(want) - set(tensors))
    extra = sorted(set(tensors) - set(want))
    if missing or extra:
        raise ValueError(f"parity_dump: {path}: missing {missing[:5]} unexpected {extra[:5]}")
    for k, v in want.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise ValueError(f"parity_dump: {path}: {k}: shape {tensors[k].shape} != {tuple(v.shape)}")
    model.load_state_dict({k: torch.from_numpy(np.asarray(tensors[k], dtype=np.float64)).to(dtype) for k in want})
    return model


def load_batch(path, dtype):
    tensors, _ = R.st_read(path)
    batch, masks = {}, {}
    for k, v in tensors.items():
        t = torch.from_numpy(np.asarray(v, dtype=np.float64))
        if k.startswith("dropmask."):
            masks[k[len("dropmask."):]] = t.to(dtype)
        elif k == "text_ids":
            batch[k] = t.round().long()
        else:
            batch[k] = t.to(dtype)
    return batch, masks


def run(model, batch, masks):
    """Eval-mode forward + backward; returns dict name -> numpy array (run dtype)."""
    model.eval()
    model.dctx.masks = masks or None
    model.zero_grad(set_to_none=True)
    out = model(batch)
    res = R.total_loss(model, out, batch)
    res["loss"].backward()
    model.dctx.masks = None
    dump = {"pred": out["pred"]}
    for k in ("loss", "mae", "l_cl", "l_nt", "l_tri"):
        dump[k] = res[k].reshape(1)
    for m in R.MODALITIES:
        for p in ("s", "d", "f"):
            dump[f"{p}_{m}"] = out[f"{p}_{m}"]
    dump["r"] = out["r"]
    for i, a in enumerate(out["alpha"]):
        if a is not None:
            dump[f"alpha_{i}"] = a
    for n, p in model.named_parameters():
        dump[f"grad.{n}"] = p.grad if p.grad is not None else torch.zeros_like(p)
    return {k: v.detach().cpu().numpy() for k, v in dump.items()}


def cmd_run(a):
    dtype = {"float32": torch.float32, "float64": torch.float64}[a.dtype]
    model = load_checkpoint(a.ckpt, dtype)
    batch, masks = load_batch(a.batch, dtype)
    dump = run(model, batch, masks)
    R.st_write(a.out, dump, {"dtype": a.dtype, "torch": torch.__version__, "ckpt": os.path.basename(a.ckpt),
                             "batch": os.path.basename(a.batch)})
    print(f"wrote {a.out}: loss={dump['loss'][0]:.9g} mae={dump['mae'][0]:.9g} l_cl={dump['l_cl'][0]:.9g}")


def cmd_make(a):
    cfg = {"d_model": a.d_model, "heads": a.heads, "layers": a.layers, "dropout": 0.1,
           "audio_dim": a.audio_dim, "vision_dim": a.vision_dim,
           "text_feats": a.text == "feats", "text_dim": a.text_dim,
           "text_encoder": "bert" if a.text == "bert" else "neobert",
           "neobert": {"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "intermediate_size": 40, "vocab_size": 100, "norm_eps": 1e-5, "max_length": 64},
           "no_gap": a.no_gap, "no_crossatt2": a.no_crossatt2, "no_cmdie": a.no_cmdie, "no_cl": a.no_cl,
           "tau": 0.5, "margin": 0.5, "lambda_tri": 0.1, "lambda_cl": 0.1, "k_cl": a.k_cl}
    cfg = R.merge_config(cfg)
    os.makedirs(a.dir, exist_ok=True)
    model = R.build_model(cfg, torch.float32, seed=a.seed)
    ckpt = os.path.join(a.dir, "model.safetensors")
    R.st_write(ckpt, {k: v.numpy() for k, v in model.state_dict().items()},
               {"config": json.dumps(cfg, sort_keys=True), "format": "pt"})
    batch = R.random_batch(cfg, a.batch, a.lt, a.la, a.lv, a.k_cl, seed=a.seed + 1000, dtype=torch.float32)
    if a.no_cl:
        for k in [k for k in batch if k.startswith(("sim_", "diff_"))]:
            del batch[k]
    arrays = {k: v.numpy() for k, v in batch.items()}
    if a.dropout_masks:
        model.train()
        model.dctx.record = {}
        torch.manual_seed(a.seed + 2000)
        with torch.no_grad():
            model(batch)
        for site, m in model.dctx.record.items():
            arrays[f"dropmask.{site}"] = m.numpy().astype(np.float32)
        model.dctx.record = None
    bpath = os.path.join(a.dir, "batch.safetensors")
    R.st_write(bpath, arrays, {"seed": str(a.seed)})
    for dt in ("float64",) if a.f64_only else ("float32", "float64"):
        cmd_run(argparse.Namespace(ckpt=ckpt, batch=bpath, out=os.path.join(a.dir, f"expected_f{dt[-2:]}.safetensors"),
                                   dtype=dt))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--ckpt", required=True)
    r.add_argument("--batch", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    m = sub.add_parser("make")
    m.add_argument("--dir", required=True)
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--text", default="neobert", choices=("neobert", "bert", "feats"))
    for flag in ("no-gap", "no-crossatt2", "no-cmdie", "no-cl", "dropout-masks", "f64-only"):
        m.add_argument(f"--{flag}", action="store_true")
    for name, dflt in (("d-model", 16), ("heads", 2), ("layers", 2), ("batch", 4), ("lt", 7), ("la", 9),
                       ("lv", 8), ("audio-dim", 5), ("vision-dim", 6), ("text-dim", 12), ("k-cl", 3)):
        m.add_argument(f"--{name}", type=int, default=dflt)
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    if a.cmd == "run":
        cmd_run(a)
    else:
        cmd_make(a)


if __name__ == "__main__":
    main()
