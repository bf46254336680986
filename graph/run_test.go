package graph

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// TestRunnerFloat32MatchesFloat64 runs the training graph in float32
// through a Runner and checks every gradient against the float64 graph
// (whose gradients TestLossGradient checks against finite differences).
func TestRunnerFloat32MatchesFloat64(t *testing.T) {
	cfg := tinyConfig()
	var grads [2]map[string][]float64
	var losses [2]float64
	for i, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		m, err := Build(cfg, tinyShape, Options{Dtype: dt, Train: true, WithCL: true, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRunner(m, true)
		if err != nil {
			t.Fatal(err)
		}
		fillRandom(t, m, 11)
		for rep := 0; rep < 2; rep++ { // a second run must give the same values
			if err := r.Run(); err != nil {
				t.Fatal(err)
			}
		}
		losses[i] = r.Outputs().Loss
		grads[i] = map[string][]float64{}
		for _, p := range m.B.Params() {
			g, err := p.Node.Grad()
			if err != nil {
				t.Fatal(err)
			}
			switch d := g.Data().(type) {
			case []float32:
				for _, v := range d {
					grads[i][p.Name] = append(grads[i][p.Name], float64(v))
				}
			case []float64:
				grads[i][p.Name] = append([]float64(nil), d...)
			}
		}
		r.Close()
	}
	if math.Abs(losses[0]-losses[1]) > 1e-5*math.Abs(losses[1]) {
		t.Fatalf("loss float32 %v, float64 %v", losses[0], losses[1])
	}
	for name, g64 := range grads[1] {
		g32 := grads[0][name]
		var scale float64
		for _, v := range g64 {
			scale = math.Max(scale, math.Abs(v))
		}
		for j := range g64 {
			if math.Abs(g32[j]-g64[j]) > 1e-4*scale+1e-6 {
				t.Fatalf("%s[%d]: float32 %v, float64 %v", name, j, g32[j], g64[j])
			}
		}
	}
}
