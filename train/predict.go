package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/tokenize"
	"github.com/fdcmdie/fdcmdie/graph"
)

// predictBatch is the number of rows of a prediction graph; the last
// batch of a length group is filled up with padding rows.
const predictBatch = 32

// bertMaxLength is the position table of the classic BERT encoder
// (layers.BertConfig's default), the longest text it can read.
const bertMaxLength = 512

// Predictor predicts sentiment with a checkpoint written by training. It
// owns what the checkpoint holds: the model config and weights, and in
// the metadata the standardization statistics of audio and vision and,
// for a model trained on text it tokenized itself, the tokenizer.
//
// Samples are batched internally: sorted by length and cut into batches
// of 32, each as long per modality as its longest sample rounded up to a
// power of two (text at most the encoder's limit), so a short sample is
// not padded to the longest one of the data. Padded steps and rows are masked: a sample's outputs do not depend
// on the others beyond float32 summation order. Every group of batches of
// one shape has its own evaluation graph (dropout off), compiled when
// Predict needs it and released before the next, sharing the weights.
//
// A Predictor is not safe for concurrent use.
type Predictor struct {
	path         string
	cfg          graph.Config
	st           *datasets.Standardizer
	tok          *tokenize.Tokenizer // nil when the checkpoint carries no tokenizer
	textFeatures string
	weights      *graph.Model // a graph of the smallest shape holding the weights; nil once closed
}

// Prediction is the model's output for one sample.
type Prediction struct {
	ID       string
	Score    float32  // ŷ, the sentiment in label units (−3 … 3 on MOSI and MOSEI), not clipped
	Polarity Polarity // the sign of Score's 7-class label
	// Alpha holds the GAP modality weights (α_t, α_v, α_a) of each CMDIE
	// layer, a softmax over the three modalities; nil for a model without
	// GAP (no_gap, no_cmdie, the text-only baseline).
	Alpha [][3]float32
}

// Polarity is the sentiment class of a score: the sign of its 7-class
// label, the Acc-7 class of SPEC §10 (the score clipped to [−3, 3] and
// rounded half to even). Neutral is the class 0, scores in [−0.5, 0.5].
type Polarity int8

// The polarities, ordered.
const (
	Negative Polarity = -1
	Neutral  Polarity = 0
	Positive Polarity = 1
)

// PolarityOf returns the polarity of a score.
func PolarityOf(score float32) Polarity {
	c := math.RoundToEven(math.Max(-3, math.Min(3, float64(score))))
	switch {
	case c < 0:
		return Negative
	case c > 0:
		return Positive
	}
	return Neutral
}

// String returns "negative", "neutral" or "positive".
func (p Polarity) String() string {
	switch p {
	case Negative:
		return "negative"
	case Neutral:
		return "neutral"
	case Positive:
		return "positive"
	}
	return fmt.Sprintf("Polarity(%d)", int8(p))
}

// LoadPredictor reads a checkpoint written by training (Fit with the
// metadata of datasets.Prepare): the config, the weights (strictly: every
// parameter present with its shape, no tensor left over), the
// standardization statistics (datasets.MetaStandardizer, required) and
// the tokenizer (datasets.MetaTokenizer, when the model reads token ids
// and training tokenized its text). Errors name the file and the
// metadata field.
func LoadPredictor(path string) (*Predictor, error) {
	cfg, meta, err := graph.ReadCheckpointMeta(path)
	if err != nil {
		return nil, err
	}
	p := &Predictor{path: path, cfg: cfg, textFeatures: meta[datasets.MetaTextFeatures]}
	if p.st, err = readStandardizer(path, cfg, meta); err != nil {
		return nil, err
	}
	if text, ok := meta[datasets.MetaTokenizer]; ok && !cfg.TextFeats {
		if p.tok, err = tokenize.Parse(path+": __metadata__ tokenizer", []byte(text)); err != nil {
			return nil, fmt.Errorf("%s: __metadata__ %s: %w", path, datasets.MetaTokenizer, err)
		}
	}
	if p.weights, err = graph.Build(cfg, graph.Shape{B: 1, Lt: 1, La: 1, Lv: 1}, graph.Options{}); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := graph.Load(path, p.weights); err != nil {
		return nil, err
	}
	return p, nil
}

