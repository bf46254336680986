package layers

import (
	"fmt"
	"runtime"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Linear is y = x·Wᵀ + b with W stored [out, in] as in PyTorch.
type Linear struct {
	W, B    *G.Node // B is nil for a layer without bias
	In, Out int
}

// NewLinear creates name.weight [out, in] and name.bias [out] with
// PyTorch's default init, U(±1/sqrt(in)).
func NewLinear(b *Builder, name string, in, out int, bias bool) *Linear {
	l := &Linear{In: in, Out: out}
	init := PyTorchUniform(in)
	l.W = b.Param(name+".weight", init, out, in)
	if bias {
		l.B = b.Param(name+".bias", init, out)
	}
	return l
}

// NewLinearInit is NewLinear with weights from winit and a zero bias.
func NewLinearInit(b *Builder, name string, in, out int, bias bool, winit Init) *Linear {
	l := &Linear{In: in, Out: out}
	l.W = b.Param(name+".weight", winit, out, in)
	if bias {
		l.B = b.Param(name+".bias", Const(0), out)
	}
	return l
}

// Fwd applies the layer to the last axis of x [..., in] → [..., out].
func (l *Linear) Fwd(b *Builder, x *G.Node) *G.Node {
	if l.B == nil {
		return b.apply(linearK{}, x, l.W)
	}
	return b.apply(linearK{}, x, l.W, l.B)
}

// linearK: inputs x [..., in], W [out, in], optional b [out].
type linearK struct{}

func (linearK) String() string { return "linear" }

func (linearK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if w.Dims() != 2 || x.Dims() < 1 || x[x.Dims()-1] != w[1] {
		return nil, fmt.Errorf("x %v does not match weight %v", x, w)
	}
	if len(in) == 3 && (in[2].Dims() != 1 || in[2][0] != w[0]) {
		return nil, fmt.Errorf("bias %v does not match weight %v", in[2], w)
	}
	out := x.Clone()
	out[out.Dims()-1] = w[0]
	return out, nil
}

func (k linearK) forward(a *kargs) {
	byType(a.dt, linearFwd[float32], linearFwd[float64])(a)
}

func (k linearK) backward(a *kargs) {
	byType(a.dt, linearBwd[float32], linearBwd[float64])(a)
}

// writesGrad: linearBwd stores the gradients of x and of the weight with
// products that do not read their output (beta 0); the bias gradient is a
// sum into zeros.
func (linearK) writesGrad(i int) bool { return i < 2 }

func linearDims(a *kargs) (m, in, out int) {
	in, out = a.shape[1][1], a.shape[1][0]
	return a.shape[0].TotalSize() / in, in, out
}

// linearFwd computes y = x·Wᵀ + b. With a row set the real rows of x are
// packed into one product, and its rows unpacked into y.
func linearFwd[T float](a *kargs) {
	m, in, out := linearDims(a)
	x, w, y := data[T](a.in[0]), data[T](a.in[1]), data[T](a.out)
	xs, ys := x, y
	if rs := a.rows; rs != nil {
		m = rs.count
		xs, ys = transientOf[T](a, 0, m*in), transientOf[T](a, 1, m*out)
		gatherRows(rs, x, xs, in)
	}
	var bias []T
	if len(a.in) == 3 {
		bias = data[T](a.in[2])
	}
	if _, f32 := any(x).([]float32); f32 && sideBySide(m*in*out) {
		// Each core multiplies its half of the rows, as sgemm would split
		// them (a row's numbers do not depend on the split), and adds the
		// bias to them while they are fresh: one fork and join.
		parallelFor(m, func(lo, hi int) {
			gemmSerial(false, true, hi-lo, out, in, 1, xs[lo*in:], in, w, in, 0, ys[lo*out:], out)
			if bias != nil {
				addRow(ys, bias, lo, hi)
			}
		})
	} else {
		gemm(false, true, m, out, in, 1, xs, in, w, in, 0, ys, out)
		if bias != nil {
			rowwise(m, out, func(lo, hi int) { addRow(ys, bias, lo, hi) })
		}
	}
	if rs := a.rows; rs != nil {
		scatterRows(rs, ys, y, out)
		clearPadding(rs, y)
	}
}

// gemmFunc is gemm or gemmSerial.
type gemmFunc[T float] func(tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// sideBySide reports whether a layer's two gradient products of m·n·k
// multiply-adds each (they always have the same work) run one per core,
// side by side, rather than one after the other, each split over the
// cores: on two cores this saves a fork and join per product, and each
// packs its operands once rather than once per core. The results are the
// same (gemmSerial's are bitwise gemm's).
func sideBySide(work int) bool {
	return runtime.GOMAXPROCS(0) == 2 && work >= 1<<20
}

// linearBwd runs on the packed real rows like linearFwd: the padded rows'
// output gradients are zero, so they add nothing to gW and gb, and their gx
// rows are cleared.
func linearBwd[T float](a *kargs) {
	m, in, out := linearDims(a)
	x, w, gy := data[T](a.in[0]), data[T](a.in[1]), data[T](a.gout)
	gx := data[T](a.grads[0])
	xs, gys, gxs := x, gy, gx
	if rs := a.rows; rs != nil {
		m = rs.count
		gys = transientOf[T](a, 0, m*out)
		gatherRows(rs, gy, gys, out)
		if gx != nil {
			gxs = transientOf[T](a, 1, m*in)
		}
	}
	gw := data[T](a.grads[1])
	if gw != nil && a.rows != nil {
		xs = transientOf[T](a, 2, m*in)
		gatherRows(a.rows, x, xs, in)
	}
	inputGrad := func(mul gemmFunc[T]) { mul(false, false, m, in, out, 1, gys, out, w, in, 0, gxs, in) }
	weightGrad := func(mul gemmFunc[T]) { mul(true, false, out, in, m, 1, gys, out, xs, in, 0, gw, in) }
	var gb []T
	if len(a.in) == 3 {
		gb = data[T](a.grads[2])
	}
	biasGrad := func(split func(int, int, func(lo, hi int))) {
		if gb != nil {
			addColumnSums(gb, gys, m, split)
		}
	}
	if gx != nil && gw != nil && sideBySide(m*in*out) {
		// The weight product packs both operands, the input product one:
		// the bias gradient goes with the input product.
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			inputGrad(gemmSerial[T])
			biasGrad(serially)
		}()
		weightGrad(gemmSerial[T])
		wg.Wait()
	} else {
		if gx != nil {
			inputGrad(gemm[T])
		}
		if gw != nil {
			weightGrad(gemm[T])
		}
		biasGrad(rowwise)
	}
	if gx != nil && a.rows != nil {
		clearPadding(a.rows, gx)
		scatterRows(a.rows, gxs, gx, in)
	}
}
