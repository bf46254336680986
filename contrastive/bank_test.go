package contrastive

import (
	"math"
	"reflect"
	"testing"
)

func TestClass(t *testing.T) {
	inf := float32(math.Inf(1))
	cases := []struct {
		y    float32
		want int
	}{
		{0, 0}, {0.49, 0}, {0.5, 0}, {0.51, 1}, {-0.5, 0}, {-0.51, -1},
		{1.5, 2}, {2.5, 2}, {-1.5, -2}, {-2.5, -2}, {1.4, 1}, {-2.6, -3},
		{3, 3}, {-3, -3}, {3.7, 3}, {-3.2, -3}, {inf, 3}, {-inf, -3},
		{float32(math.NaN()), 0},
	}
	for _, c := range cases {
		if got := Class(c.y); got != c.want {
			t.Errorf("Class(%v) = %d, want %d", c.y, got, c.want)
		}
	}
}

func TestNewBankErrors(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		name   string
		n, d   int
		labels []float32
	}{
		{"negative n", -1, 2, nil},
		{"zero d", 2, 0, []float32{0, 1}},
		{"label count", 3, 2, []float32{0, 1}},
		{"NaN label", 2, 2, []float32{0, nan}},
		{"Inf label", 2, 2, []float32{float32(math.Inf(-1)), 0}},
	}
	for _, c := range cases {
		if _, err := NewBank(c.n, c.d, c.labels); err == nil {
			t.Errorf("%s: NewBank returned no error", c.name)
		}
	}
}

func TestBankSet(t *testing.T) {
	b, err := NewBank(2, 2, []float32{-2.5, 0.7})
	if err != nil {
		t.Fatal(err)
	}
	if b.N() != 2 || b.D() != 2 || b.Filled() {
		t.Fatalf("new bank: N %d D %d Filled %v, want 2 2 false", b.N(), b.D(), b.Filled())
	}
	r := []float32{1, 2, 3, 4, 5, 6}
	st, sv, sa := []float32{7, 8}, []float32{9, 10}, []float32{11, 12}
	if err := b.Set(1, r, st, sv, sa); err != nil {
		t.Fatal(err)
	}
	// The bank keeps copies: changing the inputs afterwards changes nothing.
	r[0], st[0], sv[0], sa[0] = -1, -1, -1, -1
	row, err := b.Row(1)
	if err != nil {
		t.Fatal(err)
	}
	want := Row{
		Label: 0.7, Class: 1, Written: true,
		R:  []float32{1, 2, 3, 4, 5, 6},
		ST: []float32{7, 8}, SV: []float32{9, 10}, SA: []float32{11, 12},
	}
	if !reflect.DeepEqual(row, want) {
		t.Errorf("Row(1) = %+v, want %+v", row, want)
	}
	if b.Filled() {
		t.Error("Filled after writing 1 of 2 rows")
	}
	row0, err := b.Row(0)
	if err != nil {
		t.Fatal(err)
	}
	if row0.Written || row0.Class != -2 || !reflect.DeepEqual(row0.R, make([]float32, 6)) {
		t.Errorf("unwritten Row(0) = %+v, want class −2, zero r, not written", row0)
	}

	// Bad writes fail and leave row 1 as it was.
	checkBadWrites(t, b, want)
	if _, err := b.Row(2); err == nil {
		t.Error("Row(2) of a 2-row bank returned no error")
	}

	// Writing row 0 fills the bank; rewriting row 1 keeps it filled.
	good3, good := []float32{0, 0, 0, 0, 0, 0}, []float32{0, 0}
	if err := b.Set(0, good3, good, good, good); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(1, good3, good, good, good); err != nil {
		t.Fatal(err)
	}
	if !b.Filled() {
		t.Error("bank not Filled after writing both rows")
	}
	row, _ = b.Row(1)
	if !reflect.DeepEqual(row.R, good3) {
		t.Errorf("Row(1).R after overwrite = %v, want zeros", row.R)
	}
}

// checkBadWrites tries writes with a bad index, length or value into the
// 2-row, d = 2 bank b, wants each to fail, and wants row 1 to be want
// afterwards.
func checkBadWrites(t *testing.T, b *Bank, want Row) {
	t.Helper()
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	good3, good := []float32{0, 0, 0, 0, 0, 0}, []float32{0, 0}
	bad := []struct {
		name          string
		i             int
		r, st, sv, sa []float32
	}{
		{"index −1", -1, good3, good, good, good},
		{"index 2", 2, good3, good, good, good},
		{"short r", 1, good3[:5], good, good, good},
		{"long s_v", 1, good3, good, []float32{0, 0, 0}, good},
		{"NaN in r", 1, []float32{0, 0, 0, 0, 0, nan}, good, good, good},
		{"Inf in s_a", 1, good3, good, good, []float32{inf, 0}},
		{"NaN in s_t", 1, good3, []float32{nan, 0}, good, good},
	}
	for _, c := range bad {
		if err := b.Set(c.i, c.r, c.st, c.sv, c.sa); err == nil {
			t.Errorf("%s: Set returned no error", c.name)
		}
	}
	if row, _ := b.Row(1); !reflect.DeepEqual(row, want) {
		t.Errorf("Row(1) after failed writes = %+v, want %+v", row, want)
	}
}

