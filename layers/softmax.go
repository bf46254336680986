package layers

import (
	"fmt"
	"github.com/fdcmdie/fdcmdie/layers/internal/vec"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// useAVX2 selects the assembly loops (package vec) of float32 softmax
// rows and of sigmoid and tanh rows; tests clear it to compare them with
// the Go loops.
var useAVX2 = vec.AVX2

// MaskNeg is the additive score of a padded key (SPEC §2: a large negative
// number, never −inf), so a fully masked row stays finite.
const MaskNeg = -1e9

// Softmax is a row-stable softmax over the last axis of x [B, ..., N]. When
// mask [B, N] is not nil (1 = real, 0 = padding), MaskNeg is added to the
// scores of padded positions first; every row of x under batch b uses mask
// row b. A fully masked row gives finite values, never NaN.
func Softmax(b *Builder, x, mask *G.Node) *G.Node {
	if mask == nil {
		return b.apply(softmaxK{}, x)
	}
	return b.apply(softmaxK{}, x, mask)
}

// softmaxK: inputs x [B, ..., N] and an optional mask [B, N].
type softmaxK struct{}

func (softmaxK) String() string { return "softmax" }

func (softmaxK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if len(in) == 2 {
		m := in[1]
		if m.Dims() != 2 || m[0] != x[0] || m[1] != x[x.Dims()-1] {
			return nil, fmt.Errorf("mask %v does not match scores %v", m, x)
		}
	}
	return x.Clone(), nil
}

func (k softmaxK) forward(a *kargs) {
	byType(a.dt, softmaxFwd[float32], softmaxFwd[float64])(a)
}

func (k softmaxK) backward(a *kargs) {
	byType(a.dt, softmaxBwd[float32], softmaxBwd[float64])(a)
}

func softmaxFwd[T float](a *kargs) {
	x, p := data[T](a.in[0]), data[T](a.out)
	var mask []T
	if len(a.in) == 2 {
		mask = data[T](a.in[1])
	}
	n := a.shape[0][a.shape[0].Dims()-1]
	rows := len(x) / n
	perBatch := rows / a.shape[0][0]
	parallelFor(rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			var m []T
			if mask != nil {
				b := r / perBatch
				m = mask[b*n : (b+1)*n]
			}
			softmaxRow(x[r*n:(r+1)*n], m, p[r*n:(r+1)*n])
		}
	})
}

// softmaxRow writes softmax(x + additive mask) into p: scores are shifted by
// the row's own maximum, so no row overflows or becomes NaN.
func softmaxRow[T float](x, mask, p []T) {
	if x32, ok := any(x).([]float32); ok && useAVX2 && len(x) >= 8 {
		softmaxRow32(x32, any(mask).([]float32), any(p).([]float32))
		return
	}
	mx := T(math.Inf(-1))
	for j, v := range x {
		if mask != nil && mask[j] == 0 {
			v += T(MaskNeg)
		}
		p[j] = v
		mx = max(mx, v)
	}
	inv := T(1 / expShifted(p, mx))
	for j := range p {
		p[j] *= inv
	}
}

// softmaxRow32 is softmaxRow for float32 rows with AVX2: the assembly
// loops take the first n−n%8 elements, Go the rest. The exponentials are
// bitwise expNeg's; their float64 sum runs in eight lanes.
func softmaxRow32(x, mask, p []float32) {
	n := len(x)
	n8 := n &^ 7
	var mx float32
	if mask == nil {
		mx = vec.MaxCopy(&x[0], &p[0], n8)
	} else {
		mx = vec.MaxMasked(&x[0], &mask[0], &p[0], n8)
	}
	for j := n8; j < n; j++ {
		v := x[j]
		if mask != nil && mask[j] == 0 {
			v += MaskNeg
		}
		p[j] = v
		mx = max(mx, v)
	}
	sum := vec.ExpSum(&p[0], n8, mx)
	for j := n8; j < n; j++ {
		e := expNeg(p[j] - mx)
		p[j] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	vec.Scale(&p[0], n8, inv)
	for j := n8; j < n; j++ {
		p[j] *= inv
	}
}

// softmaxShort8 is softmaxRow over eight rows of n < 8 scores (row i at
// p[i·ld:], in place) with one mask for all (nil: none), the rows side
// by side in the lanes of AVX2 registers (vec.SoftmaxLanes): bitwise the
// numbers of the Go loop that short rows otherwise take, one row at a
// time.
func softmaxShort8(p []float32, ld, n int, mask []float32) {
	var t [8 * 7]float32 // score j of row r at t[8·j+r]
	for r := 0; r < 8; r++ {
		for j, v := range p[r*ld : r*ld+n] {
			if mask != nil && mask[j] == 0 {
				v += MaskNeg
			}
			t[8*j+r] = v
		}
	}
	vec.SoftmaxLanes(&t[0], n)
	for r := 0; r < 8; r++ {
		row := p[r*ld : r*ld+n]
		for j := range row {
			row[j] = t[8*j+r]
		}
	}
}

func softmaxBwd[T float](a *kargs) {
	p, gp, gx := data[T](a.out), data[T](a.gout), data[T](a.grads[0])
	if gx == nil {
		return
	}
	n := a.shape[0][a.shape[0].Dims()-1]
	parallelFor(len(p)/n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			softmaxRowBwd(p[r*n:(r+1)*n], gp[r*n:(r+1)*n], gx[r*n:(r+1)*n])
		}
	})
}

// softmaxRowBwd: gx = p ⊙ (gp − Σ gp⊙p), the sum in float64. Float32
// rows with AVX2 run their first n−n%8 elements in assembly.
func softmaxRowBwd[T float](p, gp, gx []T) {
	var dot float64
	n8 := 0
	p32, ok := any(p).([]float32)
	if ok && useAVX2 && len(p) >= 8 {
		n8 = len(p) &^ 7
		dot = vec.Dot(&p32[0], &any(gp).([]float32)[0], n8)
	}
	for j := n8; j < len(p); j++ {
		dot += float64(gp[j]) * float64(p[j])
	}
	if n8 > 0 {
		vec.SoftmaxGrad(&p32[0], &any(gp).([]float32)[0], &any(gx).([]float32)[0], n8, float32(dot))
	}
	for j := n8; j < len(p); j++ {
		gx[j] = p[j] * (gp[j] - T(dot))
	}
}
