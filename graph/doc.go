// Package graph assembles FD-CMDIE (SPEC §2–7) into one Gorgonia expression
// graph: text encoder, sLSTMs, the shared and private decoupling encoders,
// the CMDIE stack with GAP, the prediction head and the joint loss
// MAE + λ_cl·L_cl, with the ablation switches of the paper's table 7 and the
// checkpoint names of SPEC §7.
//
// Build makes the graph for one batch shape (training graphs carry dropout
// masks and, with the contrastive loss, the bank-partner inputs); Runner
// compiles it once on a TapeMachine and runs batches; Save and Load write
// and read safetensors checkpoints with the config in __metadata__.
//
// Readings where SPEC.md leaves room (the PyTorch reference in tools/ makes
// the same ones, and TestParityWithPyTorch holds both to them):
//   - A padding row of a batch (Weight 0) takes no part in the means of the
//     MAE and of L_cl.
//   - A padded key adds −1e9 to its score (MaskNeg in layers); a row whose
//     keys are all padding stays finite (it occurs only in padding rows).
//   - NT-Xent groups pairs by their anchor vector (s_t, s_v or s_a of the
//     sample); a positive's denominator is the other pairs of its group
//     (the contrastive package doc says how).
//   - GAP's weighted sum and the --no-gap mean add in the order t, v, a.
//   - TextOnly is fdcmdie's own text-only baseline, not one of the paper's
//     ablations: the head reads pool(text_proj(F_t)) alone.
//
// Gorgonia adds the gradients of every run into the parameters' dual
// values and Reset does not clear them; Runner.Run zeroes them before each
// training run.
package graph
