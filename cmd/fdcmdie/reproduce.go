package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
	"github.com/fdcmdie/fdcmdie/train"
	"github.com/fdcmdie/fdcmdie/train/repro"
)

// job is a reproduction under way: its flags, data and where it writes.
type job struct {
	f         *flags
	e         *repro.Experiment
	log, warn io.Writer // progress (discarded with --quiet); warnings
}

// reproduce trains the table's units (all of them, or --shard's) and,
// unless it is a shard, prints the table above the paper's rows for the
// same dataset.
func reproduce(ctx context.Context, f *flags, stdout, stderr io.Writer) error {
	j := &job{f: f, log: progressWriter(f, stderr), warn: stderr}
	start := time.Now()
	var out *repro.OutDir
	if f.out != "" {
		var err error
		if out, err = repro.Claim(f.out, f.spec, f.mode()); err != nil {
			return err
		}
	}
	var err error
	if j.e, err = repro.Open(f.spec, j.log, j.warn); err != nil {
		return err
	}
	if j.e.Resolved.Table == "8" {
		if out != nil {
			if err := out.Commit(nil, j.log); err != nil {
				return err
			}
		}
		return j.caseAnalysis(ctx, stdout)
	}
	values, note, err := sweepValues(f)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(j.log, note)
	}
	plan, err := j.e.Plan(values)
	if err != nil {
		return err
	}
	if out != nil {
		if err := out.Commit(plan, j.log); err != nil {
			return err
		}
	}
	results, err := j.train(ctx, plan)
	if err != nil {
		return err
	}
	if f.cmd == "run" {
		fmt.Fprintf(j.log, "shard %s: done in %v\n", f.shard, time.Since(start).Round(time.Second))
		return nil
	}
	if err := printTable(f, plan, results, note, stdout, j.log); err != nil {
		return err
	}
	fmt.Fprintf(j.log, "done in %v\n", time.Since(start).Round(time.Second))
	return nil
}

// progressWriter is where progress goes: stderr, or nowhere with --quiet.
func progressWriter(f *flags, stderr io.Writer) io.Writer {
	if f.quiet {
		return io.Discard
	}
	return stderr
}

// mode is what the command may do with an earlier run under --out.
func (f *flags) mode() repro.Mode {
	switch {
	case f.cmd == "run":
		return repro.Join
	case f.cmd == "merge":
		return repro.Merge
	case f.resume:
		return repro.Resume
	case f.overwrite:
		return repro.Overwrite
	}
	return repro.Fresh
}

// train runs the plan's units, or --shard's share of them, and returns the
// results per row and seed (nil for another shard's units).
func (j *job) train(ctx context.Context, plan *repro.Plan) ([][]*train.Result, error) {
	units := plan.Units
	if j.f.shard != "" {
		i, n, err := repro.ParseShard(j.f.shard)
		if err != nil {
			return nil, fmt.Errorf("--shard: %w", err)
		}
		units = plan.Shard(i, n)
		fmt.Fprintf(j.log, "shard %d/%d: %d of %d units\n", i, n, len(units), len(plan.Units))
	}
	t := j.e.Trainer(plan, j.f.out, j.log, j.warn)
	results := make([][]*train.Result, len(plan.Rows))
	for i := range results {
		results[i] = make([]*train.Result, len(plan.Seeds))
	}
	for _, u := range units {
		res, err := t.Train(ctx, u)
		if err != nil {
			return nil, err
		}
		results[u.Index/len(plan.Seeds)][u.Index%len(plan.Seeds)] = res
	}
	return results, nil
}

