// Command moseiscale trains one epoch of the paper preset on random data
// of CMU-MOSEI's size (16326/1871/4659 samples; text features 50×768,
// audio 375×74, vision 500×35; batch 16, k_cl 50, as table 2 sets MOSEI)
// and reports the epoch's time and the process's peak resident memory:
//
//	go run ./tools/moseiscale            # the full epoch (17 minutes on 2 cores, with the fill and evaluation)
//	go run ./tools/moseiscale -train 800 # a shorter check
//
// The data is random, so the losses mean nothing; the point is time and
// memory at the scale of the real data set, which cannot be downloaded here.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/train"
)

func main() {
	nTrain := flag.Int("train", 16326, "training samples")
	nValid := flag.Int("valid", 1871, "validation samples")
	nTest := flag.Int("test", 4659, "test samples")
	flag.Parse()
	if err := run(*nTrain, *nValid, *nTest); err != nil {
		fmt.Fprintln(os.Stderr, "moseiscale:", err)
		os.Exit(1)
	}
}

const lt, ht, la, da, lv, dv = 50, 768, 375, 74, 500, 35

func run(nTrain, nValid, nTest int) error {
	train.TuneGC()
	start := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	data := train.Data{Train: split("train", nTrain, rng), Valid: split("valid", nValid, rng), Test: split("test", nTest, rng)}
	fmt.Printf("data: %d/%d/%d samples generated in %.0f s, peak RSS %s\n", nTrain, nValid, nTest, time.Since(start).Seconds(), peakRSS())
	cfg := graph.DefaultConfig()
	cfg.AudioDim, cfg.VisionDim, cfg.KCL = da, dv, 50
	res, err := train.Fit(context.Background(), cfg, data, train.Options{
		Model:     train.ModelOptions{Seed: 1111, AdamW: train.AdamWConfig{LR: 1e-4, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}},
		BatchSize: 16, Epochs: 1, TextFeats: true, Progress: os.Stderr,
	})
	if err != nil {
		return err
	}
	e := res.History[0]
	fmt.Printf("epoch: %d training samples in %.0f s (%.2f samples/s); whole run %.0f s; peak RSS %s\n",
		nTrain, e.Seconds, float64(nTrain)/e.Seconds, time.Since(start).Seconds(), peakRSS())
	return nil
}

// split is n random samples with random real lengths.
func split(name string, n int, rng *rand.Rand) *datasets.Split {
	s := &datasets.Split{Name: name, IDs: make([]string, n), Labels: make([]float32, n),
		TextFeats: seq(n, lt, ht, rng), Audio: seq(n, la, da, rng), Vision: seq(n, lv, dv, rng),
		TextLen: make([]int, n), AudioLen: make([]int, n), VisionLen: make([]int, n)}
	for i := range n {
		s.IDs[i] = fmt.Sprintf("%s_%d", name, i)
		s.Labels[i] = float32(rng.Float64()*6 - 3)
		s.TextLen[i] = padTail(s.TextFeats, i, 2+rng.IntN(lt-1))
		s.AudioLen[i] = padTail(s.Audio, i, 1+rng.IntN(la))
		s.VisionLen[i] = padTail(s.Vision, i, 1+rng.IntN(lv))
	}
	return s
}

func seq(n, t, d int, rng *rand.Rand) datasets.Seq {
	v := make([]float32, n*t*d)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return datasets.Seq{N: n, T: t, D: d, Data: v}
}

// padTail zeroes the steps of sample i from l on and returns l.
func padTail(s datasets.Seq, i, l int) int {
	clear(s.Row(i)[l*s.D:])
	return l
}

// peakRSS is VmHWM from /proc/self/status.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
