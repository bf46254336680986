package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/mmsa"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
	"github.com/fdcmdie/fdcmdie/datasets/tokenize"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers"
	"github.com/fdcmdie/fdcmdie/train"
)

// setting is the training protocol of one data set (paper table 2).
type setting struct {
	batch, kcl, epochs int
	lr                 float64
}

var settings = map[string]setting{
	"mosi":  {batch: 32, kcl: 10, epochs: 50, lr: 1e-4},
	"mosei": {batch: 16, kcl: 50, epochs: 12, lr: 1e-4},
	// The embedded corpus trains a small NeoBERT from scratch: a larger
	// learning rate and fewer epochs keep the default run within minutes.
	"synthetic": {batch: 32, kcl: 10, epochs: 10, lr: 1e-3},
}

// prepared is a dataset ready for training, with what its checkpoints need.
type prepared struct {
	name      string
	data      train.Data
	textFeats bool
	vocab     int // text encoder vocabulary (token-id input)
	lt        int
	meta      map[string]string
	pre       *pretrained // --neobert
}

// load reads --data or generates the synthetic corpus, tokenizes it when
// needed and standardizes audio and vision with train statistics.
func load(f *flags, tmp string, log io.Writer) (*prepared, error) {
	p := &prepared{meta: map[string]string{}}
	var ds *datasets.Dataset
	var err error
	if f.neobert != "" {
		if p.pre, err = loadPretrained(f.neobert); err != nil {
			return nil, err
		}
	}
	if f.data == "" {
		if ds, err = synth.Generate(synth.DefaultConfig()); err != nil {
			return nil, err
		}
		tokPath := filepath.Join(tmp, "tokenizer.json")
		var tok *tokenize.Tokenizer
		if p.pre != nil {
			tokPath = filepath.Join(f.neobert, "tokenizer.json")
			tok = p.pre.tok
		} else if tok, err = datasets.SyntheticTokenizer(ds, tokPath); err != nil {
			return nil, err
		}
		for _, s := range []*datasets.Split{ds.Train, ds.Valid, ds.Test} {
			if err := datasets.Tokenize(s, tok, synth.SeqLen); err != nil {
				return nil, err
			}
		}
		raw, err := os.ReadFile(tokPath)
		if err != nil {
			return nil, err
		}
		p.meta["tokenizer"] = string(raw)
		p.vocab = tok.VocabSize()
	} else {
		p.textFeats = f.textFeatures
		p.vocab = 30522 // text_bert holds bert-base-uncased ids, NeoBERT's vocabulary
		if p.pre != nil {
			p.vocab = p.pre.cfg.VocabSize
		}
		opts := mmsa.Options{DropTextFeats: !f.textFeatures}
		if !f.textFeatures { // every split's ids are checked now, not at its first evaluation
			opts.Vocab = p.vocab
		}
		rep := &mmsa.Report{}
		if ds, rep, err = mmsa.ReadReport(f.data, opts); err != nil {
			return nil, err
		}
		if s := rep.String(); s != "" {
			fmt.Fprintln(log, s)
		}
	}
	if p.pre != nil {
		p.vocab = p.pre.cfg.VocabSize
	}
	source := "the synthetic corpus"
	if f.data != "" {
		source = f.data
	}
	st, err := datasets.FitStandardizer(ds.Train)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	for _, s := range []*datasets.Split{ds.Train, ds.Valid, ds.Test} {
		if err := st.Apply(s); err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	p.meta["standardizer"] = string(raw)
	p.name = ds.Name
	p.data = train.Data{Train: ds.Train, Valid: ds.Valid, Test: ds.Test}
	if !p.textFeats {
		for _, s := range []*datasets.Split{ds.Train, ds.Valid, ds.Test} {
			for _, n := range s.TextLen {
				p.lt = max(p.lt, n)
			}
		}
	}
	if f.freezeText {
		dir := f.cacheDir
		if dir == "" {
			if dir, err = os.UserCacheDir(); err != nil {
				return nil, fmt.Errorf("--freeze-text: no cache folder (use --cache): %w", err)
			}
			dir = filepath.Join(dir, "fdcmdie")
		}
		if err := p.pre.freezeFeatures([]*datasets.Split{ds.Train, ds.Valid, ds.Test}, p.lt, dir, log); err != nil {
			return nil, err
		}
		p.textFeats = true
		p.meta["text_features"] = "frozen NeoBERT from " + f.neobert
	}
	return p, nil
}

// baseConfig is the model of a preset for the prepared data.
func baseConfig(f *flags, p *prepared, set setting) graph.Config {
	cfg := graph.DefaultConfig()
	cfg.AudioDim, cfg.VisionDim = p.data.Train.Audio.D, p.data.Train.Vision.D
	cfg.KCL = set.kcl
	cfg.TextFeats = p.textFeats
	if p.textFeats {
		cfg.TextDim = p.data.Train.TextFeats.D
	}
	preset := f.preset
	if preset == "" {
		preset = "paper"
		if f.data == "" {
			preset = "small"
		}
	}
	switch preset {
	case "tiny": // smoke tests: seconds per epoch
		cfg.DModel, cfg.Heads, cfg.Layers = 8, 2, 1
		cfg.NeoBERT = layers.NeoBERTConfig{HiddenSize: 16, NumHiddenLayers: 1, NumAttentionHeads: 2,
			IntermediateSize: 32, VocabSize: p.vocab, NormEps: 1e-5, MaxLength: 512}
	case "small":
		cfg.DModel, cfg.Heads, cfg.Layers = 32, 4, 2
		cfg.NeoBERT = layers.NeoBERTConfig{HiddenSize: 64, NumHiddenLayers: 2, NumAttentionHeads: 2,
			IntermediateSize: 128, VocabSize: p.vocab, NormEps: 1e-5, MaxLength: 512}
	default:
		// A NeoBERT-base-shaped encoder trained from scratch, unless
		// precomputed text features are used.
		cfg.NeoBERT.VocabSize = p.vocab
	}
	if p.pre != nil && !p.textFeats {
		cfg.NeoBERT = p.pre.cfg // the released encoder, fine-tuned with the model
	}
	cfg.NoGAP, cfg.NoCrossAtt2, cfg.NoCL, cfg.NoCMDIE = f.noGAP, f.noCrossAtt2, f.noCL, f.noCMDIE
	if f.noNeoBERT {
		cfg.TextEncoder = "bert"
	}
	return cfg
}

// variant is one row of a table: a name and a config.
type variant struct {
	name string
	cfg  graph.Config
}

// Sweeps of tables 4/5 (k_cl) and 6 (CMDIE layers).
var (
	kclSweep   = []int{1, 5, 10, 20, 50}
	layerSweep = []int{1, 2, 3, 4, 5}
)

// variants lists the rows of the requested table.
func variants(f *flags, base graph.Config) []variant {
	name := "FD-CMDIE"
	var off []string
	for _, a := range []struct {
		on   bool
		name string
	}{{f.noNeoBERT, "NeoBERT"}, {f.noCL, "CL"}, {f.noCMDIE, "CMDIE"}, {f.noGAP, "GAP"}, {f.noCrossAtt2, "CrossAtt2"}} {
		if a.on {
			off = append(off, a.name)
		}
	}
	if len(off) > 0 {
		name += " w/o " + strings.Join(off, ", ")
	}
	if f.table == "7" {
		full := base
		full.NoGAP, full.NoCrossAtt2, full.NoCL, full.NoCMDIE, full.TextEncoder = false, false, false, false, "neobert"
		with := func(name string, change func(*graph.Config)) variant {
			c := full
			change(&c)
			return variant{name, c}
		}
		return []variant{
			{report.AblationFull, full},
			with(report.AblationNoNeoBERT, func(c *graph.Config) { c.TextEncoder = "bert" }),
			with(report.AblationNoCL, func(c *graph.Config) { c.NoCL = true }),
			with(report.AblationNoCMDIE, func(c *graph.Config) { c.NoCMDIE = true }),
			with(report.AblationNoGAP, func(c *graph.Config) { c.NoGAP = true }),
			with(report.AblationNoCrossAtt2, func(c *graph.Config) { c.NoCrossAtt2 = true }),
		}
	}
	switch f.table {
	case "4":
		return sweep(base, kclSweep, func(c *graph.Config, k int) { c.KCL = k })
	case "6":
		return sweep(base, layerSweep, func(c *graph.Config, k int) { c.Layers = k })
	}
	textOnly := base
	textOnly.TextOnly = true
	return []variant{{name, base}, {"Text-only baseline", textOnly}}
}

// sweep makes one row per value, named by it.
func sweep(base graph.Config, values []int, set func(*graph.Config, int)) []variant {
	var vs []variant
	for _, k := range values {
		c := base
		set(&c, k)
		vs = append(vs, variant{fmt.Sprint(k), c})
	}
	return vs
}

// metricMap turns metrics into the report's row values.
func metricMap(m train.Metrics) map[string]float64 {
	return map[string]float64{
		report.Acc2Has0: m.Acc2Has0, report.Acc2Non0: m.Acc2Non0, report.F1Has0: m.F1Has0, report.F1Non0: m.F1Non0,
		report.Acc7: m.Acc7, report.Acc5: m.Acc5, report.MAE: m.MAE, report.Corr: m.Corr,
	}
}

// reproduce trains every row of the table over every seed and prints it.
func reproduce(ctx context.Context, f *flags, stdout, stderr io.Writer) error {
	log := stderr
	if f.quiet {
		log = io.Discard
	}
	tmp, err := os.MkdirTemp("", "fdcmdie-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	p, err := load(f, tmp, log)
	if err != nil {
		return err
	}
	key := f.dataset
	if key == "" {
		key = "mosi"
		if f.data == "" {
			key = "synthetic"
		} else if strings.Contains(strings.ToLower(p.name), "mosei") {
			key = "mosei"
		}
	}
	set := settings[key]
	if f.epochs > 0 {
		set.epochs = f.epochs
	}
	base := baseConfig(f, p, set)
	fmt.Fprintf(log, "data: %s (%d/%d/%d samples), setting %s: batch %d, k_cl %d, up to %d epochs, seeds %v\n",
		p.name, p.data.Train.Len(), p.data.Valid.Len(), p.data.Test.Len(), key, set.batch, set.kcl, set.epochs, f.seeds)
	var rows []report.Row
	var results [][]*train.Result // per variant, per seed
	vs := variants(f, base)
	for _, v := range vs {
		var runs []map[string]float64
		var rs []*train.Result
		for _, seed := range f.seeds {
			fmt.Fprintf(log, "== %s, seed %d\n", v.name, seed)
			o := train.Options{
				Model: train.ModelOptions{Seed: seed, ClipNorm: f.clipNorm,
					AdamW: train.AdamWConfig{LR: set.lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}},
				BatchSize: set.batch, Epochs: set.epochs, TextFeats: p.textFeats, Lt: p.lt, Meta: p.meta, Progress: log,
				Resume: f.resume,
			}
			if p.pre != nil && !p.textFeats && v.cfg.TextEncoder == "neobert" {
				o.Model.Init = p.pre.loadInto // the BERT ablation starts from scratch
			}
			if f.out != "" {
				o.OutDir = filepath.Join(f.out, "checkpoints", slug(v.name), fmt.Sprint(seed))
			}
			res, err := train.Fit(ctx, v.cfg, p.data, o)
			if err != nil {
				return fmt.Errorf("%s, seed %d: %w", v.name, seed, err)
			}
			for _, w := range res.Test.Warnings() {
				fmt.Fprintln(log, "warning:", w)
			}
			runs = append(runs, metricMap(res.Test))
			rs = append(rs, res)
		}
		results = append(results, rs)
		row, err := report.Summarize(v.name, runs)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	if f.reported != "" {
		published, err := report.ReadJSON(f.reported)
		if err != nil {
			return fmt.Errorf("--reported: %w", err)
		}
		for _, r := range published {
			r.Reported = true
			rows = append(rows, r)
		}
	}
	title := fmt.Sprintf("Table %s on %s (test split, best validation epoch; %d seed(s))", f.table, p.name, len(f.seeds))
	first := map[string]string{"3": "Model", "4": "k_cl", "6": "CMDIE layers", "7": "Ablation"}[f.table]
	if err := report.Table(stdout, title, first, rows); err != nil {
		return err
	}
	if f.data == "" {
		c := synth.DefaultCeiling
		fmt.Fprintf(stdout, "Best achievable on this corpus (label noise): MAE %.3f, Acc-2 %.1f/%.1f, Acc-7 %.1f.\n",
			c.MAE, 100*c.Acc2Has0, 100*c.Acc2Non0, 100*c.Acc7)
	}
	if f.out != "" {
		if err := report.WriteCSV(filepath.Join(f.out, "table"+f.table+".csv"), rows); err != nil {
			return err
		}
		if err := report.WriteJSON(filepath.Join(f.out, "table"+f.table+".json"), rows); err != nil {
			return err
		}
		figs, err := figures(f, filepath.Join(f.out, "figures"), vs, rows, results)
		if err != nil {
			return err
		}
		for _, fig := range figs {
			fmt.Fprintln(log, "figure:", fig)
		}
	}
	fmt.Fprintf(log, "done in %v\n", time.Since(start).Round(time.Second))
	return nil
}

// slug makes a row name usable as a folder name.
func slug(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			return r
		}
		return '_'
	}, s)
}
