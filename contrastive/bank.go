package contrastive

import (
	"fmt"
	"math"
)

// Class returns the 7-class label of a sentiment score (SPEC §4):
// round_half_even(clip(y, −3, 3)), a value in −3..3. Ties round to the even
// class (0.5 → 0, 1.5 → 2, −2.5 → −2). A NaN score has no class; Class returns
// 0 for it, and NewBank rejects NaN labels before they get here.
func Class(y float32) int {
	v := float64(y)
	switch {
	case v != v:
		return 0
	case v > 3:
		v = 3
	case v < -3:
		v = -3
	}
	return int(math.RoundToEven(v))
}

// Bank is the memory bank of SPEC §4: for every training sample i in
// 0..N−1 it keeps detached copies of the retrieval vector r_i = [f_t; f_v; f_a]
// (3d wide) and of the pooled similarity features s_t, s_v, s_a (d wide each),
// together with the sample's label and class. It is filled by one inference
// pass before the first epoch and overwritten by every training batch; Sets
// rebuilds the sample sets from it at the start of each epoch and Partners
// copies partner features out of it when a batch is assembled.
//
// A Bank is not safe for concurrent use: Set must not run while Sets or
// Partners read the bank.
type Bank struct {
	n, d    int
	labels  []float32
	classes []int
	r       []float32 // [N, 3d]
	st      []float32 // [N, d]
	sv      []float32 // [N, d]
	sa      []float32 // [N, d]
	written []bool
	filled  int // number of rows written at least once
}

// Row is a read-only view of one bank row. The slices share the bank's
// storage: they change when the row is Set again and must not be modified.
type Row struct {
	Label      float32   // sentiment score y_i
	Class      int       // Class(y_i), −3..3
	Written    bool      // whether Set has stored this row at least once
	R          []float32 // retrieval vector [f_t; f_v; f_a], 3d
	ST, SV, SA []float32 // pooled similarity features s_t, s_v, s_a, d each
}

// NewBank returns an empty bank for n training samples with feature width d
// (r is 3d wide) and the samples' sentiment labels (len(labels) == n, all
// finite). Rows start at zero and unwritten.
func NewBank(n, d int, labels []float32) (*Bank, error) {
	if n < 0 {
		return nil, fmt.Errorf("contrastive: NewBank: n = %d, want ≥ 0", n)
	}
	if d < 1 {
		return nil, fmt.Errorf("contrastive: NewBank: d = %d, want ≥ 1", d)
	}
	if len(labels) != n {
		return nil, fmt.Errorf("contrastive: NewBank: %d labels for n = %d samples", len(labels), n)
	}
	b := &Bank{
		n:       n,
		d:       d,
		labels:  make([]float32, n),
		classes: make([]int, n),
		r:       make([]float32, n*3*d),
		st:      make([]float32, n*d),
		sv:      make([]float32, n*d),
		sa:      make([]float32, n*d),
		written: make([]bool, n),
	}
	for i, y := range labels {
		if math.IsNaN(float64(y)) || math.IsInf(float64(y), 0) {
			return nil, fmt.Errorf("contrastive: NewBank: labels[%d] = %v is not finite", i, y)
		}
		b.labels[i] = y
		b.classes[i] = Class(y)
	}
	return b, nil
}

// N returns the number of samples the bank holds.
func (b *Bank) N() int { return b.n }

// D returns the feature width d (r is 3d wide).
func (b *Bank) D() int { return b.d }

// Filled reports whether every row has been written at least once (true for
// an empty bank).
func (b *Bank) Filled() bool { return b.filled == b.n }

// Row returns a read-only view of row i; see Row.
func (b *Bank) Row(i int) (Row, error) {
	if i < 0 || i >= b.n {
		return Row{}, fmt.Errorf("contrastive: bank: row %d out of range [0, %d)", i, b.n)
	}
	d := b.d
	return Row{
		Label:   b.labels[i],
		Class:   b.classes[i],
		Written: b.written[i],
		R:       b.r[i*3*d : (i+1)*3*d : (i+1)*3*d],
		ST:      b.st[i*d : (i+1)*d : (i+1)*d],
		SV:      b.sv[i*d : (i+1)*d : (i+1)*d],
		SA:      b.sa[i*d : (i+1)*d : (i+1)*d],
	}, nil
}

