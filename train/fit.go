package train

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fdcmdie/fdcmdie/contrastive"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph"
)

// Data is a prepared dataset: features standardized, text tokenized or
// given as features.
type Data struct {
	Train, Valid, Test *datasets.Split
}

// Options configure one training run (SPEC §8).
type Options struct {
	Model     ModelOptions
	BatchSize int // MOSI 32, MOSEI 16
	Epochs    int // maximum number of epochs
	Patience  int // stop after this many epochs without improvement (8)
	TextFeats bool
	// Lt, La, Lv fix the batch lengths; 0 takes the data's.
	Lt, La, Lv int
	// OutDir receives the training state last.state.safetensors (weights,
	// optimizer, memory bank, counters) and the weights best.safetensors
	// and last.safetensors, all written atomically at every epoch boundary
	// (epoch 0 included: after the memory bank is filled); empty keeps the
	// best weights in memory only and cannot be resumed.
	OutDir string
	// Resume continues the run whose last checkpoint and state are in
	// OutDir from the epoch after the last completed one, with the same
	// results as an uninterrupted run. The state must have been written for
	// the same graph config and batch, optimizer and data settings. An
	// OutDir without a state starts a fresh run.
	Resume bool
	// Meta is stored in every checkpoint beside the config (standardization
	// statistics, tokenizer). The key "epoch" is set by Fit to the epoch
	// whose weights the checkpoint holds.
	Meta map[string]string
	// Progress receives a summary line after each epoch and after the
	// memory-bank fill, and, when ProgressBar is set, a bar redrawn in place
	// during them; nil is silent.
	Progress io.Writer
	// ProgressBar draws the bars: for a terminal (IsTerminal), not a log.
	ProgressBar bool
	// Deadline, when not zero, is a time budget: after the first epoch, Fit
	// starts no epoch that would end after it, judged by the duration of the
	// previous epoch and its validation pass. A run stopped by it depends on the machine's
	// speed, so resumed and uninterrupted runs may then differ.
	Deadline time.Time
}

// EpochStats summarize one epoch.
type EpochStats struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	TrainMAE  float64 `json:"train_mae"`
	TrainLCL  float64 `json:"train_l_cl"`
	ValidMAE  float64 `json:"valid_mae"`
	Seconds   float64 `json:"seconds"` // wall-clock time of the training pass
}

// Result is the outcome of Fit: the test split evaluated once with the
// weights of the best validation epoch.
type Result struct {
	Test      Metrics
	TestPred  []float32
	BestEpoch int
	History   []EpochStats
	// Stop says why training ended after the last epoch of History:
	// StopPatience, StopDeadline or StopEpochs.
	Stop string
	// Alpha is the mean GAP modality weight (t, v, a) per CMDIE layer over
	// the test split (figures 6–7); empty without GAP.
	Alpha [][3]float64
	// TestS and TestD are the pooled similarity and dissimilarity features
	// of the test split per modality (t, v, a), [N·d] each (figures 8–9).
	TestS, TestD [3][]float32
}

// Reasons of Result.Stop.
const (
	// StopPatience: the validation MAE did not improve for Patience epochs.
	StopPatience = "no validation improvement"
	// StopDeadline: the next epoch would have ended after Options.Deadline.
	StopDeadline = "time budget"
	// StopEpochs: Options.Epochs epochs were trained.
	StopEpochs = "maximum epochs"
)

