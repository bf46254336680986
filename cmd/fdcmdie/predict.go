package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/mmsa"
	"github.com/fdcmdie/fdcmdie/datasets/tokenize"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/train"
)

// predictBatch is the number of rows of the prediction graph; the last
// batch is filled up with padding rows.
const predictBatch = 32

// defaultMaxSteps is the default of --max-steps: ten times the longest
// sequence of the paper's data (500 audio or vision steps of MOSEI).
const defaultMaxSteps = 5000

// bertMaxLength is the position table of the classic BERT encoder
// (layers.BertConfig's default), the longest text it can read.
const bertMaxLength = 512

// predictFlags are the command line of `fdcmdie predict`.
type predictFlags struct {
	checkpoint string
	data       string
	split      string
	jsonl      string
	out        string
	maxSteps   int
}

func parsePredictFlags(args []string, stderr io.Writer) (*predictFlags, error) {
	f := &predictFlags{}
	fs := flag.NewFlagSet("fdcmdie predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: fdcmdie predict --checkpoint FILE (--data FILE.pkl [--split S] | --jsonl FILE) [--out FILE]

Predicts sentiment with a checkpoint written by training (--out DIR puts them
in DIR/checkpoints/<row>/<seed>/best.safetensors). Audio and vision are
standardized with the statistics stored in the checkpoint.

JSON lines input holds one object per line:
  {"id": "...", "text": "...", "audio": [[...], ...], "vision": [[...], ...]}
with audio [T_a][audio_dim] and vision [T_v][vision_dim]; optional keys:
  "label"       the true sentiment, for metrics
  "text_ids"    token ids ([CLS] ... [SEP]) instead of "text", needed when the
                checkpoint has no tokenizer (models trained on MMSA text_bert)
  "text_feats"  [T_t][text_dim] precomputed text features, needed (instead of
                "text") by models trained with --text-features

Output is JSON lines {"id", "pred", "label" (when known), "gap_alpha": the GAP
modality weights [a_t, a_v, a_a] per CMDIE layer (absent without GAP)}. With
labels the metrics go to stderr.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.checkpoint, "checkpoint", "", "checkpoint (.safetensors) written by training")
	fs.StringVar(&f.data, "data", "", "MMSA pickle to predict")
	fs.StringVar(&f.split, "split", "test", "split of --data: test, valid, train or all")
	fs.StringVar(&f.jsonl, "jsonl", "", "JSON lines file to predict")
	fs.StringVar(&f.out, "out", "", "output file (default stdout), written atomically; never the checkpoint or the input")
	fs.IntVar(&f.maxSteps, "max-steps", defaultMaxSteps, "longest audio, vision or text-feature sequence accepted; a longer one is an error naming the sample "+
		"(memory grows linearly with the length, time with its square)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("predict: unexpected argument %q (see predict --help)", fs.Arg(0))
	}
	splitSet := false
	fs.Visit(func(fl *flag.Flag) { splitSet = splitSet || fl.Name == "split" })
	switch {
	case f.checkpoint == "":
		return nil, errors.New("predict: --checkpoint is required")
	case (f.data == "") == (f.jsonl == ""):
		return nil, errors.New("predict: give exactly one of --data and --jsonl")
	case splitSet && f.data == "":
		return nil, errors.New("predict: --split goes with --data")
	case f.maxSteps <= 0:
		return nil, fmt.Errorf("predict: --max-steps %d must be positive", f.maxSteps)
	}
	switch f.split {
	case "test", "valid", "train", "all":
	default:
		return nil, fmt.Errorf("predict: --split %q: want test, valid, train or all", f.split)
	}
	return f, nil
}

// checkpoint is what prediction needs from a checkpoint's metadata.
type checkpoint struct {
	path string
	cfg  graph.Config
	st   *datasets.Standardizer
	tok  *tokenize.Tokenizer // nil when the checkpoint carries no tokenizer
}

