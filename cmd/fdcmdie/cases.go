package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
	"github.com/fdcmdie/fdcmdie/train"
	"github.com/fdcmdie/fdcmdie/train/repro"
)

// caseAnalysis makes table 8: it trains the full model (or takes
// --checkpoint), predicts the test split, and prints five chosen test
// cases beside the paper's five.
func (j *job) caseAnalysis(ctx context.Context, stdout io.Writer) error {
	s := &j.f.spec
	ckPath, test := s.Checkpoint, j.e.Data.Test
	model := "checkpoint " + s.Checkpoint
	if ckPath == "" {
		out := j.f.out
		if out == "" {
			tmp, err := os.MkdirTemp("", "fdcmdie-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			out = tmp
		}
		plan, err := repro.NewPlan(s.RunName(), "8", j.e.Prepared.Name, j.e.Setting, s.ClipNorm,
			[]repro.Row{{Name: "FD-CMDIE", Config: j.e.Base}}, s.Seeds[:1], j.e.Prepared.Train.Len())
		if err != nil {
			return err
		}
		u := plan.Units[0]
		res, err := j.e.Trainer(plan, out, j.log, j.warn).Train(ctx, u)
		if err != nil {
			return err
		}
		ckPath = filepath.Join(repro.UnitDir(out, plan.Run, u), train.BestFile)
		model = fmt.Sprintf("FD-CMDIE, seed %d", u.Seed)
		fmt.Fprintln(stdout, plan.StopLine(u, res))
	}
	ck, err := train.LoadPredictor(ckPath)
	if err != nil {
		return err
	}
	defer ck.Close()
	if s.Checkpoint != "" {
		// The checkpoint's own tokenizer and standardization, as predict does.
		if test, err = j.checkpointTest(ck); err != nil {
			return err
		}
	}
	preds, err := ck.PredictSplit(ctx, test)
	if err != nil {
		return err
	}
	picks, err := repro.PickCases(test, j.e.Prepared.Name, j.f.spec.Cases, j.f.spec.Data == "")
	if err != nil {
		return err
	}
	var cases []report.Case
	for _, p := range picks {
		pr := preds[p.Index]
		c := report.Case{Kind: p.Kind, ID: test.IDs[p.Index], Text: test.RawText[p.Index],
			Truth: float64(test.Labels[p.Index]), Pred: float64(pr.Score)}
		if n := len(pr.Alpha); n > 0 {
			a := pr.Alpha[n-1]
			c.Alpha = []float64{float64(a[0]), float64(a[1]), float64(a[2])}
		}
		cases = append(cases, c)
	}
	paper, err := report.PaperCases()
	if err != nil {
		return err
	}
	title := fmt.Sprintf("Table 8 on %s: five test cases of %s (α: GAP weights of the last CMDIE layer)", j.e.Prepared.Name, model)
	if err := report.CaseTable(stdout, title, cases); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if err := report.PaperCaseTable(stdout, report.PublishedTitle(j.e.Resolved, j.e.Prepared.Name), paper); err != nil {
		return err
	}
	if j.f.out != "" {
		return report.WriteCasesJSON(filepath.Join(j.f.out, s.RunName()+".json"), cases, paper)
	}
	return nil
}

// checkpointTest prepares the test split for a --checkpoint with the
// checkpoint's tokenizer and standardization statistics.
func (j *job) checkpointTest(ck *train.Predictor) (*datasets.Split, error) {
	if j.f.spec.Data != "" {
		in, err := readMMSA(ck, j.f.spec.Data, "test")
		if err != nil {
			return nil, err
		}
		return in.splits[0], nil
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
