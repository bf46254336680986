package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers/safetensors"
)

// The runs below: 40 training samples in batches of 8, so 5 optimizer
// steps per epoch.
const (
	resumeTrainN   = 40
	resumeBatch    = 8
	stepsPerEpoch  = resumeTrainN / resumeBatch
	resumeSeed     = 2024
	resumeMaxEpoch = 4
)

func resumeData() Data {
	return Data{Train: randomSplit("train", resumeTrainN, 1), Valid: randomSplit("valid", 12, 2), Test: randomSplit("test", 13, 3)}
}

func resumeOptions(dir string, epochs int, resume bool) Options {
	return Options{Model: ModelOptions{Seed: resumeSeed}, BatchSize: resumeBatch, Epochs: epochs, TextFeats: true,
		OutDir: dir, Resume: resume}
}

// sameRun fails unless b reproduces a bit for bit: test predictions,
// best epoch and history (all but the wall-clock seconds).
func sameRun(t *testing.T, a, b *Result) {
	t.Helper()
	if a.BestEpoch != b.BestEpoch {
		t.Errorf("best epoch %d, uninterrupted %d", b.BestEpoch, a.BestEpoch)
	}
	if len(a.History) != len(b.History) {
		t.Fatalf("%d history rows, uninterrupted %d", len(b.History), len(a.History))
	}
	for i, x := range a.History {
		y := b.History[i]
		y.Seconds = x.Seconds
		if x != y {
			t.Errorf("history[%d] = %+v, uninterrupted %+v", i, b.History[i], x)
		}
	}
	if len(a.TestPred) != len(b.TestPred) {
		t.Fatalf("%d test predictions, uninterrupted %d", len(b.TestPred), len(a.TestPred))
	}
	for i := range a.TestPred {
		if math.Float32bits(a.TestPred[i]) != math.Float32bits(b.TestPred[i]) {
			t.Errorf("test prediction %d = %v, uninterrupted %v (want identical bits)", i, b.TestPred[i], a.TestPred[i])
		}
	}
}

// cancelAt is a progress writer that cancels a run when the progress
// output contains mark.
type cancelAt struct {
	mark   string
	cancel context.CancelFunc
}

func (c *cancelAt) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(c.mark)) {
		c.cancel()
	}
	return len(p), nil
}

