package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Rows marks x [B, L, ...] as a sequence whose steps after each sample's
// last real one (in mask [B, L], 1 = real) are padding: nothing reads them
// except through that mask, with weight 0 (masked attention keys, masked
// pooling, a masked LSTM). Position-wise kernels applied to a marked node
// (linear layers, norms, activations and dropout, residual sums, positional
// encodings, attention queries) then compute only each sample's leading
// real steps, write zeros at the others, and mark their output in turn, so
// a right-padded batch costs what its real lengths cost. Nothing changes
// at the real steps: every row is computed as before, and the gradients
// the skipped rows would add are exactly zero (their output gradients are).
// A builder with DenseRows set ignores the marks.
func (b *Builder) Rows(x, mask *G.Node) *G.Node {
	xs, ms := x.Shape(), mask.Shape()
	if xs.Dims() < 2 || ms.Dims() != 2 || xs[0] != ms[0] || xs[1] != ms[1] {
		b.Fail(fmt.Errorf("layers: rows of %v marked by mask %v: want x [B, L, ...] and mask [B, L]", xs, ms))
		return x
	}
	if b.rowMask == nil {
		b.rowMask = map[*G.Node]*G.Node{}
	}
	b.rowMask[x] = mask
	return x
}

// rowWise marks kernels that compute each position of their first input's
// leading [B, L] axes from that position alone (and from inputs that are not
// sequences), and so honour kargs.rows.
type rowWise interface{ rowWise() }

func (linearK) rowWise()    {}
func (normK) rowWise()      {}
func (actK) rowWise()       {}
func (addK) rowWise()       {}
func (posK) rowWise()       {}
func (attentionK) rowWise() {} // queries only: keys follow the key mask
func (ropeK) rowWise()      {}
func (swigluK) rowWise()    {}
func (geluK) rowWise()      {}

// rowSet is the real steps of a [B, L, ...] tensor: the first n[b] steps of
// sample b, up to its mask's last nonzero entry (0 for a sample with none);
// runs are those positions as ranges [lo, hi), adjacent ranges merged, and
// count is how many there are.
type rowSet struct {
	L     int
	n     []int
	runs  [][2]int
	count int
}

// rowsOf reads the row set of mask [B, L]; nil when every sample's last step
// is real, so the kernel runs as on a dense batch.
func rowsOf(mask *tensor.Dense) *rowSet {
	if mask.Dtype() == tensor.Float32 {
		return rowsIn(data[float32](mask), mask.Shape())
	}
	return rowsIn(data[float64](mask), mask.Shape())
}

func rowsIn[T float](m []T, s tensor.Shape) *rowSet {
	rs := &rowSet{L: s[1], n: make([]int, s[0])}
	for b := range rs.n {
		n := lastReal(m[b*rs.L : (b+1)*rs.L])
		rs.n[b], rs.count = n, rs.count+n
		lo, hi := b*rs.L, b*rs.L+n
		switch {
		case n == 0:
		case len(rs.runs) > 0 && rs.runs[len(rs.runs)-1][1] == lo:
			rs.runs[len(rs.runs)-1][1] = hi
		default:
			rs.runs = append(rs.runs, [2]int{lo, hi})
		}
	}
	if rs.count == len(m) {
		return nil
	}
	return rs
}

// lastReal is one past the index of m's last nonzero entry.
func lastReal[T float](m []T) int {
	for n := len(m); n > 0; n-- {
		if m[n-1] != 0 {
			return n
		}
	}
	return 0
}

// steps returns the number of real steps of sample b: n[b], or L for a nil set.
func (rs *rowSet) steps(b, l int) int {
	if rs == nil {
		return l
	}
	return rs.n[b]
}

// real reports whether position p (= b·L + t) is a real step.
func (rs *rowSet) real(p int) bool { return rs == nil || p%rs.L < rs.n[p/rs.L] }

// overRows runs f over the elements [lo, hi) of the real positions of a
// tensor of n elements (all of them for a nil row set), split over the cores
// like elementwise: every element is handled by one call.
func overRows(rs *rowSet, n int, f func(lo, hi int)) { splitRows(rs, n, elementwise, f) }

// parallelRows is overRows split over the cores at any size, like
// parallelFor: for kernels whose work per element is large (a norm's row).
func parallelRows(rs *rowSet, n int, f func(lo, hi int)) { splitRows(rs, n, parallelFor, f) }

func splitRows(rs *rowSet, n int, split func(int, func(lo, hi int)), f func(lo, hi int)) {
	if rs == nil {
		split(n, f)
		return
	}
	width := n / (len(rs.n) * rs.L)
	split(rs.count*width, func(vlo, vhi int) { // virtual: real elements in order
		base := 0
		for _, r := range rs.runs {
			size := (r[1] - r[0]) * width
			if lo, hi := max(vlo, base), min(vhi, base+size); lo < hi {
				f(r[0]*width+lo-base, r[0]*width+hi-base)
			}
			base += size
		}
	})
}

// rowIndex returns the real positions of a.rows in order, rows.count of
// them, in the call's transient memory (never nil).
func rowIndex(a *kargs) []int {
	rs := a.rows
	if cap(a.tmp.index) < rs.count+1 {
		a.tmp.index = make([]int, 0, rs.count+1)
	}
	idx := a.tmp.index[:0]
	for _, r := range rs.runs {
		for p := r[0]; p < r[1]; p++ {
			idx = append(idx, p)
		}
	}
	return idx
}

// clearPadding zeroes the padded positions of x (of n·width elements per
// sample step); a forward pass over real rows writes them so. The padded
// elements are split over the cores like elementwise.
func clearPadding[T float](rs *rowSet, x []T) {
	if rs == nil {
		return
	}
	width := len(x) / (len(rs.n) * rs.L)
	elementwise((len(rs.n)*rs.L-rs.count)*width, func(vlo, vhi int) { // virtual: padded elements in order
		base := 0
		for b, n := range rs.n {
			pos, size := (b*rs.L+n)*width, (rs.L-n)*width
			if lo, hi := max(vlo, base), min(vhi, base+size); lo < hi {
				clear(x[pos+lo-base : pos+hi-base])
			}
			base += size
		}
	})
}

// gatherRows copies the real positions of x (width elements each) into
// packed, in order; scatterRows copies them back into x.
func gatherRows[T float](rs *rowSet, x, packed []T, width int) {
	moveRows(rs, width, func(pos, at, n int) { copy(packed[at:at+n], x[pos:pos+n]) })
}

func scatterRows[T float](rs *rowSet, packed, x []T, width int) {
	moveRows(rs, width, func(pos, at, n int) { copy(x[pos:pos+n], packed[at:at+n]) })
}

// moveRows calls move(pos, at, n) for each run of real positions: n
// elements at element pos of the tensor and at of the packed rows, the runs
// split over the cores when there is enough to move.
func moveRows(rs *rowSet, width int, move func(pos, at, n int)) {
	runs := rs.runs
	at := make([]int, len(runs)+1)
	for i, r := range runs {
		at[i+1] = at[i] + (r[1]-r[0])*width
	}
	each := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			move(runs[i][0]*width, at[i], at[i+1]-at[i])
		}
	}
	if at[len(runs)] < 1<<15 {
		each(0, len(runs))
		return
	}
	parallelFor(len(runs), each)
}
