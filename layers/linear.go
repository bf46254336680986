package layers

import (
	"fmt"
	"runtime"

	"github.com/fdcmdie/fdcmdie/internal/par"
	"github.com/fdcmdie/fdcmdie/layers/sgemm"
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

// linearFwd computes y = x·Wᵀ + b. With a row set the product runs on the
// real rows of x and y where they are (float32 on package sgemm), or on
// copies of them packed together (gathered).
func linearFwd[T float](a *kargs) {
	m, in, out := linearDims(a)
	x, w, y := data[T](a.in[0]), data[T](a.in[1]), data[T](a.out)
	xs, ys := x, y
	idx := rowsInPlace[T](a)
	if rs := a.rows; rs != nil {
		m = rs.count
		if idx == nil {
			xs, ys = transientOf[T](a, 0, m*in), transientOf[T](a, 1, m*out)
			gatherRows(rs, x, xs, in)
		}
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
			linearRows(true, idx, lo, hi, out, in, xs, w, bias, ys)
		})
	} else {
		linearRows(false, idx, 0, m, out, in, xs, w, bias, ys)
	}
	if rs := a.rows; rs != nil {
		if idx == nil {
			scatterRows(rs, ys, y, out)
		}
		clearPadding(rs, y)
	}
}

// linearRows sets rows lo..hi of y [.., out] to x·Wᵀ + b (b nil: no
// bias), rows idx[lo:hi] where idx is not nil, as productOnRows runs the
// product; serial runs it on the calling goroutine. Float32 products on
// package sgemm add the bias as they store each tile (sgemm.Linear), the
// others (float64, OpenBLAS) in a pass of their own: the same numbers.
func linearRows[T float](serial bool, idx []int, lo, hi, out, in int, x, w, b, y []T) {
	if x32, ok := any(x).([]float32); ok && packedProducts {
		var rows []int
		xs, ys := x32[lo*in:], any(y).([]float32)[lo*out:]
		if idx != nil {
			rows, xs, ys = idx[lo:hi], x32, any(y).([]float32)
		}
		sgemm.Linear(serial, true, rows, hi-lo, out, in, xs, in, any(w).([]float32), in, any(b).([]float32), ys, out)
		return
	}
	productOnRows(serial, idx, lo, hi, true, out, in, x, in, w, in, y, out)
	if b == nil {
		return
	}
	if serial {
		addRowAt(y, b, idx, lo, hi)
		return
	}
	rowwise(hi-lo, out, func(l, h int) { addRowAt(y, b, idx, lo+l, lo+h) })
}

// rowsInPlace returns the real positions of a.rows in order (rowIndex),
// for products that run on them where they are: float32 products on
// package sgemm. nil: the kernel runs on every row (no row set), or gathers
// the real rows to run on them packed.
func rowsInPlace[T float](a *kargs) []int {
	if _, f32 := any(T(0)).(float32); !f32 || !packedProducts || a.rows == nil {
		return nil
	}
	return rowIndex(a)
}

// productOnRows computes C = A·op(B) (A m×k, op(B) k×n) on the rows lo..hi
// of the product: rows idx[lo:hi] of a and c with sgemm's OnRows (T is
// float32), or rows lo..hi of a and c when idx is nil; serial runs it on
// the calling goroutine. The numbers are the same either way.
func productOnRows[T float](serial bool, idx []int, lo, hi int, tB bool, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	if idx == nil {
		mul := gemm[T]
		if serial {
			mul = gemmSerial[T]
		}
		mul(false, tB, hi-lo, n, k, 1, a[lo*lda:], lda, b, ldb, 0, c[lo*ldc:], ldc)
		return
	}
	mul := sgemm.OnRows
	if serial {
		mul = sgemm.SerialOnRows
	}
	mul(tB, idx[lo:hi], n, k, 1, any(a).([]float32), lda, any(b).([]float32), ldb, 0, any(c).([]float32), ldc)
}

// productOverRows computes C = Aᵀ·B (A k×m, B k×n) summed over the rows
// idx of a and b with sgemm's OverRows (T is float32), or over their first
// k rows when idx is nil; serial runs it on the calling goroutine. The
// numbers are the same either way.
func productOverRows[T float](serial bool, idx []int, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	if idx == nil {
		mul := gemm[T]
		if serial {
			mul = gemmSerial[T]
		}
		mul(true, false, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
		return
	}
	mul := sgemm.OverRows
	if serial {
		mul = sgemm.SerialOverRows
	}
	mul(idx, m, n, 1, any(a).([]float32), lda, any(b).([]float32), ldb, 0, any(c).([]float32), ldc)
}

// sideBySide reports whether a layer's two gradient products of m·n·k
// multiply-adds each (they always have the same work) run one per core,
// side by side, rather than one after the other, each split over the
// cores: on two cores this saves a fork and join per product, and each
// packs its operands once rather than once per core. The results are the
// same (gemmSerial's are bitwise gemm's).
func sideBySide(work int) bool {
	return runtime.GOMAXPROCS(0) == 2 && work >= 1<<20
}

// linearBwd runs on the real rows like linearFwd: the padded rows' output
// gradients are zero, so they add nothing to gW and gb, and their gx rows
// are cleared.
func linearBwd[T float](a *kargs) {
	m, in, out := linearDims(a)
	x, w, gy := data[T](a.in[0]), data[T](a.in[1]), data[T](a.gout)
	gx, gw := data[T](a.grads[0]), data[T](a.grads[1])
	xs, gys, gxs := x, gy, gx
	idx := rowsInPlace[T](a)
	if rs := a.rows; rs != nil {
		m = rs.count
		if idx == nil {
			gys = transientOf[T](a, 0, m*out)
			gatherRows(rs, gy, gys, out)
			if gx != nil {
				gxs = transientOf[T](a, 1, m*in)
			}
			if gw != nil {
				xs = transientOf[T](a, 2, m*in)
				gatherRows(rs, x, xs, in)
			}
		}
	}
	inputGrad := func(serial bool) { productOnRows(serial, idx, 0, m, false, in, out, gys, out, w, in, gxs, in) }
	weightGrad := func(serial bool) { productOverRows(serial, idx, out, in, m, gys, out, xs, in, gw, in) }
	var gb []T
	if len(a.in) == 3 {
		gb = data[T](a.grads[2])
	}
	biasGrad := func(split func(int, int, func(lo, hi int))) {
		if gb != nil {
			addColumnSums(gb, gys, idx, m, split)
		}
	}
	if gx != nil && gw != nil && sideBySide(m*in*out) {
		// The weight product packs both operands, the input product one:
		// the bias gradient goes with the input product.
		par.Fork(2, func(w int) {
			if w == 0 {
				weightGrad(true)
				return
			}
			inputGrad(true)
			biasGrad(serially)
		})
	} else {
		if gx != nil {
			inputGrad(false)
		}
		if gw != nil {
			weightGrad(false)
		}
		biasGrad(rowwise)
	}
	if rs := a.rows; gx != nil && rs != nil {
		clearPadding(rs, gx)
		if idx == nil {
			scatterRows(rs, gxs, gx, in)
		}
	}
}
