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
	"time"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/train"
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

// flags are the command line of a training run.
type flags struct {
	data         string
	dataset      string
	textFeatures bool
	neobert      string
	freezeText   bool
	cacheDir     string
	resume       bool
	overwrite    bool
	clipNorm     float64
	reported     string
	seeds        []uint64
	epochs       int
	out          string
	table        string
	preset       string
	quiet        bool
	noGAP        bool
	noCrossAtt2  bool
	noCL         bool
	noCMDIE      bool
	noNeoBERT    bool
	values       intList       // --values: the sweep of tables 4, 5, 6
	timeBudget   time.Duration // per training run; 0: the setting's
	checkpoint   string        // --table 8: analyse this model instead of training one
	cases        []string      // --table 8: test ids to analyse
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

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("fdcmdie", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: fdcmdie [flags]

Trains FD-CMDIE and prints the paper's result tables. Without --data it
trains on the embedded synthetic MOSI-like corpus (small preset, a few
minutes on two cores) and prints table 3's layout.

       fdcmdie predict --checkpoint FILE (--data FILE.pkl | --jsonl FILE)
writes predictions with their GAP modality weights (predict --help).

Flags:
`)
		fs.PrintDefaults()
	}
	seeds := seedList{1111}
	fs.StringVar(&f.data, "data", "", "MMSA pickle (aligned_50.pkl or unaligned_50.pkl of CMU-MOSI/MOSEI)")
	fs.StringVar(&f.dataset, "dataset", "", "paper settings of table 2: mosi or mosei (default: guessed from --data)")
	fs.BoolVar(&f.textFeatures, "text-features", false, "use the pickle's precomputed 768-d `text` features instead of a text encoder")
	fs.StringVar(&f.neobert, "neobert", "", "released NeoBERT folder (config.json, model.safetensors, tokenizer.json) to start the text encoder from")
	fs.BoolVar(&f.freezeText, "freeze-text", false, "freeze the --neobert encoder: its features are computed once, cached, and reused by later runs")
	fs.StringVar(&f.cacheDir, "cache", "", "folder of the --freeze-text feature cache (default: the user cache folder)")
	fs.Var(&seeds, "seeds", "comma-separated seeds; several give mean ± population std (paper: 1111,1112,1113)")
	fs.IntVar(&f.epochs, "epochs", 0, fmt.Sprintf("maximum epochs; 0: the dataset's (mosi %d, mosei %d, the embedded corpus %d); negative is refused",
		datasets.Settings()["mosi"].Epochs, datasets.Settings()["mosei"].Epochs, datasets.Settings()["synthetic"].Epochs))
	fs.StringVar(&f.out, "out", "", "folder for results (CSV, JSON, figures) and checkpoints, in files named after the table and ablation flags; "+
		"this command's earlier results there need --resume or --overwrite")
	fs.StringVar(&f.table, "table", "3", "table to reproduce: 3 (results), 4 (k_cl sweep; table 5 on MOSEI), 5 (k_cl sweep of MOSEI), 6 (CMDIE layer sweep), 7 (ablations) or 8 (case analysis)")
	fs.Var(&f.values, "values", "values of the sweep of --table 4, 5 or 6 (default: the paper's; a short subset on the embedded corpus)")
	fs.DurationVar(&f.timeBudget, "time-budget", 0, "time budget of each full-model training run, a sixth of it for the text-only baseline, unused time passing to the next run; an epoch that would end later is not started (default: 2m5s on the embedded corpus, none with --data)")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "--table 8: analyse this checkpoint (best.safetensors) instead of training a model")
	cases := ""
	fs.StringVar(&cases, "cases", "", "--table 8: comma-separated test ids to analyse instead of the default choice (README, table 8)")
	fs.StringVar(&f.preset, "preset", "", "model size: small (embedded default), paper (d_model 128, 3 layers) or tiny (smoke tests)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output (warnings still print)")
	fs.Float64Var(&f.clipNorm, "clip-norm", 0, "clip the global gradient norm to this value (0: no clipping, as the paper)")
	fs.StringVar(&f.reported, "reported", "", "JSON rows (as --out writes them) of published results to print below the measured ones, labelled (paper)")
	fs.BoolVar(&f.resume, "resume", false, "continue this command's interrupted run from its checkpoints under --out (same settings; --epochs and --time-budget may change)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace this command's earlier results under --out (its table files, figures and checkpoints) instead of refusing to start")
	fs.BoolVar(&f.noGAP, "no-gap", false, "ablation: mean of the modality-specific global features instead of GAP")
	fs.BoolVar(&f.noCrossAtt2, "no-crossatt2", false, "ablation: no second cross-attention in the DIPUs")
	fs.BoolVar(&f.noCL, "no-cl", false, "ablation: no contrastive loss and no memory bank")
	fs.BoolVar(&f.noCMDIE, "no-cmdie", false, "ablation: the head reads the pooled decoupled features directly")
	fs.BoolVar(&f.noNeoBERT, "no-neobert", false, "ablation: classic BERT text encoder instead of NeoBERT")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if err := finiteFloats(fs); err != nil {
		return nil, err
	}
	f.seeds = seeds
	if cases != "" {
		f.cases = strings.Split(cases, ",")
	}
	switch f.table {
	case "3", "4", "5", "6", "7", "8":
	default:
		return nil, fmt.Errorf("--table %q: want 3, 4, 5, 6, 7 or 8", f.table)
	}
	switch f.dataset {
	case "", "mosi", "mosei":
	default:
		return nil, fmt.Errorf("--dataset %q: want mosi or mosei", f.dataset)
	}
	switch f.preset {
	case "", "small", "paper", "tiny":
	default:
		return nil, fmt.Errorf("--preset %q: want small, paper or tiny", f.preset)
	}
	if f.epochs < 0 {
		return nil, fmt.Errorf("--epochs %d: want a positive number of epochs, or 0 for the dataset's", f.epochs)
	}
	if f.clipNorm < 0 {
		return nil, fmt.Errorf("--clip-norm %g must not be negative", f.clipNorm)
	}
	if f.resume && f.out == "" {
		return nil, errors.New("--resume needs --out: runs resume from the checkpoints there")
	}
	if f.overwrite && f.out == "" {
		return nil, errors.New("--overwrite needs --out: it replaces the results there")
	}
	if f.resume && f.overwrite {
		return nil, errors.New("--resume and --overwrite exclude each other: continue the run under --out, or replace it")
	}
	if f.freezeText && f.neobert == "" {
		return nil, errors.New("--freeze-text needs --neobert: a frozen encoder must come from a trained checkpoint")
	}
	if f.textFeatures && f.neobert != "" {
		return nil, errors.New("--text-features and --neobert exclude each other: pick one text input")
	}
	if f.textFeatures && f.data == "" {
		return nil, errors.New("--text-features needs --data: the synthetic corpus has no precomputed text features")
	}
	if err := f.conflicts(); err != nil {
		return nil, err
	}
	return f, nil
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

// ablation is an ablation flag that is set and the part it switches off.
type ablation struct{ flag, part string }

// setAblations lists the ablation flags that are set, in table 7's order.
func (f *flags) setAblations() []ablation {
	var on []ablation
	for _, a := range []struct {
		on bool
		ablation
	}{{f.noNeoBERT, ablation{"--no-neobert", "NeoBERT"}}, {f.noCL, ablation{"--no-cl", "CL"}}, {f.noCMDIE, ablation{"--no-cmdie", "CMDIE"}},
		{f.noGAP, ablation{"--no-gap", "GAP"}}, {f.noCrossAtt2, ablation{"--no-crossatt2", "CrossAtt2"}}} {
		if a.on {
			on = append(on, a.ablation)
		}
	}
	return on
}

// ablations lists the ablation flags that are set.
func (f *flags) ablations() []string {
	var flags []string
	for _, a := range f.setAblations() {
		flags = append(flags, a.flag)
	}
	return flags
}

// conflicts refuses combinations of flags whose results would be
// mislabelled or whose flags would be ignored.
func (f *flags) conflicts() error {
	ablations := f.ablations()
	for i, s := range f.seeds {
		if slices.Contains(f.seeds[:i], s) {
			return fmt.Errorf("--seeds: seed %d is repeated: the mean and std would count one run twice", s)
		}
	}
	switch {
	case f.table == "7" && len(ablations) > 0:
		return fmt.Errorf("%s with --table 7: the ablation table trains every ablation itself", strings.Join(ablations, " "))
	case f.table == "8" && len(ablations) > 0:
		return fmt.Errorf("%s with --table 8: the case analysis is of the full model", strings.Join(ablations, " "))
	case f.noCL && (f.table == "4" || f.table == "5"):
		return fmt.Errorf("--no-cl with --table %s: the k_cl sweep needs the contrastive loss", f.table)
	case f.noNeoBERT && f.textFeatures:
		return errors.New("--no-neobert with --text-features: precomputed text features use no text encoder")
	case f.noNeoBERT && f.neobert != "":
		return errors.New("--no-neobert with --neobert: pick one text encoder")
	case len(f.values) > 0 && f.table != "4" && f.table != "5" && f.table != "6":
		return fmt.Errorf("--values with --table %s: only the sweeps of tables 4, 5 and 6 take values", f.table)
	case f.checkpoint != "" && f.table != "8":
		return errors.New("--checkpoint needs --table 8 (fdcmdie predict runs a checkpoint on other data)")
	case len(f.cases) > 0 && f.table != "8":
		return errors.New("--cases needs --table 8")
	case f.table == "8" && len(f.seeds) > 1:
		return errors.New("--table 8 analyses one model: give one seed")
	case f.checkpoint != "" && (f.resume || f.neobert != "" || f.textFeatures):
		return errors.New("--checkpoint with --resume, --neobert or --text-features: the checkpoint fixes the model and its text input")
	case f.timeBudget < 0:
		return fmt.Errorf("--time-budget %v must not be negative", f.timeBudget)
	}
	return nil
}

// run parses args and runs the requested job, writing results to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "predict":
			return predict(ctx, args[1:], stdout, stderr)
		}
	}
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	return reproduce(ctx, f, stdout, stderr)
}
