package repro

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/train"
)

// Trainer trains the units of a plan on one prepared data set.
type Trainer struct {
	Plan      *Plan
	Data      train.Data
	Source    string            // where the data came from, named in errors
	TextFeats bool              // the splits carry text features instead of token ids
	Lt        int               // text length of every batch; 0: the data's
	Meta      map[string]string // stored in every checkpoint (tokenizer, standardizer)
	// Init, when set, loads pretrained text-encoder weights into the rows
	// whose model reads token ids with the NeoBERT encoder; the BERT
	// ablation and text-feature models start from scratch.
	Init func(*graph.Model) error
	// Out, when set, keeps each unit's checkpoints and result under it
	// (UnitDir): a unit whose result is there already is not trained again,
	// and an interrupted unit continues from its last completed epoch.
	Out string
	// Progress receives a line per unit and train.Fit's progress; Warn the
	// warnings of undefined metrics. Either may be nil.
	Progress, Warn io.Writer
	// ProgressBar draws train.Fit's bars (for a terminal).
	ProgressBar bool
	// Start is when the time budgets (Setting.Budget) begin; the zero time
	// is the first call of Train. Budgets add up over the units a Trainer
	// trains, so the time a unit leaves unused passes to the next.
	Start    time.Time
	allotted time.Duration
}

// Train returns the result of unit u: the stored one when Out holds it,
// else a new training run.
func (t *Trainer) Train(ctx context.Context, u Unit) (*train.Result, error) {
	progress, warn := orDiscard(t.Progress), orDiscard(t.Warn)
	if t.Start.IsZero() {
		t.Start = time.Now()
	}
	set := t.Plan.Setting
	var deadline time.Time
	if set.Budget > 0 {
		// The text-only baseline costs about a sixth of the full model.
		share := set.Budget
		if u.Model.TextOnly {
			share /= 6
		}
		t.allotted += share
		deadline = t.Start.Add(t.allotted)
	}
	if t.Out != "" {
		res, _, err := LoadResult(t.Out, t.Plan.Run, u)
		if err == nil {
			fmt.Fprintf(progress, "== %s, seed %d: done before (%s)\n", u.Row, u.Seed, UnitDir(t.Out, t.Plan.Run, u))
			return res, nil
		}
		if !errors.Is(err, ErrNoResult) {
			return nil, err
		}
	}
	fmt.Fprintf(progress, "== %s, seed %d\n", u.Row, u.Seed)
	o := train.Options{
		Model: train.ModelOptions{Seed: u.Seed, ClipNorm: t.Plan.ClipNorm,
			AdamW: train.AdamWConfig{LR: set.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}},
		BatchSize: set.Batch, Epochs: set.Epochs, Patience: set.Patience, TextFeats: t.TextFeats, Lt: t.Lt, Meta: t.Meta,
		Progress: t.Progress, ProgressBar: t.ProgressBar, Deadline: deadline,
	}
	if t.Out != "" {
		o.OutDir, o.Resume = UnitDir(t.Out, t.Plan.Run, u), true
	}
	if t.Init != nil && !t.TextFeats && u.Model.TextEncoder == "neobert" {
		o.Model.Init = t.Init
	}
	res, err := train.Fit(ctx, u.Model, t.Data, o)
	if err != nil {
		// Fit checks the splits first; it does not know the file they came from.
		return nil, fmt.Errorf("%s: %s, seed %d: %w", t.Source, u.Row, u.Seed, err)
	}
	for _, w := range res.Test.Warnings() {
		fmt.Fprintln(warn, "warning:", w)
	}
	if t.Out != "" {
		if err := SaveResult(t.Out, t.Plan.Run, u, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Results reads the stored results of the plan's units under out, per
// row and seed (nil where a unit has not finished), and lists the units
// that have not.
func (p *Plan) Results(out string) (results [][]*train.Result, missing []Unit, err error) {
	results = make([][]*train.Result, len(p.Rows))
	for i := range results {
		results[i] = make([]*train.Result, len(p.Seeds))
	}
	for _, u := range p.Units {
		res, _, err := LoadResult(out, p.Run, u)
		if errors.Is(err, ErrNoResult) {
			missing = append(missing, u)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		results[u.Index/len(p.Seeds)][u.Index%len(p.Seeds)] = res
	}
	return results, missing, nil
}

// Summarize returns one table row per plan row with the mean and std of
// the test metrics over its seeds. A row with only some seeds' results is
// named with how many it has ("FD-CMDIE (2/3 seeds)"); a row with none is
// left out.
func (p *Plan) Summarize(results [][]*train.Result) ([]train.Row, error) {
	var rows []train.Row
	for i, r := range p.Rows {
		var runs []train.Metrics
		for _, res := range results[i] {
			if res != nil {
				runs = append(runs, res.Test)
			}
		}
		if len(runs) == 0 {
			continue
		}
		name := r.Name
		if len(runs) < len(p.Seeds) {
			name = fmt.Sprintf("%s (%d/%d seeds)", r.Name, len(runs), len(p.Seeds))
		}
		row, err := train.Summarize(name, runs)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// StopLine says at which epoch a unit's run stopped, why, and which
// epoch's weights were tested.
func (p *Plan) StopLine(u Unit, res *train.Result) string {
	last := 0
	if n := len(res.History); n > 0 {
		last = res.History[n-1].Epoch
	}
	why := res.Stop
	if res.Stop == train.StopPatience {
		why = fmt.Sprintf("no validation-MAE improvement for %d epochs", p.Setting.Patience)
	}
	return fmt.Sprintf("%s, seed %d: stopped after epoch %d of at most %d (%s); tested the best validation epoch, %d.",
		u.Row, u.Seed, last, p.Setting.Epochs, why, res.BestEpoch)
}
