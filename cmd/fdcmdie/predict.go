package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/train"
)

// defaultMaxSteps is the default of --max-steps: ten times the longest
// sequence of the paper's data (500 audio or vision steps of MOSEI).
const defaultMaxSteps = 5000

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

// input is the data to predict: one or more splits ready for the
// predictor, with the labels known for some samples (known[s][i]).
type input struct {
	splits []*datasets.Split
	known  [][]bool
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
	preds, err := predictInput(ctx, f)
	if err == nil {
		err = writePredictions(f.out, stdout, preds)
	}
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	return reportMetrics(stderr, preds)
}

// predictInput reads the input f names and predicts it with f's
// checkpoint, in input order.
func predictInput(ctx context.Context, f *predictFlags) ([]prediction, error) {
	if err := checkOut(f.out, f.checkpoint, f.data, f.jsonl); err != nil {
		return nil, err
	}
	p, err := train.LoadPredictor(f.checkpoint)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	in, path := &input{}, f.data
	if f.data != "" {
		in.splits, err = p.ReadMMSA(f.data, f.split)
		for _, s := range in.splits {
			in.known = append(in.known, slices.Repeat([]bool{true}, s.Len()))
		}
	} else {
		path = f.jsonl
		var s *datasets.Split
		var known []bool
		s, known, err = p.ReadJSONL(f.jsonl)
		in.splits, in.known = []*datasets.Split{s}, [][]bool{known}
	}
	if err != nil {
		return nil, err
	}
	if err := checkLengths(path, in, f.maxSteps); err != nil {
		return nil, err
	}
	var preds []prediction
	for k, s := range in.splits {
		ps, err := p.PredictSplit(ctx, s)
		if err != nil {
			return nil, err
		}
		for i, x := range ps {
			line := prediction{ID: x.ID, Pred: x.Score, GapAlpha: x.Alpha}
			if in.known[k][i] {
				line.Label = &s.Labels[i]
			}
			preds = append(preds, line)
		}
	}
	return preds, nil
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
	type steps struct {
		key  string
		lens []int
	}
	for _, s := range in.splits {
		mods := []steps{{"audio", s.AudioLen}, {"vision", s.VisionLen}}
		if s.TextFeats.Data != nil {
			mods = append(mods, steps{"text_feats", s.TextLen})
		}
		where := path // JSON lines: the split is the file
		if s.Name != path {
			where += ": " + s.Name
		}
		for _, m := range mods {
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
