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

// LSTM is a multi-layer unidirectional LSTM with PyTorch
// nn.LSTM(batch_first=True) semantics: gate order i, f, g, o; parameters
// name.weight_ih_l{k} [4H, in], name.weight_hh_l{k} [4H, H],
// name.bias_ih_l{k}, name.bias_hh_l{k}; zero initial state; dropout
// between layers in training. Each layer is one fused op over the whole
// sequence with a hand-written backward pass through time.
type LSTM struct {
	Name   string
	Hidden int
	Layers []LSTMLayer
	P      float64 // dropout between layers
}

// LSTMLayer holds one layer's parameters.
type LSTMLayer struct{ Wih, Whh, Bih, Bhh *G.Node }

// NewLSTM creates the parameters of a layers-deep LSTM, initialized
// U(±1/sqrt(hidden)) as PyTorch does.
func NewLSTM(b *Builder, name string, in, hidden, layers int, dropout float64) *LSTM {
	l := &LSTM{Name: name, Hidden: hidden, P: dropout}
	init := PyTorchUniform(hidden)
	for k := 0; k < layers; k++ {
		width := in
		if k > 0 {
			width = hidden
		}
		l.Layers = append(l.Layers, LSTMLayer{
			Wih: b.Param(fmt.Sprintf("%s.weight_ih_l%d", name, k), init, 4*hidden, width),
			Whh: b.Param(fmt.Sprintf("%s.weight_hh_l%d", name, k), init, 4*hidden, hidden),
			Bih: b.Param(fmt.Sprintf("%s.bias_ih_l%d", name, k), init, 4*hidden),
			Bhh: b.Param(fmt.Sprintf("%s.bias_hh_l%d", name, k), init, 4*hidden),
		})
	}
	return l
}

// Fwd runs x [B, T, in] through every layer and returns the last layer's
// hidden states [B, T, H], every step computed.
func (l *LSTM) Fwd(b *Builder, x *G.Node) *G.Node { return l.FwdMasked(b, x, nil) }

// FwdMasked is Fwd for right-padded sequences with their mask [B, T]
// (1 = real step; nil: every step is real). Each sample runs up to its
// last real step, the keys attention reads (Attention): its hidden states
// there are those of the full-length run, since the LSTM is
// unidirectional, and its later steps hold zeros, with no gradient. SPEC
// §2 runs the sLSTM over the whole padded length, and the model reads its
// output only through masked pooling and attention, which give padded
// steps weight exactly 0: the model's numbers are the full run's, bit for
// bit, for a cost that follows the real lengths. A sample without a real
// step runs the whole length, as attention reads all of its keys.
func (l *LSTM) FwdMasked(b *Builder, x, mask *G.Node) *G.Node {
	h := x
	for k, ly := range l.Layers {
		if k > 0 {
			h = b.Dropout(h, l.P)
		}
		shape := h.Shape()
		shape[2] = l.Hidden
		in := []*G.Node{h, ly.Wih, ly.Whh, ly.Bih, ly.Bhh}
		if mask != nil {
			in = append(in, mask)
		}
		packed := b.apply(lstmK{hidden: l.Hidden, masked: mask != nil}, in...)
		h = b.apply(leadK{shape: shape}, packed)
	}
	return h
}

// lstmK is one LSTM layer over a whole sequence: inputs x [B, T, I],
// W_ih [4H, I], W_hh [4H, H], b_ih [4H], b_hh [4H], and when masked the
// mask [B, T]. Its output packs what the backward pass needs, as
// [6, B·T·H] laid out as six blocks: the hidden states h, the cells c, and
// the gate activations i, f, g, o. leadK cuts out the first block, h.
type lstmK struct {
	hidden int
	masked bool
}

func (k lstmK) String() string { return fmt.Sprintf("lstm(hidden=%d,masked=%v)", k.hidden, k.masked) }

