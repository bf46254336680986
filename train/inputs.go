package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/mmsa"
)

// ReadMMSA reads a split of an MMSA pickle ("train", "valid", "test", or
// "all" for the three) and prepares it for the predictor (Prepare).
func (p *Predictor) ReadMMSA(path, split string) ([]*datasets.Split, error) {
	ds, err := mmsa.Read(path, mmsa.Options{DropTextFeats: !p.Config().TextFeats})
	if err != nil {
		return nil, err
	}
	splits, ok := map[string][]*datasets.Split{"train": {ds.Train}, "valid": {ds.Valid}, "test": {ds.Test},
		"all": {ds.Train, ds.Valid, ds.Test}}[split]
	if !ok {
		return nil, fmt.Errorf("split %q: want train, valid, test or all", split)
	}
	for _, s := range splits {
		if err := p.Prepare(s); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return splits, nil
}

// jsonSample is one line of --jsonl input. Feature values are decoded as
// pointers so that a null is an error instead of a silent 0.
type jsonSample struct {
	ID        *string      `json:"id"`
	Text      *string      `json:"text"`
	TextIDs   []int32      `json:"text_ids"`
	TextFeats [][]*float32 `json:"text_feats"`
	Audio     [][]*float32 `json:"audio"`
	Vision    [][]*float32 `json:"vision"`
	Label     *float32     `json:"label"`
}

// ReadJSONL reads samples from a file of JSON lines into one split named
// after the file, checked against the model (errors name the line and the
// field) and prepared as training prepares its splits. Each line is an
// object {"id", "text" or "text_ids" (or "text_feats" for a model on text
// features), "audio", "vision" ([steps][features], raw: standardized
// here), "label" (optional)}; known says which lines had a label. Blank
// lines are skipped.
func (p *Predictor) ReadJSONL(path string) (s *datasets.Split, known []bool, err error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer file.Close()
	r := bufio.NewReader(file)
	var samples []Sample
	var labels []*float32
	for line := 1; ; line++ {
		raw, rerr := r.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, nil, fmt.Errorf("%s: line %d: %w", path, line, rerr)
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			sample, label, err := p.parseSample(raw)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: line %d: %w", path, line, err)
			}
			samples, labels = append(samples, sample), append(labels, label)
		}
		if rerr == io.EOF {
			break
		}
	}
	if len(samples) == 0 {
		return nil, nil, fmt.Errorf("%s: no samples", path)
	}
	if s, err = p.NewSplit(path, samples); err != nil {
		return nil, nil, err
	}
	known = make([]bool, len(labels))
	for i, y := range labels {
		if y != nil {
			s.Labels[i], known[i] = *y, true
		}
	}
	return s, known, nil
}

// parseSample decodes one JSON line and checks it (CheckSample); it
// returns the sample and its label, nil when unknown.
func (p *Predictor) parseSample(raw []byte) (Sample, *float32, error) {
	var js jsonSample
	var s Sample
	if err := json.Unmarshal(raw, &js); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return s, nil, fmt.Errorf("want a JSON object, got a JSON %s", te.Value)
			}
			return s, nil, fmt.Errorf("%s: cannot take a JSON %s (want %v)", te.Field, te.Value, te.Type)
		}
		return s, nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if js.ID == nil {
		return s, nil, errors.New("id: missing")
	}
	if js.Label != nil && !(*js.Label >= -3 && *js.Label <= 3) {
		return s, nil, fmt.Errorf("label: %v outside [-3, 3]", *js.Label)
	}
	s.ID, s.TextIDs = *js.ID, js.TextIDs
	if js.Text != nil {
		s.Text = *js.Text
	}
	var err error
	if s.Audio, err = numbers("audio", js.Audio); err != nil {
		return s, nil, err
	}
	if s.Vision, err = numbers("vision", js.Vision); err != nil {
		return s, nil, err
	}
	if p.Config().TextFeats {
		if s.TextFeats, err = numbers("text_feats", js.TextFeats); err != nil {
			return s, nil, err
		}
	}
	if err := p.CheckSample(s); err != nil {
		return s, nil, err
	}
	if !p.Config().TextFeats && js.TextIDs == nil && js.Text == nil {
		return s, nil, errors.New("text: missing")
	}
	return s, js.Label, nil
}

// numbers returns the values of a [T][D] JSON array, refusing a null.
func numbers(key string, steps [][]*float32) ([][]float32, error) {
	if steps == nil {
		return nil, nil
	}
	vals := make([][]float32, len(steps))
	for t, x := range steps {
		vals[t] = make([]float32, len(x))
		for j, v := range x {
			if v == nil {
				return nil, fmt.Errorf("%s[%d][%d]: null, want a number", key, t, j)
			}
			vals[t][j] = *v
		}
	}
	return vals, nil
}
