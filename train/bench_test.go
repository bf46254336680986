package train

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fdcmdie/fdcmdie/contrastive"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers"
)

// benchPreset is a model and batch shape of the speed comparison with
// PyTorch (tools/bench_torch.py).
type benchPreset struct {
	name  string
	cfg   graph.Config
	shape graph.Shape
	vocab int
}

func benchPresets() []benchPreset {
	small := graph.DefaultConfig() // the embedded default run (cmd/fdcmdie "small")
	small.DModel, small.Heads, small.Layers = 32, 4, 2
	small.TextFeats = false
	small.NeoBERT = layers.NeoBERTConfig{HiddenSize: 64, NumHiddenLayers: 2, NumAttentionHeads: 2,
		IntermediateSize: 128, VocabSize: 280, NormEps: 1e-5, MaxLength: 512}
	paper := graph.DefaultConfig() // d 128, 4 heads, k 3, 768-d text features, k_cl 10
	return []benchPreset{
		{"small", small, graph.Shape{B: 32, Lt: 34, La: 50, Lv: 50}, 280},
		{"paper", paper, graph.Shape{B: 32, Lt: 50, La: 375, Lv: 500}, 0},
	}
}

// benchBatch is a full batch of random inputs with every partner slot filled.
func benchBatch(p benchPreset) (*datasets.Batch, *contrastive.PartnerBatch) {
	rng := rand.New(rand.NewPCG(1, 2))
	s, c := p.shape, p.cfg
	normal := func(n int) []float32 { return normals(rng, n) }
	b := &datasets.Batch{B: s.B, Lt: s.Lt, La: s.La, Lv: s.Lv, Da: c.AudioDim, Dv: c.VisionDim,
		TextMask: ones(s.B * s.Lt), Audio: normal(s.B * s.La * c.AudioDim), AudioMask: ones(s.B * s.La),
		Vision: normal(s.B * s.Lv * c.VisionDim), VisionMask: ones(s.B * s.Lv), Label: normal(s.B), Weight: ones(s.B)}
	if c.TextFeats {
		b.Ht, b.TextFeats = c.TextDim, normal(s.B*s.Lt*c.TextDim)
	} else {
		b.TextIDs = make([]float32, s.B*s.Lt)
		for i := range b.TextIDs {
			b.TextIDs[i] = float32(1 + rng.IntN(p.vocab-1))
		}
	}
	n := s.B * c.KCL * c.DModel
	pb := &contrastive.PartnerBatch{B: s.B, K: c.KCL, D: c.DModel, SimT: normal(n), SimV: normal(n), SimA: normal(n),
		DiffT: normal(n), DiffV: normal(n), DiffA: normal(n), SimMask: ones(s.B * c.KCL), DiffMask: ones(s.B * c.KCL)}
	return b, pb
}

// paddedBatches are n batches of bp's shape with right-padded sequences
// as MMSA files have them: each sample's length is a fraction u of the
// padded length, one u per sample for all three modalities (they record one
// utterance), u log-normal with mean 0.3 and log-sd 0.5, capped at 1. The
// batches are the ones an epoch would cut to different length buckets.
func paddedBatches(p benchPreset, n int) ([]*datasets.Batch, *contrastive.PartnerBatch) {
	const mean, sd = 0.3, 0.5
	mu := math.Log(mean) - sd*sd/2
	return padBatches(p, n, func(rng *rand.Rand) func(steps int) int {
		u := math.Min(1, math.Exp(mu+sd*rng.NormFloat64()))
		return func(steps int) int { return max(1, int(math.Ceil(u*float64(steps)))) }
	})
}

// padBatches are n batches of p's shape whose samples are right-padded:
// lengths(rng), called once per sample, gives the real length of each of
// its modalities from the modality's padded length.
func padBatches(p benchPreset, n int, lengths func(*rand.Rand) func(steps int) int) ([]*datasets.Batch, *contrastive.PartnerBatch) {
	rng := rand.New(rand.NewPCG(3, 4))
	var out []*datasets.Batch
	var pb *contrastive.PartnerBatch
	for i := 0; i < n; i++ {
		b, partners := benchBatch(p)
		pb = partners
		s := p.shape
		for r := 0; r < s.B; r++ {
			length := lengths(rng)
			for _, m := range []struct {
				x, mask []float32
				steps   int
			}{{b.TextFeats, b.TextMask, s.Lt}, {b.TextIDs, b.TextMask, s.Lt}, {b.Audio, b.AudioMask, s.La}, {b.Vision, b.VisionMask, s.Lv}} {
				if m.x == nil {
					continue
				}
				d := len(m.x) / (s.B * m.steps)
				real := length(m.steps)
				clear(m.mask[r*m.steps+real : (r+1)*m.steps])
				clear(m.x[(r*m.steps+real)*d : (r+1)*m.steps*d])
			}
		}
		out = append(out, b)
	}
	return out, pb
}