// Set stores copies of sample i's retrieval vector r (3d) and pooled
// similarity features st, sv, sa (d each), overwriting what row i held. It
// checks the index, the lengths and that every value is finite; on error the
// row is left unchanged.
func (b *Bank) Set(i int, r, st, sv, sa []float32) error {
	if i < 0 || i >= b.n {
		return fmt.Errorf("contrastive: bank: Set: row %d out of range [0, %d)", i, b.n)
	}
	d := b.d
	fields := []struct {
		name string
		v    []float32
		want int
	}{{"r", r, 3 * d}, {"s_t", st, d}, {"s_v", sv, d}, {"s_a", sa, d}}
	for _, f := range fields {
		if len(f.v) != f.want {
			return fmt.Errorf("contrastive: bank: Set(%d): %s has length %d, want %d", i, f.name, len(f.v), f.want)
		}
		for c, x := range f.v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("contrastive: bank: Set(%d): %s[%d] = %v is not finite", i, f.name, c, x)
			}
		}
	}
	copy(b.r[i*3*d:(i+1)*3*d], r)
	copy(b.st[i*d:(i+1)*d], st)
	copy(b.sv[i*d:(i+1)*d], sv)
	copy(b.sa[i*d:(i+1)*d], sa)
	if !b.written[i] {
		b.written[i] = true
		b.filled++
	}
	return nil
}

// PartnerBatch holds the bank partners of one batch as the graph's constant
// inputs (SPEC §4). The feature tensors are [B, K, D] row-major (element
// (b, s, c) at (b·K + s)·D + c) and hold the partners' similarity features
// s_t, s_v, s_a; the masks are [B, K] with 1 where a partner fills the slot and
// 0 where the slot is empty. Empty slots and padding rows are all zero.
type PartnerBatch struct {
	B, K, D             int
	SimT, SimV, SimA    []float32 // similar partners' s_t, s_v, s_a [B, K, D]
	DiffT, DiffV, DiffA []float32 // different partners' s_t, s_v, s_a [B, K, D]
	SimMask, DiffMask   []float32 // [B, K]
}

// Partners fills dst with the partners of the samples in batch, read from the
// bank: for batch row b with sample index i = batch[b], slot s of the similar
// tensors holds the features of similar[i][s] and slot s of the different
// tensors those of different[i][s], for s < len(similar[i]) (resp.
// different[i]); the remaining slots up to k stay zero with mask 0. A batch
// row with index −1 is padding: all its slots are empty. similar and
// different are indexed by sample (length N), as Sets returns them, and each
// set holds at most k valid sample indices. dst's slices are reused when
// large enough and reallocated otherwise.
func (b *Bank) Partners(batch []int, similar, different [][]int, k int, dst *PartnerBatch) error {
	if dst == nil {
		return fmt.Errorf("contrastive: bank: Partners: nil destination")
	}
	if k < 1 {
		return fmt.Errorf("contrastive: bank: Partners: k = %d, want ≥ 1", k)
	}
	if len(similar) != b.n || len(different) != b.n {
		return fmt.Errorf("contrastive: bank: Partners: %d similar and %d different sets for %d samples", len(similar), len(different), b.n)
	}
	for r, i := range batch {
		if i < -1 || i >= b.n {
			return fmt.Errorf("contrastive: bank: Partners: batch[%d] = %d out of range [-1, %d)", r, i, b.n)
		}
		if i < 0 {
			continue
		}
		for _, set := range []struct {
			name string
			js   []int
		}{{"similar", similar[i]}, {"different", different[i]}} {
			if len(set.js) > k {
				return fmt.Errorf("contrastive: bank: Partners: %s[%d] has %d samples, more than k = %d", set.name, i, len(set.js), k)
			}
			for _, j := range set.js {
				if j < 0 || j >= b.n {
					return fmt.Errorf("contrastive: bank: Partners: %s[%d] holds sample %d out of range [0, %d)", set.name, i, j, b.n)
				}
			}
		}
	}

	nb, d := len(batch), b.d
	feat, mask := nb*k*d, nb*k
	dst.B, dst.K, dst.D = nb, k, d
	for _, p := range []*[]float32{&dst.SimT, &dst.SimV, &dst.SimA, &dst.DiffT, &dst.DiffV, &dst.DiffA} {
		*p = zeroed(*p, feat)
	}
	dst.SimMask = zeroed(dst.SimMask, mask)
	dst.DiffMask = zeroed(dst.DiffMask, mask)

	for r, i := range batch {
		if i < 0 {
			continue
		}
		b.fill(similar[i], r, k, dst.SimT, dst.SimV, dst.SimA, dst.SimMask)
		b.fill(different[i], r, k, dst.DiffT, dst.DiffV, dst.DiffA, dst.DiffMask)
	}
	return nil
}

// fill copies the similarity features of the samples js into the slots of
// batch row r of the [B, k, d] tensors t, v, a and sets their mask entries.
func (b *Bank) fill(js []int, r, k int, t, v, a, mask []float32) {
	d := b.d
	for s, j := range js {
		off := (r*k + s) * d
		copy(t[off:off+d], b.st[j*d:(j+1)*d])
		copy(v[off:off+d], b.sv[j*d:(j+1)*d])
		copy(a[off:off+d], b.sa[j*d:(j+1)*d])
		mask[r*k+s] = 1
	}
}

// zeroed returns a zero slice of length n, reusing buf's storage when it is
// large enough.
func zeroed(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	buf = buf[:n]
	clear(buf)
	return buf
}