// openCheckpoint reads a checkpoint's config, standardization statistics
// and tokenizer; the weights are read later, into the built graph.
func openCheckpoint(path string) (*checkpoint, error) {
	cfg, meta, err := graph.ReadCheckpointMeta(path)
	if err != nil {
		return nil, err
	}
	ck := &checkpoint{path: path, cfg: cfg}
	raw, ok := meta["standardizer"]
	if !ok {
		return nil, fmt.Errorf("%s: no \"standardizer\" in __metadata__: audio and vision cannot be standardized as in training", path)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ck.st); err != nil {
		return nil, fmt.Errorf("%s: __metadata__ standardizer: %w", path, err)
	}
	if ck.st == nil {
		return nil, fmt.Errorf("%s: __metadata__ standardizer is null", path)
	}
	if len(ck.st.AudioMean) != cfg.AudioDim || len(ck.st.VisionMean) != cfg.VisionDim {
		return nil, fmt.Errorf("%s: __metadata__ standardizer has %d audio and %d vision features, the config %d and %d",
			path, len(ck.st.AudioMean), len(ck.st.VisionMean), cfg.AudioDim, cfg.VisionDim)
	}
	if text, ok := meta["tokenizer"]; ok && !cfg.TextFeats {
		if ck.tok, err = tokenize.Parse(path+": __metadata__ tokenizer", []byte(text)); err != nil {
			return nil, fmt.Errorf("%s: __metadata__ tokenizer: %w", path, err)
		}
	}
	return ck, nil
}

// textLimit is the longest token sequence the checkpoint's text encoder
// reads; longer text is cut as the tokenizer does ([SEP] kept last).
func (ck *checkpoint) textLimit() int {
	if ck.cfg.TextEncoder == "neobert" && ck.cfg.NeoBERT.MaxLength > 0 {
		return ck.cfg.NeoBERT.MaxLength
	}
	return bertMaxLength
}

// input is the data to predict: one or more splits, with the labels known
// for some samples (known[s][i]).
type input struct {
	splits []*datasets.Split
	known  [][]bool
}

// prediction is one output line.
type prediction struct {
	ID       string       `json:"id"`
	Pred     float32      `json:"pred"`
	Label    *float32     `json:"label,omitempty"`
	GapAlpha [][3]float32 `json:"gap_alpha,omitempty"`
}

// predict runs `fdcmdie predict`.
func predict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parsePredictFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := checkOut(f.out, f.checkpoint, f.data, f.jsonl); err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	ck, err := openCheckpoint(f.checkpoint)
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	var in *input
	path := f.data
	if f.data != "" {
		in, err = readMMSA(ck, f.data, f.split)
	} else {
		path = f.jsonl
		in, err = readJSONL(ck, f.jsonl)
	}
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if err := checkLengths(path, in, f.maxSteps); err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	preds, err := runPredictions(ctx, ck, in)
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if err := writePredictions(f.out, stdout, preds); err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	return reportMetrics(stderr, preds)
}

// checkOut refuses an --out that cannot take the predictions before any
// work is done: a folder, a file in a missing folder, or the checkpoint or
// an input under any name (compared by file identity: links and other
// spellings of the same file count).
func checkOut(out string, inputs ...string) error {
	if out == "" {
		return nil
	}
	if dir, err := os.Stat(filepath.Dir(out)); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	} else if !dir.IsDir() {
		return fmt.Errorf("--out %s: %s is not a directory", out, filepath.Dir(out))
	}
	info, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	if info.IsDir() {
		return fmt.Errorf("--out %s is a directory: name the output file", out)
	}
	for _, in := range inputs {
		if in == "" {
			continue
		}
		if other, err := os.Stat(in); err == nil && os.SameFile(info, other) {
			return fmt.Errorf("--out %s is the input %s: predictions would replace it", out, in)
		}
	}
	return nil
}

// checkLengths refuses a sample with more than maxSteps audio, vision or
// text-feature steps, naming it.
func checkLengths(path string, in *input, maxSteps int) error {
	for _, s := range in.splits {
		lens := []struct {
			key  string
			lens []int
		}{{"audio", s.AudioLen}, {"vision", s.VisionLen}}
		if s.TextFeats.Data != nil {
			lens = append(lens, struct {
				key  string
				lens []int
			}{"text_feats", s.TextLen})
		}
		where := path // JSON lines: the split is the file
		if s.Name != path {
			where += ": " + s.Name
		}
		for _, m := range lens {
			for i, n := range m.lens {
				if n > maxSteps {
					return fmt.Errorf("%s: sample %q (row %d): %s has %d steps, more than --max-steps %d",
						where, s.IDs[i], i, m.key, n, maxSteps)
				}
			}
		}
	}
	return nil
}

