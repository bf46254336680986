package layers

import (
	"math"
	"testing"
)

// TestExpNegAccuracy compares expNeg with float64 math.Exp rounded to
// float32 over (−87.3, 0]: at most 2 ulp apart, exact at 0.
func TestExpNegAccuracy(t *testing.T) {
	worst := 0
	for x := float32(-87.3); x <= 0; x += 0.000137 {
		want := float32(math.Exp(float64(x)))
		got := expNeg(x)
		d := int(math.Float32bits(got)) - int(math.Float32bits(want))
		if d < 0 {
			d = -d
		}
		worst = max(worst, d)
		if d > 2 {
			t.Fatalf("expNeg(%v) = %v, want %v (%d ulp)", x, got, want, d)
		}
	}
	for _, c := range []struct{ x, want float32 }{{0, 1}, {-100, 0}, {float32(math.Inf(-1)), 0}, {-1e9, 0}} {
		if got := expNeg(c.x); got != c.want {
			t.Errorf("expNeg(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if got := expNeg(float32(math.NaN())); got == got {
		t.Errorf("expNeg(NaN) = %v, want NaN", got)
	}
	t.Logf("worst error %d ulp", worst)
}

func BenchmarkExpNeg(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = -float32(i) / 100
	}
	y := make([]float32, len(x))
	b.Run("expNeg", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for j, v := range x {
				y[j] = expNeg(v)
			}
		}
	})
	b.Run("math.Exp", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for j, v := range x {
				y[j] = float32(math.Exp(float64(v)))
			}
		}
	})
}

// ulps is the distance between two float32 values in units in the last
// place (values of one sign).
func ulps(a, b float32) int {
	d := int(math.Float32bits(a)) - int(math.Float32bits(b))
	if math.Signbit(float64(a)) != math.Signbit(float64(b)) {
		return math.MaxInt32
	}
	return max(d, -d)
}

// TestTanh32Accuracy compares tanh32 with float64 math.Tanh rounded to
// float32 over [−20, 20] (dense near 0, where the polynomial takes over)
// and at the special values.
func TestTanh32Accuracy(t *testing.T) {
	worst := 0
	check := func(x float32) {
		want := float32(math.Tanh(float64(x)))
		got := tanh32(x)
		if x == 0 {
			if got != 0 {
				t.Fatalf("tanh32(0) = %v", got)
			}
			return
		}
		d := ulps(got, want)
		worst = max(worst, d)
		if d > 3 {
			t.Fatalf("tanh32(%v) = %v, want %v (%d ulp)", x, got, want, d)
		}
	}
	for x := float32(-20); x <= 20; x += 0.000371 {
		check(x)
	}
	for x := float32(1e-30); x < 1; x *= 1.01 {
		check(x)
		check(-x)
	}
	for _, c := range []struct{ x, want float32 }{{0, 0}, {100, 1}, {-100, -1}, {float32(math.Inf(1)), 1}, {float32(math.Inf(-1)), -1}} {
		if got := tanh32(c.x); got != c.want {
			t.Errorf("tanh32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if got := tanh32(float32(math.NaN())); got == got {
		t.Errorf("tanh32(NaN) = %v, want NaN", got)
	}
	t.Logf("worst error %d ulp", worst)
}

// TestSigmoid32Accuracy compares sigmoid32 with float64 arithmetic rounded
// to float32 over [−80, 80] and at the special values.
func TestSigmoid32Accuracy(t *testing.T) {
	worst := 0
	for x := float32(-80); x <= 80; x += 0.000731 {
		want := float32(1 / (1 + math.Exp(-float64(x))))
		got := sigmoid32(x)
		d := ulps(got, want)
		worst = max(worst, d)
		if d > 3 {
			t.Fatalf("sigmoid32(%v) = %v, want %v (%d ulp)", x, got, want, d)
		}
	}
	for _, c := range []struct{ x, want float32 }{{0, 0.5}, {200, 1}, {-200, 0}, {float32(math.Inf(1)), 1}, {float32(math.Inf(-1)), 0}} {
		if got := sigmoid32(c.x); got != c.want {
			t.Errorf("sigmoid32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if got := sigmoid32(float32(math.NaN())); got == got {
		t.Errorf("sigmoid32(NaN) = %v, want NaN", got)
	}
	t.Logf("worst error %d ulp", worst)
}
