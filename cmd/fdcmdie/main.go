// Command fdcmdie trains and evaluates FD-CMDIE, the multimodal sentiment
// model of "Feature decoupling and cross-modal deep interaction enhancement
// for multimodal sentiment analysis" (2026), and prints the paper's result
// tables.
//
// With no arguments it trains a small preset on the embedded synthetic
// MOSI-like corpus, plus a text-only baseline, and prints table 3's layout.
// With --data it reads an MMSA pickle (CMU-MOSI, CMU-MOSEI); --table picks
// the table (3, 4, 5, 6, 7, 8), each printed above the paper's own rows,
// and --out writes CSV, JSON, figures and checkpoints.
//
// A table's training runs spread over machines: "fdcmdie plan" lists them,
// "fdcmdie run --shard I/N" runs a share of them into a shared --out, and
// "fdcmdie merge" prints and writes the table from their results.
// "fdcmdie predict" turns a checkpoint and data into predictions.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/train"
	"github.com/fdcmdie/fdcmdie/train/repro"
)

func main() {
	train.TuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fdcmdie:", err)
		os.Exit(1)
	}
}

// flags are the command line of a reproduction: the spec and what the CLI
// does with its output.
type flags struct {
	spec      repro.Spec
	cmd       string // "" (train and print), "plan", "run" or "merge"
	out       string
	reported  string
	quiet     bool
	resume    bool
	overwrite bool
	shard     string // run: "I/N" or "/N"
	partial   bool   // merge: print the rows that have results
	count     bool   // plan: print only the number of units
	samples   int    // plan: training samples the costs are for; 0: the data's
}

// intList parses "2,4,8" into distinct positive integers.
type intList []int

func (l *intList) String() string {
	parts := make([]string, len(*l))
	for i, v := range *l {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

func (l *intList) Set(v string) error {
	*l = nil
	for _, p := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return fmt.Errorf("value %q is not a positive integer", p)
		}
		if slices.Contains(*l, n) {
			return fmt.Errorf("value %d is repeated", n)
		}
		*l = append(*l, n)
	}
	return nil
}

// seedList parses "1111,1112,1113".
type seedList []uint64

func (s *seedList) String() string {
	parts := make([]string, len(*s))
	for i, v := range *s {
		parts[i] = strconv.FormatUint(v, 10)
	}
	return strings.Join(parts, ",")
}

func (s *seedList) Set(v string) error {
	*s = nil
	for _, p := range strings.Split(v, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return fmt.Errorf("seed %q is not a non-negative integer", p)
		}
		*s = append(*s, n)
	}
	return nil
}

// commas splits a comma-separated list into its parts.
type commas []string

func (c *commas) String() string     { return strings.Join(*c, ",") }
func (c *commas) Set(v string) error { *c = strings.Split(v, ","); return nil }

const usage = `Usage: fdcmdie [flags]
       fdcmdie plan [flags] [--count]
       fdcmdie run --shard I/N [flags] --out DIR
       fdcmdie merge [flags] --out DIR [--partial]
       fdcmdie predict --checkpoint FILE (--data FILE.pkl | --jsonl FILE)

Trains FD-CMDIE and prints the paper's result tables. Without --data it
trains on the embedded synthetic MOSI-like corpus (small preset, a few
minutes on two cores) and prints table 3's layout.

plan lists the table's training runs (units: a row with a seed), one JSON
line each; run --shard I/N trains the units whose index is I modulo N
(with "/N", I comes from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX) into
an --out that any number of shards share; merge prints and writes the
table from their results, as the command without a subcommand does.
predict writes predictions with their GAP modality weights (predict --help).

Flags:
`