// readMMSA reads the chosen split(s) of an MMSA pickle, checks them
// against the model and standardizes them.
func readMMSA(ck *checkpoint, path, split string) (*input, error) {
	ds, err := mmsa.Read(path, mmsa.Options{DropTextFeats: !ck.cfg.TextFeats})
	if err != nil {
		return nil, err
	}
	var splits []*datasets.Split
	switch split {
	case "train":
		splits = []*datasets.Split{ds.Train}
	case "valid":
		splits = []*datasets.Split{ds.Valid}
	case "test":
		splits = []*datasets.Split{ds.Test}
	default:
		splits = []*datasets.Split{ds.Train, ds.Valid, ds.Test}
	}
	in := &input{}
	cfg := ck.cfg
	for _, s := range splits {
		for _, m := range []struct {
			key       string
			got, want int
			field     string
		}{{"audio", s.Audio.D, cfg.AudioDim, "audio_dim"}, {"vision", s.Vision.D, cfg.VisionDim, "vision_dim"}} {
			if m.got != m.want {
				return nil, fmt.Errorf("%s: %s/%s: %d features, the checkpoint's model takes %d (%s)", path, s.Name, m.key, m.got, m.want, m.field)
			}
		}
		switch {
		case cfg.TextFeats && s.TextFeats.Data == nil:
			return nil, fmt.Errorf("%s: %s/text: no precomputed text features, which the checkpoint's model reads (text_feats)", path, s.Name)
		case cfg.TextFeats && s.TextFeats.D != cfg.TextDim:
			return nil, fmt.Errorf("%s: %s/text: %d-d text features, the checkpoint's model takes %d (text_dim)", path, s.Name, s.TextFeats.D, cfg.TextDim)
		case !cfg.TextFeats && ck.tok != nil:
			// The model learnt the checkpoint's vocabulary, not text_bert's.
			if err := datasets.Tokenize(s, ck.tok, ck.textLimit()); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		if !cfg.TextFeats {
			if err := checkVocab(s, cfg.NeoBERT.VocabSize); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		if err := ck.st.Apply(s); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		known := make([]bool, s.Len())
		for i := range known {
			known[i] = true
		}
		in.splits = append(in.splits, s)
		in.known = append(in.known, known)
	}
	return in, nil
}

// checkVocab reports a token id the text encoder has no embedding for.
func checkVocab(s *datasets.Split, vocab int) error {
	for i, row := range s.TextIDs {
		for t, id := range row[:min(s.TextLen[i], len(row))] {
			if int(id) >= vocab {
				return fmt.Errorf("%s/text_ids: id %d at row %d, position %d: the checkpoint's vocabulary has %d ids", s.Name, id, i, t, vocab)
			}
		}
	}
	return nil
}

// jsonSample is one line of --jsonl input. Feature values are decoded as
// pointers so that a null is an error instead of a silent 0; the checked
// values are in audio, vision and feats.
type jsonSample struct {
	ID        *string      `json:"id"`
	Text      *string      `json:"text"`
	TextIDs   []int32      `json:"text_ids"`
	TextFeats [][]*float32 `json:"text_feats"`
	Audio     [][]*float32 `json:"audio"`
	Vision    [][]*float32 `json:"vision"`
	Label     *float32     `json:"label"`

	audio, vision, feats [][]float32
}

// readJSONL reads JSON lines into one split, checked against the model
// (errors name the line and the field) and standardized. Blank lines are
// skipped.
func readJSONL(ck *checkpoint, path string) (*input, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	r := bufio.NewReader(file)
	var samples []jsonSample
	var text [][]int32
	for line := 1; ; line++ {
		raw, rerr := r.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, fmt.Errorf("%s: line %d: %w", path, line, rerr)
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			s, ids, err := parseSample(ck, raw)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: %w", path, line, err)
			}
			samples = append(samples, s)
			text = append(text, ids)
		}
		if rerr == io.EOF {
			break
		}
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("%s: no samples", path)
	}
	s, known := buildSplit(ck.cfg, path, samples, text)
	if err := ck.st.Apply(s); err != nil {
		return nil, err
	}
	return &input{splits: []*datasets.Split{s}, known: [][]bool{known}}, nil
}