func fit(t *testing.T, ctx context.Context, cfg graph.Config, data Data, o Options) *Result {
	t.Helper()
	res, err := Fit(ctx, cfg, data, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestResumeMatchesUninterrupted(t *testing.T) {
	cfg := tinyConfig()
	if !cfg.UsesCL() {
		t.Fatal("tinyConfig has no memory bank: the test would not cover it")
	}
	straight := fit(t, context.Background(), cfg, resumeData(), resumeOptions(t.TempDir(), resumeMaxEpoch, false))
	if len(straight.History) != resumeMaxEpoch {
		t.Fatalf("uninterrupted run trained %d epochs, want %d", len(straight.History), resumeMaxEpoch)
	}

	t.Run("after 2 epochs", func(t *testing.T) {
		dir := t.TempDir()
		first := fit(t, context.Background(), cfg, resumeData(), resumeOptions(dir, 2, false))
		var log strings.Builder
		o := resumeOptions(dir, resumeMaxEpoch, true)
		o.Progress = &log
		resumed := fit(t, context.Background(), cfg, resumeData(), o)
		sameRun(t, straight, resumed)
		for i := 0; i < 2; i++ { // restored from the state, not retrained
			if resumed.History[i] != first.History[i] {
				t.Errorf("history[%d] = %+v, first part %+v", i, resumed.History[i], first.History[i])
			}
		}
		if !strings.Contains(log.String(), "resume:") || !strings.Contains(log.String(), "epoch 2 done") {
			t.Errorf("resume not logged: %q", log.String())
		}
	})

	t.Run("cancelled in epoch 3", func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		o := resumeOptions(dir, resumeMaxEpoch, false)
		o.Progress, o.ProgressBar = &cancelAt{mark: "epoch 3 [", cancel: cancel}, true
		_, err := Fit(ctx, cfg, resumeData(), o)
		if err == nil || !strings.Contains(err.Error(), "interrupted in epoch 3 before batch 2 of 5") {
			t.Fatalf("error %v, want an interruption in epoch 3 before batch 2", err)
		}
		// The boundary files still describe epoch 2.
		if got := checkpointEpoch(t, filepath.Join(dir, LastFile)); got != "2" {
			t.Errorf("%s holds epoch %s after the interruption, want 2", LastFile, got)
		}
		if st := readState(t, dir); st.Epoch != 2 {
			t.Errorf("%s holds epoch %d after the interruption, want 2", StateFile, st.Epoch)
		}
		resumed := fit(t, context.Background(), cfg, resumeData(), resumeOptions(dir, resumeMaxEpoch, true))
		sameRun(t, straight, resumed)
	})

	t.Run("cancelled in epoch 1", func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Fit(ctx, cfg, resumeData(), resumeOptions(dir, resumeMaxEpoch, false)); err == nil {
			t.Fatal("a cancelled run returned no error")
		}
		resumed := fit(t, context.Background(), cfg, resumeData(), resumeOptions(dir, resumeMaxEpoch, true))
		sameRun(t, straight, resumed)
	})

	t.Run("no state starts fresh", func(t *testing.T) {
		var log strings.Builder
		o := resumeOptions(t.TempDir(), resumeMaxEpoch, true)
		o.Progress = &log
		fresh := fit(t, context.Background(), cfg, resumeData(), o)
		sameRun(t, straight, fresh)
		if !strings.Contains(log.String(), "starting a fresh run") {
			t.Errorf("no log line for the fresh start: %q", log.String())
		}
	})
}

// checkpointEpoch returns the "epoch" metadata of a weights checkpoint.
func checkpointEpoch(t *testing.T, path string) string {
	t.Helper()
	_, meta, err := graph.ReadCheckpointMeta(path)
	if err != nil {
		t.Fatal(err)
	}
	return meta["epoch"]
}

