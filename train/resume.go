package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/fdcmdie/fdcmdie/contrastive"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers/safetensors"
)

// The files Fit writes in Options.OutDir.
const (
	// BestFile holds the weights of the best validation epoch.
	BestFile = "best.safetensors"
	// LastFile holds the weights of the last completed epoch, a copy of
	// those in StateFile for prediction.
	LastFile = "last.safetensors"
	// StateFile holds the whole training state at the end of the last
	// completed epoch, in one file so that it is replaced atomically: the
	// weights under their parameter names, the AdamW moments as "<param>.exp_avg" and
	// "<param>.exp_avg_sq", the memory bank as "memory_bank.r" [N, 3d],
	// "memory_bank.s_t", "memory_bank.s_v", "memory_bank.s_a" [N, d] and
	// "memory_bank.written" [N] (1 for a written row), and in its
	// metadata the config, the run settings and, under "train_state", the
	// AdamW step counts, the early-stopping counters, the history and the
	// states of the shuffle and dropout generators.
	StateFile = "last.state.safetensors"
)

// Metadata keys of the checkpoints and the state file.
const (
	epochKey    = "epoch"       // the epoch a checkpoint's weights are from
	settingsKey = "settings"    // runSettings JSON
	stateKey    = "train_state" // savedState JSON
	bankPrefix  = "memory_bank."
)

// savedState is the JSON under stateKey.
type savedState struct {
	Epoch      int            `json:"epoch"`           // epochs completed
	BestLoss   string         `json:"best_valid_loss"` // strconv 'g' -1: exact, and +Inf before any improvement
	BestEpoch  int            `json:"best_epoch"`      // 0 before any improvement
	Bad        int            `json:"epochs_without_improvement"`
	History    []EpochStats   `json:"history"`
	ShuffleRNG []byte         `json:"shuffle_pcg"` // rand.PCG.MarshalBinary, base64 in JSON
	DropoutRNG []byte         `json:"dropout_pcg"`
	AdamWSteps map[string]int `json:"adamw_steps"`   // per parameter with optimizer state
	Weights    string         `json:"weights_fnv64"` // fingerprint of the weights in the file
	BankRows   int            `json:"bank_rows"`     // 0 without the memory bank
}

// runSettings are the settings besides the graph config that a resumed run
// must share with the interrupted one to give the same results.
type runSettings struct {
	BatchSize    int         `json:"batch_size"`
	Lt           int         `json:"lt"`
	La           int         `json:"la"`
	Lv           int         `json:"lv"`
	TextFeats    bool        `json:"text_feats"`
	FreezeText   bool        `json:"freeze_text"`
	AdamW        AdamWConfig `json:"adamw"`
	ClipNorm     float64     `json:"clip_norm"`
	TrainSamples int         `json:"train_samples"`
}

func (f *fitter) settings() runSettings {
	bo := f.trainB.Options()
	adamw := f.m.opt.Config()
	return runSettings{BatchSize: bo.Size, Lt: bo.Lt, La: bo.La, Lv: bo.Lv, TextFeats: bo.TextFeats,
		FreezeText: f.o.Model.FreezeText, AdamW: adamw, ClipNorm: f.o.Model.ClipNorm,
		TrainSamples: f.trainN}
}

