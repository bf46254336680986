// Package contrastive holds the contrastive-learning side of FD-CMDIE
// (SPEC §4): the 7-class sample sets chosen by cosine similarity of the
// retrieval vectors, the memory bank of detached features, and the joint
// contrastive loss L_cl = mean_i ℓ_nt(i) + λ_tri·mean_i ℓ_tri(i) as one
// fused graph op (Loss; its parts are the functions ntXent and triplet).
//
// cos(a, b) = a·b / (max(|a|, 1e-8)·max(|b|, 1e-8)) throughout.
//
// NT-Xent (eq. 9), for sample i with pooled features s_t, s_v, s_a, d_t,
// d_v, d_a and the bank's similarity features s_m^j of its similar and
// different partners j. The pairs, anchor first:
//
//	P: (s_t, s_v), (s_t, s_a); (s_m, s_m^j) for each similar j, m ∈ {t, v, a}
//	N: (s_t, d_t), (s_t, d_v), (s_t, d_a); (s_m, s_m^j) for each different j
//
//	ℓ_nt = Σ_{(α,β)∈P} [ −cos(α,β)/τ + log Σ_{(α,γ)∈P∪N, γ≠β} exp(cos(α,γ)/τ) ].
//
// Where SPEC §4 leaves room, the reading here (and in the PyTorch reference
// tools/fdcmdie_ref.py, reading R5): pairs are grouped by their anchor
// vector (s_t, s_v or s_a of sample i), and the denominator of a positive
// (α, β) runs over the other pairs of the same anchor, positives and
// negatives alike; "γ ≠ β" excludes the positive's own pair by position. A
// positive whose group holds no other pair contributes nothing, its
// −cos/τ term included. The log-sum-exp is evaluated with the max shift.
//
// Triplet (eq. 10–11), anchor s_t, positives s_v and s_a, negatives d_t,
// d_v and d_a:
//
//	ℓ_tri = Σ_p Σ_n max(0, (1−cos(s_t,p)) − (1−cos(s_t,n)) + margin).
//
// The means run over the batch's real samples (weight 1), not its padding
// rows. The tests hold the fused op to plain float64 references of both
// terms (ref_test.go) and to finite differences.
package contrastive