// readStandardizer decodes and checks the checkpoint's standardization
// statistics against its config.
func readStandardizer(path string, cfg graph.Config, meta map[string]string) (*datasets.Standardizer, error) {
	key := datasets.MetaStandardizer
	raw, ok := meta[key]
	if !ok {
		return nil, fmt.Errorf("%s: no %q in __metadata__: audio and vision cannot be standardized as in training", path, key)
	}
	var st *datasets.Standardizer
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("%s: __metadata__ %s: %w", path, key, err)
	}
	if st == nil {
		return nil, fmt.Errorf("%s: __metadata__ %s is null", path, key)
	}
	if len(st.AudioMean) != cfg.AudioDim || len(st.VisionMean) != cfg.VisionDim {
		return nil, fmt.Errorf("%s: __metadata__ %s has %d audio and %d vision features, the config %d and %d",
			path, key, len(st.AudioMean), len(st.VisionMean), cfg.AudioDim, cfg.VisionDim)
	}
	return st, nil
}

// Config returns the checkpoint's model config.
func (p *Predictor) Config() graph.Config { return p.cfg }

// Path returns the checkpoint file the predictor was loaded from.
func (p *Predictor) Path() string { return p.path }

// Standardizer returns the statistics audio and vision are standardized
// with before they enter the model.
func (p *Predictor) Standardizer() *datasets.Standardizer { return p.st }

// Tokenizer returns the tokenizer text is encoded with, or nil when the
// model reads token ids that came with its data (MMSA text_bert): samples
// then give TextIDs.
func (p *Predictor) Tokenizer() *tokenize.Tokenizer { return p.tok }

// TextFeatures says where the precomputed text features of a model
// trained on them came from (datasets.MetaTextFeatures, e.g. a frozen
// NeoBERT); empty when the checkpoint does not say.
func (p *Predictor) TextFeatures() string { return p.textFeatures }

// Close releases the weights; the predictor cannot be used afterwards.
func (p *Predictor) Close() { p.weights = nil }

// Predict checks, tokenizes and standardizes the samples (NewSplit) and
// predicts them, in the order given.
func (p *Predictor) Predict(ctx context.Context, samples []Sample) ([]Prediction, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	s, err := p.NewSplit("samples", samples)
	if err != nil {
		return nil, err
	}
	return p.PredictSplit(ctx, s)
}

// PredictSplit predicts every sample of a split prepared as training
// prepares its data, in split order: a split of Prepare or NewSplit, or
// one of the datasets.Prepare run whose metadata the checkpoint holds.
func (p *Predictor) PredictSplit(ctx context.Context, s *datasets.Split) ([]Prediction, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errors.New("train: predict: nil split")
	}
	preds := make([]Prediction, s.Len())
	for _, g := range p.lengthGroups(s) {
		if err := p.predictGroup(ctx, s, g, preds); err != nil {
			return nil, err
		}
	}
	return preds, nil
}

// usable refuses a closed predictor.
func (p *Predictor) usable() error {
	if p.weights == nil {
		return fmt.Errorf("%s: predictor used after Close", p.path)
	}
	return nil
}

// textLimit is the longest token sequence the checkpoint's text encoder
// reads; longer text is cut as the tokenizer does ([SEP] kept last).
func (p *Predictor) textLimit() int {
	if p.cfg.TextEncoder == "neobert" && p.cfg.NeoBERT.MaxLength > 0 {
		return p.cfg.NeoBERT.MaxLength
	}
	return bertMaxLength
}

// lengths are the steps sample i of s takes in a batch: text cut at the
// encoder's limit, and at least one step each (a batch length is ≥ 1).
func (p *Predictor) lengths(s *datasets.Split, i int) (lt, la, lv int) {
	lt = s.TextLen[i]
	if !p.cfg.TextFeats {
		lt = min(lt, p.textLimit())
	}
	return max(lt, 1), max(s.AudioLen[i], 1), max(s.VisionLen[i], 1)
}

// lengthGroup is a run of batches that share one graph shape.
type lengthGroup struct {
	bo      datasets.BatchOptions
	batches [][]int // sample indices per batch
}