// saveState writes StateFile for the boundary f.done, atomically: the file
// is the commit point of a checkpoint (see checkpoint).
func (f *fitter) saveState() error {
	if f.o.OutDir == "" {
		return nil
	}
	path := f.path(StateFile)
	cfg, err := graph.MarshalConfig(f.cfg)
	if err != nil {
		return fmt.Errorf("train: %s: config: %w", path, err)
	}
	settings, err := json.Marshal(f.settings())
	if err != nil {
		return fmt.Errorf("train: %s: settings: %w", path, err)
	}
	st := savedState{Epoch: f.done, BestLoss: strconv.FormatFloat(f.bestLoss, 'g', -1, 64),
		BestEpoch: f.bestEpoch, Bad: f.bad, History: f.history, AdamWSteps: map[string]int{},
		Weights: weightsFingerprint(f.m.Graph())}
	if st.ShuffleRNG, err = f.shuffleSrc.MarshalBinary(); err != nil {
		return fmt.Errorf("train: %s: shuffle generator: %w", path, err)
	}
	if st.DropoutRNG, err = f.m.dropoutSrc.MarshalBinary(); err != nil {
		return fmt.Errorf("train: %s: dropout generator: %w", path, err)
	}
	shapes := paramShapes(f.m.Graph())
	var ts []safetensors.Tensor
	for _, p := range f.m.Graph().B.Params() {
		w, _ := p.Node.Value().Data().([]float32)
		ts = append(ts, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: w})
	}
	for name, s := range f.m.OptimizerState().Tensors {
		shape, ok := shapes[name]
		if !ok {
			return fmt.Errorf("train: %s: optimizer state for %s, which is not a parameter", path, name)
		}
		ts = append(ts, safetensors.Tensor{Name: name + ".exp_avg", Shape: shape, Data: s.ExpAvg},
			safetensors.Tensor{Name: name + ".exp_avg_sq", Shape: shape, Data: s.ExpAvgSq})
		st.AdamWSteps[name] = s.Step
	}
	if f.bank != nil {
		ts = append(ts, bankTensors(f.bank)...)
		st.BankRows = f.bank.N()
	}
	js, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("train: %s: %s: %w", path, stateKey, err)
	}
	meta := map[string]string{graph.ConfigKey: cfg, settingsKey: string(settings), stateKey: string(js)}
	if err := writeFile(path, func() error { return safetensors.Write(path, ts, meta) }); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// resume restores the boundary saved in OutDir when Options.Resume asks
// for it, and reports whether it did. Everything is checked against the
// run being started: config, settings, the fingerprint of the last
// weights and the epoch of the best ones.
func (f *fitter) resume(data Data) (bool, error) {
	if !f.o.Resume {
		return false, nil
	}
	if f.o.OutDir == "" {
		return false, errors.New("train: resume: Options.Resume needs the OutDir of the interrupted run")
	}
	path := f.path(StateFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		f.logf("resume: no %s: starting a fresh run\n", path)
		return false, nil
	}
	file, err := safetensors.Open(path)
	if err != nil {
		return false, fmt.Errorf("train: resume: %w", err)
	}
	defer file.Close()
	st, err := f.checkState(file)
	if err != nil {
		return false, err
	}
	if err := readWeights(file, f.m.Graph()); err != nil {
		return false, err
	}
	if fp := weightsFingerprint(f.m.Graph()); fp != st.Weights {
		return false, fmt.Errorf("train: resume: %s: the weights do not match their fingerprint: the file is damaged; start a fresh run", path)
	}
	opt, err := readOptimizer(file, st.AdamWSteps, paramShapes(f.m.Graph()))
	if err != nil {
		return false, err
	}
	if err := f.m.SetOptimizerState(opt); err != nil {
		return false, fmt.Errorf("train: resume: %s: %w", path, err)
	}
	if f.cfg.UsesCL() {
		if st.BankRows != data.Train.Len() {
			return false, fmt.Errorf("train: resume: %s: memory bank of %d rows for %d training samples", path, st.BankRows, data.Train.Len())
		}
		if f.bank, err = readBank(file, f.cfg.DModel, data.Train.Labels); err != nil {
			return false, err
		}
	}
	if err := f.shuffleSrc.UnmarshalBinary(st.ShuffleRNG); err != nil {
		return false, fmt.Errorf("train: resume: %s: shuffle generator: %w", path, err)
	}
	if err := f.m.dropoutSrc.UnmarshalBinary(st.DropoutRNG); err != nil {
		return false, fmt.Errorf("train: resume: %s: dropout generator: %w", path, err)
	}
	if f.bestLoss, err = strconv.ParseFloat(st.BestLoss, 64); err != nil {
		return false, fmt.Errorf("train: resume: %s: best_valid_loss: %w", path, err)
	}
	f.done, f.bestEpoch, f.bad, f.history = st.Epoch, st.BestEpoch, st.Bad, st.History
	f.saved = st.Epoch
	if err := f.repairCopies(); err != nil {
		return false, err
	}
	f.logf("resume: %s: epoch %d done, best epoch %d (valid MAE %.4f)\n", f.o.OutDir, f.done, f.bestEpoch, f.bestLoss)
	return true, nil
}