func (k lstmK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x, wih, whh, bih, bhh := in[0], in[1], in[2], in[3], in[4]
	h4 := 4 * k.hidden
	if x.Dims() != 3 || !wih.Eq(tensor.Shape{h4, x[2]}) || !whh.Eq(tensor.Shape{h4, k.hidden}) ||
		!bih.Eq(tensor.Shape{h4}) || !bhh.Eq(tensor.Shape{h4}) {
		return nil, fmt.Errorf("shapes x %v, w_ih %v, w_hh %v, b_ih %v, b_hh %v do not fit hidden %d", x, wih, whh, bih, bhh, k.hidden)
	}
	if k.masked && (len(in) != 6 || !in[5].Eq(tensor.Shape{x[0], x[1]})) {
		return nil, fmt.Errorf("mask of x %v: want [%d %d]", x, x[0], x[1])
	}
	return tensor.Shape{6, x[0] * x[1] * k.hidden}, nil
}

func (k lstmK) forward(a *kargs) {
	byType(a.dt, lstmFwd[float32], lstmFwd[float64])(k, a)
}

func (k lstmK) backward(a *kargs) {
	byType(a.dt, lstmBwd[float32], lstmBwd[float64])(k, a)
}

// writesGrad: lstmBwd stores dx at every step (zeros at the steps that do
// not run); the weight and bias gradients are sums it adds to.
func (lstmK) writesGrad(i int) bool { return i == 0 }

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// gateFuncs returns the gate nonlinearities for element type T, each
// replacing a row by its values: float32 graphs use sigmoidRow32 and
// tanhRow32 (a few ulp, several times faster than the float64 round
// trip), float64 graphs package math. The cell arithmetic around them
// stays in float64.
func gateFuncs[T float]() (sig, tanh func([]T)) {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return func(p []T) { sigmoidRow32(any(p).([]float32)) }, func(p []T) { tanhRow32(any(p).([]float32)) }
	}
	return func(p []T) {
			for j, v := range p {
				p[j] = T(sigmoid(float64(v)))
			}
		}, func(p []T) {
			for j, v := range p {
				p[j] = T(math.Tanh(float64(v)))
			}
		}
}

// lstmBlocks cuts the packed output into h, c, i, f, g, o, each [B, T, H].
func lstmBlocks[T float](out []T) (h, c, i, f, g, o []T) {
	n := len(out) / 6
	return out[:n], out[n : 2*n], out[2*n : 3*n], out[3*n : 4*n], out[4*n : 5*n], out[5*n:]
}

// lstmGroup is the number of samples whose sequences one goroutine runs:
// the row count of sgemm's micro-tile, so that a group's product at each
// step is one full tile (a partial tile costs a full one). Groups this
// small also keep both cores busy when the samples' lengths differ: the
// longest group is a smaller share of the work.
const lstmGroup = 6

// lstmPlan says which steps an LSTM call runs. Sample b runs its first
// steps[b] steps, rows off[b] … off[b]+steps[b]−1 of the compact layout,
// which holds the rows that run (rows of them), sample after sample. The
// samples run in groups of lstmGroup taken in turn from order, where they
// are sorted by decreasing steps (ties by index): the samples of a group
// still running at a step are its first ones.
type lstmPlan struct {
	B, T              int
	steps, off, order []int
	rows              int
}

func planLSTM[T float](mask []T, B, Tn int) *lstmPlan {
	p := &lstmPlan{B: B, T: Tn, steps: make([]int, B), off: make([]int, B), order: make([]int, B)}
	for b := range B {
		p.steps[b] = Tn
		if mask != nil {
			p.steps[b] = keys(attnDims{Tk: Tn}, mask, b)
		}
		p.off[b], p.order[b] = p.rows, b
		p.rows += p.steps[b]
	}
	slices.SortStableFunc(p.order, func(i, j int) int { return p.steps[j] - p.steps[i] })
	return p
}

// full reports whether every step runs: the compact layout is the full one.
func (p *lstmPlan) full() bool { return p.rows == p.B*p.T }

