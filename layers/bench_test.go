package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// benchStep compiles cost = Σ out ⊙ R with gradients for wrt and times one
// forward + backward pass per iteration in float32.
func benchStep(bm *testing.B, b *Builder, out *G.Node, wrt G.Nodes) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := make([]float64, out.Shape().TotalSize())
	for i := range r {
		r[i] = rng.NormFloat64()
	}
	rn := b.Constant("bench.R", r, out.Shape()...)
	prod, err := G.HadamardProd(out, rn)
	if err != nil {
		bm.Fatal(err)
	}
	cost, err := G.Sum(prod)
	if err != nil {
		bm.Fatal(err)
	}
	if _, err := G.Grad(cost, wrt...); err != nil {
		bm.Fatal(err)
	}
	m := G.NewTapeMachine(b.G, G.BindDualValues(wrt...))
	defer m.Close()
	bm.ResetTimer()
	for i := 0; i < bm.N; i++ {
		m.Reset()
		if err := m.RunAll(); err != nil {
			bm.Fatal(err)
		}
	}
}

// BenchmarkLSTM times one LSTM layer (B=32, in=H=64) forward + backward.
// The -padded variants give it right-padded sequences through its mask,
// each sample's real length a fraction u of T, u log-normal with mean 0.3
// and log-sd 0.5 (as train's BenchmarkTrainStep draws them); they report
// real-frac, the fraction of the steps that are real.
func BenchmarkLSTM(bm *testing.B) {
	for _, T := range []int{50, 375, 500} {
		for _, padded := range []bool{false, true} {
			name := fmt.Sprintf("T=%d", T)
			if padded {
				name += "-padded"
			}
			bm.Run(name, func(bm *testing.B) {
				b := NewBuilder(tensor.Float32, 1, false)
				x := randParam32(b, "x", 32, T, 64)
				l := NewLSTM(b, "lstm", 64, 64, 1, 0)
				if !padded {
					benchStep(bm, b, l.Fwd(b, x), b.Trainable())
					return
				}
				mask := paddedMask(32, T)
				var real float64
				for _, v := range mask {
					real += v
				}
				benchStep(bm, b, l.FwdMasked(b, x, b.Constant("m", mask, 32, T)), b.Trainable())
				bm.ReportMetric(real/float64(len(mask)), "real-frac")
			})
		}
	}
}

// paddedMask is a mask [B, T] of right-padded samples whose real lengths
// are a fraction u of T, u log-normal with mean 0.3 and log-sd 0.5,
// capped at 1, at least one step.
func paddedMask(B, T int) []float64 {
	rng := rand.New(rand.NewPCG(3, 4))
	const mean, sd = 0.3, 0.5
	mu := math.Log(mean) - sd*sd/2
	mask := make([]float64, B*T)
	for b := 0; b < B; b++ {
		u := math.Min(1, math.Exp(mu+sd*rng.NormFloat64()))
		for t := 0; t < max(1, int(math.Ceil(u*float64(T)))); t++ {
			mask[b*T+t] = 1
		}
	}
	return mask
}

// BenchmarkAttention times the fused attention core (B=32, d=64, 4 heads,
// key mask) forward + backward with respect to q, k and v.
func BenchmarkAttention(bm *testing.B) {
	for _, L := range [][2]int{{50, 50}, {3, 500}, {500, 500}} {
		bm.Run(fmt.Sprintf("Tq=%d,Tk=%d", L[0], L[1]), func(bm *testing.B) {
			b := NewBuilder(tensor.Float32, 1, false)
			rng := rand.New(rand.NewPCG(3, 4))
			q := randParam32(b, "q", 32, L[0], 64)
			k := randParam32(b, "k", 32, L[1], 64)
			v := randParam32(b, "v", 32, L[1], 64)
			mask := make([]float64, 32*L[1])
			for i := range mask {
				if i%L[1] < L[1]*3/4 {
					mask[i] = 1
				}
			}
			m := b.Constant("m", mask, 32, L[1])
			_ = rng
			benchStep(bm, b, Attention(b, q, k, v, m, 4), b.Trainable())
		})
	}
}

func randParam32(b *Builder, name string, shape ...int) *G.Node {
	return b.Param(name, Uniform(1), shape...)
}