// Fit trains cfg on data with the MMSA protocol: the memory bank is filled
// before the first epoch, the epoch with the lowest validation loss (MAE,
// improvement > 1e-6) is kept, training stops Patience epochs after it,
// and the test split is evaluated once with the best weights.
//
// With an OutDir, every epoch boundary is saved (last and best weights,
// optimizer, memory bank, random generators and early-stopping counters)
// and only epoch boundaries are: a cancelled ctx or a failed training step
// (a NaN or infinite loss, for one) stops Fit with an error naming the
// epoch and batch, and leaves the files of the last completed epoch. The
// weights of the interrupted epoch are discarded on purpose, so that the
// files on disk always agree with each other; Options.Resume restarts that
// epoch from its beginning.
func Fit(ctx context.Context, cfg graph.Config, data Data, o Options) (*Result, error) {
	if o.BatchSize <= 0 || o.Epochs <= 0 {
		return nil, fmt.Errorf("train: batch size %d and epochs %d must be positive", o.BatchSize, o.Epochs)
	}
	if o.Patience <= 0 {
		o.Patience = 8
	}
	bo := datasets.BatchOptions{Size: o.BatchSize, TextFeats: o.TextFeats, Lt: o.Lt, La: o.La, Lv: o.Lv}
	trainB, err := datasets.NewBatcher(data.Train, bo)
	if err != nil {
		return nil, fmt.Errorf("train: train split: %w", err)
	}
	bo = trainB.Options() // lengths fixed by the training split
	validB, err := datasets.NewBatcher(data.Valid, bo)
	if err != nil {
		return nil, fmt.Errorf("train: valid split: %w", err)
	}
	testB, err := datasets.NewBatcher(data.Test, bo)
	if err != nil {
		return nil, fmt.Errorf("train: test split: %w", err)
	}
	shape := graph.Shape{B: bo.Size, Lt: bo.Lt, La: bo.La, Lv: bo.Lv}
	m, err := NewModel(cfg, shape, o.Model)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if o.OutDir != "" {
		if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		if err := removeStaleTemps(o.OutDir); err != nil {
			return nil, err
		}
	}
	src := rand.NewPCG(o.Model.Seed, 0x5eed)
	f := &fitter{ctx: ctx, cfg: cfg, o: o, m: m, trainB: trainB, validB: validB, testB: testB,
		trainN: data.Train.Len(), shuffle: rand.New(src), shuffleSrc: src, bestLoss: math.Inf(1), saved: -1,
		bar: &Bar{w: o.Progress, draw: o.ProgressBar}}
	return f.run(data)
}

type fitter struct {
	ctx                   context.Context
	cfg                   graph.Config
	o                     Options
	m                     *Model
	trainB, validB, testB *datasets.Batcher
	trainN                int // training samples
	shuffle               *rand.Rand
	shuffleSrc            *rand.PCG // shuffle's source, saved in the training state
	bank                  *contrastive.Bank
	best                  map[string][]float32 // best weights when there is no OutDir
	bar                   *Bar                 // on Progress; draws only with ProgressBar

	saved int // the epoch boundary in StateFile, -1 before the first

	// Progress at the last epoch boundary, saved in the training state.
	done      int // epochs completed
	bestLoss  float64
	bestEpoch int
	bad       int // epochs since the best one
	history   []EpochStats
}

func (f *fitter) path(name string) string { return filepath.Join(f.o.OutDir, name) }

func (f *fitter) run(data Data) (*Result, error) {
	resumed, err := f.resume(data)
	if err != nil {
		return nil, err
	}
	if !resumed {
		if err := f.start(data); err != nil {
			return nil, err
		}
	}
	stop := StopEpochs
	if f.bad >= f.o.Patience { // a resumed run that had stopped already
		stop = StopPatience
	}
	var last time.Duration // the previous epoch with its validation pass
	for epoch := f.done + 1; epoch <= f.o.Epochs && f.bad < f.o.Patience; epoch++ {
		if !f.o.Deadline.IsZero() && last > 0 && time.Now().Add(last).After(f.o.Deadline) {
			stop = StopDeadline
			f.logf("time budget: stopping before epoch %d\n", epoch)
			break
		}
		start := time.Now()
		st, err := f.epoch(epoch)
		if err != nil {
			return nil, err
		}
		valid, _, err := f.evaluate(f.validB, false)
		if err != nil {
			return nil, err
		}
		st.ValidMAE = valid.MAE
		f.history = append(f.history, st)
		improved := st.ValidMAE < f.bestLoss-1e-6
		if improved {
			f.bestLoss, f.bad, f.bestEpoch = st.ValidMAE, 0, epoch
		} else {
			f.bad++
		}
		f.done = epoch
		if err := f.checkpoint(improved); err != nil {
			return nil, err
		}
		f.logf("epoch %d/%d  train loss %.4f (MAE %.4f, L_cl %.4f)  valid MAE %.4f%s  %.1fs\n",
			epoch, f.o.Epochs, st.TrainLoss, st.TrainMAE, st.TrainLCL, st.ValidMAE, mark(improved), st.Seconds)
		if f.bad >= f.o.Patience {
			stop = StopPatience
			f.logf("no improvement for %d epochs: stopping\n", f.bad)
		}
		last = time.Since(start)
	}
	if err := f.restoreBest(); err != nil {
		return nil, err
	}
	test, out, err := f.evaluate(f.testB, true)
	if err != nil {
		return nil, err
	}
	return &Result{Test: test, TestPred: out.pred, BestEpoch: f.bestEpoch, History: f.history, Stop: stop,
		Alpha: out.alpha, TestS: out.s, TestD: out.d}, nil
}