// groupCount is the number of groups of samples.
func (p *lstmPlan) groupCount() int { return (p.B + lstmGroup - 1) / lstmGroup }

// groups runs f on every group of samples, side by side, each core taking
// the next group when it is done (the longest groups go first). A group's
// arithmetic does not depend on the goroutine that runs it, so the results
// do not depend on the number of cores.
func (p *lstmPlan) groups(f func(g int, samples []int)) {
	par.Pull(p.groupCount(), func(_, g int) { f(g, p.order[g*lstmGroup:min((g+1)*lstmGroup, p.B)]) })
}

// compact returns the rows of src [B·T, width] that run, in the compact
// layout (in scratch slot i; src itself when every step runs).
func compact[T float](a *kargs, i int, p *lstmPlan, src []T, width int) []T {
	if p.full() {
		return src
	}
	dst := scratchOf[T](a, i, p.rows*width)
	for b, n := range p.steps {
		copy(dst[p.off[b]*width:(p.off[b]+n)*width], src[b*p.T*width:])
	}
	return dst
}

// expand writes the compact rows src [rows, width] into dst [B·T, width],
// and zeros into its rows of the steps that do not run.
func expand[T float](p *lstmPlan, dst, src []T, width int) {
	for b, n := range p.steps {
		copy(dst[b*p.T*width:(b*p.T+n)*width], src[p.off[b]*width:])
		clear(dst[(b*p.T+n)*width : (b+1)*p.T*width])
	}
}

// maskOf returns the mask input of a masked call, else nil.
func maskOf[T float](k lstmK, a *kargs) []T {
	if k.masked {
		return data[T](a.in[5])
	}
	return nil
}

// lstmRun is one forward or backward call of lstmK: its plan, the packed
// output, and for the backward pass the output gradient gh and the
// compact gradients of the gate pre-activations dA [rows, 4H].
type lstmRun[T float] struct {
	p         *lstmPlan
	H         int
	sig, tanh func([]T) // gateFuncs
	rec       *stepProduct[T]
	pre, out  []T
	gh, dA    []T
}

// workRows is the number of values per sample of a group's working rows:
// 4H for the gates and H for h (forward), 4H for dA and H each for the
// gradients reaching h and c through the next step and for tanh(c)
// (backward).
func workRows(H int, back bool) int {
	if back {
		return 7 * H
	}
	return 5 * H
}

func lstmFwd[T float](k lstmK, a *kargs) {
	B, Tn, I, H := a.shape[0][0], a.shape[0][1], a.shape[0][2], k.hidden
	x, wih, whh := data[T](a.in[0]), data[T](a.in[1]), data[T](a.in[2])
	bih, bhh := data[T](a.in[3]), data[T](a.in[4])
	p := planLSTM(maskOf[T](k, a), B, Tn)
	r := &lstmRun[T]{p: p, H: H, out: data[T](a.out)}
	r.sig, r.tanh = gateFuncs[T]()
	// Input projections of every step that runs, at once:
	// pre [rows, 4H] = x·W_ihᵀ + b_ih + b_hh.
	r.pre = scratchOf[T](a, 0, p.rows*4*H)
	bias := scratchOf[T](a, 5, 4*H)
	for j := range bias {
		bias[j] = bih[j] + bhh[j]
	}
	xs, direct := compact(a, 3, p, x, I), sgemm.Direct(B*Tn, 4*H, I)
	if x32, ok := any(xs).([]float32); ok && packedProducts && direct == sgemm.Direct(p.rows, 4*H, I) {
		// The product gemmPart would run, with the bias added as each
		// tile is stored: the same numbers.
		sgemm.Linear(false, true, nil, p.rows, 4*H, I, x32, I, any(wih).([]float32), I, any(bias).([]float32), any(r.pre).([]float32), 4*H)
	} else {
		gemmPart(a, 2, direct, false, true, p.rows, 4*H, I, xs, I, wih, I, 0, r.pre, 4*H)
		rowwise(p.rows, 4*H, func(lo, hi int) { addRowAt(r.pre, bias, nil, lo, hi) })
	}
	r.rec = newStepProduct(a, 1, false, true, H, 4*H, whh, H) // h[:, t−1]·W_hhᵀ
	work := scratchOf[T](a, 4, p.groupCount()*lstmGroup*workRows(H, false))
	p.groups(func(g int, samples []int) {
		w := work[g*lstmGroup*workRows(H, false):]
		r.forwardGroup(samples, w[:lstmGroup*4*H], w[lstmGroup*4*H:lstmGroup*5*H])
	})
}

