package layers

import (
	"fmt"
	"math"
	"slices"

	"github.com/fdcmdie/fdcmdie/internal/par"
	"github.com/fdcmdie/fdcmdie/layers/internal/vec"
	"github.com/fdcmdie/fdcmdie/layers/sgemm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MultiHeadAttention has biased q/k/v/o projections d → d and h heads with
// the head-major layout of SPEC §1: head i uses features [i·dh, (i+1)·dh).
type MultiHeadAttention struct {
	Q, K, V, O *Linear
	Heads      int
}

// NewMultiHeadAttention creates name.{q,k,v,o}.{weight,bias}.
func NewMultiHeadAttention(b *Builder, name string, d, heads int) *MultiHeadAttention {
	if d%heads != 0 {
		b.Fail(fmt.Errorf("layers: %s: d_model %d is not a multiple of %d heads", name, d, heads))
	}
	return &MultiHeadAttention{
		Q:     NewLinear(b, name+".q", d, d, true),
		K:     NewLinear(b, name+".k", d, d, true),
		V:     NewLinear(b, name+".v", d, d, true),
		O:     NewLinear(b, name+".o", d, d, true),
		Heads: heads,
	}
}

// Fwd attends from query [B, Tq, d] to keyValue [B, Tk, d]; mask [B, Tk]
// (1 = real key) may be nil. Returns [B, Tq, d].
func (m *MultiHeadAttention) Fwd(b *Builder, query, keyValue, mask *G.Node) *G.Node {
	q := m.Q.Fwd(b, query)
	k := m.K.Fwd(b, keyValue)
	v := m.V.Fwd(b, keyValue)
	return m.O.Fwd(b, Attention(b, q, k, v, mask, m.Heads))
}

// Attention is softmax(q·kᵀ/sqrt(dh) + key mask)·v per head, fused into one
// op: q [B, Tq, D], k and v [B, Tk, D], mask [B, Tk] or nil, D = heads·dh;
// heads are read in place from the head-major feature layout, so no 4-D
// tensor or transpose appears in the graph. A training graph that
// differentiates it keeps the probabilities [B·heads·Tq·Tk] for the
// backward pass; any other graph holds one block of query rows (see
// blockRows) at a time in a scratch per worker, so that its memory grows
// linearly with the sequence length. Both give the same numbers. Keys
// after a sample's last real one are skipped (see keys), and so are
// queries after it when q is a sequence marked by Builder.Rows:
// right-padded sequences cost what their real length costs.
func Attention(b *Builder, q, k, v, mask *G.Node, heads int) *G.Node {
	ak := attentionK{heads: heads, keep: b.Train && (b.needsGrad(q) || b.needsGrad(k) || b.needsGrad(v))}
	if mask == nil {
		return b.apply(ak, q, k, v)
	}
	return b.apply(ak, q, k, v, mask)
}

// AttentionQKV is Attention over the queries, keys and values packed in
// one tensor qkv [B, L, 3D] as NeoBERT's fused projection lays them out:
// head h's q, k and v are features [h·3dh, +dh), [h·3dh + dh, +dh) and
// [h·3dh + 2dh, +dh) (SPEC §2). It reads them in place, with the numbers
// of Attention on the three parts, and its backward pass writes their
// gradients into one gradient of qkv: no copies of the parts, and no
// sum of three gradients of qkv, each zero outside its part. mask [B, L]
// or nil; returns [B, L, D].
func AttentionQKV(b *Builder, qkv, mask *G.Node, heads int) *G.Node {
	ak := attentionK{heads: heads, packed: true, keep: b.Train && b.needsGrad(qkv)}
	if mask == nil {
		return b.apply(ak, qkv)
	}
	return b.apply(ak, qkv, mask)
}

// attentionK is the fused attention core. With keep (training graphs that
// differentiate it) the forward pass keeps the probabilities for the
// backward pass of the same run instead of recomputing them, in the op's
// kept memory (keptOf): reused from run to run, and shared by the graphs
// of an Arena. With packed, its one input besides the mask holds q, k and
// v in AttentionQKV's layout.
type attentionK struct {
	heads  int
	keep   bool
	packed bool
}

func (k attentionK) String() string {
	if k.packed {
		return fmt.Sprintf("attention(heads=%d,qkv)", k.heads)
	}
	return fmt.Sprintf("attention(heads=%d)", k.heads)
}

func (k attentionK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if k.packed {
		return k.packedShape(in)
	}
	q, kk, v := in[0], in[1], in[2]
	if q.Dims() != 3 || kk.Dims() != 3 || !kk.Eq(v) || q[0] != kk[0] || q[2] != kk[2] {
		return nil, fmt.Errorf("q %v, k %v, v %v: want [B,Tq,D], [B,Tk,D], [B,Tk,D]", q, kk, v)
	}
	if q[2]%k.heads != 0 {
		return nil, fmt.Errorf("width %d is not a multiple of %d heads", q[2], k.heads)
	}
	if len(in) == 4 && (in[3].Dims() != 2 || in[3][0] != q[0] || in[3][1] != kk[1]) {
		return nil, fmt.Errorf("mask %v does not match keys %v", in[3], kk)
	}
	return q.Clone(), nil
}

func (k attentionK) packedShape(in []tensor.Shape) (tensor.Shape, error) {
	qkv := in[0]
	if qkv.Dims() != 3 || qkv[2]%(3*k.heads) != 0 {
		return nil, fmt.Errorf("qkv %v is not [B, L, 3·heads·dh] for %d heads", qkv, k.heads)
	}
	if len(in) == 2 && (in[1].Dims() != 2 || in[1][0] != qkv[0] || in[1][1] != qkv[1]) {
		return nil, fmt.Errorf("mask %v does not match qkv %v", in[1], qkv)
	}
	return tensor.Shape{qkv[0], qkv[1], qkv[2] / 3}, nil
}

func (k attentionK) forward(a *kargs) {
	byType(a.dt, attnFwd[float32], attnFwd[float64])(k, a)
}

func (k attentionK) backward(a *kargs) {
	byType(a.dt, attnBwd[float32], attnBwd[float64])(k, a)
}

// writesGrad: attnBwd stores the gradients of q, k and v (one product per
// head and sample each, beta 0) and clears the rows no product reaches.
func (k attentionK) writesGrad(i int) bool { return i == 0 || !k.packed && i < 3 }

// attnDims are an attention call's sizes and the layout of its inputs:
// head h of q, k and v at row r (of its sample's Tq or Tk) starts at
// element r·ld + h·hs + off[part] (part 0, 1, 2), where the output and its
// gradient, [B, Tq, D], have head h at r·D + h·dh.
type attnDims struct {
	B, Tq, Tk, D, dh int
	ld, hs           int
	off              [3]int
}

func (k attentionK) dims(a *kargs) attnDims {
	q := a.shape[0]
	if k.packed {
		D := q[2] / 3
		dh := D / k.heads
		return attnDims{B: q[0], Tq: q[1], Tk: q[1], D: D, dh: dh, ld: q[2], hs: 3 * dh, off: [3]int{0, dh, 2 * dh}}
	}
	dh := q[2] / k.heads
	return attnDims{B: q[0], Tq: q[1], Tk: a.shape[1][1], D: q[2], dh: dh, ld: q[2], hs: dh}
}

// in returns where head h of part (0 q, 1 k, 2 v) starts in its input at
// row r of all the rows (sample b's row t is b·Tq + t or b·Tk + t).
func (d attnDims) in(part, r, h int) int { return r*d.ld + h*d.hs + d.off[part] }

// parts returns the data of q, k and v, and of the mask (nil without one),
// among an attention call's inputs ts (or of their gradients, nil where
// an input gets none): a packed call's first input holds all three.
func parts[T float](k attentionK, ts []*tensor.Dense) (q, kk, v, mask []T) {
	n := 1
	q = data[T](ts[0])
	kk, v = q, q
	if !k.packed {
		n = 3
		kk, v = data[T](ts[1]), data[T](ts[2])
	}
	if len(ts) > n {
		mask = data[T](ts[n])
	}
	return q, kk, v, mask
}

// keys returns how many leading keys of batch b take part: all Tk without
// a mask, else up to the last real one. Keys after it are padding, whose
// probabilities are exactly 0 in the full softmax (e^(−1e9) underflows),
// so the products and the softmax stop there and give the same numbers.
// A fully masked row keeps all Tk keys: its softmax is uniform over them.
func keys[T float](d attnDims, mask []T, b int) int {
	if mask == nil {
		return d.Tk
	}
	if n := lastReal(mask[b*d.Tk : (b+1)*d.Tk]); n > 0 {
		return n
	}
	return d.Tk
}

// blockScores is the number of scores (query rows × the Tk keys) whose
// probabilities the forward pass computes at once (see blockRows): a
// block of 128 KB stays in the core's cache through its softmax and its
// product with the values, where a whole head's (1 MB at 500 × 500
// steps) would not. Over few keys a block takes many rows: fewer
// products, each larger.
const blockScores = 1 << 15

// blockBase is blockScores/tk query rows (at least one), rounded up to
// whole pairs of sgemm's 6-row panels where there are that many: a block
// of 65 rows (500 keys) ended in a 5-row panel, packed element by element
// and run through the kernel's single-tile edge path, eight times a head;
// blocks of 72 have none, and are a few KB larger.
func blockBase(tk int) int {
	base := max(1, blockScores/tk)
	if base >= pairRows {
		base += (pairRows - base%pairRows) % pairRows
	}
	return base
}

// pairRows is the rows of two of sgemm's panels, which its AVX-512 kernel
// computes together.
const pairRows = 12

// blockRows returns the query rows of a head's blocks, over n of its tk
// keys, of width dh: blockBase(tk), or a multiple, up to blockCap times,
// where so few keys make a block of that many rows a product that sgemm
// computes with its direct loop (sgemm.Direct), which rounds differently
// from the blocked kernel. Only heads narrower than the presets' (dh 8
// and 32, over up to 500 keys) reach the cap: there a block may take the
// direct loop, the same in training and in evaluation, and a worker's
// scratch stays within 2·blockCap·blockScores whatever the lengths.
func blockRows(tk, n, dh int) int {
	base := blockBase(tk)
	rows := base
	for sgemm.Direct(rows, n, dh) && rows < blockCap*base {
		rows += base
	}
	return rows
}

// blockCap bounds blockRows at that many times blockBase(tk) rows.
const blockCap = 8

// blockEnd returns the end of the block of query rows [r0, r1) of nq:
// rows rows on, or all the rest where fewer than rows are left after them
// and they would be a product for sgemm's direct loop. So every block
// (below blockRows's cap) runs the kernel that one product of all nq rows
// runs, and the blocks give its numbers: the same in a training graph,
// which keeps the probabilities, as in any other, and whatever the block
// size. A block has fewer than 2·rows rows.
func blockEnd(r0, nq, rows, n, dh int) int {
	r1 := min(r0+rows, nq)
	if r1 < nq && nq-r1 < rows && sgemm.Direct(nq-r1, n, dh) {
		r1 = nq
	}
	return r1
}

// probs computes the attention probabilities of batch b, head h, query rows
// [r0, r1), over its first n keys into p [r1−r0, Tk] (row stride Tk;
// columns from n on are left as they are). pk, when not nil, is the head's
// Kᵀ packed (headPacks).
func probs[T float](d attnDims, q, kk, mask, p []T, b, h, n, r0, r1 int, pk *sgemm.PackedB, st []T) {
	qo, ko := d.in(0, b*d.Tq+r0, h), d.in(1, b*d.Tk, h)
	scale := T(1 / math.Sqrt(float64(d.dh)))
	if st != nil {
		transposedProduct(r1-r0, n, d.dh, scale, q[qo:], d.ld, kk[ko:], d.ld, st, p, d.Tk)
	} else {
		packedOr(pk, true, r1-r0, n, d.dh, scale, q[qo:], d.ld, kk[ko:], d.ld, p, d.Tk)
	}
	var m []T
	if mask != nil {
		m = mask[b*d.Tk : b*d.Tk+n]
	}
	i := 0
	if p32, ok := any(p).([]float32); ok && useAVX2 && n < 8 {
		// Rows shorter than a vector (keys of the three global tokens)
		// go eight at a time, side by side.
		for ; i+8 <= r1-r0; i += 8 {
			softmaxShort8(p32[i*d.Tk:], d.Tk, n, any(m).([]float32))
		}
	}
	for ; i < r1-r0; i++ {
		row := p[i*d.Tk : i*d.Tk+n]
		softmaxRow(row, m, row)
	}
}

// fewKeys is the most keys (Tk) for which attention computes a head's
// scores and score gradients as their transposes (transposedProduct);
// tests set it to 0 to compare with the plain products.
var fewKeys = 7

// transposedScratch returns, for float32 calls over at most fewKeys keys,
// scratch slot i of the op running a as each of workers' transposed
// scores (rows·Tk floats, rows at most Tq), else nil.
func transposedScratch[T float](a *kargs, i int, d attnDims, workers int) []T {
	if _, f32 := any(T(0)).(float32); !f32 || d.Tk > fewKeys {
		return nil
	}
	return scratchOf[T](a, i, workers*d.Tq*d.Tk)
}

// transposedProduct sets c [m, n] (row stride ldc) = alpha·x·yᵀ for x
// [m, k] and y [n, k] (row strides ldx, ldy) as the transpose of the
// product alpha·y·xᵀ, computed into st [n, m] and copied over. With n a
// few keys, x the queries, that product is a row of sgemm tiles over
// rows of x packed as whole panels, where x·yᵀ is a column of partial
// tiles reading x in place; each element is the same chain of
// multiply-adds over k (the two factors of each swapped), so the
// numbers are the same.
func transposedProduct[T float](m, n, k int, alpha T, x []T, ldx int, y []T, ldy int, st, c []T, ldc int) {
	gemmSerial(false, true, n, m, k, alpha, y, ldy, x, ldx, 0, st, m)
	for j := range n {
		for i, v := range st[j*m : (j+1)*m] {
			c[i*ldc+j] = v
		}
	}
}

// headPacks are a worker's packed copies of one head's Kᵀ and V for the
// forward pass, whose query blocks would otherwise each pack them again.
type headPacks struct{ k, v *sgemm.PackedB }

// pack packs Kᵀ (dh × n) and V (n × dh) of batch b, head h, over its
// first n keys, reusing the memory of the worker's previous head.
func (hp *headPacks) pack(d attnDims, kk, v []float32, b, h, n int) {
	hp.k = sgemm.PackB(hp.k, true, d.dh, n, kk[d.in(1, b*d.Tk, h):], d.ld)
	hp.v = sgemm.PackB(hp.v, false, n, d.dh, v[d.in(2, b*d.Tk, h):], d.ld)
}

// packsOf returns scratch slot i of the op running a as n headPacks.
func packsOf(a *kargs, i, n int) []headPacks {
	for len(a.scr.bufs) <= i {
		a.scr.bufs = append(a.scr.bufs, nil)
	}
	p, _ := a.scr.bufs[i].([]headPacks)
	if len(p) < n {
		p = append(p, make([]headPacks, n-len(p))...)
		a.scr.bufs[i] = p
	}
	return p[:n]
}

// packedOr is gemmSerial(false, tB, m, n, k, alpha, a, lda, b, ldb, 0,
// c, ldc) where pb, when not nil, is op(B) packed: bitwise the same
// numbers (products that sgemm computes directly skip pb).
func packedOr[T float](pb *sgemm.PackedB, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	if pb != nil && !sgemm.Direct(m, n, k) {
		sgemm.SerialPacked(false, m, float32(alpha), any(a).([]float32), lda, pb, 0, any(c).([]float32), ldc)
		return
	}
	gemmSerial(false, tB, m, n, k, alpha, a, lda, b, ldb, 0, c, ldc)
}

func attnFwd[T float](k attentionK, a *kargs) {
	d := k.dims(a)
	q, kk, v, mask := parts[T](k, a.in)
	out := data[T](a.out)
	var all, work []T
	// A worker's scratch holds its largest block (blockEnd): under twice
	// the rows of a block over one key.
	size := min(d.Tq, 2*blockRows(d.Tk, 1, d.dh)) * d.Tk
	if k.keep {
		all = keptOf[T](a, 0, d.B*k.heads*d.Tq*d.Tk)
	} else {
		work = scratchOf[T](a, 0, par.Workers(d.B*k.heads)*size)
	}
	var packs []headPacks // per worker, for heads of several blocks
	if _, f32 := any(q).([]float32); f32 && packedProducts {
		packs = packsOf(a, 1, par.Workers(d.B*k.heads))
	}
	st := transposedScratch[T](a, 2, d, par.Workers(d.B*k.heads))
	clearPadding(a.rows, out)
	touch := func(b int) {
		touchSample(d, k.packed, b, a.rows.steps(b, d.Tq), keys(d, mask, b), out, [][]T{q}, [][]T{kk, v})
	}
	eachHead(d, byCost(d, mask, a.rows, k.heads), k.heads, touch, func(w, bh int) {
		b, h := bh/k.heads, bh%k.heads
		n, nq := keys(d, mask, b), a.rows.steps(b, d.Tq)
		rows := blockRows(d.Tk, n, d.dh)
		var hp headPacks
		if packs != nil && nq > rows {
			packs[w].pack(d, any(kk).([]float32), any(v).([]float32), b, h, n)
			hp = packs[w]
		}
		for r0, r1 := 0, 0; r0 < nq; r0 = r1 {
			r1 = blockEnd(r0, nq, rows, n, d.dh)
			var p []T
			if all != nil {
				p = all[bh*d.Tq*d.Tk+r0*d.Tk : bh*d.Tq*d.Tk+r1*d.Tk]
			} else {
				p = work[w*size : w*size+(r1-r0)*d.Tk]
			}
			var ws []T
			if st != nil {
				ws = st[w*d.Tq*d.Tk : (w+1)*d.Tq*d.Tk]
			}
			probs(d, q, kk, mask, p, b, h, n, r0, r1, hp.k, ws)
			vo, oo := d.in(2, b*d.Tk, h), (b*d.Tq+r0)*d.D+h*d.dh
			packedOr(hp.v, false, r1-r0, d.dh, n, 1, p, d.Tk, v[vo:], d.ld, out[oo:], d.D)
		}
	})
}

// fewRows is the most queries or keys of an attention (the global
// tokens') for which each core takes all the heads of a sample in turn,
// after reading the sample's rows of every operand in order (touchRows).
// A head's products there do a few flops per float they read, and read
// the head's columns of the long side's rows: 128 bytes of every 512 at
// the paper's d 128, a stride that the hardware prefetchers follow only
// within a page, so such products waited on memory more than they
// computed (a head's 500 rows took 9 µs to read that way, its sample's
// 256 KB 17 µs in order). BenchmarkGlobalTokens, operands not in cache,
// medians of five runs by sample against by head (queries, keys):
// training 4.5 and 6.1 ms against 6.0 and 8.4, evaluation 1.6 and 2.1
// against 2.6 and 3.4. Tests set it to 0.
var fewRows = 7

// eachHead runs f(w, bh) for the heads bh = b·heads + h in order (byCost),
// each on the core w that takes it: heads one at a time, or where one
// side has at most fewRows rows, the heads of a sample in turn after
// touch(b). The heads' numbers do not depend on the core or the order.
func eachHead(d attnDims, order []int, heads int, touch func(b int), f func(w, bh int)) {
	if min(d.Tq, d.Tk) > fewRows {
		par.Pull(len(order), func(w, i int) { f(w, order[i]) })
		return
	}
	// byCost sorts stably by a cost of the sample: a sample's heads
	// are consecutive in order.
	par.Pull(len(order)/heads, func(w, i int) {
		touch(order[i*heads] / heads)
		for _, bh := range order[i*heads : (i+1)*heads] {
			f(w, bh)
		}
	})
}

// touchSample reads, before sample b's heads (eachHead), its rows of the
// operands they use (touchRows): nq rows of each of qs, the query side (ld
// floats apart), and of g, the output or its gradient (D apart); and
// unless packed, where qs hold all three parts, n rows of each of ks, the
// key side.
func touchSample[T float](d attnDims, packed bool, b, nq, n int, g []T, qs, ks [][]T) {
	for _, x := range qs {
		touchRows(x, b*d.Tq, nq, d.ld)
	}
	touchRows(g, b*d.Tq, nq, d.D)
	if packed {
		return
	}
	for _, x := range ks {
		touchRows(x, b*d.Tk, n, d.ld)
	}
}

// touchRows reads rows [r0, r0+n) of x (row stride ld; nil: none) in
// order, one float per cache line, so that they lie in the calling core's
// caches (float32 with AVX2; else it does nothing).
func touchRows[T float](x []T, r0, n, ld int) {
	if x32, ok := any(x).([]float32); ok && useAVX2 && x32 != nil && n > 0 {
		vec.Touch(&x32[r0*ld], n*ld)
	}
}

// byCost returns the indices b·heads + h of the samples' heads in order of
// falling cost (a sample's queries times its keys), for par.Pull: the
// samples of a batch of uneven lengths cost up to its longest's square.
func byCost[T float](d attnDims, mask []T, rows *rowSet, heads int) []int {
	cost := make([]int, d.B)
	for b := range cost {
		cost[b] = rows.steps(b, d.Tq) * keys(d, mask, b)
	}
	order := make([]int, d.B*heads)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cost[y/heads] - cost[x/heads] })
	return order
}