// define registers the reproduction's flags on fs.
func (f *flags) define(fs *flag.FlagSet) {
	s := &f.spec
	set := datasets.Settings()
	fs.StringVar(&s.Data, "data", "", "MMSA pickle (aligned_50.pkl or unaligned_50.pkl of CMU-MOSI/MOSEI)")
	fs.StringVar(&s.Dataset, "dataset", "", "paper settings of table 2: mosi or mosei (default: guessed from --data)")
	fs.BoolVar(&s.TextFeatures, "text-features", false, "use the pickle's precomputed 768-d `text` features instead of a text encoder")
	fs.StringVar(&s.NeoBERT, "neobert", "", "released NeoBERT folder (config.json, model.safetensors, tokenizer.json) to start the text encoder from")
	fs.BoolVar(&s.FreezeText, "freeze-text", false, "freeze the --neobert encoder: its features are computed once, cached, and reused by later runs")
	fs.StringVar(&s.CacheDir, "cache", "", "folder of the --freeze-text feature cache (default: the user cache folder)")
	fs.Var((*seedList)(&s.Seeds), "seeds", "comma-separated seeds; several give mean ± population std (paper: 1111,1112,1113)")
	fs.IntVar(&s.Epochs, "epochs", 0, fmt.Sprintf("maximum epochs; 0: the dataset's (mosi %d, mosei %d, the embedded corpus %d); negative is refused",
		set["mosi"].Epochs, set["mosei"].Epochs, set["synthetic"].Epochs))
	fs.StringVar(&f.out, "out", "", "folder for results (CSV, JSON, figures) and checkpoints, in files named after the table and ablation flags; "+
		"this command's earlier results there need --resume or --overwrite")
	fs.StringVar(&s.Table, "table", "3", "table to reproduce: 3 (results), 4 (k_cl sweep; table 5 on MOSEI), 5 (k_cl sweep of MOSEI), 6 (CMDIE layer sweep), 7 (ablations) or 8 (case analysis)")
	fs.Var((*intList)(&s.Values), "values", "values of the sweep of --table 4, 5 or 6 (default: the paper's; a short subset on the embedded corpus)")
	fs.DurationVar(&s.TimeBudget, "time-budget", 0, "time budget of each full-model training run, a sixth of it for the text-only baseline, unused time passing to the next run; an epoch that would end later is not started (default: 2m5s on the embedded corpus, none with --data)")
	fs.StringVar(&s.Checkpoint, "checkpoint", "", "--table 8: analyse this checkpoint (best.safetensors) instead of training a model")
	fs.Var((*commas)(&s.Cases), "cases", "--table 8: comma-separated test ids to analyse instead of the default choice (README, table 8)")
	fs.StringVar(&s.Preset, "preset", "", "model size: small (embedded default), paper (d_model 128, 3 layers) or tiny (smoke tests)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output (warnings still print)")
	fs.Float64Var(&s.ClipNorm, "clip-norm", 0, "clip the global gradient norm to this value (0: no clipping, as the paper)")
	fs.StringVar(&f.reported, "reported", "", "JSON rows (as --out writes them) of published results to print below the measured ones, labelled (paper)")
	fs.BoolVar(&f.resume, "resume", false, "continue this command's interrupted run from its checkpoints under --out (same settings; --epochs and --time-budget may change)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace this command's earlier results under --out (its table files, figures and checkpoints) instead of refusing to start")
	fs.BoolVar(&s.NoGAP, "no-gap", false, "ablation: mean of the modality-specific global features instead of GAP")
	fs.BoolVar(&s.NoCrossAtt2, "no-crossatt2", false, "ablation: no second cross-attention in the DIPUs")
	fs.BoolVar(&s.NoCL, "no-cl", false, "ablation: no contrastive loss and no memory bank")
	fs.BoolVar(&s.NoCMDIE, "no-cmdie", false, "ablation: the head reads the pooled decoupled features directly")
	fs.BoolVar(&s.NoNeoBERT, "no-neobert", false, "ablation: classic BERT text encoder instead of NeoBERT")
	switch f.cmd {
	case "plan":
		fs.BoolVar(&f.count, "count", false, "print only the number of units")
		fs.IntVar(&f.samples, "train-samples", 0, "cost the units for this many training samples (CMU-MOSI 1284, CMU-MOSEI 16326) instead of the data's")
	case "run":
		fs.StringVar(&f.shard, "shard", "", "I/N: train the units whose index is I modulo N (/N: I from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)")
	case "merge":
		fs.BoolVar(&f.partial, "partial", false, "print the rows of the units that have finished (n/N seeds) instead of failing on missing units")
	}
}

// parseFlags parses the command line of subcommand cmd ("" for the plain
// command).
func parseFlags(cmd string, args []string, stderr io.Writer) (*flags, error) {
	f := &flags{cmd: cmd, spec: repro.Spec{Seeds: []uint64{1111}}}
	name := strings.TrimSpace("fdcmdie " + cmd)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	f.define(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if err := finiteFloats(fs); err != nil {
		return nil, err
	}
	if err := f.spec.Validate(); err != nil {
		return nil, err
	}
	return f, f.conflicts()
}

// finiteFloats refuses a NaN or infinite value of any float flag that was
// set: the flag package parses "NaN" and "Inf", which no setting means.
func finiteFloats(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(fl *flag.Flag) {
		g, ok := fl.Value.(flag.Getter)
		if !ok {
			return
		}
		if x, ok := g.Get().(float64); ok && err == nil && (math.IsNaN(x) || math.IsInf(x, 0)) {
			err = fmt.Errorf("--%s %v: want a finite number", fl.Name, x)
		}
	})
	return err
}

// conflicts refuses the CLI's own flags where they cannot work.
func (f *flags) conflicts() error {
	s := &f.spec
	switch {
	case f.resume && f.out == "":
		return errors.New("--resume needs --out: runs resume from the checkpoints there")
	case f.overwrite && f.out == "":
		return errors.New("--overwrite needs --out: it replaces the results there")
	case f.resume && f.overwrite:
		return errors.New("--resume and --overwrite exclude each other: continue the run under --out, or replace it")
	case s.Checkpoint != "" && (f.resume || s.NeoBERT != "" || s.TextFeatures):
		return errors.New("--checkpoint with --resume, --neobert or --text-features: the checkpoint fixes the model and its text input")
	case (f.cmd == "run" || f.cmd == "merge") && f.out == "":
		return fmt.Errorf("%s needs --out: the folder the shards share", f.cmd)
	case f.cmd == "run" && f.shard == "":
		return errors.New("run needs --shard I/N (or /N with the index from the scheduler)")
	case f.cmd != "" && s.Table == "8":
		return fmt.Errorf("%s with --table 8: the case analysis is one model, not a grid", f.cmd)
	case (f.cmd == "merge" || f.cmd == "plan") && (f.resume || f.overwrite):
		return fmt.Errorf("%s reads or lists the run: --resume and --overwrite do not apply", f.cmd)
	}
	return nil
}

// run parses args and runs the requested command, writing results to
// stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		switch args[0] {
		case "predict":
			return predict(ctx, args[1:], stdout, stderr)
		case "plan", "run", "merge":
			cmd, args = args[0], args[1:]
		}
	}
	f, err := parseFlags(cmd, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	switch cmd {
	case "plan":
		return plan(f, stdout, stderr)
	case "merge":
		return merge(f, stdout, stderr)
	}
	return reproduce(ctx, f, stdout, stderr)
}
