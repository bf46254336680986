package train

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers"
	"github.com/fdcmdie/fdcmdie/layers/sgemm"
)

// productFLOPs is the work of the matrix products of one forward pass of
// cfg on a dense batch of shape s, a multiply-add counted as two: the text
// projection (and text encoder), the LSTMs, the decoupling encoders, and in
// each CMDIE layer the projections, self-attention and FFN on each
// modality's sequence. The [B, 3, d] global stream, GAP and head are left
// out (under 1% at the paper preset).
func productFLOPs(cfg graph.Config, s graph.Shape) float64 {
	B, d := float64(s.B), float64(cfg.DModel)
	steps := [3]float64{float64(s.Lt), float64(s.Lv), float64(s.La)}
	f := B * steps[0] * float64(cfg.TextWidth()) * d * 2
	if !cfg.TextFeats {
		f += neobertFLOPs(cfg.NeoBERT, B, steps[0])
	}
	if cfg.TextOnly {
		return f
	}
	lstm := func(in, l float64) float64 { return B * l * 2 * (4*d*(in+d) + 4*d*2*d) } // two layers
	f += lstm(float64(cfg.VisionDim), steps[1]) + lstm(float64(cfg.AudioDim), steps[2])
	linears := 10.0 // per DIPU on X: cross q, o, k, v; self q, k, v, o; second cross q, o
	if cfg.NoCrossAtt2 {
		linears = 8
	}
	for _, l := range steps {
		f += 2 * B * l * d * d * 2 // shared and private encoders
		if !cfg.NoCMDIE {
			perLayer := linears*B*l*d*d*2 + B*l*2*(d*4*d)*2 + 2*B*l*l*d*2
			f += float64(cfg.Layers) * perLayer
		}
	}
	return f
}

// neobertFLOPs is productFLOPs's share of a NeoBERT text encoder on B
// sentences of L tokens.
func neobertFLOPs(c layers.NeoBERTConfig, B, L float64) float64 {
	h, f := float64(c.HiddenSize), float64(c.FFNSize())
	perToken := 2*h*3*h + 2*h*h + 2*h*2*f + 2*f*h + 2*2*L*h
	return float64(c.NumHiddenLayers) * B * L * perToken
}

// peakMeter measures the float32 product rate of this machine on all
// cores, on an m×n×k product x·Wᵀ (the model's largest: its FFN's first
// layer over a batch's longest sequence), in slices taken between a
// benchmark's steps, so that the rate it reports is the machine's over the
// same minutes as the steps': this machine's speed drifts by up to a
// quarter within half an hour, which a rate measured once before the
// steps carried into their ratio.
type peakMeter struct {
	m, n, k   int
	a, b, c   []float32
	flop, sec float64
	cpu       time.Duration // CPU time the slices took, all cores
}

func newPeakMeter(m, n, k int) *peakMeter {
	rng := rand.New(rand.NewPCG(5, 6))
	return &peakMeter{m: m, n: n, k: k, a: normals(rng, m*k), b: normals(rng, n*k), c: make([]float32, m*n)}
}

// slice runs the product for at least min (and 3 times).
func (p *peakMeter) slice(min time.Duration) {
	cpu0, _ := processCPU()
	start, reps := time.Now(), 0
	for reps < 3 || time.Since(start) < min {
		sgemm.Sgemm(false, true, p.m, p.n, p.k, 1, p.a, p.k, p.b, p.k, 0, p.c, p.n)
		reps++
	}
	p.sec += time.Since(start).Seconds()
	p.flop += 2 * float64(p.m) * float64(p.n) * float64(p.k) * float64(reps)
	cpu1, _ := processCPU()
	p.cpu += cpu1 - cpu0
}

// rate is the FLOP/s of the slices so far.
func (p *peakMeter) rate() float64 { return p.flop / p.sec }

// TestProductFLOPsPaper checks productFLOPs on the paper preset against a
// hand count (B 32, d 128, steps 50/500/375 for t/v/a, 768-d text, audio 5,
// vision 20, 3 layers):
//
//	text projection   32·50·768·128·2                          =    314,572,800
//	vision LSTM       32·500·2·(512·148 + 512·256)             =  6,619,136,000
//	audio LSTM        32·375·2·(512·133 + 512·256)             =  4,780,032,000
//	encoders          2·32·925·128²·2                          =  1,939,865,600
//	CMDIE, per layer  Σ_L 10·32·L·128²·2 + 32·L·2·128·512·2 + 2·32·L²·128·2
//	                  = 18,874,368·925 + 16,384·393,125        = 23,899,750,400
//	total             … + 3 · 23,899,750,400                   = 85,352,857,600
func TestProductFLOPsPaper(t *testing.T) {
	for _, p := range benchPresets() {
		if p.name != "paper" {
			continue
		}
		if got, want := productFLOPs(p.cfg, p.shape), 85352857600.0; got != want {
			t.Errorf("paper preset: %.0f FLOP, want %.0f", got, want)
		}
		return
	}
	t.Fatal("no paper preset")
}