func readState(t *testing.T, dir string) savedState {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st savedState
	if err := json.Unmarshal([]byte(f.Metadata()["train_state"]), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStateFileContents(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyConfig()
	res := fit(t, context.Background(), cfg, resumeData(), resumeOptions(dir, 2, false))
	st := readState(t, dir)
	if st.Epoch != 2 || st.BestEpoch != res.BestEpoch || len(st.History) != 2 {
		t.Errorf("state epoch %d, best %d, %d history rows; want 2, %d, 2", st.Epoch, st.BestEpoch, len(st.History), res.BestEpoch)
	}
	best, err := strconv.ParseFloat(st.BestLoss, 64)
	if err != nil || best != res.History[res.BestEpoch-1].ValidMAE {
		t.Errorf("best valid loss %q (%v), want the best epoch's valid MAE %v", st.BestLoss, err, res.History[res.BestEpoch-1].ValidMAE)
	}
	bad := 2 - res.BestEpoch
	if st.Bad != bad {
		t.Errorf("%d epochs without improvement, want %d", st.Bad, bad)
	}
	if len(st.AdamWSteps) == 0 {
		t.Fatal("no optimizer state saved")
	}
	for name, step := range st.AdamWSteps {
		if step != 2*stepsPerEpoch {
			t.Errorf("%s: %d AdamW steps, want %d (2 epochs of %d batches)", name, step, 2*stepsPerEpoch, stepsPerEpoch)
		}
	}

	f, err := safetensors.Open(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := cfg.DModel
	for _, c := range []struct {
		name  string
		shape []int
	}{
		{"memory_bank.r", []int{resumeTrainN, 3 * d}},
		{"memory_bank.s_t", []int{resumeTrainN, d}},
		{"memory_bank.s_v", []int{resumeTrainN, d}},
		{"memory_bank.s_a", []int{resumeTrainN, d}},
		{"memory_bank.written", []int{resumeTrainN}},
	} {
		info, ok := f.Info(c.name)
		if !ok || !equalInts(info.Shape, c.shape) {
			t.Errorf("%s: shape %v (present %v), want %v", c.name, info.Shape, ok, c.shape)
		}
	}
	written := make([]float32, resumeTrainN)
	if err := f.ReadFloat32("memory_bank.written", written); err != nil {
		t.Fatal(err)
	}
	for i, w := range written {
		if w != 1 {
			t.Fatalf("bank row %d written = %v, want 1 (the bank is filled before epoch 1)", i, w)
		}
	}
	// Every optimizer entry has both moments with the parameter's shape.
	m, err := NewModel(cfg, tinyShape, ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	shapes := paramShapes(m.Graph())
	for name := range st.AdamWSteps {
		for _, suffix := range []string{".exp_avg", ".exp_avg_sq"} {
			info, ok := f.Info(name + suffix)
			if !ok || !equalInts(info.Shape, shapes[name]) {
				t.Errorf("%s%s: shape %v (present %v), want %v", name, suffix, info.Shape, ok, shapes[name])
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestResumeRefusesMismatch(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyConfig()
	fit(t, context.Background(), cfg, resumeData(), resumeOptions(dir, 1, false))
	state, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}

	otherCfg := cfg
	otherCfg.Dropout = 0.2
	smallBatch := resumeOptions(dir, 2, true)
	smallBatch.BatchSize = 4
	noDir := resumeOptions("", 2, true)
	// The state with one bit of a weight flipped: the fingerprint differs.
	damaged := flipWeightBit(t, filepath.Join(dir, StateFile), state)

	for _, c := range []struct {
		name  string
		cfg   graph.Config
		o     Options
		state []byte // written as StateFile before the run
		want  string
	}{
		{"config", otherCfg, resumeOptions(dir, 2, true), state, "another config (dropout: saved 0.1, now 0.2)"},
		{"batch size", cfg, smallBatch, state, "other settings (batch_size: saved 8, now 4)"},
		{"no OutDir", cfg, noDir, state, "Resume needs the OutDir"},
		{"damaged weights", cfg, resumeOptions(dir, 2, true), damaged, "do not match their fingerprint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, StateFile), c.state, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Fit(context.Background(), c.cfg, resumeData(), c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// flipWeightBit returns the state file's bytes with one bit of the first
// weight's first element flipped.
func flipWeightBit(t *testing.T, path string, state []byte) []byte {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := NewModel(tinyConfig(), tinyShape, ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	info, ok := f.Info(m.Graph().B.Params()[0].Name)
	if !ok {
		t.Fatal("the state holds no weights")
	}
	start := 8 + binary.LittleEndian.Uint64(state) + uint64(info.Offsets[0])
	damaged := bytes.Clone(state)
	damaged[start] ^= 1
	return damaged
}

// nanAudio puts NaN in the first audio frame of training sample i.
func nanAudio(d Data, i int) {
	a := d.Train.Audio
	a.Data[i*a.T*a.D] = float32(math.NaN())
}

var batchRE = regexp.MustCompile(`epoch (\d+), batch (\d+) of 5: .*loss is NaN`)

func TestFitNaNLossKeepsLastGoodCheckpoint(t *testing.T) {
	cfg := tinyConfig()
	cfg.NoCL = true // with the memory bank a NaN sample fails before training: see below

	dir := t.TempDir()
	fit(t, context.Background(), cfg, resumeData(), resumeOptions(dir, 2, false))
	before := map[string][]byte{}
	for _, name := range []string{LastFile, BestFile, StateFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		before[name] = b
	}

	for _, c := range []struct {
		name      string
		dir       string
		resume    bool
		wantEpoch string
		lastEpoch string // the epoch last.safetensors must still hold
	}{
		{"fresh run", t.TempDir(), false, "1", "0"},
		{"resumed after epoch 2", dir, true, "3", "2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := resumeData()
			nanAudio(data, 17)
			_, err := Fit(context.Background(), cfg, data, resumeOptions(c.dir, resumeMaxEpoch, c.resume))
			if err == nil {
				t.Fatal("a NaN loss returned no error")
			}
			m := batchRE.FindStringSubmatch(err.Error())
			if m == nil || m[1] != c.wantEpoch {
				t.Fatalf("error %q, want a NaN loss in epoch %s naming its batch", err, c.wantEpoch)
			}
			if b, _ := strconv.Atoi(m[2]); b < 1 || b > stepsPerEpoch {
				t.Errorf("batch %d out of 1..%d", b, stepsPerEpoch)
			}
			last := filepath.Join(c.dir, LastFile)
			model, err := NewModel(cfg, tinyShape, ModelOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer model.Close()
			if err := model.Load(last); err != nil {
				t.Fatalf("last checkpoint does not load after the NaN: %v", err)
			}
			if got := checkpointEpoch(t, last); got != c.lastEpoch {
				t.Errorf("%s holds epoch %s, want %s", LastFile, got, c.lastEpoch)
			}
		})
	}
	for name, b := range before {
		after, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(after, b) {
			t.Errorf("%s changed by the failed resumed run (%v)", name, err)
		}
	}

	t.Run("memory bank", func(t *testing.T) {
		data := resumeData()
		nanAudio(data, 17)
		_, err := Fit(context.Background(), tinyConfig(), data, resumeOptions(t.TempDir(), 1, false))
		if err == nil || !strings.Contains(err.Error(), "memory bank") || !strings.Contains(err.Error(), "not finite") {
			t.Fatalf("error %v, want the memory bank refusing a non-finite row", err)
		}
	})
}

// TestCheckpointFaults stops a run before each file write of its
// checkpoints, that is right after the previous write's rename, with a full
// disk (ENOSPC) and the temporary file a killed write leaves, then resumes
// it: from every point the resumed run gives the uninterrupted run's
// results, and the temporary file is gone.
func TestCheckpointFaults(t *testing.T) {
	cfg := tinyConfig()
	const epochs = 2
	straight := fit(t, context.Background(), cfg, resumeData(), resumeOptions(t.TempDir(), epochs, false))
	orig := writeFile
	defer func() { writeFile = orig }()

	var writes []string
	writeFile = func(path string, write func() error) error {
		writes = append(writes, filepath.Base(path))
		return write()
	}
	fit(t, context.Background(), cfg, resumeData(), resumeOptions(t.TempDir(), epochs, false))
	// Boundaries 0, 1, 2: state and last, and best after an improvement.
	if len(writes) < 6 || writes[0] != StateFile || writes[1] != LastFile {
		t.Fatalf("checkpoint writes %v, want the state first, then the weights", writes)
	}

	for k, name := range writes {
		t.Run(fmt.Sprintf("before write %d (%s)", k+1, name), func(t *testing.T) {
			dir := t.TempDir()
			n := 0
			writeFile = func(path string, write func() error) error {
				if n++; n <= k {
					return write()
				}
				stale := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-123")
				if err := os.WriteFile(stale, []byte("partial"), 0o600); err != nil {
					t.Fatal(err)
				}
				return &fs.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
			}
			_, err := Fit(context.Background(), cfg, resumeData(), resumeOptions(dir, epochs, false))
			writeFile = orig
			if err == nil || !strings.Contains(err.Error(), name+": no space left on device") {
				t.Fatalf("error %v, want one naming %s and the full disk", err, name)
			}
			resumed := fit(t, context.Background(), cfg, resumeData(), resumeOptions(dir, epochs, true))
			sameRun(t, straight, resumed)
			if stale, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(stale) > 0 {
				t.Errorf("temporary files left after the resumed run: %v", stale)
			}
			for _, f := range []string{LastFile, BestFile} {
				if got, want := checkpointEpoch(t, filepath.Join(dir, f)), map[string]string{LastFile: "2", BestFile: strconv.Itoa(straight.BestEpoch)}[f]; got != want {
					t.Errorf("%s holds epoch %s, want %s", f, got, want)
				}
			}
		})
	}
}