// forwardGroup runs one group's samples side by side through their steps,
// with gates [lstmGroup, 4H] and hPrev [lstmGroup, H] as working rows.
// Each row's arithmetic does not depend on the group (the products are
// row by row), so the numbers are those of any other grouping.
func (r *lstmRun[T]) forwardGroup(samples []int, gates, hPrev []T) {
	p, H := r.p, r.H
	hs, cs, ig, fg, gg, og := lstmBlocks(r.out)
	zeros := make([]T, H) // c before the first step
	active := len(samples)
	for t := 0; t < p.steps[samples[0]]; t++ {
		for p.steps[samples[active-1]] <= t {
			active--
		}
		for i, b := range samples[:active] {
			copy(gates[i*4*H:(i+1)*4*H], r.pre[(p.off[b]+t)*4*H:])
		}
		if t > 0 { // gates += h[:, t−1]·W_hhᵀ
			r.rec.mul(active, hPrev, H, 1, gates, 4*H)
		}
		for i, b := range samples[:active] {
			g := gates[i*4*H : (i+1)*4*H]
			r.sig(g[:2*H])
			r.tanh(g[2*H : 3*H])
			r.sig(g[3*H:])
			at := (b*p.T + t) * H
			c, h, cprev := cs[at:at+H], hs[at:at+H], zeros
			if t > 0 {
				cprev = cs[at-H : at]
			}
			r.cell(g, cprev, c, h)
			copy(hPrev[i*H:(i+1)*H], h)
			copy(ig[at:at+H], g[:H])
			copy(fg[at:at+H], g[H:2*H])
			copy(gg[at:at+H], g[2*H:3*H])
			copy(og[at:at+H], g[3*H:])
		}
	}
	for _, b := range samples { // steps that do not run hold zeros
		for _, blk := range [][]T{hs, cs, ig, fg, gg, og} {
			clear(blk[(b*p.T+p.steps[b])*H : (b+1)*p.T*H])
		}
	}
}

// cell sets one sample's cell c = f·cprev + i·g, summed in float64 (the
// products exact) and rounded once, and output h = o·tanh(c), from its
// activated gates g = [i f g o] (H each): eight at a time with AVX2
// (vec.Cell, bitwise these numbers), the rest in Go.
func (r *lstmRun[T]) cell(g, cprev, c, h []T) {
	H, n8 := r.H, 0
	if g32, ok := any(g).([]float32); ok && useAVX2 {
		if n8 = H &^ 7; n8 > 0 {
			cp, c32, h32 := any(cprev).([]float32), any(c).([]float32), any(h).([]float32)
			vec.Cell(&g32[0], H, &cp[0], &c32[0], &h32[0], n8)
		}
	}
	for j := n8; j < H; j++ {
		c[j] = T(float64(g[H+j])*float64(cprev[j]) + float64(g[j])*float64(g[2*H+j]))
	}
	copy(h[n8:], c[n8:])
	r.tanh(h[n8:]) // tanh(c)
	for j := n8; j < H; j++ {
		h[j] = T(float64(g[3*H+j]) * float64(h[j]))
	}
}