// merge prints and writes the table of the run under --out from its
// units' results, as the command without a subcommand does.
func merge(f *flags, stdout, stderr io.Writer) error {
	log := progressWriter(f, stderr)
	out, err := repro.Claim(f.out, f.spec, repro.Merge)
	if err != nil {
		return err
	}
	plan, err := repro.ReadPlan(out.PlanPath())
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	results, missing, err := plan.Results(f.out)
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	if len(missing) > 0 {
		var names []string
		for _, u := range missing {
			names = append(names, fmt.Sprintf("%d (%s, seed %d)", u.Index, u.Row, u.Seed))
		}
		msg := fmt.Sprintf("%d of %d units have no result in %s: %s", len(missing), len(plan.Units), f.out, strings.Join(names, ", "))
		if !f.partial {
			return fmt.Errorf("merge: %s; run their shards again (finished units are skipped), or --partial", msg)
		}
		fmt.Fprintln(stderr, "merge --partial:", msg)
	}
	_, note, err := sweepValues(f)
	if err != nil {
		return err
	}
	return printTable(f, plan, results, note, stdout, log)
}

// plan prints the units of the table, one JSON line each, and their
// totals; with --count only their number.
func plan(f *flags, stdout, stderr io.Writer) error {
	e, err := repro.Open(f.spec, io.Discard, stderr)
	if err != nil {
		return err
	}
	values, _, err := sweepValues(f)
	if err != nil {
		return err
	}
	n := e.Prepared.Train.Len()
	if f.samples > 0 {
		n = f.samples
	}
	p, err := e.PlanFor(values, n)
	if err != nil || f.count {
		fmt.Fprintln(stdout, len(p.Units))
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, u := range p.Units {
		if err := enc.Encode(u); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(stderr, "%s: %d units (%d rows × %d seeds), up to %d epochs of %d training samples each: %d sample-steps in all\n",
		p.Run, len(p.Units), len(p.Rows), len(p.Seeds), p.Setting.Epochs, n, p.Cost())
	return err
}

// sweepValues returns the values a sweep table trains and a note saying
// which (repro.Spec.SweepValues); both are empty for the other tables.
func sweepValues(f *flags) (values []int, note string, err error) {
	r := f.spec.Resolve()
	if r.Table != "4" && r.Table != "5" && r.Table != "6" {
		return nil, "", nil
	}
	n, _ := strconv.Atoi(r.Table) // Spec.Validate accepted only 3…8
	paper, err := report.PaperValues(n, r.Paper)
	if err != nil {
		return nil, "", err
	}
	values, note = f.spec.SweepValues(paper)
	return values, note, nil
}

// printTable prints the measured rows above the paper's with the stop
// line of every unit, and with --out writes the rows as CSV and JSON and
// draws the figures.
func printTable(f *flags, plan *repro.Plan, results [][]*train.Result, note string, stdout, log io.Writer) error {
	r := f.spec.Resolve()
	rows, err := plan.Summarize(results)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(r.Table)
	paper, err := report.PaperRows(n, r.Paper)
	if err != nil {
		return err
	}
	published := paper
	if f.reported != "" {
		more, err := report.ReadJSON(f.reported)
		if err != nil {
			return fmt.Errorf("--reported: %w", err)
		}
		for _, row := range more {
			row.Reported = true
			published = append(published, row)
		}
	}
	rep := report.Reproduction{Plan: plan, Resolved: r, Results: results, Rows: rows, Published: published, Note: note}
	if f.spec.Data == "" {
		c := synth.DefaultCeiling
		rep.Footer = fmt.Sprintf("Best achievable on this corpus (label noise): MAE %.3f, Acc-2 %.1f/%.1f, Acc-7 %.1f.",
			c.MAE, 100*c.Acc2Has0, 100*c.Acc2Non0, 100*c.Acc7)
	}
	if err := rep.Print(stdout); err != nil || f.out == "" {
		return err
	}
	if err := writeRows(f.out, plan.Run, rows, published); err != nil {
		return err
	}
	figs, err := figures(f, plan, rows, paper, results)
	if err != nil {
		return err
	}
	for _, fig := range figs {
		fmt.Fprintln(log, "figure:", fig)
	}
	return nil
}

// writeRows writes the measured and published rows to <run>.csv and
// <run>.json under out.
func writeRows(out, run string, rows, published []train.Row) error {
	all := append(slices.Clone(rows), published...)
	if err := report.WriteCSV(filepath.Join(out, run+".csv"), all); err != nil {
		return err
	}
	return report.WriteJSON(filepath.Join(out, run+".json"), all)
}
