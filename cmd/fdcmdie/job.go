package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/mmsa"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/graph/textenc"
	"github.com/fdcmdie/fdcmdie/layers"
	"github.com/fdcmdie/fdcmdie/train"
)

// prepared is the data of a run, prepared for training, with the released
// encoder of --neobert.
type prepared struct {
	*datasets.Prepared
	data train.Data
	pre  *textenc.Pretrained // --neobert
}

// load reads --data or generates the synthetic corpus and prepares it
// (datasets.Prepare); with --freeze-text it replaces the text by the frozen
// --neobert encoder's features. Progress goes to log, the data's warnings
// to warn.
func load(f *flags, log, warn io.Writer) (*prepared, error) {
	p := &prepared{}
	var err error
	if f.neobert != "" {
		if p.pre, err = textenc.LoadPretrained(f.neobert); err != nil {
			return nil, fmt.Errorf("--neobert: %w", err)
		}
	}
	ds, o, err := read(f, p.pre, warn)
	if err != nil {
		return nil, err
	}
	if p.Prepared, err = datasets.Prepare(ds, o); err != nil {
		return nil, err
	}
	p.data = train.Data{Train: p.Train, Valid: p.Valid, Test: p.Test}
	if f.freezeText {
		dir := f.cacheDir
		if dir == "" {
			if dir, err = os.UserCacheDir(); err != nil {
				return nil, fmt.Errorf("--freeze-text: no cache folder (use --cache): %w", err)
			}
			dir = filepath.Join(dir, "fdcmdie")
		}
		if err := p.pre.Freeze(p.Prepared, dir, log, train.NewBar(log)); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// read reads --data, or generates the synthetic corpus with its tokenizer
// (the --neobert release's, else one made for it), and says how to
// prepare it. The data's warnings go to warn.
func read(f *flags, pre *textenc.Pretrained, warn io.Writer) (*datasets.Dataset, datasets.PrepareOptions, error) {
	o := datasets.PrepareOptions{Source: "the synthetic corpus", TextFeats: f.textFeatures}
	if pre != nil {
		o.Vocab = pre.Config().VocabSize
	}
	if f.data == "" {
		ds, err := synth.Generate(synth.DefaultConfig())
		if err != nil {
			return nil, o, err
		}
		o.MaxLen = synth.SeqLen
		if pre != nil {
			o.TokenizerJSON = pre.TokenizerJSON()
		} else if _, o.TokenizerJSON, err = datasets.SyntheticTokenizer(ds); err != nil {
			return nil, o, err
		}
		return ds, o, nil
	}
	o.Source = f.data
	if o.Vocab == 0 {
		o.Vocab = 30522 // text_bert holds bert-base-uncased ids, NeoBERT's vocabulary
	}
	opts := mmsa.Options{DropTextFeats: !f.textFeatures}
	if !f.textFeatures { // every split's ids are checked now, not at its first evaluation
		opts.Vocab = o.Vocab
	}
	ds, rep, err := mmsa.ReadReport(f.data, opts)
	if err != nil {
		return nil, o, err
	}
	if s := rep.String(); s != "" {
		fmt.Fprintln(warn, s)
	}
	return ds, o, nil
}

// baseConfig is the model of a preset for the prepared data.
func baseConfig(f *flags, p *prepared, set datasets.Setting) graph.Config {
	cfg := graph.DefaultConfig()
	cfg.AudioDim, cfg.VisionDim = p.data.Train.Audio.D, p.data.Train.Vision.D
	cfg.KCL = set.KCL
	cfg.TextFeats = p.TextFeats
	if p.TextFeats {
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
			IntermediateSize: 32, VocabSize: p.Vocab, NormEps: 1e-5, MaxLength: 512}
	case "small":
		cfg.DModel, cfg.Heads, cfg.Layers = 32, 4, 2
		cfg.NeoBERT = layers.NeoBERTConfig{HiddenSize: 64, NumHiddenLayers: 2, NumAttentionHeads: 2,
			IntermediateSize: 128, VocabSize: p.Vocab, NormEps: 1e-5, MaxLength: 512}
	default:
		// A NeoBERT-base-shaped encoder trained from scratch, unless
		// precomputed text features are used.
		cfg.NeoBERT.VocabSize = p.Vocab
	}
	if p.pre != nil && !p.TextFeats {
		cfg.NeoBERT = p.pre.Config() // the released encoder, fine-tuned with the model
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

// sweepValues returns the values a sweep table (4, 5: k_cl; 6: CMDIE
// layers) trains: --values, else the paper's (the names of its rows),
// else on the embedded corpus its first, middle and last, so that the
// command ends within minutes. The note says which were taken.
func sweepValues(f *flags, table string, paper []report.Row) (values []int, note string, err error) {
	var all []int
	for _, r := range paper {
		v, err := strconv.Atoi(r.Name)
		if err != nil {
			return nil, "", fmt.Errorf("table %s: paper row %q is not a sweep value", table, r.Name)
		}
		all = append(all, v)
	}
	what := map[string]string{"4": "k_cl", "5": "k_cl", "6": "CMDIE layers"}[table]
	switch {
	case len(f.values) > 0:
		values, note = f.values, "from --values"
	case f.data == "":
		values, note = []int{all[0], all[len(all)/2], all[len(all)-1]}, "a short sweep on the embedded corpus; --values sets others"
	default:
		values, note = all, "the paper's"
	}
	return values, fmt.Sprintf("%s values %s (%s; the paper's: %s)", what, joinInts(values), note, joinInts(all)), nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// variants lists the rows of table (3, 4, 5, 6 or 7); values are the
// sweep of tables 4–6.
func variants(f *flags, table string, values []int, base graph.Config) []variant {
	name := "FD-CMDIE"
	var off []string
	for _, a := range f.setAblations() {
		off = append(off, a.part)
	}
	if len(off) > 0 {
		name += " w/o " + strings.Join(off, ", ")
	}
	if table == "7" {
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
	switch table {
	case "4", "5":
		return sweep(base, values, func(c *graph.Config, k int) { c.KCL = k })
	case "6":
		return sweep(base, values, func(c *graph.Config, k int) { c.Layers = k })
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

// reproduce trains every row of the table over every seed and prints it
// above the paper's rows for the same dataset.
func reproduce(ctx context.Context, f *flags, stdout, stderr io.Writer) error {
	log := stderr // progress; warnings go to stderr with --quiet too
	if f.quiet {
		log = io.Discard
	}
	var out *outDir
	if f.out != "" {
		var err error
		if out, err = claimOut(f, resolve(f).table); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "fdcmdie-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	j, err := newJob(f, tmp, log, stderr)
	if err != nil {
		return err
	}
	if out != nil {
		if err := out.commit(f.overwrite, log); err != nil {
			return err
		}
	}
	if j.table == "8" {
		return j.caseAnalysis(ctx, stdout, log)
	}
	paper, err := report.PaperRows(tableNumber(j.table), j.paperKey)
	if err != nil {
		return err
	}
	var values []int
	var valuesNote string
	if j.table == "4" || j.table == "5" || j.table == "6" {
		if values, valuesNote, err = sweepValues(f, j.table, paper); err != nil {
			return err
		}
		fmt.Fprintln(log, valuesNote)
	}
	var rows []report.Row
	var results [][]*train.Result // per variant, per seed
	var stops []string
	vs := variants(f, j.table, values, j.base)
	for _, v := range vs {
		var runs []map[string]float64
		var rs []*train.Result
		for _, seed := range f.seeds {
			res, err := j.fit(ctx, v, seed, log)
			if err != nil {
				return err
			}
			runs = append(runs, metricMap(res.Test))
			rs = append(rs, res)
			stops = append(stops, stopLine(v.name, seed, j.set, res))
		}
		results = append(results, rs)
		row, err := report.Summarize(v.name, runs)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	published := paper
	if f.reported != "" {
		more, err := report.ReadJSON(f.reported)
		if err != nil {
			return fmt.Errorf("--reported: %w", err)
		}
		for _, r := range more {
			r.Reported = true
			published = append(published, r)
		}
	}
	title := fmt.Sprintf("Table %s on %s (test split, best validation epoch; %d seed(s))", j.table, j.p.Name, len(f.seeds))
	first := map[string]string{"3": "Model", "4": "k_cl", "5": "k_cl", "6": "CMDIE layers", "7": "Ablation"}[j.table]
	if err := report.Table(stdout, title, first, rows); err != nil {
		return err
	}
	if valuesNote != "" {
		fmt.Fprintln(stdout, valuesNote+".")
	}
	for _, s := range stops {
		fmt.Fprintln(stdout, s)
	}
	if f.data == "" {
		c := synth.DefaultCeiling
		fmt.Fprintf(stdout, "Best achievable on this corpus (label noise): MAE %.3f, Acc-2 %.1f/%.1f, Acc-7 %.1f.\n",
			c.MAE, 100*c.Acc2Has0, 100*c.Acc2Non0, 100*c.Acc7)
	}
	fmt.Fprintln(stdout)
	if err := report.Table(stdout, j.publishedTitle(), first, published); err != nil {
		return err
	}
	if f.out != "" {
		all := append(slices.Clone(rows), published...)
		if err := report.WriteCSV(filepath.Join(f.out, j.run+".csv"), all); err != nil {
			return err
		}
		if err := report.WriteJSON(filepath.Join(f.out, j.run+".json"), all); err != nil {
			return err
		}
		figs, err := figures(j, filepath.Join(f.out, "figures", j.run), vs, rows, paper, results)
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

// job is a run of the CLI: the prepared data, its training setting, the
// table to make and the paper's dataset to compare with.
type job struct {
	f        *flags
	warn     io.Writer     // data and result warnings, printed with --quiet too
	tmp      string        // the run's temporary folder
	start    time.Time     // when training began
	allotted time.Duration // the time budgets of the runs so far, from start
	p        *prepared
	key      string // settings key: mosi, mosei or synthetic
	set      datasets.Setting
	base     graph.Config
	table    string // 3…8; --table 4 on MOSEI is table 5
	paperKey string // the paper's dataset of the published rows: report.MOSI or report.MOSEI
	run      string // names the files under --out (runName)
}

// resolved is a command's setting, table and paper dataset.
type resolved struct {
	key      string // settings key: mosi, mosei or synthetic
	table    string // 3…8; --table 4 on MOSEI is table 5
	paperKey string // report.MOSI or report.MOSEI
}

// resolve takes the setting from --dataset, else from the data's name as
// mmsa guesses it from the path; the embedded corpus stands in for
// CMU-MOSI. Table 5 is the paper's MOSEI sweep.
func resolve(f *flags) resolved {
	r := resolved{key: f.dataset, table: f.table, paperKey: report.MOSI}
	if r.key == "" {
		r.key = "mosi"
		if f.data == "" {
			r.key = "synthetic"
		} else if strings.Contains(strings.ToLower(f.data), "mosei") {
			r.key = "mosei"
		}
	}
	if r.key == "mosei" {
		r.paperKey = report.MOSEI
		if r.table == "4" {
			r.table = "5"
		}
	}
	if r.table == "5" {
		r.paperKey = report.MOSEI
	}
	return r
}

// newJob loads the data and resolves the setting, the table and the
// paper's dataset (resolve). Progress goes to log, warnings to warn.
func newJob(f *flags, tmp string, log, warn io.Writer) (*job, error) {
	p, err := load(f, log, warn)
	if err != nil {
		return nil, err
	}
	r := resolve(f)
	j := &job{f: f, warn: warn, tmp: tmp, p: p, key: r.key, table: r.table, paperKey: r.paperKey, run: runName(r.table, f)}
	j.set = datasets.Settings()[j.key]
	if f.epochs > 0 {
		j.set.Epochs = f.epochs
	}
	if f.timeBudget > 0 {
		j.set.Budget = f.timeBudget
	}
	j.base = baseConfig(f, p, j.set)
	j.start = time.Now()
	fmt.Fprintf(log, "data: %s (%d/%d/%d samples), setting %s: batch %d, k_cl %d, up to %d epochs, seeds %v\n",
		p.Name, p.data.Train.Len(), p.data.Valid.Len(), p.data.Test.Len(), j.key, j.set.Batch, j.set.KCL, j.set.Epochs, f.seeds)
	return j, nil
}

// tableNumber is the paper's number of a --table value.
func tableNumber(table string) int {
	n, _ := strconv.Atoi(table) // parseFlags accepted only 3…8
	return n
}

// publishedTitle heads the paper's rows; it warns when the measured rows
// are on other data than the paper's.
func (j *job) publishedTitle() string {
	name := report.DatasetName(j.paperKey)
	if j.key != j.paperKey {
		return fmt.Sprintf("Published (%s). The rows above are measured on %s, not %s: not comparable number-for-number.",
			report.PaperSource(j.paperKey), j.p.Name, name)
	}
	return fmt.Sprintf("Published (%s):", report.PaperSource(j.paperKey))
}

// fit trains one row of a table with one seed, with checkpoints under
// --out.
func (j *job) fit(ctx context.Context, v variant, seed uint64, log io.Writer) (*train.Result, error) {
	dir := ""
	if j.f.out != "" {
		dir = j.checkpointDir(j.f.out, v.name, seed)
	}
	return j.fitTo(ctx, v, seed, dir, log)
}

// checkpointDir is the folder under root of the checkpoints of row name
// with seed.
func (j *job) checkpointDir(root, name string, seed uint64) string {
	return filepath.Join(root, "checkpoints", j.run, slug(name), fmt.Sprint(seed))
}

// fitTo trains one row of a table with one seed, with checkpoints in dir
// (none when it is empty).
func (j *job) fitTo(ctx context.Context, v variant, seed uint64, dir string, log io.Writer) (*train.Result, error) {
	f, p, set := j.f, j.p, j.set
	fmt.Fprintf(log, "== %s, seed %d\n", v.name, seed)
	o := train.Options{
		Model: train.ModelOptions{Seed: seed, ClipNorm: f.clipNorm,
			AdamW: train.AdamWConfig{LR: set.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}},
		BatchSize: set.Batch, Epochs: set.Epochs, Patience: set.Patience, TextFeats: p.TextFeats, Lt: p.Lt, Meta: p.Meta,
		Progress: log, ProgressBar: train.IsTerminal(log), Resume: f.resume, OutDir: dir,
	}
	if set.Budget > 0 {
		// Budgets add up from the start, so time a run leaves unused passes
		// to the next; the text-only baseline costs about a sixth as much.
		share := set.Budget
		if v.cfg.TextOnly {
			share /= 6
		}
		j.allotted += share
		o.Deadline = j.start.Add(j.allotted)
	}
	if p.pre != nil && !p.TextFeats && v.cfg.TextEncoder == "neobert" {
		o.Model.Init = p.pre.LoadInto // the BERT ablation starts from scratch
	}
	res, err := train.Fit(ctx, v.cfg, p.data, o)
	if err != nil {
		// Fit checks the splits first; it does not know the file they came from.
		return nil, fmt.Errorf("%s: %s, seed %d: %w", p.Source, v.name, seed, err)
	}
	for _, w := range res.Test.Warnings() {
		fmt.Fprintln(j.warn, "warning:", w)
	}
	return res, nil
}

// stopLine says at which epoch a run stopped, why, and which epoch's
// weights were tested.
func stopLine(name string, seed uint64, set datasets.Setting, res *train.Result) string {
	last := 0
	if n := len(res.History); n > 0 {
		last = res.History[n-1].Epoch
	}
	why := res.Stop
	switch res.Stop {
	case train.StopPatience:
		why = fmt.Sprintf("no validation-MAE improvement for %d epochs", set.Patience)
	}
	return fmt.Sprintf("%s, seed %d: stopped after epoch %d of at most %d (%s); tested the best validation epoch, %d.",
		name, seed, last, set.Epochs, why, res.BestEpoch)
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
