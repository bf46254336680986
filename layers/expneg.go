package layers

import "math"

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
