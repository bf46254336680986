package train

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fdcmdie/fdcmdie/datasets"
)

// randomSplit makes n samples with text features whose first channel
// carries the label.
func randomSplit(name string, n int, seed uint64) *datasets.Split {
	rng := rand.New(rand.NewPCG(seed, 1))
	const lt, la, lv, ht, da, dv = 5, 6, 4, 6, 3, 2
	s := &datasets.Split{Name: name,
		TextFeats: datasets.Seq{N: n, T: lt, D: ht, Data: make([]float32, n*lt*ht)},
		Audio:     datasets.Seq{N: n, T: la, D: da, Data: make([]float32, n*la*da)},
		Vision:    datasets.Seq{N: n, T: lv, D: dv, Data: make([]float32, n*lv*dv)},
	}
	for i := 0; i < n; i++ {
		y := float32(rng.Float64()*6 - 3)
		s.Labels = append(s.Labels, y)
		s.IDs = append(s.IDs, name)
		s.RawText = append(s.RawText, "")
		tl, al, vl := 1+rng.IntN(lt), 1+rng.IntN(la), 1+rng.IntN(lv)
		s.TextLen = append(s.TextLen, tl)
		s.AudioLen = append(s.AudioLen, al)
		s.VisionLen = append(s.VisionLen, vl)
		for t := 0; t < tl; t++ {
			row := s.TextFeats.Data[(i*lt+t)*ht : (i*lt+t+1)*ht]
			for j := range row {
				row[j] = float32(rng.NormFloat64())
			}
			row[0] = y
		}
		for t := 0; t < al*da; t++ {
			s.Audio.Data[i*la*da+t] = float32(rng.NormFloat64())
		}
		for t := 0; t < vl*dv; t++ {
			s.Vision.Data[i*lv*dv+t] = float32(rng.NormFloat64())
		}
	}
	return s
}

func fitOnce(t *testing.T, dir string) *Result {
	data := Data{Train: randomSplit("train", 40, 1), Valid: randomSplit("valid", 12, 2), Test: randomSplit("test", 13, 3)}
	cfg := tinyConfig()
	res, err := Fit(context.Background(), cfg, data, Options{Model: ModelOptions{Seed: 1111}, BatchSize: 8, Epochs: 3, TextFeats: true, OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestFitProtocol(t *testing.T) {
	dir := t.TempDir()
	a := fitOnce(t, dir)
	if len(a.History) != 3 || a.BestEpoch < 1 || a.BestEpoch > 3 {
		t.Fatalf("history %d epochs, best %d", len(a.History), a.BestEpoch)
	}
	if len(a.TestPred) != 13 {
		t.Fatalf("%d test predictions, want 13 (every sample once)", len(a.TestPred))
	}
	if len(a.Alpha) != tinyConfig().Layers {
		t.Fatalf("alpha for %d layers", len(a.Alpha))
	}
	for _, name := range []string{"best.safetensors", "last.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	b := fitOnce(t, t.TempDir())
	for i := range a.TestPred {
		if a.TestPred[i] != b.TestPred[i] {
			t.Fatalf("same seed, test prediction %d differs: %v vs %v", i, a.TestPred[i], b.TestPred[i])
		}
	}
}

// TestFitCancelled interrupts a run in its first epoch, which keeps the
// epoch-0 checkpoint, and another while it fills the memory bank, which
// stops at once and saves nothing. Both show their progress bars.
func TestFitCancelled(t *testing.T) {
	data := Data{Train: randomSplit("train", 20, 1), Valid: randomSplit("valid", 5, 2), Test: randomSplit("test", 5, 3)}
	for _, c := range []struct{ mark, wantErr, wantFile string }{
		{"epoch 1 [", "interrupted in epoch 1", "last.safetensors"},
		{"memory bank [", "interrupted while filling the memory bank", ""},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		dir := t.TempDir()
		var log bytes.Buffer
		progress := io.MultiWriter(&log, &cancelAt{mark: c.mark, cancel: cancel})
		_, err := Fit(ctx, tinyConfig(), data, Options{BatchSize: 8, Epochs: 2, TextFeats: true, OutDir: dir, Progress: progress, ProgressBar: true})
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Fatalf("cancelled at %q: error %v, want %q", c.mark, err, c.wantErr)
		}
		if !strings.Contains(log.String(), "memory bank [") || !strings.Contains(log.String(), "ETA") {
			t.Fatalf("cancelled at %q: progress %q has no memory-bank bar", c.mark, log.String())
		}
		if !strings.HasSuffix(log.String(), "\n") { // the error printed next starts its own line
			t.Fatalf("cancelled at %q: progress %q does not end its line", c.mark, log.String())
		}
		files, _ := os.ReadDir(dir)
		switch {
		case c.wantFile == "" && len(files) > 0:
			t.Fatalf("cancelled at %q: %d files written", c.mark, len(files))
		case c.wantFile != "":
			if _, serr := os.Stat(filepath.Join(dir, c.wantFile)); serr != nil {
				t.Fatalf("cancelled at %q: no %s (%v)", c.mark, c.wantFile, serr)
			}
		}
	}
}

// TestFitStops checks the three ways training ends and the reason Fit
// reports: the epoch cap, a patience of one epoch (a constant learning rate
// of 0 never improves after epoch 1), and a deadline already passed, which
// still trains one epoch.
func TestFitStops(t *testing.T) {
	data := Data{Train: randomSplit("train", 16, 1), Valid: randomSplit("valid", 5, 2), Test: randomSplit("test", 5, 3)}
	for _, c := range []struct {
		name     string
		o        Options
		epochs   int
		wantStop string
	}{
		{"epochs", Options{Epochs: 2}, 2, StopEpochs},
		{"patience", Options{Epochs: 5, Patience: 1, Model: ModelOptions{AdamW: AdamWConfig{LR: 0, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}}}, 2, StopPatience},
		{"deadline", Options{Epochs: 5, Deadline: time.Now().Add(-time.Second)}, 1, StopDeadline},
	} {
		o := c.o
		o.BatchSize, o.TextFeats = 8, true
		res, err := Fit(context.Background(), tinyConfig(), data, o)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(res.History) != c.epochs || res.Stop != c.wantStop {
			t.Errorf("%s: %d epochs, stop %q; want %d, %q", c.name, len(res.History), res.Stop, c.epochs, c.wantStop)
		}
	}
}
