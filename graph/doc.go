// Package graph assembles FD-CMDIE (SPEC §2–7) into one Gorgonia expression
// graph: text encoder, sLSTMs, the shared and private decoupling encoders,
// the CMDIE stack with GAP, the prediction head and the joint loss
// MAE + λ_cl·L_cl, with the ablation switches of the paper's table 7 and the
// checkpoint names of SPEC §7.
package graph