// BenchmarkResidualNorm times LN(x + Dropout(y)) forward + backward at the
// paper preset's size (batch 32, 500 steps, d 128, dropout 0.1), as one
// kernel (LayerNorm.ResidualFwd, "fused") and as Builder.Residual followed
// by LayerNorm.Fwd ("unfused"); both give the same bits. The output is
// pooled over its steps (Pool) before benchStep's cost, whose Gorgonia
// ops over a [32, 500, 128] tensor would take most of the time.
func BenchmarkResidualNorm(bm *testing.B) {
	for _, fused := range []bool{true, false} {
		bm.Run(map[bool]string{true: "fused", false: "unfused"}[fused], func(bm *testing.B) {
			b := NewBuilder(tensor.Float32, 1, true)
			x, y := randParam32(b, "x", 32, 500, 128), randParam32(b, "y", 32, 500, 128)
			n := NewLayerNorm(b, "n", 128, 1e-5)
			var out *G.Node
			if fused {
				out = n.ResidualFwd(b, x, y, 0.1)
			} else {
				out = n.Fwd(b, b.Residual(x, y, 0.1))
			}
			if err := b.FillDropouts(rand.New(rand.NewPCG(1, 2)), true); err != nil {
				bm.Fatal(err)
			}
			ones := make([]float64, 32*500)
			for i := range ones {
				ones[i] = 1
			}
			benchStep(bm, b, Pool(b, out, b.Constant("m", ones, 32, 500)), b.Trainable())
		})
	}
}

// BenchmarkGlobalTokens times the paper preset's attentions between a
// sequence of 500 steps and the three global tokens (batch 32, d 128, 4
// heads; queries: the tokens attend over the sequence, keys: the sequence
// over the tokens), forward with kept probabilities and backward (train)
// or forward alone (eval), on operands that are not in cache, as in a
// training step or an evaluation pass: each run takes the next of four
// sets of inputs, outputs and gradients (33 MB each), with each core
// taking a sample's heads in turn after reading its rows ("bySample",
// fewRows) and heads one at a time ("byHead").
func BenchmarkGlobalTokens(bm *testing.B) {
	defer func(n int) { fewRows = n }(fewRows)
	const B, D, T, G = 32, 128, 500, 3
	rng := rand.New(rand.NewPCG(5, 6))
	dense := func(shape ...int) *tensor.Dense {
		t := tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
		for i, d := 0, t.Data().([]float32); i < len(d); i++ {
			d[i] = float32(rng.NormFloat64())
		}
		return t
	}
	for _, c := range []struct {
		name   string
		tq, tk int
	}{{"queries", G, T}, {"keys", T, G}} {
		var sets [4]struct {
			fwd, bwd kargs
			scr      [2]scratch
		}
		var keep, tmp scratch
		for i := range sets {
			s := &sets[i]
			in := []*tensor.Dense{dense(B, c.tq, D), dense(B, c.tk, D), dense(B, c.tk, D)}
			shape := []tensor.Shape{in[0].Shape(), in[1].Shape(), in[2].Shape()}
			out := dense(B, c.tq, D)
			s.fwd = kargs{dt: tensor.Float32, in: in, shape: shape, out: out, scr: &s.scr[0], keep: &keep, tmp: &tmp}
			s.bwd = s.fwd
			s.bwd.scr, s.bwd.gout = &s.scr[1], dense(B, c.tq, D)
			s.bwd.grads = []*tensor.Dense{dense(B, c.tq, D), dense(B, c.tk, D), dense(B, c.tk, D)}
		}
		for _, train := range []bool{true, false} {
			for _, few := range []int{7, 0} {
				name := map[int]string{7: "bySample", 0: "byHead"}[few]
				mode := map[bool]string{true: "train", false: "eval"}[train]
				bm.Run(c.name+"/"+mode+"/"+name, func(bm *testing.B) {
					fewRows = few
					k := attentionK{heads: 4, keep: train}
					for i := 0; i < bm.N; i++ {
						s := &sets[i%len(sets)]
						k.forward(&s.fwd)
						if train {
							k.backward(&s.bwd)
						}
					}
				})
			}
		}
	}
}
