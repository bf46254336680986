package layers

import (
	"math"

	"github.com/fdcmdie/fdcmdie/layers/internal/vec"
)

// expNeg is e^x for x ≤ 0 in float32 arithmetic, the softmax's only use
// of exp (scores minus their row maximum): Cephes' expf range reduction
// by ln 2 in two parts and a degree-6 polynomial, within 2 ulp of the
// correctly rounded value. Results below e^-87.3 flush to 0, as a float32
// softmax would round them anyway. Without the range checks of math.Exp
// and the float64 round trip it is about twice as fast.
func expNeg(x float32) float32 {
	if x < -87.33654 {
		return 0
	}
	if x != x { // NaN stays NaN, as with math.Exp
		return x
	}
	// Round x/ln2 to the nearest integer: x ≤ 0, and Go's conversion
	// truncates toward zero.
	n := int32(x*1.44269504088896341 - 0.5)
	fn := float32(n)
	r := x - fn*0.693359375
	r -= fn * -2.12194440e-4
	y := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	y = y*r*r + r + 1
	return y * math.Float32frombits(uint32(n+127)<<23)
}

// expShifted replaces every p[j] by e^(p[j]−mx) (mx ≥ every p[j]) and
// returns their sum in float64: float32 rows use expNeg, float64 rows
// math.Exp.
func expShifted[T float](p []T, mx T) float64 {
	var sum float64
	switch q := any(p).(type) {
	case []float32:
		m := float32(mx)
		for j, v := range q {
			e := expNeg(v - m)
			q[j] = e
			sum += float64(e)
		}
	case []float64:
		m := float64(mx)
		for j, v := range q {
			e := math.Exp(v - m)
			q[j] = e
			sum += e
		}
	}
	return sum
}

// tanh32 is tanh in float32 arithmetic (Cephes' tanhf): an odd polynomial
// below |x| = 0.625, where 1 − e^(−2|x|) would cancel, and
// (1 − e)/(1 + e) with e = e^(−2|x|) above. Within 3 ulp of the correctly
// rounded value (TestTanh32Accuracy); about 4× faster than math.Tanh with
// its float64 round trip.
func tanh32(x float32) float32 {
	ax := x
	if ax < 0 {
		ax = -ax
	}
	if !(ax > 0.625) { // NaN takes this branch and stays NaN
		z := x * x
		return ((((-5.70498872745e-3*z+2.06390887954e-2)*z-5.37397155531e-2)*z+1.33314422036e-1)*z-3.33332819422e-1)*z*x + x
	}
	e := expNeg(-2 * ax)
	t := (1 - e) / (1 + e)
	if x < 0 {
		return -t
	}
	return t
}

// sigmoid32 is 1/(1 + e^−x) in float32 arithmetic, written with e^−|x| so
// that the exponential never overflows. Within 3 ulp (TestSigmoid32Accuracy).
func sigmoid32(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + expNeg(-x))
	}
	e := expNeg(x) // NaN stays NaN
	return e / (1 + e)
}

// sigmoidRow32 replaces every p[j] by sigmoid32(p[j]), eight at a time
// with AVX2 or sixteen with AVX-512 (vec.Sigmoid: bitwise the same
// numbers).
func sigmoidRow32(p []float32) {
	n8 := 0
	if useAVX2 {
		if n8 = len(p) &^ 7; n8 > 0 {
			vec.Sigmoid(&p[0], n8)
		}
	}
	for j := n8; j < len(p); j++ {
		p[j] = sigmoid32(p[j])
	}
}

// tanhRow32 replaces every p[j] by tanh32(p[j]), eight at a time with
// AVX2 or sixteen with AVX-512 (vec.Tanh: bitwise the same numbers).
func tanhRow32(p []float32) {
	n8 := 0
	if useAVX2 {
		if n8 = len(p) &^ 7; n8 > 0 {
			vec.Tanh(&p[0], n8)
		}
	}
	for j := n8; j < len(p); j++ {
		p[j] = tanh32(p[j])
	}
}