func lstmBwd[T float](k lstmK, a *kargs) {
	B, Tn, I, H := a.shape[0][0], a.shape[0][1], a.shape[0][2], k.hidden
	x, wih, whh := data[T](a.in[0]), data[T](a.in[1]), data[T](a.in[2])
	p := planLSTM(maskOf[T](k, a), B, Tn)
	r := &lstmRun[T]{p: p, H: H, out: data[T](a.out), gh: data[T](a.gout)[:B*Tn*H]} // only h leaves the op (leadK)
	_, r.tanh = gateFuncs[T]()
	r.rec = newStepProduct(a, 3, false, false, 4*H, H, whh, H) // dA[:, t]·W_hh
	r.dA = scratchOf[T](a, 0, p.rows*4*H)
	work := scratchOf[T](a, 1, p.groupCount()*lstmGroup*workRows(H, true))
	p.groups(func(g int, samples []int) {
		w := work[g*lstmGroup*workRows(H, true):]
		r.backwardGroup(samples, w[:lstmGroup*4*H], w[lstmGroup*4*H:lstmGroup*5*H], w[lstmGroup*5*H:lstmGroup*6*H], w[lstmGroup*6*H:lstmGroup*7*H])
	})
	r.weightGrads(a, x, wih, I)
}

// backwardGroup runs one group's samples back through their steps, with
// dAt [lstmGroup, 4H] (dA of the current step) and dhNext, dcNext
// [lstmGroup, H] (the gradients reaching h and c through the next step)
// and tanhC [lstmGroup, H] (tanh of the step's cells) as working rows. A
// sample's last step that runs receives nothing from the next: in the
// full-length run, the steps after it carry zero gradient.
func (r *lstmRun[T]) backwardGroup(samples []int, dAt, dhNext, dcNext, tanhC []T) {
	p, H := r.p, r.H
	_, cs, _, _, _, _ := lstmBlocks(r.out)
	zeros := make([]T, H) // c before the first step
	clear(dhNext)
	clear(dcNext)
	active := 0
	for t := p.steps[samples[0]] - 1; t >= 0; t-- {
		for active < len(samples) && p.steps[samples[active]] > t {
			active++
		}
		for i, b := range samples[:active] {
			at := (b*p.T + t) * H
			d := dAt[i*4*H : (i+1)*4*H]
			tcs := tanhC[i*H : (i+1)*H]
			copy(tcs, cs[at:at+H])
			r.tanh(tcs)
			cprev := zeros
			if t > 0 {
				cprev = cs[at-H : at]
			}
			r.cellGrad(at, d, tcs, cprev, dhNext[i*H:(i+1)*H], dcNext[i*H:(i+1)*H])
			copy(r.dA[(p.off[b]+t)*4*H:], d)
		}
		if t > 0 { // dhNext = dA[:, t]·W_hh
			r.rec.mul(active, dAt, 4*H, 0, dhNext, H)
		}
	}
}

// cellGrad is one sample's backward step at position at of the packed
// output: from the output gradient, the gradients dhNext and dcNext
// reaching h and c from the next step, tc = tanh(c) and the previous cell
// cprev, it writes the gate pre-activations' gradients d [4H] and
// replaces dcNext by the gradient reaching the previous cell. Four at a
// time with AVX2 (vec.CellGrad, bitwise these numbers), the rest in Go.
func (r *lstmRun[T]) cellGrad(at int, d, tc, cprev, dhNext, dcNext []T) {
	H, n4 := r.H, 0
	_, _, ig, fg, gg, og := lstmBlocks(r.out)
	if d32, ok := any(d).([]float32); ok && useAVX2 {
		if n4 = H &^ 3; n4 > 0 {
			// The gate blocks follow one another in the packed output, len(ig)
			// apart; check the bounds the assembly relies on.
			_, _, _, _, _ = r.gh[at+n4-1], og[at+n4-1], tc[n4-1], cprev[n4-1], dhNext[n4-1]
			_, _ = dcNext[n4-1], d32[3*H+n4-1]
			f := func(s []T) *float32 { return &any(s).([]float32)[0] }
			vec.CellGrad(f(r.gh[at:]), f(dhNext), f(ig[at:]), len(ig), f(tc), f(dcNext), f(cprev), &d32[0], H, n4)
		}
	}
	for j := n4; j < H; j++ {
		dh := float64(r.gh[at+j] + dhNext[j])
		iv, fv, gv, ov := float64(ig[at+j]), float64(fg[at+j]), float64(gg[at+j]), float64(og[at+j])
		tc := float64(tc[j])
		dc := float64(dcNext[j]) + dh*ov*(1-tc*tc)
		cp := float64(cprev[j])
		d[j] = T(dc * gv * iv * (1 - iv))
		d[H+j] = T(dc * cp * fv * (1 - fv))
		d[2*H+j] = T(dc * iv * (1 - gv*gv))
		d[3*H+j] = T(dh * tc * ov * (1 - ov))
		dcNext[j] = T(dc * fv)
	}
}