// start fills the memory bank of a fresh run and saves the epoch-0
// boundary, so that an interruption in the first epoch can be resumed.
func (f *fitter) start(data Data) error {
	if f.cfg.UsesCL() {
		var err error
		if f.bank, err = contrastive.NewBank(data.Train.Len(), f.cfg.DModel, data.Train.Labels); err != nil {
			return fmt.Errorf("train: %w", err)
		}
		if err := f.fillBank(); err != nil {
			return err
		}
	}
	return f.checkpoint(false)
}

// checkpoint saves the epoch boundary f.done. StateFile, which holds the
// weights with the rest of the training state, is written first and is the
// commit point: one atomic rename replaces the previous boundary, which
// stays intact until then, so a kill or a full disk at any moment leaves a
// resumable state. BestFile (when this epoch improved) and LastFile follow
// as copies of the state's weights; resume rewrites them when the run
// stopped before they were written.
func (f *fitter) checkpoint(improved bool) error {
	if err := f.saveState(); err != nil {
		if f.saved < 0 {
			return fmt.Errorf("%w; nothing was saved", err)
		}
		return fmt.Errorf("%w; %s still holds epoch %d", err, f.path(StateFile), f.saved)
	}
	f.saved = f.done
	if improved {
		if err := f.keepBest(); err != nil {
			return fmt.Errorf("%w; %s holds epoch %d, and Resume rewrites this file", err, f.path(StateFile), f.saved)
		}
	}
	if err := f.save(LastFile); err != nil {
		return fmt.Errorf("%w; %s holds epoch %d, and Resume rewrites this file", err, f.path(StateFile), f.saved)
	}
	return nil
}

// writeFile runs write, which writes path atomically; tests replace it to
// inject faults (a kill or a full disk) before any file of a checkpoint.
var writeFile = func(path string, write func() error) error { return write() }

// removeStaleTemps deletes the temporary files that a run killed while
// writing a checkpoint leaves in dir (".last.safetensors.tmp-123", as
// safetensors.Write names them).
func removeStaleTemps(dir string) error {
	for _, name := range []string{BestFile, LastFile, StateFile} {
		stale, err := filepath.Glob(filepath.Join(dir, "."+name+".tmp-*"))
		if err != nil {
			return fmt.Errorf("train: %s: %w", dir, err)
		}
		for _, p := range stale {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("train: stale temporary file: %w", err)
			}
		}
	}
	return nil
}

// kept says which files hold the last good state, for an error that stops
// the run inside epoch f.done+1.
func (f *fitter) kept() string {
	if f.o.OutDir == "" {
		return ""
	}
	s := fmt.Sprintf("; %s and %s hold epoch %d", f.path(LastFile), StateFile, f.done)
	if f.bestEpoch > 0 {
		s += fmt.Sprintf(", %s epoch %d", BestFile, f.bestEpoch)
	}
	return s
}

func mark(improved bool) string {
	if improved {
		return " *"
	}
	return ""
}

func (f *fitter) logf(format string, args ...any) {
	if f.o.Progress != nil {
		fmt.Fprintf(f.o.Progress, format, args...)
	}
}

