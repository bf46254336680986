package repro

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
	"github.com/fdcmdie/fdcmdie/train"
)

// Pick is a test case chosen for table 8: its index in the test split and
// why it was chosen.
type Pick struct {
	Index int
	Kind  string
}

// maxWords bounds the length of the embedded corpus's table-8 cases,
// as short as the paper's.
const maxWords = 10

// negators are the synthetic corpus's negating words (datasets/synth doc).
var negators = []string{"not", "never", "isn't", "wasn't", "didn't", "don't"}

// negated reports whether text holds one of negators as a word.
func negated(text string) bool {
	for _, w := range strings.Fields(text) {
		if slices.Contains(negators, w) {
			return true
		}
	}
	return false
}

// PickCases chooses the five cases of table 8 from the test split of the
// data set named data (the name is for errors):
//   - ids (the --cases of the command line): the given ids, in order, each
//     of kind "--cases";
//   - the embedded corpus (embedded; test must be the test split of
//     synth.DefaultConfig's corpus, in its order): one short utterance (at
//     most 10 words, as the paper's cases are) of each of the
//     paper's five kinds, from the corpus's own kinds (datasets/synth):
//     strong positive (the verbal utterance without negation with the
//     largest label), negation (the verbal utterance with a negator and
//     the most negative label), mild positive and mild negative (the
//     verbal utterances without negation whose labels are closest to +1.5
//     and −1.5), and sarcasm (the sarcastic utterance, positive words with
//     a negative face and voice, with the most negative label);
//   - MMSA data: the largest positive and the most negative label, then
//     the labels closest to +1.5, to −1.5 and to +1.5 again among the rest.
//
// A sample is picked once; ties go to the first in split order.
func PickCases(test *datasets.Split, data string, ids []string, embedded bool) ([]Pick, error) {
	if len(ids) > 0 {
		var picks []Pick
		for _, id := range ids {
			i := slices.Index(test.IDs, strings.TrimSpace(id))
			if i < 0 {
				return nil, fmt.Errorf("--cases: id %q is not in the test split of %s", id, data)
			}
			picks = append(picks, Pick{i, "--cases"})
		}
		return picks, nil
	}
	p := &picker{labels: test.Labels, data: data}
	if embedded {
		return p.embedded(test)
	}
	all := func(int) bool { return true }
	for _, c := range []struct {
		kind string
		cost func(int) float64
	}{
		{"largest positive", func(i int) float64 { return -p.label(i) }},
		{"largest negative", p.label},
		{"near +1.5", p.near(1.5)},
		{"near -1.5", p.near(-1.5)},
		{"near +1.5", p.near(1.5)},
	} {
		if err := p.best(c.kind, all, c.cost); err != nil {
			return nil, err
		}
	}
	return p.picks, nil
}

// picker collects the picks of one test split.
type picker struct {
	labels []float32
	data   string
	picks  []Pick
}

func (p *picker) label(i int) float64 { return float64(p.labels[i]) }

// near is the cost of a label's distance to y.
func (p *picker) near(y float64) func(int) float64 {
	return func(i int) float64 { return math.Abs(p.label(i) - y) }
}

// best picks, as kind, the sample minimising cost among those that ok
// accepts and that were not picked yet; the first one on ties.
func (p *picker) best(kind string, ok func(i int) bool, cost func(i int) float64) error {
	at, c := -1, math.Inf(1)
	for i := range p.labels {
		if !ok(i) || slices.ContainsFunc(p.picks, func(q Pick) bool { return q.Index == i }) {
			continue
		}
		if x := cost(i); x < c {
			at, c = i, x
		}
	}
	if at < 0 {
		return fmt.Errorf("table 8: no %s case in the test split of %s", kind, p.data)
	}
	p.picks = append(p.picks, Pick{at, kind})
	return nil
}

// embedded picks the embedded corpus's five cases by the kinds of its
// ground truth (datasets/synth).
func (p *picker) embedded(test *datasets.Split) ([]Pick, error) {
	_, truth, err := synth.GenerateWithTruth(synth.DefaultConfig())
	if err != nil {
		return nil, err
	}
	kinds := truth.Test.Kind
	if len(kinds) != test.Len() {
		return nil, fmt.Errorf("table 8: %d kinds for %d test samples", len(kinds), test.Len())
	}
	short := func(i int) bool { return len(strings.Fields(test.RawText[i])) <= maxWords }
	verbal := func(i int) bool { return short(i) && kinds[i] == synth.Verbal && !negated(test.RawText[i]) }
	for _, c := range []struct {
		kind string
		ok   func(int) bool
		cost func(int) float64
	}{
		{"strong positive", verbal, func(i int) float64 { return -p.label(i) }},
		{"negation", func(i int) bool { return short(i) && kinds[i] == synth.Verbal && negated(test.RawText[i]) }, p.label},
		{"mild positive", verbal, p.near(1.5)},
		{"mild negative", verbal, p.near(-1.5)},
		{"sarcasm", func(i int) bool { return short(i) && kinds[i] == synth.Sarcastic }, p.label},
	} {
		if err := p.best(c.kind, c.ok, c.cost); err != nil {
			return nil, err
		}
	}
	return p.picks, nil
}