// weightGrads computes the gradients of the inputs and weights from dA.
// The steps that do not run have zero dA in the full-length run: the
// products over them are left out, with the numbers of the full products.
func (r *lstmRun[T]) weightGrads(a *kargs, x, wih []T, I int) {
	p, H, dA := r.p, r.H, r.dA
	if gx := data[T](a.grads[0]); gx != nil { // dx = dA·W_ih
		gxc := gx
		if !p.full() {
			gxc = scratchOf[T](a, 4, p.rows*I)
		}
		gemmPart(a, 5, sgemm.Direct(p.B*p.T, I, 4*H), false, false, p.rows, I, 4*H, dA, 4*H, wih, I, 0, gxc, I)
		if !p.full() {
			expand(p, gx, gxc, I)
		}
	}
	if gw := data[T](a.grads[1]); gw != nil { // dW_ih = dAᵀ·x
		sumRows(a, 6, p, 4*H, I, dA, compact(a, 2, p, x, I), gw)
	}
	if gw := data[T](a.grads[2]); gw != nil && p.T > 1 {
		// dW_hh = Σ_b Σ_{1≤t<steps[b]} dA[b, t]ᵀ·h[b, t−1]: per sample, steps are contiguous.
		hs, _, _, _, _, _ := lstmBlocks(r.out)
		direct := sgemm.Direct(4*H, H, p.T-1)
		for b, n := range p.steps {
			if n > 1 {
				gemmPart(a, 7, direct, true, false, 4*H, H, n-1, dA[(p.off[b]+1)*4*H:], 4*H, hs[b*p.T*H:], H, 1, gw, H)
			}
		}
	}
	// Both biases' gradients are dA's column sums, and bwdOp zeroed both:
	// one pass over dA, and a copy, give each the same numbers.
	gb, gb2 := data[T](a.grads[3]), data[T](a.grads[4])
	if gb == nil {
		gb, gb2 = gb2, nil
	}
	if gb != nil {
		addColumnSums(gb, dA, nil, p.rows, rowwise)
	}
	if gb2 != nil {
		copy(gb2, gb)
	}
}

// sumRows sets c [m, n] = Σ_i dA[i]ᵀ·x[i] over the compact rows i of
// dA [rows, m] and x [rows, n], with the numbers of the one product over
// all B·T rows of the full layout (where the rows that do not run are
// zero in dA): the sum is cut where that product's k blocks begin
// (sgemm.KBlock), and the terms left out are zero.
func sumRows[T float](a *kargs, slot int, p *lstmPlan, m, n int, dA, x, c []T) {
	all := p.B * p.T
	if p.full() || sgemm.Direct(m, n, all) {
		gemm(true, false, m, n, p.rows, 1, dA, m, x, n, 0, c, n)
		return
	}
	var beta T
	for lo := 0; lo < all; lo += sgemm.KBlock {
		i0, i1 := p.before(lo), p.before(min(lo+sgemm.KBlock, all))
		if i1 > i0 {
			gemmPart(a, slot, false, true, false, m, n, i1-i0, dA[i0*m:], m, x[i0*n:], n, beta, c, n)
			beta = 1
		}
	}
}

