package contrastive

import (
	"fmt"
	"math"
)

// RefCos is cos(a, b) = a·b / (max(|a|, 1e-8)·max(|b|, 1e-8)) (SPEC §4) in
// float64, summed in index order. It is the plain reference the loss
// references build on; a and b must have the same length.
func RefCos(a, b []float64) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("contrastive: RefCos: lengths %d and %d differ", len(a), len(b))
	}
	var ab, aa, bb float64
	for c := range a {
		ab += a[c] * b[c]
		aa += a[c] * a[c]
		bb += b[c] * b[c]
	}
	return ab / (max(math.Sqrt(aa), normEps) * max(math.Sqrt(bb), normEps)), nil
}

// RefNTXent is a float64 reference of the per-anchor NT-Xent loss ℓ_nt(i) of
// SPEC §4 (eq. 9), written for checking the graph version. Its arguments are
// anchor i's pooled features st, sv, sa (s_t, s_v, s_a) and dt, dv, da (d_t,
// d_v, d_a), its similar partners' similarity features simT[j], simV[j],
// simA[j] and its different partners' diffT[j], diffV[j], diffA[j] (the
// three lists of a kind have equal lengths; every vector has st's length).
//
// The pairs, first element = anchor vector:
//
//	P: (s_t, s_v), (s_t, s_a); (s_m, s_m^j) for each similar j, m ∈ {t, v, a}
//	N: (s_t, d_t), (s_t, d_v), (s_t, d_a); (s_m, s_m^j) for each different j
//
// ℓ = Σ_{(α,β)∈P} [ −cos(α,β)/τ + log Σ_{(α,γ)∈P∪N, γ≠β} exp(cos(α,γ)/τ) ].
// Reading of the denominator: the pairs are grouped by their anchor vector,
// which is one of s_t, s_v, s_a of sample i, and the denominator of a
// positive (α, β) runs over the other pairs of P∪N whose anchor is the same
// vector α, positives and negatives alike; "γ ≠ β" excludes the positive's
// own pair by position, never another pair with an equal γ. So the anchor
// s_t's group is (s_t,s_v), (s_t,s_a), (s_t,d_t), (s_t,d_v), (s_t,d_a) and
// (s_t,s_t^j) for every similar and every different j; the anchor s_v's group
// is (s_v,s_v^j) for every similar and every different j; likewise for s_a.
// A positive whose group holds no other pair (an s_v or s_a anchor with one
// similar and no different partner) contributes nothing, its −cos/τ term
// included. The log-sum-exp is evaluated with the usual max shift.
func RefNTXent(st, sv, sa, dt, dv, da []float64, simT, simV, simA, diffT, diffV, diffA [][]float64, tau float64) (float64, error) {
	if !(tau > 0) {
		return 0, fmt.Errorf("contrastive: RefNTXent: tau = %v, want > 0", tau)
	}
	if len(simV) != len(simT) || len(simA) != len(simT) {
		return 0, fmt.Errorf("contrastive: RefNTXent: %d, %d, %d similar partners for t, v, a", len(simT), len(simV), len(simA))
	}
	if len(diffV) != len(diffT) || len(diffA) != len(diffT) {
		return 0, fmt.Errorf("contrastive: RefNTXent: %d, %d, %d different partners for t, v, a", len(diffT), len(diffV), len(diffA))
	}
	lists := []struct {
		name string
		vs   [][]float64
	}{
		{"s_v", [][]float64{sv}}, {"s_a", [][]float64{sa}},
		{"d_t", [][]float64{dt}}, {"d_v", [][]float64{dv}}, {"d_a", [][]float64{da}},
		{"simT", simT}, {"simV", simV}, {"simA", simA},
		{"diffT", diffT}, {"diffV", diffV}, {"diffA", diffA},
	}
	for _, l := range lists {
		for j, v := range l.vs {
			if len(v) != len(st) {
				return 0, fmt.Errorf("contrastive: RefNTXent: %s[%d] has length %d, s_t has %d", l.name, j, len(v), len(st))
			}
		}
	}

	gt, gv, ga := &refGroup{anchor: st}, &refGroup{anchor: sv}, &refGroup{anchor: sa}
	gt.add(sv, true)
	gt.add(sa, true)
	for j := range simT {
		gt.add(simT[j], true)
		gv.add(simV[j], true)
		ga.add(simA[j], true)
	}
	gt.add(dt, false)
	gt.add(dv, false)
	gt.add(da, false)
	for j := range diffT {
		gt.add(diffT[j], false)
		gv.add(diffV[j], false)
		ga.add(diffA[j], false)
	}

	var loss float64
	for _, g := range []*refGroup{gt, gv, ga} {
		var err error
		if loss, err = g.addTerms(loss, tau); err != nil {
			return 0, err
		}
	}
	return loss, nil
}

// refGroup is the pairs of RefNTXent that share one anchor vector: the
// other vector of each pair, pos marking the positives.
type refGroup struct {
	anchor []float64
	others [][]float64
	pos    []bool
}

func (g *refGroup) add(v []float64, positive bool) {
	g.others = append(g.others, v)
	g.pos = append(g.pos, positive)
}

// addTerms adds to loss, one positive after the other, the group's terms
// −cos(α,β)/τ + log Σ_{γ≠β} exp(cos(α,γ)/τ). A group of fewer than two
// pairs adds nothing.
func (g *refGroup) addTerms(loss, tau float64) (float64, error) {
	if len(g.others) < 2 {
		return loss, nil
	}
	z := make([]float64, len(g.others)) // cos(α, γ)/τ
	for q, v := range g.others {
		c, err := RefCos(g.anchor, v)
		if err != nil {
			return 0, fmt.Errorf("contrastive: RefNTXent: %w", err)
		}
		z[q] = c / tau
	}
	for p, positive := range g.pos {
		if !positive {
			continue
		}
		m := math.Inf(-1)
		for q := range z {
			if q != p {
				m = max(m, z[q])
			}
		}
		var s float64
		for q := range z {
			if q != p {
				s += math.Exp(z[q] - m)
			}
		}
		loss += -z[p] + m + math.Log(s)
	}
	return loss, nil
}

// RefTriplet is a float64 reference of the per-anchor triplet loss ℓ_tri(i)
// of SPEC §4 (eq. 10–11): with the text similarity feature s_t as anchor, the
// other similarity features as positives and the dissimilarity features as
// negatives,
//
//	ℓ = Σ_{p∈{s_v,s_a}} Σ_{n∈{d_t,d_v,d_a}} max(0, (1−cos(s_t,p)) − (1−cos(s_t,n)) + margin).
//
// All six vectors must have the same length.
func RefTriplet(st, sv, sa, dt, dv, da []float64, margin float64) (float64, error) {
	var loss float64
	for _, p := range [][]float64{sv, sa} {
		cp, err := RefCos(st, p)
		if err != nil {
			return 0, fmt.Errorf("contrastive: RefTriplet: %w", err)
		}
		for _, n := range [][]float64{dt, dv, da} {
			cn, err := RefCos(st, n)
			if err != nil {
				return 0, fmt.Errorf("contrastive: RefTriplet: %w", err)
			}
			loss += max(0, (1-cp)-(1-cn)+margin)
		}
	}
	return loss, nil
}