// fillBank runs the features graphs (Model.Features: the evaluation
// graph's F and S, without the CMDIE stack) over the training split and
// writes every sample's r and s_m into the bank (before the first epoch),
// with a progress bar: on MOSEI it is a minute or more of work. The graphs
// are released at the end: they do not run again.
func (f *fitter) fillBank() error {
	defer f.m.ReleaseFeatures()
	batch := f.trainB.NewBatch()
	ep := f.trainB.Epoch(nil)
	n, total := 0, f.trainB.NumBatches()
	start := time.Now()
	for ep.Next(batch) {
		if err := f.ctx.Err(); err != nil {
			f.bar.End()
			return fmt.Errorf("train: interrupted while filling the memory bank: %w; nothing was saved", err)
		}
		out, err := f.m.Features(batch)
		if err != nil {
			return err
		}
		if err := f.storeBank(batch, out); err != nil {
			return err
		}
		n++
		f.bar.Update("memory bank", n, total, start, "")
	}
	f.bar.Clear()
	f.logf("memory bank: %d training samples in %v\n", f.trainN, time.Since(start).Round(time.Second))
	return nil
}

// storeBank writes the batch's real rows into the memory bank.
func (f *fitter) storeBank(b *datasets.Batch, out graph.Outputs) error {
	d := f.cfg.DModel
	r := make([]float32, 3*d)
	for row, idx := range b.Index {
		if idx < 0 {
			continue
		}
		for i := 0; i < 3; i++ {
			copy(r[i*d:(i+1)*d], out.F[i][row*d:(row+1)*d])
		}
		if err := f.bank.Set(idx, r, out.S[0][row*d:(row+1)*d], out.S[1][row*d:(row+1)*d], out.S[2][row*d:(row+1)*d]); err != nil {
			return fmt.Errorf("train: memory bank: %w", err)
		}
	}
	return nil
}

// epoch trains one pass over the shuffled training split.
func (f *fitter) epoch(epoch int) (EpochStats, error) {
	st := EpochStats{Epoch: epoch}
	start := time.Now()
	var similar, different [][]int
	var partners contrastive.PartnerBatch
	if f.bank != nil {
		var err error
		if similar, different, err = f.bank.Sets(f.cfg.KCL); err != nil {
			return st, fmt.Errorf("train: sample sets: %w", err)
		}
	}
	batch := f.trainB.NewBatch()
	ep := f.trainB.Epoch(f.shuffle)
	n, total := 0, f.trainB.NumBatches()
	var weight float64
	for ep.Next(batch) {
		if err := f.ctx.Err(); err != nil {
			f.bar.End()
			return st, fmt.Errorf("train: interrupted in epoch %d before batch %d of %d: %w%s (Resume restarts epoch %d)",
				epoch, n+1, total, err, f.kept(), epoch)
		}
		var p *contrastive.PartnerBatch
		if f.bank != nil {
			if err := f.bank.Partners(batch.Index, similar, different, f.cfg.KCL, &partners); err != nil {
				return st, fmt.Errorf("train: partners: %w", err)
			}
			p = &partners
		}
		out, err := f.m.TrainStep(batch, p)
		if err != nil {
			f.bar.End()
			return st, fmt.Errorf("train: epoch %d, batch %d of %d: %w; stopped%s", epoch, n+1, total, err, f.kept())
		}
		if f.bank != nil {
			if err := f.storeBank(batch, out); err != nil {
				return st, err
			}
		}
		var w float64
		for _, x := range batch.Weight {
			w += float64(x)
		}
		st.TrainLoss += w * out.Loss
		st.TrainMAE += w * out.MAE
		st.TrainLCL += w * out.LCL
		weight += w
		n++
		if f.o.ProgressBar {
			f.bar.Update(fmt.Sprintf("epoch %d", epoch), n, total, start, fmt.Sprintf("loss %.4f  ", st.TrainLoss/weight))
		}
	}
	st.TrainLoss /= weight
	st.TrainMAE /= weight
	st.TrainLCL /= weight
	st.Seconds = time.Since(start).Seconds()
	f.bar.Clear()
	return st, nil
}

