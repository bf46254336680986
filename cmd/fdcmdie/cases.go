package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
	"github.com/fdcmdie/fdcmdie/train"
)

// caseAnalysis makes table 8: it trains the full model (or takes
// --checkpoint), predicts the test split, and prints five chosen test
// cases beside the paper's five.
func (j *job) caseAnalysis(ctx context.Context, stdout, log io.Writer) error {
	f := j.f
	ckPath, test := f.checkpoint, j.p.data.Test
	model := "checkpoint " + f.checkpoint
	if ckPath == "" {
		seed := f.seeds[0]
		v := variant{"FD-CMDIE", j.base}
		dir := j.checkpointDir(j.tmpOut(), v.name, seed)
		res, err := j.fitTo(ctx, v, seed, dir, log)
		if err != nil {
			return err
		}
		ckPath = filepath.Join(dir, train.BestFile)
		model = fmt.Sprintf("FD-CMDIE, seed %d", seed)
		fmt.Fprintln(stdout, stopLine(v.name, seed, j.set, res))
	}
	ck, err := openCheckpoint(ckPath)
	if err != nil {
		return err
	}
	if f.checkpoint != "" {
		// The checkpoint's own tokenizer and standardization, as predict does.
		if test, err = j.checkpointTest(ck); err != nil {
			return err
		}
	}
	preds, err := runPredictions(ctx, ck, &input{splits: []*datasets.Split{test}, known: [][]bool{make([]bool, test.Len())}})
	if err != nil {
		return err
	}
	picks, err := j.pickCases(test)
	if err != nil {
		return err
	}
	var cases []report.Case
	for _, p := range picks {
		pr := preds[p.index]
		c := report.Case{Kind: p.kind, ID: test.IDs[p.index], Text: test.RawText[p.index],
			Truth: float64(test.Labels[p.index]), Pred: float64(pr.Pred)}
		if n := len(pr.GapAlpha); n > 0 {
			a := pr.GapAlpha[n-1]
			c.Alpha = []float64{float64(a[0]), float64(a[1]), float64(a[2])}
		}
		cases = append(cases, c)
	}
	paper, err := report.PaperCases()
	if err != nil {
		return err
	}
	title := fmt.Sprintf("Table 8 on %s: five test cases of %s (α: GAP weights of the last CMDIE layer)", j.p.Name, model)
	if err := report.CaseTable(stdout, title, cases); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if err := report.PaperCaseTable(stdout, j.publishedTitle(), paper); err != nil {
		return err
	}
	if f.out != "" {
		return report.WriteCasesJSON(filepath.Join(f.out, j.run+".json"), cases, paper)
	}
	return nil
}

// tmpOut is where table 8 keeps the checkpoint it trains: --out, or the
// run's temporary folder.
func (j *job) tmpOut() string {
	if j.f.out != "" {
		return j.f.out
	}
	return j.tmp
}

// checkpointTest prepares the test split for a --checkpoint with the
// checkpoint's tokenizer and standardization statistics.
func (j *job) checkpointTest(ck *checkpoint) (*datasets.Split, error) {
	if j.f.data != "" {
		in, err := readMMSA(ck, j.f.data, "test")
		if err != nil {
			return nil, err
		}
		return in.splits[0], nil
	}
	if ck.tok == nil {
		return nil, fmt.Errorf("%s: no \"tokenizer\" in __metadata__: the embedded corpus needs the checkpoint's tokenizer", ck.path)
	}
	ds, err := synth.Generate(synth.DefaultConfig())
	if err != nil {
		return nil, err
	}
	if err := datasets.Tokenize(ds.Test, ck.tok, ck.textLimit()); err != nil {
		return nil, err
	}
	if err := ck.st.Apply(ds.Test); err != nil {
		return nil, fmt.Errorf("%s: %w", ck.path, err)
	}
	return ds.Test, nil
}

// pick is a chosen test case: its index in the test split and why.
type pick struct {
	index int
	kind  string
}

// maxWords bounds the length of the embedded corpus's table-8 cases.
const maxWords = 10

// negators are the synthetic corpus's negating words (datasets/synth doc).
var negators = []string{"not", "never", "isn't", "wasn't", "didn't", "don't"}

func negated(text string) bool {
	for _, w := range strings.Fields(text) {
		if slices.Contains(negators, w) {
			return true
		}
	}
	return false
}

// pickCases chooses the five cases of table 8 from the test split:
//   - --cases: the given ids, in order;
//   - the embedded corpus: one short utterance (at most maxWords words, as
//     the paper's cases are) of each of the paper's five kinds, from the
//     corpus's own kinds (datasets/synth): strong positive (the
//     verbal utterance without negation with the largest label), negation
//     (the verbal utterance with a negator and the most negative label),
//     mild positive and mild negative (the verbal utterances without
//     negation whose labels are closest to +1.5 and −1.5), and sarcasm
//     (the sarcastic utterance, positive words with a negative face and
//     voice, with the most negative label);
//   - MMSA data: the largest positive and the most negative label, then
//     the labels closest to +1.5, to −1.5 and to +1.5 again among the rest.
//
// Ties go to the first in split order.
func (j *job) pickCases(test *datasets.Split) ([]pick, error) {
	if len(j.f.cases) > 0 {
		var picks []pick
		for _, id := range j.f.cases {
			i := slices.Index(test.IDs, strings.TrimSpace(id))
			if i < 0 {
				return nil, fmt.Errorf("--cases: id %q is not in the test split of %s", id, j.p.Name)
			}
			picks = append(picks, pick{i, "--cases"})
		}
		return picks, nil
	}
	labels := test.Labels
	// best returns the index minimising cost among the samples that ok
	// accepts and that were not picked yet.
	var picks []pick
	best := func(kind string, ok func(i int) bool, cost func(i int) float64) error {
		at, c := -1, math.Inf(1)
		for i := range labels {
			if !ok(i) || slices.ContainsFunc(picks, func(p pick) bool { return p.index == i }) {
				continue
			}
			if x := cost(i); x < c {
				at, c = i, x
			}
		}
		if at < 0 {
			return fmt.Errorf("table 8: no %s case in the test split of %s", kind, j.p.Name)
		}
		picks = append(picks, pick{at, kind})
		return nil
	}
	label := func(i int) float64 { return float64(labels[i]) }
	near := func(y float64) func(int) float64 { return func(i int) float64 { return math.Abs(label(i) - y) } }
	if j.f.data != "" {
		all := func(int) bool { return true }
		for _, c := range []struct {
			kind string
			cost func(int) float64
		}{
			{"largest positive", func(i int) float64 { return -label(i) }},
			{"largest negative", label},
			{"near +1.5", near(1.5)},
			{"near -1.5", near(-1.5)},
			{"near +1.5", near(1.5)},
		} {
			if err := best(c.kind, all, c.cost); err != nil {
				return nil, err
			}
		}
		return picks, nil
	}
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
		{"strong positive", verbal, func(i int) float64 { return -label(i) }},
		{"negation", func(i int) bool { return short(i) && kinds[i] == synth.Verbal && negated(test.RawText[i]) }, label},
		{"mild positive", verbal, near(1.5)},
		{"mild negative", verbal, near(-1.5)},
		{"sarcasm", func(i int) bool { return short(i) && kinds[i] == synth.Sarcastic }, label},
	} {
		if err := best(c.kind, c.ok, c.cost); err != nil {
			return nil, err
		}
	}
	return picks, nil
}