// parseSample decodes and checks one JSON line; ids are the token ids of
// its text (nil for a text-features model).
func parseSample(ck *checkpoint, raw []byte) (jsonSample, []int32, error) {
	var s jsonSample
	if err := json.Unmarshal(raw, &s); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return s, nil, fmt.Errorf("want a JSON object, got a JSON %s", te.Value)
			}
			return s, nil, fmt.Errorf("%s: cannot take a JSON %s (want %v)", te.Field, te.Value, te.Type)
		}
		return s, nil, fmt.Errorf("malformed JSON: %w", err)
	}
	cfg := ck.cfg
	if s.ID == nil {
		return s, nil, errors.New("id: missing")
	}
	if s.Label != nil && !(*s.Label >= -3 && *s.Label <= 3) {
		return s, nil, fmt.Errorf("label: %v outside [-3, 3]", *s.Label)
	}
	var err error
	if s.audio, err = checkSteps("audio", s.Audio, cfg.AudioDim, "audio_dim"); err != nil {
		return s, nil, err
	}
	if s.vision, err = checkSteps("vision", s.Vision, cfg.VisionDim, "vision_dim"); err != nil {
		return s, nil, err
	}
	if cfg.TextFeats {
		if s.TextFeats == nil {
			return s, nil, fmt.Errorf("text_feats: missing: the checkpoint's model reads %d-d precomputed text features, not text", cfg.TextDim)
		}
		s.feats, err = checkSteps("text_feats", s.TextFeats, cfg.TextDim, "text_dim")
		return s, nil, err
	}
	ids, err := ck.textIDs(s)
	return s, ids, err
}

// textIDs returns a line's token ids: its text_ids, or its text through
// the checkpoint's tokenizer.
func (ck *checkpoint) textIDs(s jsonSample) ([]int32, error) {
	ids := s.TextIDs
	switch {
	case ids != nil:
		if len(ids) < 2 {
			return nil, fmt.Errorf("text_ids: %d ids: want at least [CLS] and [SEP]", len(ids))
		}
	case s.Text == nil:
		return nil, errors.New("text: missing")
	case ck.tok == nil:
		return nil, errors.New("text: the checkpoint has no tokenizer (its model reads MMSA text_bert ids): give \"text_ids\"")
	default:
		var err error
		if ids, _, err = ck.tok.Encode(*s.Text, ck.textLimit()); err != nil {
			return nil, fmt.Errorf("text: %w", err)
		}
	}
	for t, id := range ids {
		if id < 0 || int(id) >= ck.cfg.NeoBERT.VocabSize {
			return nil, fmt.Errorf("text_ids: id %d at position %d outside the checkpoint's vocabulary [0, %d)", id, t, ck.cfg.NeoBERT.VocabSize)
		}
	}
	return ids, nil
}

// checkSteps checks a [T][dim] sequence, at least one step, each of dim
// values and none null (field names the config entry), and returns its
// values.
func checkSteps(key string, steps [][]*float32, dim int, field string) ([][]float32, error) {
	if len(steps) == 0 {
		return nil, fmt.Errorf("%s: missing or empty: want at least one step of %d features", key, dim)
	}
	vals := make([][]float32, len(steps))
	for t, x := range steps {
		if len(x) != dim {
			return nil, fmt.Errorf("%s[%d]: %d features, the checkpoint's model takes %d (%s)", key, t, len(x), dim, field)
		}
		vals[t] = make([]float32, dim)
		for j, v := range x {
			if v == nil {
				return nil, fmt.Errorf("%s[%d][%d]: null, want a number", key, t, j)
			}
			vals[t][j] = *v
		}
	}
	return vals, nil
}

