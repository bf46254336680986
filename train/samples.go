package train

import (
	"errors"
	"fmt"

	"github.com/fdcmdie/fdcmdie/datasets"
)

// Sample is one utterance to predict, with raw features: audio and vision
// as recorded (the Predictor standardizes them with the statistics of
// training), text as the model reads it.
type Sample struct {
	ID string
	// Text is tokenized with the checkpoint's tokenizer (cut to the text
	// encoder's length, [SEP] kept last). A model trained on precomputed
	// text features ignores it.
	Text string
	// TextIDs are token ids ([CLS] … [SEP]) to use instead of Text: needed
	// when the checkpoint has no tokenizer (a model trained on MMSA
	// text_bert ids).
	TextIDs []int32
	// TextFeats are precomputed text features [T_t][text_dim], needed
	// (instead of Text) by a model trained on them.
	TextFeats [][]float32
	// Audio [T_a][audio_dim] and Vision [T_v][vision_dim]: at least one
	// step each.
	Audio, Vision [][]float32
}

// CheckSample reports what in s the model cannot read: a feature width
// that is not the config's, an empty modality, missing text or text
// features, a token id outside the vocabulary. Errors name the field
// (audio[3]) and the config entry (audio_dim).
func (p *Predictor) CheckSample(s Sample) error {
	_, err := p.checkSample(s)
	return err
}

// checkSample checks s and returns the token ids of its text (nil for a
// text-features model).
func (p *Predictor) checkSample(s Sample) ([]int32, error) {
	cfg := p.cfg
	if err := checkSteps("audio", s.Audio, cfg.AudioDim, "audio_dim"); err != nil {
		return nil, err
	}
	if err := checkSteps("vision", s.Vision, cfg.VisionDim, "vision_dim"); err != nil {
		return nil, err
	}
	if cfg.TextFeats {
		if s.TextFeats == nil {
			return nil, fmt.Errorf("text_feats: missing: the checkpoint's model reads %d-d precomputed text features, not text", cfg.TextDim)
		}
		return nil, checkSteps("text_feats", s.TextFeats, cfg.TextDim, "text_dim")
	}
	return p.textIDs(s)
}

// textIDs returns a sample's token ids: its TextIDs, or its Text through
// the checkpoint's tokenizer.
func (p *Predictor) textIDs(s Sample) ([]int32, error) {
	ids := s.TextIDs
	switch {
	case ids != nil:
		if len(ids) < 2 {
			return nil, fmt.Errorf("text_ids: %d ids: want at least [CLS] and [SEP]", len(ids))
		}
	case p.tok == nil:
		return nil, errors.New("text: the checkpoint has no tokenizer (its model reads MMSA text_bert ids): give \"text_ids\"")
	default:
		var err error
		if ids, _, err = p.tok.Encode(s.Text, p.textLimit()); err != nil {
			return nil, fmt.Errorf("text: %w", err)
		}
	}
	for t, id := range ids {
		if id < 0 || int(id) >= p.cfg.NeoBERT.VocabSize {
			return nil, fmt.Errorf("text_ids: id %d at position %d outside the checkpoint's vocabulary [0, %d)", id, t, p.cfg.NeoBERT.VocabSize)
		}
	}
	return ids, nil
}

// checkSteps checks a [T][dim] sequence: at least one step, each of dim
// values (field names the config entry).
func checkSteps(key string, steps [][]float32, dim int, field string) error {
	if len(steps) == 0 {
		return fmt.Errorf("%s: missing or empty: want at least one step of %d features", key, dim)
	}
	for t, x := range steps {
		if len(x) != dim {
			return fmt.Errorf("%s[%d]: %d features, the checkpoint's model takes %d (%s)", key, t, len(x), dim, field)
		}
	}
	return nil
}