// Case is one measured row of table 8: a test utterance, its label and the
// model's prediction with the GAP modality weights of the last CMDIE layer.
type Case struct {
	// Kind says why the case was chosen ("strong positive", "--cases").
	Kind  string  `json:"kind"`
	ID    string  `json:"id"`
	Text  string  `json:"text"`
	Truth float64 `json:"truth"`
	Pred  float64 `json:"pred"`
	// Alpha is (α_t, α_v, α_a) of the last CMDIE layer; nil without GAP.
	Alpha []float64 `json:"alpha,omitempty"`
}

// Analysis is table 8 measured: the model analysed and its cases.
type Analysis struct {
	Model string // "FD-CMDIE, seed 1111", or "checkpoint PATH"
	Stop  string // the stop line of the model trained; empty for a checkpoint
	Cases []Case
}

// AnalyseCases makes table 8: it trains the full model with the first seed
// (its unit's folder under out; a temporary folder when out is empty), or
// takes Spec.Checkpoint, predicts the test split and picks the cases
// (PickCases). Progress goes to log, warnings to warn.
func (e *Experiment) AnalyseCases(ctx context.Context, out string, log, warn io.Writer) (*Analysis, error) {
	s := &e.Spec
	a := &Analysis{Model: "checkpoint " + s.Checkpoint}
	ckPath, test := s.Checkpoint, e.Data.Test
	if ckPath == "" {
		if out == "" {
			tmp, err := os.MkdirTemp("", "fdcmdie-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(tmp)
			out = tmp
		}
		plan, err := NewPlan(s.RunName(), "8", e.Prepared.Name, e.Setting, s.ClipNorm,
			[]Row{{Name: "FD-CMDIE", Config: e.Base}}, s.Seeds[:1], e.Prepared.Train.Len())
		if err != nil {
			return nil, err
		}
		u := plan.Units[0]
		res, err := e.Trainer(plan, out, log, warn).Train(ctx, u)
		if err != nil {
			return nil, err
		}
		ckPath = filepath.Join(UnitDir(out, plan.Run, u), train.BestFile)
		a.Model, a.Stop = fmt.Sprintf("FD-CMDIE, seed %d", u.Seed), plan.StopLine(u, res)
	}
	ck, err := train.LoadPredictor(ckPath)
	if err != nil {
		return nil, err
	}
	defer ck.Close()
	if s.Checkpoint != "" {
		// The checkpoint's own tokenizer and standardization, as predict does.
		if test, err = e.checkpointTest(ck); err != nil {
			return nil, err
		}
	}
	preds, err := ck.PredictSplit(ctx, test)
	if err != nil {
		return nil, err
	}
	picks, err := PickCases(test, e.Prepared.Name, s.Cases, s.Data == "")
	if err != nil {
		return nil, err
	}
	for _, p := range picks {
		pr := preds[p.Index]
		c := Case{Kind: p.Kind, ID: test.IDs[p.Index], Text: test.RawText[p.Index],
			Truth: float64(test.Labels[p.Index]), Pred: float64(pr.Score)}
		if n := len(pr.Alpha); n > 0 {
			last := pr.Alpha[n-1]
			c.Alpha = []float64{float64(last[0]), float64(last[1]), float64(last[2])}
		}
		a.Cases = append(a.Cases, c)
	}
	return a, nil
}

// checkpointTest prepares the test split for a checkpoint with its own
// tokenizer and standardization statistics.
func (e *Experiment) checkpointTest(ck *train.Predictor) (*datasets.Split, error) {
	if e.Spec.Data != "" {
		splits, err := ck.ReadMMSA(e.Spec.Data, "test")
		if err != nil {
			return nil, err
		}
		return splits[0], nil
	}
	if ck.Tokenizer() == nil {
		return nil, fmt.Errorf("%s: no \"tokenizer\" in __metadata__: the embedded corpus needs the checkpoint's tokenizer", ck.Path())
	}
	ds, err := synth.Generate(synth.DefaultConfig())
	if err != nil {
		return nil, err
	}
	if err := ck.Prepare(ds.Test); err != nil {
		return nil, fmt.Errorf("%s: %w", ck.Path(), err)
	}
	return ds.Test, nil
}