// buildSplit lays checked samples out as a right-padded split.
func buildSplit(cfg graph.Config, name string, samples []jsonSample, text [][]int32) (*datasets.Split, []bool) {
	n := len(samples)
	s := &datasets.Split{Name: name, IDs: make([]string, n), Labels: make([]float32, n)}
	known := make([]bool, n)
	var audio, vision, feats [][][]float32
	for i, x := range samples {
		s.IDs[i] = *x.ID
		if x.Label != nil {
			s.Labels[i], known[i] = *x.Label, true
		}
		audio = append(audio, x.audio)
		vision = append(vision, x.vision)
		feats = append(feats, x.feats)
	}
	s.Audio, s.AudioLen = pack(audio, cfg.AudioDim)
	s.Vision, s.VisionLen = pack(vision, cfg.VisionDim)
	if cfg.TextFeats {
		s.TextFeats, s.TextLen = pack(feats, cfg.TextDim)
	} else {
		s.TextIDs = text
		for _, ids := range text {
			s.TextLen = append(s.TextLen, len(ids))
		}
	}
	return s, known
}

// pack stores n sequences of [T_i][d] values as one [n, max T_i, d] array,
// zero-padded, with the lengths T_i.
func pack(seqs [][][]float32, d int) (datasets.Seq, []int) {
	t := 0
	for _, x := range seqs {
		t = max(t, len(x))
	}
	q := datasets.Seq{N: len(seqs), T: t, D: d, Data: make([]float32, len(seqs)*t*d)}
	lens := make([]int, len(seqs))
	for i, x := range seqs {
		lens[i] = len(x)
		row := q.Row(i)
		for k, step := range x {
			copy(row[k*d:(k+1)*d], step)
		}
	}
	return q, lens
}

// lengths are the steps sample i of s takes in a batch: text cut at the
// encoder's limit, and at least one step each (a batch length is ≥ 1).
func (ck *checkpoint) lengths(s *datasets.Split, i int) (lt, la, lv int) {
	lt = s.TextLen[i]
	if !ck.cfg.TextFeats {
		lt = min(lt, ck.textLimit())
	}
	return max(lt, 1), max(s.AudioLen[i], 1), max(s.VisionLen[i], 1)
}

// predictGroup is a run of batches that share one graph shape.
type predictGroup struct {
	bo      datasets.BatchOptions
	batches [][]int // sample indices per batch
}

// lengthGroups sorts the samples of s by length and cuts them into batches
// of predictBatch, each as long per modality as its longest sample rounded
// up to a power of two; consecutive batches of the same shape share a
// graph. Short samples are then not padded to the longest one of the data.
func (ck *checkpoint) lengthGroups(s *datasets.Split) []predictGroup {
	order := make([]int, s.Len())
	for i := range order {
		order[i] = i
	}
	cost := func(i int) int { lt, la, lv := ck.lengths(s, i); return lt + la + lv }
	sort.SliceStable(order, func(a, b int) bool { return cost(order[a]) < cost(order[b]) })
	var groups []predictGroup
	for lo := 0; lo < len(order); lo += predictBatch {
		idx := order[lo:min(lo+predictBatch, len(order))]
		bo := datasets.BatchOptions{Size: predictBatch, TextFeats: ck.cfg.TextFeats}
		for _, i := range idx {
			lt, la, lv := ck.lengths(s, i)
			bo.Lt, bo.La, bo.Lv = max(bo.Lt, lt), max(bo.La, la), max(bo.Lv, lv)
		}
		bo.Lt, bo.La, bo.Lv = roundUp(bo.Lt), roundUp(bo.La), roundUp(bo.Lv)
		if n := len(groups); n > 0 && groups[n-1].bo == bo {
			groups[n-1].batches = append(groups[n-1].batches, idx)
			continue
		}
		groups = append(groups, predictGroup{bo: bo, batches: [][]int{idx}})
	}
	return groups
}

