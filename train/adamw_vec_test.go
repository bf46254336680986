package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAdamWVectorMatchesGo runs adamwVector (the AVX2 kernel where the CPU
// has it) followed by adamwGo on the tail, against adamwGo alone, for three
// steps of tensors of 1 to 67 elements with gradients from 1e-30 to 1e3,
// zeros and subnormal moments, decayed and not: weights and moments must be
// bit for bit equal.
func TestAdamWVectorMatchesGo(t *testing.T) {
	if !adamwAccelerated {
		t.Skip("no AVX2 on this CPU: adamwGo runs alone")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	o, err := NewAdamW(AdamWConfig{LR: 3e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 67; n++ {
		w, m, v := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i] = float32(rng.NormFloat64())
			m[i] = float32(rng.NormFloat64() * 1e-3)
			v[i] = float32(rng.Float64() * 1e-6)
		}
		v[0] = 1e-44 // subnormal
		w2, m2, v2 := slices.Clone(w), slices.Clone(m), slices.Clone(v)
		for step := 1; step <= 3; step++ {
			g := make([]float32, n)
			for i := range g {
				g[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(34)-30)))
			}
			g[n-1] = 0
			k := o.consts(AdamWParam{Decay: n%2 == 0}, step)
			done := adamwVector(w, g, m, v, &k)
			if want := n &^ 3; done != want {
				t.Fatalf("n %d: the vector kernel updated %d elements, want %d", n, done, want)
			}
			adamwGo(w[done:], g[done:], m[done:], v[done:], &k)
			adamwGo(w2, g, m2, v2, &k)
			for name, pair := range map[string][2][]float32{"w": {w, w2}, "m": {m, m2}, "v": {v, v2}} {
				for i := range pair[0] {
					if math.Float32bits(pair[0][i]) != math.Float32bits(pair[1][i]) {
						t.Fatalf("n %d, step %d: %s[%d] = %v with the vector kernel, %v without", n, step, name, i, pair[0][i], pair[1][i])
					}
				}
			}
		}
	}
}

// TestAdamWChunksSameAsWhole checks a tensor longer than a chunk (updated
// by several cores at once) against the same tensor updated by adamwGo in
// one piece.
func TestAdamWChunksSameAsWhole(t *testing.T) {
	n := 2*adamwChunk + 5
	rng := rand.New(rand.NewPCG(9, 10))
	w, g := make([]float32, n), make([]float32, n)
	for i := range w {
		w[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	want, m, v := slices.Clone(w), make([]float32, n), make([]float32, n)
	o, err := NewAdamW(DefaultAdamWConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Step([]AdamWParam{{Name: "big", W: w, G: g, Decay: true}}); err != nil {
		t.Fatal(err)
	}
	k := o.consts(AdamWParam{Decay: true}, 1)
	adamwGo(want, g, m, v, &k)
	if !slices.Equal(w, want) {
		t.Error("a tensor updated in chunks differs from one updated whole")
	}
}

// BenchmarkAdamW times one optimizer step over the tensors of one
// NeoBERT-base block (7.1M parameters; a fine-tuning step updates 28 of
// them and the embeddings) and reports ns/param. tools/bench_adamw_torch.py
// times PyTorch's.
func BenchmarkAdamW(bm *testing.B) {
	sizes := []int{768 * 2304, 768 * 768, 768 * 4096, 2048 * 768, 768, 768}
	rng := rand.New(rand.NewPCG(1, 2))
	var params []AdamWParam
	total := 0
	for i, n := range sizes {
		w, g := make([]float32, n), make([]float32, n)
		for j := range w {
			w[j], g[j] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*1e-3)
		}
		params = append(params, AdamWParam{Name: string(rune('a' + i)), W: w, G: g, Decay: n > 768})
		total += n
	}
	o, err := NewAdamW(DefaultAdamWConfig())
	if err != nil {
		bm.Fatal(err)
	}
	if err := o.Step(params); err != nil { // the moments exist from here on
		bm.Fatal(err)
	}
	bm.ResetTimer()
	for i := 0; i < bm.N; i++ {
		if err := o.Step(params); err != nil {
			bm.Fatal(err)
		}
	}
	bm.ReportMetric(float64(bm.Elapsed().Nanoseconds())/float64(bm.N*total), "ns/param")
}