// partnerBank has n = 4, d = 2 and easily recognized features:
// s_t^j = (10j+1, 10j+2), s_v^j = (10j+3, 10j+4), s_a^j = (10j+5, 10j+6).
func partnerBank(t *testing.T) *Bank {
	t.Helper()
	b, err := NewBank(4, 2, []float32{0, 0, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	for j := range 4 {
		f := float32(10 * j)
		err := b.Set(j, make([]float32, 6),
			[]float32{f + 1, f + 2}, []float32{f + 3, f + 4}, []float32{f + 5, f + 6})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// cat concatenates the per-row blocks of an expected [B, …] tensor.
func cat(rows ...[]float32) []float32 {
	var out []float32
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func TestPartners(t *testing.T) {
	b := partnerBank(t)
	similar := [][]int{{1}, {0}, {3}, {2}}
	different := [][]int{{2, 3}, {3, 2}, {0, 1}, {}}
	// Stale, oversized buffers must be cut to size and cleared.
	dst := &PartnerBatch{SimT: []float32{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}, DiffMask: []float32{9, 9, 9, 9, 9, 9, 9}}
	// Batch rows: sample 2, padding, sample 3; k = 2, d = 2, so [3, 2, 2].
	if err := b.Partners([]int{2, -1, 3}, similar, different, 2, dst); err != nil {
		t.Fatal(err)
	}
	want := &PartnerBatch{
		B: 3, K: 2, D: 2,
		// row 0 (sample 2): similar {3}; row 1: padding; row 2 (sample 3): similar {2}.
		SimT:    cat([]float32{31, 32, 0, 0}, []float32{0, 0, 0, 0}, []float32{21, 22, 0, 0}),
		SimV:    cat([]float32{33, 34, 0, 0}, []float32{0, 0, 0, 0}, []float32{23, 24, 0, 0}),
		SimA:    cat([]float32{35, 36, 0, 0}, []float32{0, 0, 0, 0}, []float32{25, 26, 0, 0}),
		SimMask: cat([]float32{1, 0}, []float32{0, 0}, []float32{1, 0}),
		// row 0 (sample 2): different {0, 1}; row 2 (sample 3): none.
		DiffT:    cat([]float32{1, 2, 11, 12}, []float32{0, 0, 0, 0}, []float32{0, 0, 0, 0}),
		DiffV:    cat([]float32{3, 4, 13, 14}, []float32{0, 0, 0, 0}, []float32{0, 0, 0, 0}),
		DiffA:    cat([]float32{5, 6, 15, 16}, []float32{0, 0, 0, 0}, []float32{0, 0, 0, 0}),
		DiffMask: cat([]float32{1, 1}, []float32{0, 0}, []float32{0, 0}),
	}
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("Partners =\n%+v\nwant\n%+v", dst, want)
	}

	// Reusing dst for a smaller batch with k = 3 resizes and clears it.
	if err := b.Partners([]int{1}, similar, different, 3, dst); err != nil {
		t.Fatal(err)
	}
	want = &PartnerBatch{
		B: 1, K: 3, D: 2,
		SimT: []float32{1, 2, 0, 0, 0, 0}, SimV: []float32{3, 4, 0, 0, 0, 0}, SimA: []float32{5, 6, 0, 0, 0, 0},
		SimMask: []float32{1, 0, 0},
		DiffT:   []float32{31, 32, 21, 22, 0, 0}, DiffV: []float32{33, 34, 23, 24, 0, 0}, DiffA: []float32{35, 36, 25, 26, 0, 0},
		DiffMask: []float32{1, 1, 0},
	}
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("Partners (reused) =\n%+v\nwant\n%+v", dst, want)
	}
}

func TestPartnersErrors(t *testing.T) {
	b := partnerBank(t)
	ok := [][]int{{1}, {0}, {3}, {2}}
	cases := []struct {
		name      string
		batch     []int
		sim, diff [][]int
		k         int
		dst       *PartnerBatch
	}{
		{"nil dst", []int{0}, ok, ok, 2, nil},
		{"k 0", []int{0}, ok, ok, 0, &PartnerBatch{}},
		{"set count", []int{0}, ok[:3], ok, 2, &PartnerBatch{}},
		{"batch index 4", []int{0, 4}, ok, ok, 2, &PartnerBatch{}},
		{"batch index −2", []int{-2}, ok, ok, 2, &PartnerBatch{}},
		{"set longer than k", []int{0}, [][]int{{1, 1, 1}, {0}, {3}, {2}}, ok, 2, &PartnerBatch{}},
		{"partner out of range", []int{2}, ok, [][]int{{1}, {0}, {7}, {2}}, 2, &PartnerBatch{}},
	}
	for _, c := range cases {
		if err := b.Partners(c.batch, c.sim, c.diff, c.k, c.dst); err == nil {
			t.Errorf("%s: Partners returned no error", c.name)
		}
	}
}
