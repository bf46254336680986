package graph

import (
	"math"
	"runtime"
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
		// Three runs on one batch: the gradients must not accumulate.
		var firstGrad []float64
		for rep := 0; rep < 3; rep++ {
			if err := r.Run(); err != nil {
				t.Fatal(err)
			}
			g, err := m.B.Params()[0].Node.Grad()
			if err != nil {
				t.Fatal(err)
			}
			d := asFloat64(g.Data())
			if rep == 0 {
				firstGrad = d
				continue
			}
			for j := range d {
				if d[j] != firstGrad[j] {
					t.Fatalf("%v run %d: gradient[%d] = %v, first run %v", dt, rep, j, d[j], firstGrad[j])
				}
			}
		}
		losses[i] = r.Outputs().Loss
		grads[i] = map[string][]float64{}
		for _, p := range m.B.Params() {
			g, err := p.Node.Grad()
			if err != nil {
				t.Fatal(err)
			}
			grads[i][p.Name] = asFloat64(g.Data())
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

func asFloat64(data any) []float64 {
	switch d := data.(type) {
	case []float32:
		o := make([]float64, len(d))
		for i, v := range d {
			o[i] = float64(v)
		}
		return o
	case []float64:
		return append([]float64(nil), d...)
	}
	return nil
}

// TestRunnerReuseMatchesFresh runs one machine on a batch and then on a
// second one, and a fresh machine on the second batch only: kernels reuse
// their outputs, gradients and scratch from run to run, and the second
// batch must give bit-identical outputs and gradients either way.
func TestRunnerReuseMatchesFresh(t *testing.T) {
	cfg := tinyConfig()
	runOn := func(seeds ...uint64) (Outputs, map[string][]float64) {
		m, err := Build(cfg, tinyShape, Options{Dtype: tensor.Float32, Train: true, WithCL: true, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRunner(m, true)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for _, s := range seeds {
			fillRandom(t, m, s)
			if err := r.Run(); err != nil {
				t.Fatal(err)
			}
		}
		grads := map[string][]float64{}
		for _, p := range m.B.Params() {
			g, err := p.Node.Grad()
			if err != nil {
				t.Fatal(err)
			}
			grads[p.Name] = asFloat64(g.Data())
		}
		return r.Outputs(), grads
	}
	reusedOut, reused := runOn(11, 12)
	freshOut, fresh := runOn(12)
	if reusedOut.Loss != freshOut.Loss || reusedOut.LCL != freshOut.LCL {
		t.Fatalf("loss after reuse %v (cl %v), fresh %v (cl %v)", reusedOut.Loss, reusedOut.LCL, freshOut.Loss, freshOut.LCL)
	}
	for i, v := range freshOut.Pred {
		if reusedOut.Pred[i] != v {
			t.Fatalf("pred[%d] after reuse %v, fresh %v", i, reusedOut.Pred[i], v)
		}
	}
	for name, g := range fresh {
		for j := range g {
			if reused[name][j] != g[j] {
				t.Fatalf("%s[%d] after reuse %v, fresh %v", name, j, reused[name][j], g[j])
			}
		}
	}
}

// TestRunnersAreFreed builds, runs and closes three training runners: the
// memory of each must be freed once it is dropped. Gorgonia's finalizer on
// its TapeMachine once kept every model ever built alive (a parity matrix
// grew to 23 GB); layers.NewTapeMachine clears it.
func TestRunnersAreFreed(t *testing.T) {
	heap := func() int64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	base := heap()
	var live int64
	for i := 0; i < 3; i++ {
		func() {
			cfg := tinyConfig()
			cfg.DModel, cfg.Heads = 64, 4
			m, err := Build(cfg, Shape{B: 3, Lt: 20, La: 100, Lv: 100}, Options{Dtype: tensor.Float64, Train: true, WithCL: true})
			if err != nil {
				t.Fatal(err)
			}
			fillRandom(t, m, 1)
			r, err := NewRunner(m, true)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := r.Run(); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				live = heap() - base
			}
		}()
	}
	if grown := heap() - base; grown > live/4 {
		t.Fatalf("heap grew by %d MB after three runners were closed; one live runner holds %d MB", grown>>20, live>>20)
	}
}