// NewSplit lays checked samples out as a split named name, ready for
// PredictSplit: text tokenized, audio and vision standardized, every
// sequence right-padded. Its labels are 0. An error names the sample by
// its position and ID, then the field (CheckSample).
func (p *Predictor) NewSplit(name string, samples []Sample) (*datasets.Split, error) {
	if len(samples) == 0 {
		return nil, fmt.Errorf("%s: no samples", name)
	}
	cfg := p.cfg
	n := len(samples)
	s := &datasets.Split{Name: name, IDs: make([]string, n), Labels: make([]float32, n)}
	var audio, vision, feats [][][]float32
	for i, x := range samples {
		ids, err := p.checkSample(x)
		if err != nil {
			return nil, fmt.Errorf("%s: sample %d (%q): %w", name, i, x.ID, err)
		}
		s.IDs[i] = x.ID
		audio, vision, feats = append(audio, x.Audio), append(vision, x.Vision), append(feats, x.TextFeats)
		if !cfg.TextFeats {
			s.TextIDs, s.TextLen = append(s.TextIDs, ids), append(s.TextLen, len(ids))
		}
	}
	s.Audio, s.AudioLen = pack(audio, cfg.AudioDim)
	s.Vision, s.VisionLen = pack(vision, cfg.VisionDim)
	if cfg.TextFeats {
		s.TextFeats, s.TextLen = pack(feats, cfg.TextDim)
	}
	if err := p.st.Apply(s); err != nil {
		return nil, err
	}
	return s, nil
}

// pack stores n sequences of [T_i][d] values as one [n, max T_i, d] array,
// zero-padded, with the lengths T_i.
func pack(seqs [][][]float32, d int) (datasets.Seq, []int) {
	t := 0
	for _, x := range seqs {
		t = max(t, len(x))
	}
	q := datasets.Seq{N: len(seqs), T: t, D: d, Data: make([]float32, len(seqs)*t*d)}
	lens := make([]int, len(seqs))
	for i, x := range seqs {
		lens[i] = len(x)
		row := q.Row(i)
		for k, step := range x {
			copy(row[k*d:(k+1)*d], step)
		}
	}
	return q, lens
}

// Prepare readies a split read from a data file (an MMSA pickle: raw
// features, text as RawText and text_bert ids) for PredictSplit, in place,
// as training prepared its data: it checks the feature widths against the
// model, tokenizes RawText with the checkpoint's tokenizer when it has one
// (the model learnt that vocabulary, not text_bert's), checks the token
// ids against the vocabulary, and standardizes audio and vision with the
// checkpoint's statistics. Errors name the split and the field.
func (p *Predictor) Prepare(s *datasets.Split) error {
	cfg := p.cfg
	for _, m := range []struct {
		key       string
		got, want int
		field     string
	}{{"audio", s.Audio.D, cfg.AudioDim, "audio_dim"}, {"vision", s.Vision.D, cfg.VisionDim, "vision_dim"}} {
		if m.got != m.want {
			return fmt.Errorf("%s/%s: %d features, the checkpoint's model takes %d (%s)", s.Name, m.key, m.got, m.want, m.field)
		}
	}
	switch {
	case cfg.TextFeats && s.TextFeats.Data == nil:
		return fmt.Errorf("%s/text: no precomputed text features, which the checkpoint's model reads (text_feats)", s.Name)
	case cfg.TextFeats && s.TextFeats.D != cfg.TextDim:
		return fmt.Errorf("%s/text: %d-d text features, the checkpoint's model takes %d (text_dim)", s.Name, s.TextFeats.D, cfg.TextDim)
	case !cfg.TextFeats && p.tok != nil:
		if err := datasets.Tokenize(s, p.tok, p.textLimit()); err != nil {
			return err
		}
	}
	if !cfg.TextFeats {
		if err := checkVocab(s, cfg.NeoBERT.VocabSize); err != nil {
			return err
		}
	}
	return p.st.Apply(s)
}

// checkVocab reports a token id the text encoder has no embedding for.
func checkVocab(s *datasets.Split, vocab int) error {
	for i, row := range s.TextIDs {
		for t, id := range row[:min(s.TextLen[i], len(row))] {
			if int(id) >= vocab {
				return fmt.Errorf("%s/text_ids: id %d at row %d, position %d: the checkpoint's vocabulary has %d ids", s.Name, id, i, t, vocab)
			}
		}
	}
	return nil
}