// checkState compares the state file's config and settings with the run's
// and decodes its state.
func (f *fitter) checkState(file *safetensors.File) (savedState, error) {
	var st savedState
	path := file.Path()
	meta := file.Metadata()
	for _, k := range []string{graph.ConfigKey, settingsKey, stateKey} {
		if _, ok := meta[k]; !ok {
			return st, fmt.Errorf("train: resume: %s: no %q in __metadata__: not a training state", path, k)
		}
	}
	cfg, err := graph.UnmarshalConfig(meta[graph.ConfigKey])
	if err != nil {
		return st, fmt.Errorf("train: resume: %s: %w", path, err)
	}
	if cfg != f.cfg {
		return st, fmt.Errorf("train: resume: %s was written for another config (%s); use the same config or start a fresh run",
			path, strings.Join(jsonDiff(cfg, f.cfg), ", "))
	}
	var saved runSettings
	if err := decodeStrict(meta[settingsKey], &saved); err != nil {
		return st, fmt.Errorf("train: resume: %s: %s: %w", path, settingsKey, err)
	}
	if now := f.settings(); saved != now {
		return st, fmt.Errorf("train: resume: %s was written with other settings (%s); use the same ones or start a fresh run",
			path, strings.Join(jsonDiff(saved, now), ", "))
	}
	if err := decodeStrict(meta[stateKey], &st); err != nil {
		return st, fmt.Errorf("train: resume: %s: %s: %w", path, stateKey, err)
	}
	if st.Epoch < 0 || st.BestEpoch < 0 || st.BestEpoch > st.Epoch || st.Bad < 0 || len(st.History) != st.Epoch {
		return st, fmt.Errorf("train: resume: %s: inconsistent state: epoch %d, best epoch %d, %d without improvement, %d history rows",
			path, st.Epoch, st.BestEpoch, st.Bad, len(st.History))
	}
	return st, nil
}

// repairCopies rewrites the weight files a run stopped from writing after
// it committed StateFile at boundary f.done (see checkpoint): BestFile when
// that boundary was the best epoch, LastFile when it holds another epoch.
// A BestFile of an earlier best epoch was written before that epoch's state
// and untouched since, so it must hold that epoch.
func (f *fitter) repairCopies() error {
	if f.fileEpoch(LastFile) != strconv.Itoa(f.done) {
		f.logf("resume: rewriting %s from %s\n", LastFile, StateFile)
		if err := f.save(LastFile); err != nil {
			return fmt.Errorf("train: resume: %w", err)
		}
	}
	if f.bestEpoch == 0 {
		return nil
	}
	got := f.fileEpoch(BestFile)
	switch {
	case got == strconv.Itoa(f.bestEpoch):
		return nil
	case f.bestEpoch == f.done:
		f.logf("resume: rewriting %s from %s\n", BestFile, StateFile)
		if err := f.save(BestFile); err != nil {
			return fmt.Errorf("train: resume: %w", err)
		}
		return nil
	}
	return fmt.Errorf("train: resume: %s holds epoch %q but the best epoch of %s is %d; start a fresh run",
		f.path(BestFile), got, StateFile, f.bestEpoch)
}

// fileEpoch is the epoch a weights file in OutDir holds, or "" when it is
// missing, unreadable or written for another config.
func (f *fitter) fileEpoch(name string) string {
	cfg, meta, err := graph.ReadCheckpointMeta(f.path(name))
	if err != nil || cfg != f.cfg {
		return ""
	}
	return meta[epochKey]
}

// readWeights copies the parameters saved in a state file into m.
func readWeights(file *safetensors.File, m *graph.Model) error {
	for _, p := range m.B.Params() {
		if _, ok := file.Info(p.Name); !ok {
			return fmt.Errorf("train: resume: %s holds no weights for %s: written by an older fdcmdie; start a fresh run",
				file.Path(), p.Name)
		}
		w, _ := p.Node.Value().Data().([]float32)
		if err := file.ReadFloat32(p.Name, w); err != nil {
			return fmt.Errorf("train: resume: %w", err)
		}
	}
	return nil
}

