package layers

import (
	"fmt"
	"github.com/fdcmdie/fdcmdie/layers/sgemm"
	"math"

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
// hidden states [B, T, H]. It runs over the whole padded length, as the
// model does (SPEC §2).
func (l *LSTM) Fwd(b *Builder, x *G.Node) *G.Node {
	h := x
	for k, ly := range l.Layers {
		if k > 0 {
			h = b.Dropout(h, l.P)
		}
		shape := h.Shape()
		shape[2] = l.Hidden
		packed := b.apply(lstmK{hidden: l.Hidden}, h, ly.Wih, ly.Whh, ly.Bih, ly.Bhh)
		h = b.apply(leadK{shape: shape}, packed)
	}
	return h
}

// lstmK is one LSTM layer over a whole sequence: inputs x [B, T, I],
// W_ih [4H, I], W_hh [4H, H], b_ih [4H], b_hh [4H]. Its output packs what
// the backward pass needs, as [6, B·T·H] laid out as six blocks: the hidden
// states h, the cells c, and the gate activations i, f, g, o. leadK cuts
// out the first block, h.
type lstmK struct{ hidden int }

func (k lstmK) String() string { return fmt.Sprintf("lstm(hidden=%d)", k.hidden) }

func (k lstmK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x, wih, whh, bih, bhh := in[0], in[1], in[2], in[3], in[4]
	h4 := 4 * k.hidden
	if x.Dims() != 3 || !wih.Eq(tensor.Shape{h4, x[2]}) || !whh.Eq(tensor.Shape{h4, k.hidden}) ||
		!bih.Eq(tensor.Shape{h4}) || !bhh.Eq(tensor.Shape{h4}) {
		return nil, fmt.Errorf("shapes x %v, w_ih %v, w_hh %v, b_ih %v, b_hh %v do not fit hidden %d", x, wih, whh, bih, bhh, k.hidden)
	}
	return tensor.Shape{6, x[0] * x[1] * k.hidden}, nil
}

func (k lstmK) forward(a *kargs) {
	byType(a.dt, lstmFwd[float32], lstmFwd[float64])(k, a)
}

func (k lstmK) backward(a *kargs) {
	byType(a.dt, lstmBwd[float32], lstmBwd[float64])(k, a)
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// gateFuncs returns the gate nonlinearities for element type T: float32
// graphs use sigmoid32 and tanh32 (a few ulp, several times faster than
// the float64 round trip), float64 graphs package math. The cell
// arithmetic around them stays in float64.
func gateFuncs[T float]() (sig, tanh func(T) float64) {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return func(x T) float64 { return float64(sigmoid32(float32(x))) },
			func(x T) float64 { return float64(tanh32(float32(x))) }
	}
	return func(x T) float64 { return sigmoid(float64(x)) }, func(x T) float64 { return math.Tanh(float64(x)) }
}

// lstmBlocks cuts the packed output into h, c, i, f, g, o, each [B, T, H].
func lstmBlocks[T float](out []T) (h, c, i, f, g, o []T) {
	n := len(out) / 6
	return out[:n], out[n : 2*n], out[2*n : 3*n], out[3*n : 4*n], out[4*n : 5*n], out[5*n:]
}

func lstmFwd[T float](k lstmK, a *kargs) {
	B, Tn, I, H := a.shape[0][0], a.shape[0][1], a.shape[0][2], k.hidden
	x, wih, whh := data[T](a.in[0]), data[T](a.in[1]), data[T](a.in[2])
	bih, bhh := data[T](a.in[3]), data[T](a.in[4])
	hs, cs, ig, fg, gg, og := lstmBlocks(data[T](a.out))
	// Input projections of every step at once: pre [B·T, 4H] = x·W_ihᵀ + b_ih + b_hh.
	sig, tanh := gateFuncs[T]()
	rec := newStepProduct(a, 1, true, H, 4*H, whh, H) // h[:, t−1]·W_hhᵀ
	pre := scratchOf[T](a, 0, B*Tn*4*H)
	gemm(false, true, B*Tn, 4*H, I, 1, x, I, wih, I, 0, pre, 4*H)
	for r := 0; r < B*Tn; r++ {
		row := pre[r*4*H : (r+1)*4*H]
		for j := range row {
			row[j] += bih[j] + bhh[j]
		}
	}
	// Samples are independent through time: fixed groups of lstmGroup
	// samples run their whole sequence side by side, with no step-by-step
	// synchronization. Each row's arithmetic does not depend on the
	// grouping, and the grouping does not depend on the number of cores.
	parallelFor((B+lstmGroup-1)/lstmGroup, func(lo, hi int) {
		for grp := lo; grp < hi; grp++ {
			b0, b1 := grp*lstmGroup, min((grp+1)*lstmGroup, B)
			for t := 0; t < Tn; t++ {
				if t > 0 { // pre[:, t] += h[:, t−1]·W_hhᵀ; rows of one step are T apart.
					rec.mul(b1-b0, hs[(b0*Tn+t-1)*H:], Tn*H, 1, pre[(b0*Tn+t)*4*H:], Tn*4*H)
				}
				for b := b0; b < b1; b++ {
					p := pre[(b*Tn+t)*4*H:]
					at := (b*Tn + t) * H
					for j := 0; j < H; j++ {
						iv := sig(p[j])
						fv := sig(p[H+j])
						gv := tanh(p[2*H+j])
						ov := sig(p[3*H+j])
						var cprev float64
						if t > 0 {
							cprev = float64(cs[at-H+j])
						}
						c := T(fv*cprev + iv*gv)
						cs[at+j] = c
						hs[at+j] = T(ov * tanh(c))
						ig[at+j], fg[at+j], gg[at+j], og[at+j] = T(iv), T(fv), T(gv), T(ov)
					}
				}
			}
		}
	})
}

// lstmGroup is the number of samples whose sequences one goroutine runs.
const lstmGroup = 8

func lstmBwd[T float](k lstmK, a *kargs) {
	B, Tn, I, H := a.shape[0][0], a.shape[0][1], a.shape[0][2], k.hidden
	x, wih, whh := data[T](a.in[0]), data[T](a.in[1]), data[T](a.in[2])
	hs, cs, ig, fg, gg, og := lstmBlocks(data[T](a.out))
	gh := data[T](a.gout)[:B*Tn*H] // only h leaves the op (leadK)
	// dA [B, T, 4H]: gradients of the gate pre-activations.
	_, tanh := gateFuncs[T]()
	rec := newStepProduct(a, 3, false, 4*H, H, whh, H) // dA[:, t]·W_hh
	dA := scratchOf[T](a, 0, B*Tn*4*H)
	dhNext := scratchOf[T](a, 1, B*H) // gradient reaching h[:, t] through step t+1
	dcNext := scratchOf[T](a, 2, B*H)
	clear(dhNext)
	clear(dcNext)
	parallelFor((B+lstmGroup-1)/lstmGroup, func(lo, hi int) {
		for grp := lo; grp < hi; grp++ {
			b0, b1 := grp*lstmGroup, min((grp+1)*lstmGroup, B)
			for t := Tn - 1; t >= 0; t-- {
				for b := b0; b < b1; b++ {
					at := (b*Tn + t) * H
					d := dA[(b*Tn+t)*4*H:]
					for j := 0; j < H; j++ {
						dh := float64(gh[at+j] + dhNext[b*H+j])
						iv, fv, gv, ov := float64(ig[at+j]), float64(fg[at+j]), float64(gg[at+j]), float64(og[at+j])
						tc := tanh(cs[at+j])
						dc := float64(dcNext[b*H+j]) + dh*ov*(1-tc*tc)
						var cprev float64
						if t > 0 {
							cprev = float64(cs[at-H+j])
						}
						d[j] = T(dc * gv * iv * (1 - iv))
						d[H+j] = T(dc * cprev * fv * (1 - fv))
						d[2*H+j] = T(dc * iv * (1 - gv*gv))
						d[3*H+j] = T(dh * tc * ov * (1 - ov))
						dcNext[b*H+j] = T(dc * fv)
					}
				}
				if t > 0 { // dhNext = dA[:, t]·W_hh
					rec.mul(b1-b0, dA[(b0*Tn+t)*4*H:], Tn*4*H, 0, dhNext[b0*H:], H)
				}
			}
		}
	})
	if gx := data[T](a.grads[0]); gx != nil {
		gemm(false, false, B*Tn, I, 4*H, 1, dA, 4*H, wih, I, 0, gx, I)
	}
	if gw := data[T](a.grads[1]); gw != nil {
		gemm(true, false, 4*H, I, B*Tn, 1, dA, 4*H, x, I, 0, gw, I)
	}
	if gw := data[T](a.grads[2]); gw != nil && Tn > 1 {
		// dW_hh = Σ_b Σ_{t≥1} dA[b, t]ᵀ·h[b, t−1]: per sample, steps are contiguous.
		for b := 0; b < B; b++ {
			gemm(true, false, 4*H, H, Tn-1, 1, dA[(b*Tn+1)*4*H:], 4*H, hs[b*Tn*H:], H, 1, gw, H)
		}
	}
	gbi, gbh := data[T](a.grads[3]), data[T](a.grads[4])
	for r := 0; r < B*Tn; r++ {
		row := dA[r*4*H : (r+1)*4*H]
		for j, v := range row {
			if gbi != nil {
				gbi[j] += v
			}
			if gbh != nil {
				gbh[j] += v
			}
		}
	}
}

// leadK returns the first block of a packed [n, m] output in the given
// shape (m elements). Its gradient is the output gradient padded with zeros.
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

// stepProduct multiplies by a weight that stays fixed over the time steps
// of one call: float32 products pack it once (sgemm.PackB, kept in the
// op's scratch) instead of at every step.
type stepProduct[T float] struct {
	tB   bool
	k, n int
	w    []T
	ldw  int
	pb   *sgemm.PackedB
}

// newStepProduct prepares C = A·op(W) with op(W) k×n, using scratch slot
// i for the packed weight.
func newStepProduct[T float](a *kargs, i int, tB bool, k, n int, w []T, ldw int) *stepProduct[T] {
	p := &stepProduct[T]{tB: tB, k: k, n: n, w: w, ldw: ldw}
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

// mul sets C = A·op(W) + beta·C for the m×k matrix A.
func (p *stepProduct[T]) mul(m int, x []T, ldx int, beta T, c []T, ldc int) {
	if p.pb != nil {
		sgemm.SerialPacked(false, m, 1, any(x).([]float32), ldx, p.pb, float32(beta), any(c).([]float32), ldc)
		return
	}
	gemm(false, p.tB, m, p.n, p.k, 1, x, ldx, p.w, p.ldw, beta, c, ldc)
}
