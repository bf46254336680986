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