// roundUp is the smallest power of two ≥ n.
func roundUp(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

// runPredictions predicts every sample in input order, one evaluation graph
// per group of batches of similar lengths (lengthGroups), each loaded with
// the checkpoint's weights (strictly) and released before the next.
func runPredictions(ctx context.Context, ck *checkpoint, in *input) ([]prediction, error) {
	var preds []prediction
	for si, s := range in.splits {
		ps := make([]prediction, s.Len())
		for _, g := range ck.lengthGroups(s) {
			if err := ck.predictGroup(ctx, s, in.known[si], g, ps); err != nil {
				return nil, err
			}
		}
		preds = append(preds, ps...)
	}
	return preds, nil
}

// predictGroup predicts the batches of g into ps, by sample index.
func (ck *checkpoint) predictGroup(ctx context.Context, s *datasets.Split, known []bool, g predictGroup, ps []prediction) error {
	b, err := datasets.NewBatcher(s, g.bo)
	if err != nil {
		return err
	}
	m, err := graph.Build(ck.cfg, graph.Shape{B: g.bo.Size, Lt: g.bo.Lt, La: g.bo.La, Lv: g.bo.Lv}, graph.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", ck.path, err)
	}
	if err := graph.Load(ck.path, m); err != nil {
		return err
	}
	r, err := graph.NewRunner(m, false)
	if err != nil {
		return err
	}
	defer r.Close()
	batch := b.NewBatch()
	for _, idx := range g.batches {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.Fill(batch, idx); err != nil {
			return err
		}
		if err := r.SetBatch(batch, nil); err != nil {
			return err
		}
		if err := r.Run(); err != nil {
			return err
		}
		out := r.Outputs()
		for row, i := range batch.Index {
			if i < 0 {
				continue
			}
			p, err := newPrediction(s, known[i], i, row, out)
			if err != nil {
				return err
			}
			ps[i] = p
		}
	}
	return nil
}

// newPrediction gathers the outputs of one batch row, sample idx of s.
func newPrediction(s *datasets.Split, known bool, idx, row int, out graph.Outputs) (prediction, error) {
	p := prediction{ID: s.IDs[idx], Pred: out.Pred[row]}
	if !finite(p.Pred) {
		return p, fmt.Errorf("%s: sample %q: prediction is %v", s.Name, p.ID, p.Pred)
	}
	if known {
		y := s.Labels[idx]
		p.Label = &y
	}
	for _, a := range out.Alpha {
		w := [3]float32{a[row*3], a[row*3+1], a[row*3+2]}
		for _, x := range w {
			if !finite(x) {
				return p, fmt.Errorf("%s: sample %q: GAP weight is %v", s.Name, p.ID, x)
			}
		}
		p.GapAlpha = append(p.GapAlpha, w)
	}
	return p, nil
}

func finite(x float32) bool {
	return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
}

// writePredictions writes one JSON line per prediction to path (through
// a temporary file renamed over it) or, when path is empty, to stdout.
func writePredictions(path string, stdout io.Writer, preds []prediction) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, p := range preds {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	if path == "" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	// CreateTemp makes the file private; the output is an ordinary file.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// reportMetrics prints the metrics (train.Evaluate) of the samples whose
// label is known, if any.
func reportMetrics(w io.Writer, preds []prediction) error {
	var pred, label []float32
	for _, p := range preds {
		if p.Label != nil {
			pred, label = append(pred, p.Pred), append(label, *p.Label)
		}
	}
	if len(label) == 0 {
		return nil
	}
	m, err := train.Evaluate(pred, label)
	if err != nil {
		return fmt.Errorf("predict: metrics: %w", err)
	}
	fmt.Fprintf(w, "%d of %d samples labelled: MAE %.4f  Corr %.4f  Acc-2 %.2f/%.2f  F1 %.2f/%.2f (has0/non0)  Acc-7 %.2f  Acc-5 %.2f\n",
		len(label), len(preds), m.MAE, m.Corr, 100*m.Acc2Has0, 100*m.Acc2Non0, 100*m.F1Has0, 100*m.F1Non0, 100*m.Acc7, 100*m.Acc5)
	for _, s := range m.Warnings() {
		fmt.Fprintln(w, "warning:", s)
	}
	return nil
}