func attnBwd[T float](k attentionK, a *kargs) {
	d := k.dims(a)
	q, kk, v, mask := parts[T](k, a.in)
	gq, gk, gv, _ := parts[T](k, a.grads)
	gout := data[T](a.gout)
	scale := T(1 / math.Sqrt(float64(d.dh)))
	var all []T
	if k.keep {
		all = keptOf[T](a, 0, d.B*k.heads*d.Tq*d.Tk)
	}
	// Per worker: dP, and P where the forward pass kept none.
	per := d.Tq * d.Tk
	if all == nil {
		per *= 2
	}
	work := scratchOf[T](a, 0, par.Workers(d.B*k.heads)*per)
	// Keys past n have zero probability: their dV and dK rows are zero.
	// Queries past nq are padding (kargs.rows), with zero output
	// gradients: their dQ rows are zero too, and they add nothing to dV
	// and dK. The products below write every other row.
	parallelFor(d.B, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			n, nq := keys(d, mask, b), a.rows.steps(b, d.Tq)
			clearPart(d, gq, 0, b*d.Tq+nq, (b+1)*d.Tq)
			clearPart(d, gk, 1, b*d.Tk+n, (b+1)*d.Tk)
			clearPart(d, gv, 2, b*d.Tk+n, (b+1)*d.Tk)
		}
	})
	st := transposedScratch[T](a, 1, d, par.Workers(d.B*k.heads))
	touch := func(b int) {
		touchSample(d, k.packed, b, a.rows.steps(b, d.Tq), keys(d, mask, b), gout, [][]T{q, gq}, [][]T{kk, v, gk, gv})
	}
	eachHead(d, byCost(d, mask, a.rows, k.heads), k.heads, touch, func(w, bh int) {
		dp, p := work[w*per:w*per+d.Tq*d.Tk], work[w*per+d.Tq*d.Tk:(w+1)*per]
		var ws []T
		if st != nil {
			ws = st[w*d.Tq*d.Tk : (w+1)*d.Tq*d.Tk]
		}
		b, h := bh/k.heads, bh%k.heads
		oo, qo, ko, vo := b*d.Tq*d.D+h*d.dh, d.in(0, b*d.Tq, h), d.in(1, b*d.Tk, h), d.in(2, b*d.Tk, h)
		n, nq := keys(d, mask, b), a.rows.steps(b, d.Tq)
		if all != nil {
			p = all[bh*d.Tq*d.Tk : (bh+1)*d.Tq*d.Tk]
		} else {
			probs(d, q, kk, mask, p, b, h, n, 0, nq, nil, ws)
		}
		if gv != nil { // dV = Pᵀ·dO
			gemmSerial(true, false, n, d.dh, nq, 1, p, d.Tk, gout[oo:], d.D, 0, gv[vo:], d.ld)
		}
		// dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)).
		if ws != nil {
			transposedProduct(nq, n, d.dh, 1, gout[oo:], d.D, v[vo:], d.ld, ws, dp, d.Tk)
		} else {
			gemmSerial(false, true, nq, n, d.dh, 1, gout[oo:], d.D, v[vo:], d.ld, 0, dp, d.Tk)
		}
		for j := 0; j < nq; j++ {
			r := j * d.Tk
			softmaxRowBwd(p[r:r+n], dp[r:r+n], dp[r:r+n])
		}
		if gq != nil { // dQ = dS·K·scale
			gemmSerial(false, false, nq, d.dh, n, scale, dp, d.Tk, kk[ko:], d.ld, 0, gq[qo:], d.ld)
		}
		if gk != nil { // dK = dSᵀ·Q·scale
			gemmSerial(true, false, n, d.dh, nq, scale, dp, d.Tk, q[qo:], d.ld, 0, gk[ko:], d.ld)
		}
	})
}

// clearPart clears part (0 q, 1 k, 2 v) of g's rows [r0, r1) (nil g:
// none): whole rows where the part is the whole input.
func clearPart[T float](d attnDims, g []T, part, r0, r1 int) {
	if g == nil || r0 >= r1 {
		return
	}
	if d.ld == d.D {
		clear(g[r0*d.D : r1*d.D])
		return
	}
	for r := r0; r < r1; r++ {
		for h := 0; h < d.D/d.dh; h++ {
			clear(g[d.in(part, r, h):][:d.dh])
		}
	}
}