// before returns the number of rows that run before row i of the full
// layout (sample i/T, step i%T).
func (p *lstmPlan) before(i int) int {
	b := i / p.T
	if b == p.B {
		return p.rows
	}
	return p.off[b] + min(i%p.T, p.steps[b])
}

// gemmPart is gemm (alpha 1) for a part of a larger product of the same
// operands (some of its rows, or some of the terms of its sums) that must
// give that product's numbers. sgemm rounds products too small for its
// blocked kernel differently (sgemm.Direct): the part of a product that
// ran the blocked kernel (direct false) runs it too, through
// sgemm.SerialPacked with the operand w packed in scratch slot i.
func gemmPart[T float](a *kargs, i int, direct, tA, tB bool, m, n, k int, x []T, ldx int, w []T, ldw int, beta T, c []T, ldc int) {
	if _, f32 := any(x).([]float32); f32 && packedProducts && !direct && sgemm.Direct(m, n, k) {
		newStepProduct(a, i, tA, tB, k, n, w, ldw).mul(m, x, ldx, beta, c, ldc)
		return
	}
	gemm(tA, tB, m, n, k, 1, x, ldx, w, ldw, beta, c, ldc)
}

// leadK returns the first block of a packed [n, m] output in the given
// shape (m elements). Its gradient is the output gradient in the first
// block; the other blocks are never written (see writesGrad).
type leadK struct{ shape tensor.Shape }

func (k leadK) String() string { return fmt.Sprintf("lead%v", k.shape) }

func (k leadK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 2 || in[0][1] != k.shape.TotalSize() {
		return nil, fmt.Errorf("packed input %v has no leading block of shape %v", in[0], k.shape)
	}
	return k.shape.Clone(), nil
}

func (k leadK) forward(a *kargs) {
	copyDense(a.out, a.in[0])
}

func (k leadK) backward(a *kargs) {
	copyDense(a.grads[0], a.gout)
}

// writesGrad: leadK's input is an lstmK's packed output, whose backward
// reads only the first block of its gradient (the h that leaves the op):
// leadK stores that block, and the other five, which nothing reads, are
// neither written nor zeroed (zeroing them cost a pass over five
// activation-sized blocks per layer and step).
func (leadK) writesGrad(i int) bool { return i == 0 }

// stepProduct multiplies by a weight that stays fixed over the time steps
// of one call: float32 products pack it once (sgemm.PackB, kept in the
// op's scratch) instead of at every step.
type stepProduct[T float] struct {
	tA, tB bool
	k, n   int
	w      []T
	ldw    int
	pb     *sgemm.PackedB
}

// newStepProduct prepares C = op(A)·op(W) with op(W) k×n, using scratch
// slot i for the packed weight.
func newStepProduct[T float](a *kargs, i int, tA, tB bool, k, n int, w []T, ldw int) *stepProduct[T] {
	p := &stepProduct[T]{tA: tA, tB: tB, k: k, n: n, w: w, ldw: ldw}
	if w32, ok := any(w).([]float32); ok && packedProducts {
		for len(a.scr.bufs) <= i {
			a.scr.bufs = append(a.scr.bufs, nil)
		}
		old, _ := a.scr.bufs[i].(*sgemm.PackedB)
		p.pb = sgemm.PackB(old, tB, k, n, w32, ldw)
		a.scr.bufs[i] = p.pb
	}
	return p
}

// mul sets C = op(A)·op(W) + beta·C for the m×k matrix op(A).
func (p *stepProduct[T]) mul(m int, x []T, ldx int, beta T, c []T, ldc int) {
	if p.pb != nil {
		sgemm.SerialPacked(p.tA, m, 1, any(x).([]float32), ldx, p.pb, float32(beta), any(c).([]float32), ldc)
		return
	}
	gemm(p.tA, p.tB, m, p.n, p.k, 1, x, ldx, p.w, p.ldw, beta, c, ldc)
}