// decodeStrict parses JSON into v, refusing unknown fields.
func decodeStrict(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// jsonDiff describes the top-level JSON fields whose values differ between
// the saved value a and the current value b, of the same struct type.
func jsonDiff(a, b any) []string {
	fields := func(v any) map[string]json.RawMessage {
		m := map[string]json.RawMessage{}
		if js, err := json.Marshal(v); err == nil {
			_ = json.Unmarshal(js, &m)
		}
		return m
	}
	fa, fb := fields(a), fields(b)
	var diff []string
	for k, va := range fa {
		if !bytes.Equal(va, fb[k]) {
			diff = append(diff, fmt.Sprintf("%s: saved %s, now %s", k, va, fb[k]))
		}
	}
	sort.Strings(diff)
	return diff
}

// paramShapes maps the model's parameter names to their shapes.
func paramShapes(m *graph.Model) map[string][]int {
	shapes := map[string][]int{}
	for _, p := range m.B.Params() {
		shapes[p.Name] = p.Shape
	}
	return shapes
}

// weightsFingerprint is an FNV-1a hash of the parameters' names and
// float32 bits, which a state file records to detect damaged weights.
func weightsFingerprint(m *graph.Model) string {
	h := fnv.New64a()
	buf := make([]byte, 0, 1<<16)
	for _, p := range m.B.Params() {
		h.Write([]byte(p.Name))
		h.Write([]byte{0})
		w, _ := p.Node.Value().Data().([]float32)
		for _, x := range w {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
		}
		h.Write(buf)
		buf = buf[:0]
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// readOptimizer reads the AdamW moments of every parameter in steps.
func readOptimizer(file *safetensors.File, steps map[string]int, shapes map[string][]int) (AdamWState, error) {
	opt := AdamWState{Tensors: make(map[string]AdamWTensorState, len(steps))}
	for name, step := range steps {
		shape, ok := shapes[name]
		if !ok {
			return opt, fmt.Errorf("train: resume: %s: optimizer state for %s, which is not a parameter", file.Path(), name)
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		s := AdamWTensorState{Step: step, ExpAvg: make([]float32, n), ExpAvgSq: make([]float32, n)}
		if err := file.ReadFloat32(name+".exp_avg", s.ExpAvg); err != nil {
			return opt, fmt.Errorf("train: resume: %w", err)
		}
		if err := file.ReadFloat32(name+".exp_avg_sq", s.ExpAvgSq); err != nil {
			return opt, fmt.Errorf("train: resume: %w", err)
		}
		opt.Tensors[name] = s
	}
	return opt, nil
}

// bankTensors copies the memory bank into the StateFile tensors.
func bankTensors(b *contrastive.Bank) []safetensors.Tensor {
	n, d := b.N(), b.D()
	r, st, sv, sa := make([]float32, n*3*d), make([]float32, n*d), make([]float32, n*d), make([]float32, n*d)
	written := make([]float32, n)
	for i := 0; i < n; i++ {
		row, _ := b.Row(i) // i is in range
		copy(r[i*3*d:], row.R)
		copy(st[i*d:], row.ST)
		copy(sv[i*d:], row.SV)
		copy(sa[i*d:], row.SA)
		if row.Written {
			written[i] = 1
		}
	}
	return []safetensors.Tensor{
		{Name: bankPrefix + "r", Shape: []int{n, 3 * d}, Data: r},
		{Name: bankPrefix + "s_t", Shape: []int{n, d}, Data: st},
		{Name: bankPrefix + "s_v", Shape: []int{n, d}, Data: sv},
		{Name: bankPrefix + "s_a", Shape: []int{n, d}, Data: sa},
		{Name: bankPrefix + "written", Shape: []int{n}, Data: written},
	}
}

// readBank rebuilds the memory bank of the training samples with labels
// from the StateFile tensors.
func readBank(file *safetensors.File, d int, labels []float32) (*contrastive.Bank, error) {
	n := len(labels)
	b, err := contrastive.NewBank(n, d, labels)
	if err != nil {
		return nil, fmt.Errorf("train: resume: %w", err)
	}
	r, st, sv, sa := make([]float32, n*3*d), make([]float32, n*d), make([]float32, n*d), make([]float32, n*d)
	written := make([]float32, n)
	for _, t := range []struct {
		name string
		dst  []float32
	}{{"r", r}, {"s_t", st}, {"s_v", sv}, {"s_a", sa}, {"written", written}} {
		if err := file.ReadFloat32(bankPrefix+t.name, t.dst); err != nil {
			return nil, fmt.Errorf("train: resume: %w", err)
		}
	}
	for i, w := range written {
		if w == 0 {
			continue
		}
		if err := b.Set(i, r[i*3*d:(i+1)*3*d], st[i*d:(i+1)*d], sv[i*d:(i+1)*d], sa[i*d:(i+1)*d]); err != nil {
			return nil, fmt.Errorf("train: resume: %s: %w", file.Path(), err)
		}
	}
	return b, nil
}