// BenchmarkTrainStep times forward + backward + AdamW on one batch of 32,
// with the garbage collector set as the command line sets it (TuneGC).
// The presets run dense batches (every step real); their -padded variants
// cycle through eight right-padded batches (paddedBatches), each cut to
// its length bucket, after one untimed pass that compiles the buckets'
// graphs. Each reports run-frac, the mean fraction of the padded steps
// (Lt + La + Lv) its batches' buckets run, and real-frac, the fraction the
// samples hold; and where the process's CPU time can be read, cpu-s/op,
// the CPU seconds of a step (all cores, less the time par's workers spent
// polling for work; steady where the wall time is not, on a machine shared
// with other work), and cores, the cores busy on average (that CPU time /
// wall time). Dense presets also report GFLOP/s, three
// times the forward pass's product work (productFLOPs) per second, and
// limit-frac, that rate over the rate sgemm reaches on this machine in the
// same run on the model's largest product (peakMeter, measured for a tenth
// of each step's time after it, outside the timer and the CPU time): the
// share of the GEMM-bound limit the step attains.
func BenchmarkTrainStep(bm *testing.B) {
	TuneGC()
	for _, p := range benchPresets() {
		for _, padded := range []bool{false, true} {
			name := p.name
			batches, pb := []*datasets.Batch{nil}, (*contrastive.PartnerBatch)(nil)
			if padded {
				name += "-padded"
				batches, pb = paddedBatches(p, 8)
			} else {
				batches[0], pb = benchBatch(p)
			}
			bm.Run(name, func(bm *testing.B) {
				m, err := NewModel(p.cfg, p.shape, ModelOptions{Seed: 1})
				if err != nil {
					bm.Fatal(err)
				}
				defer m.Close()
				s := p.shape
				var run, real float64       // fractions of the padded steps the buckets run and the samples hold
				for _, b := range batches { // warm up, and compile every bucket
					if _, err := m.TrainStep(b, pb); err != nil {
						bm.Fatal(err)
					}
					lt, la, lv := b.RealLengths()
					c := bucketShape(lt, la, lv, s)
					run += float64(c.Lt+c.La+c.Lv) / float64(s.Lt+s.La+s.Lv)
					var n float64
					for _, mask := range [][]float32{b.TextMask, b.AudioMask, b.VisionMask} {
						for _, v := range mask {
							n += float64(v)
						}
					}
					real += n / float64(s.B*(s.Lt+s.La+s.Lv))
				}
				var peak *peakMeter // the machine's product rate, for dense batches
				if !padded {
					peak = newPeakMeter(s.B*max(s.Lt, s.La, s.Lv), 4*p.cfg.DModel, p.cfg.DModel)
				}
				bm.ReportAllocs()
				bm.ResetTimer()
				cpu0, cpuOK := processCPU()
				for i := 0; i < bm.N; i++ {
					t0 := time.Now()
					if _, err := m.TrainStep(batches[i%len(batches)], pb); err != nil {
						bm.Fatal(err)
					}
					if peak != nil {
						bm.StopTimer()
						peak.slice(time.Since(t0) / 10)
						bm.StartTimer()
					}
				}
				bm.ReportMetric(float64(p.shape.B*bm.N)/bm.Elapsed().Seconds(), "samples/s")
				if cpu1, ok := processCPU(); ok && cpuOK {
					if peak != nil {
						cpu1 -= peak.cpu
					}
					cpu := (cpu1 - cpu0).Seconds()
					bm.ReportMetric(cpu/float64(bm.N), "cpu-s/op")
					bm.ReportMetric(cpu/bm.Elapsed().Seconds(), "cores")
				}
				if peak != nil { // 3 × forward: the backward pass has twice its products
					rate := 3 * productFLOPs(p.cfg, s) * float64(bm.N) / bm.Elapsed().Seconds()
					bm.ReportMetric(rate/1e9, "GFLOP/s")
					bm.ReportMetric(peak.rate()/1e9, "peak-GFLOP/s")
					bm.ReportMetric(rate/peak.rate(), "limit-frac")
				}
				bm.ReportMetric(run/float64(len(batches)), "run-frac")
				bm.ReportMetric(real/float64(len(batches)), "real-frac")
			})
		}
	}
}