// lengthGroups sorts the samples of s by length and cuts them into batches
// of predictBatch, each as long per modality as its longest sample rounded
// up to a power of two (text at most the encoder's limit); consecutive batches of the same shape share a
// graph. Short samples are then not padded to the longest one of the data.
func (p *Predictor) lengthGroups(s *datasets.Split) []lengthGroup {
	order := make([]int, s.Len())
	for i := range order {
		order[i] = i
	}
	cost := func(i int) int { lt, la, lv := p.lengths(s, i); return lt + la + lv }
	sort.SliceStable(order, func(a, b int) bool { return cost(order[a]) < cost(order[b]) })
	var groups []lengthGroup
	for lo := 0; lo < len(order); lo += predictBatch {
		idx := order[lo:min(lo+predictBatch, len(order))]
		bo := datasets.BatchOptions{Size: predictBatch, TextFeats: p.cfg.TextFeats}
		for _, i := range idx {
			lt, la, lv := p.lengths(s, i)
			bo.Lt, bo.La, bo.Lv = max(bo.Lt, lt), max(bo.La, la), max(bo.Lv, lv)
		}
		bo.Lt, bo.La, bo.Lv = roundUp(bo.Lt), roundUp(bo.La), roundUp(bo.Lv)
		if !p.cfg.TextFeats {
			bo.Lt = min(bo.Lt, p.textLimit()) // an encoder's limit need not be a power of two
		}
		if n := len(groups); n > 0 && groups[n-1].bo == bo {
			groups[n-1].batches = append(groups[n-1].batches, idx)
			continue
		}
		groups = append(groups, lengthGroup{bo: bo, batches: [][]int{idx}})
	}
	return groups
}

// roundUp is the smallest power of two ≥ n.
func roundUp(n int) int {
	k := 1
	for k < n {
		k *= 2
	}
	return k
}

// predictGroup predicts the batches of g into preds, by sample index, with
// an evaluation graph of g's shape that shares the predictor's weights.
func (p *Predictor) predictGroup(ctx context.Context, s *datasets.Split, g lengthGroup, preds []Prediction) error {
	b, err := datasets.NewBatcher(s, g.bo)
	if err != nil {
		return err
	}
	m, err := graph.Build(p.cfg, graph.Shape{B: g.bo.Size, Lt: g.bo.Lt, La: g.bo.La, Lv: g.bo.Lv}, graph.Options{Share: p.weights})
	if err != nil {
		return fmt.Errorf("%s: %w", p.path, err)
	}
	r, err := graph.NewRunner(m, false)
	if err != nil {
		return err
	}
	defer r.Close()
	k := 0
	next := func(dst *datasets.Batch) (bool, error) {
		if k == len(g.batches) {
			return false, nil
		}
		k++
		return true, b.Fill(dst, g.batches[k-1])
	}
	run := func(batch *datasets.Batch) (graph.Outputs, error) {
		if err := ctx.Err(); err != nil {
			return graph.Outputs{}, err
		}
		return r.Eval(batch)
	}
	return evalLoop(b, next, run, func(batch *datasets.Batch, row int, out graph.Outputs) error {
		i := batch.Index[row]
		var err error
		preds[i], err = newPrediction(s, i, row, out)
		return err
	})
}

// newPrediction gathers the outputs of one batch row, sample i of s.
func newPrediction(s *datasets.Split, i, row int, out graph.Outputs) (Prediction, error) {
	p := Prediction{Score: out.Pred[row]}
	if i < len(s.IDs) {
		p.ID = s.IDs[i]
	}
	if !finite(p.Score) {
		return p, fmt.Errorf("%s: sample %q: prediction is %v", s.Name, p.ID, p.Score)
	}
	p.Polarity = PolarityOf(p.Score)
	for _, a := range out.Alpha {
		w := [3]float32{a[row*3], a[row*3+1], a[row*3+2]}
		for _, x := range w {
			if !finite(x) {
				return p, fmt.Errorf("%s: sample %q: GAP weight is %v", s.Name, p.ID, x)
			}
		}
		p.Alpha = append(p.Alpha, w)
	}
	return p, nil
}

func finite(x float32) bool {
	return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
}