// evalOut gathers per-sample outputs of an evaluation pass, in split order.
type evalOut struct {
	pred  []float32
	alpha [][3]float64
	s, d  [3][]float32
}

// evaluate predicts a whole split once (dropout off) and computes the
// metrics; with keep it also gathers α means and pooled features. The
// pass runs to its end whatever f.ctx says: the epoch boundary is saved
// after the validation pass, and an interruption stops the next epoch.
func (f *fitter) evaluate(b *datasets.Batcher, keep bool) (Metrics, evalOut, error) {
	var out evalOut
	var labels []float32
	d := f.cfg.DModel
	n := 0
	ep := b.Epoch(nil)
	next := func(dst *datasets.Batch) (bool, error) { return ep.Next(dst), nil }
	err := evalLoop(b, next, f.m.Predict, func(batch *datasets.Batch, row int, o graph.Outputs) error {
		out.pred = append(out.pred, o.Pred[row])
		labels = append(labels, batch.Label[row])
		if !keep {
			return nil
		}
		n++
		if out.alpha == nil {
			out.alpha = make([][3]float64, len(o.Alpha))
		}
		for l, a := range o.Alpha {
			for j := 0; j < 3; j++ {
				out.alpha[l][j] += float64(a[row*3+j])
			}
		}
		for i := 0; i < 3 && o.S[i] != nil; i++ {
			out.s[i] = append(out.s[i], o.S[i][row*d:(row+1)*d]...)
			out.d[i] = append(out.d[i], o.D[i][row*d:(row+1)*d]...)
		}
		return nil
	})
	if err != nil {
		return Metrics{}, out, err
	}
	for l := range out.alpha {
		for j := range out.alpha[l] {
			out.alpha[l][j] /= float64(n)
		}
	}
	met, err := Evaluate(out.pred, labels)
	return met, out, err
}

// evalLoop is the one evaluation loop, shared by training's validation
// and test passes (fitter.evaluate) and prediction (Predictor): next
// writes the next batch into dst and reports whether there was one, run
// runs an evaluation graph on it, and visit receives every sample row of
// the batch (padding rows skipped) with the batch's outputs.
func evalLoop(b *datasets.Batcher, next func(dst *datasets.Batch) (bool, error),
	run func(*datasets.Batch) (graph.Outputs, error), visit func(batch *datasets.Batch, row int, out graph.Outputs) error) error {
	batch := b.NewBatch()
	for {
		more, err := next(batch)
		if err != nil || !more {
			return err
		}
		out, err := run(batch)
		if err != nil {
			return err
		}
		for row, idx := range batch.Index {
			if idx < 0 {
				continue
			}
			if err := visit(batch, row, out); err != nil {
				return err
			}
		}
	}
}

// save writes the weights to name in OutDir with the metadata of Options
// and the epoch they are from.
func (f *fitter) save(name string) error {
	if f.o.OutDir == "" {
		return nil
	}
	meta := make(map[string]string, len(f.o.Meta)+1)
	maps.Copy(meta, f.o.Meta)
	meta[epochKey] = strconv.Itoa(f.done)
	path := f.path(name)
	return writeFile(path, func() error { return f.m.Save(path, meta) })
}

// keepBest saves the best checkpoint, or keeps a copy of the weights in
// memory when there is no output folder.
func (f *fitter) keepBest() error {
	if f.o.OutDir != "" {
		return f.save(BestFile)
	}
	if f.best == nil {
		f.best = map[string][]float32{}
	}
	for _, p := range f.m.Graph().B.Params() {
		w, _ := p.Node.Value().Data().([]float32)
		f.best[p.Name] = append(f.best[p.Name][:0], w...)
	}
	return nil
}

// restoreBest loads the best weights back into the model.
func (f *fitter) restoreBest() error {
	if f.o.OutDir != "" {
		return f.m.Load(f.path(BestFile))
	}
	for _, p := range f.m.Graph().B.Params() {
		w, _ := p.Node.Value().Data().([]float32)
		copy(w, f.best[p.Name])
	}
	return nil
}