// BenchmarkPredict times inference (evaluation graph) on one batch of 32,
// reporting cpu-s/op and cores as BenchmarkTrainStep does.
func BenchmarkPredict(bm *testing.B) {
	TuneGC()
	for _, p := range benchPresets() {
		bm.Run(p.name, func(bm *testing.B) {
			m, err := NewModel(p.cfg, p.shape, ModelOptions{Seed: 1})
			if err != nil {
				bm.Fatal(err)
			}
			defer m.Close()
			b, _ := benchBatch(p)
			if _, err := m.Predict(b); err != nil {
				bm.Fatal(err)
			}
			bm.ReportAllocs()
			bm.ResetTimer()
			cpu0, cpuOK := processCPU()
			for i := 0; i < bm.N; i++ {
				if _, err := m.Predict(b); err != nil {
					bm.Fatal(err)
				}
			}
			bm.ReportMetric(float64(p.shape.B*bm.N)/bm.Elapsed().Seconds(), "samples/s")
			if cpu1, ok := processCPU(); ok && cpuOK {
				cpu := (cpu1 - cpu0).Seconds()
				bm.ReportMetric(cpu/float64(bm.N), "cpu-s/op")
				bm.ReportMetric(cpu/bm.Elapsed().Seconds(), "cores")
			}
		})
	}
}

// BenchmarkMOSEI times the paper preset at CMU-MOSEI's settings (batch 16,
// k_cl 50, audio 74-d and vision 35-d features; lengths 50/375/500, each
// sample's real length in each modality uniform over 1 … the padded
// length, as tools/moseiscale draws them) on eight such batches, after an
// untimed pass that compiles their buckets' graphs: a training step
// (train), the memory-bank fill (fill: Model.Features) and evaluation
// (predict). Besides samples/s, cores and cpu-s/op it reports the minutes
// these rates give for one MOSEI epoch (16326 training samples), the
// bank fill and the validation and test passes (1871 + 4659 samples):
// tools/moseiscale's figures without its 25 minutes.
func BenchmarkMOSEI(bm *testing.B) {
	TuneGC()
	p := benchPresets()[1]
	p.cfg.AudioDim, p.cfg.VisionDim, p.cfg.KCL = 74, 35, 50
	p.shape.B = 16
	batches, pb := padBatches(p, 8, func(rng *rand.Rand) func(steps int) int {
		return func(steps int) int { return 1 + rng.IntN(steps) }
	})
	for _, c := range []struct {
		name, metric string
		samples      float64
	}{{"train", "epoch-min", 16326}, {"fill", "fill-min", 16326}, {"predict", "eval-min", 1871 + 4659}} {
		bm.Run(c.name, func(bm *testing.B) {
			m, err := NewModel(p.cfg, p.shape, ModelOptions{Seed: 1})
			if err != nil {
				bm.Fatal(err)
			}
			defer m.Close()
			step := func(b *datasets.Batch) error {
				var err error
				switch c.name {
				case "train":
					_, err = m.TrainStep(b, pb)
				case "fill":
					_, err = m.Features(b)
				default:
					_, err = m.Predict(b)
				}
				return err
			}
			for _, b := range batches {
				if err := step(b); err != nil {
					bm.Fatal(err)
				}
			}
			bm.ResetTimer()
			cpu0, cpuOK := processCPU()
			for i := 0; i < bm.N; i++ {
				if err := step(batches[i%len(batches)]); err != nil {
					bm.Fatal(err)
				}
			}
			rate := float64(p.shape.B*bm.N) / bm.Elapsed().Seconds()
			bm.ReportMetric(rate, "samples/s")
			bm.ReportMetric(c.samples/rate/60, c.metric)
			if cpu1, ok := processCPU(); ok && cpuOK {
				cpu := (cpu1 - cpu0).Seconds()
				bm.ReportMetric(cpu/float64(bm.N), "cpu-s/op")
				bm.ReportMetric(cpu/bm.Elapsed().Seconds(), "cores")
			}
		})
	}
}
