package repro

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/mmsa"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/graph/textenc"
	"github.com/fdcmdie/fdcmdie/layers"
	"github.com/fdcmdie/fdcmdie/train"
)

// Experiment is a Spec with its data read and prepared: everything a
// table's training runs need.
type Experiment struct {
	Spec     Spec
	Resolved Resolved
	// Setting is paper table 2's for the data set, with Spec.Epochs and
	// Spec.TimeBudget applied.
	Setting    datasets.Setting
	Prepared   *datasets.Prepared
	Data       train.Data
	Pretrained *textenc.Pretrained // Spec.NeoBERT's release; nil without
	Base       graph.Config        // the model of the preset for this data, with the ablations
	// Start is when the data was ready: the time budgets count from it.
	Start time.Time
}

// Open reads Spec.Data, or generates the embedded corpus, and prepares it
// (datasets.Prepare); with FreezeText it replaces the text by the frozen
// NeoBERT's features. Progress goes to log, the data's warnings to warn.
func Open(s Spec, log, warn io.Writer) (*Experiment, error) {
	e := &Experiment{Spec: s, Resolved: s.Resolve()}
	var err error
	if s.NeoBERT != "" {
		if e.Pretrained, err = textenc.LoadPretrained(s.NeoBERT); err != nil {
			return nil, fmt.Errorf("--neobert: %w", err)
		}
	}
	ds, o, err := read(s, e.Pretrained, warn)
	if err != nil {
		return nil, err
	}
	if e.Prepared, err = datasets.Prepare(ds, o); err != nil {
		return nil, err
	}
	if s.FreezeText {
		dir := s.CacheDir
		if dir == "" {
			if dir, err = os.UserCacheDir(); err != nil {
				return nil, fmt.Errorf("--freeze-text: no cache folder (use --cache): %w", err)
			}
			dir = filepath.Join(dir, "fdcmdie")
		}
		if err := e.Pretrained.Freeze(e.Prepared, dir, log, train.NewBar(log)); err != nil {
			return nil, err
		}
	}
	p := e.Prepared
	e.Data = train.Data{Train: p.Train, Valid: p.Valid, Test: p.Test}
	e.Setting = datasets.Settings()[e.Resolved.Key]
	if s.Epochs > 0 {
		e.Setting.Epochs = s.Epochs
	}
	if s.TimeBudget > 0 {
		e.Setting.Budget = s.TimeBudget
	}
	e.Base = e.baseConfig()
	e.Start = time.Now()
	fmt.Fprintf(log, "data: %s (%d/%d/%d samples), setting %s: batch %d, k_cl %d, up to %d epochs, seeds %v\n",
		p.Name, p.Train.Len(), p.Valid.Len(), p.Test.Len(), e.Resolved.Key, e.Setting.Batch, e.Setting.KCL, e.Setting.Epochs, s.Seeds)
	return e, nil
}

// read reads Spec.Data, or generates the synthetic corpus with its
// tokenizer (the NeoBERT release's, else one made for it), and says how to
// prepare it. The data's warnings go to warn.
func read(s Spec, pre *textenc.Pretrained, warn io.Writer) (*datasets.Dataset, datasets.PrepareOptions, error) {
	o := datasets.PrepareOptions{Source: "the synthetic corpus", TextFeats: s.TextFeatures}
	if pre != nil {
		o.Vocab = pre.Config().VocabSize
	}
	if s.Data == "" {
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
	o.Source = s.Data
	if o.Vocab == 0 {
		o.Vocab = 30522 // text_bert holds bert-base-uncased ids, NeoBERT's vocabulary
	}
	opts := mmsa.Options{DropTextFeats: !s.TextFeatures}
	if !s.TextFeatures { // every split's ids are checked now, not at its first evaluation
		opts.Vocab = o.Vocab
	}
	ds, rep, err := mmsa.ReadReport(s.Data, opts)
	if err != nil {
		return nil, o, err
	}
	if msg := rep.String(); msg != "" {
		fmt.Fprintln(warn, msg)
	}
	return ds, o, nil
}

// baseConfig is the model of the preset for the prepared data.
func (e *Experiment) baseConfig() graph.Config {
	p, s := e.Prepared, e.Spec
	cfg := graph.DefaultConfig()
	cfg.AudioDim, cfg.VisionDim = p.Train.Audio.D, p.Train.Vision.D
	cfg.KCL = e.Setting.KCL
	cfg.TextFeats = p.TextFeats
	if p.TextFeats {
		cfg.TextDim = p.Train.TextFeats.D
	}
	preset := s.Preset
	if preset == "" {
		preset = "paper"
		if s.Data == "" {
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
	if e.Pretrained != nil && !p.TextFeats {
		cfg.NeoBERT = e.Pretrained.Config() // the released encoder, fine-tuned with the model
	}
	cfg.NoGAP, cfg.NoCrossAtt2, cfg.NoCL, cfg.NoCMDIE = s.NoGAP, s.NoCrossAtt2, s.NoCL, s.NoCMDIE
	if s.NoNeoBERT {
		cfg.TextEncoder = "bert"
	}
	return cfg
}

// Plan lists the units of the table's rows (TableRows; values are the
// sweep of tables 4–6) over the seeds.
func (e *Experiment) Plan(values []int) (*Plan, error) {
	return e.PlanFor(values, e.Prepared.Train.Len())
}

// PlanFor is Plan with the units' costs for trainSamples training samples
// (a data set's size, to plan it before having it).
func (e *Experiment) PlanFor(values []int, trainSamples int) (*Plan, error) {
	rows, err := TableRows(e.Resolved.Table, e.Spec.ModelName(), e.Base, values)
	if err != nil {
		return nil, err
	}
	return NewPlan(e.Spec.RunName(), e.Resolved.Table, e.Prepared.Name, e.Setting, e.Spec.ClipNorm, rows, e.Spec.Seeds, trainSamples)
}

// Trainer returns a Trainer of plan on this data, keeping results under
// out ("" for none); progress and bars go to log, warnings to warn.
func (e *Experiment) Trainer(plan *Plan, out string, log, warn io.Writer) *Trainer {
	t := &Trainer{Plan: plan, Data: e.Data, Source: e.Prepared.Source, TextFeats: e.Prepared.TextFeats, Lt: e.Prepared.Lt,
		Meta: e.Prepared.Meta, Out: out, Progress: log, Warn: warn, ProgressBar: train.IsTerminal(log), Start: e.Start}
	if e.Pretrained != nil {
		t.Init = e.Pretrained.LoadInto
	}
	return t
}
