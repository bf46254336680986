package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/train"
	"github.com/fdcmdie/fdcmdie/train/repro"
)

// prediction is one output line.
type prediction struct {
	ID       string       `json:"id"`
	Pred     float32      `json:"pred"`
	Label    *float32     `json:"label,omitempty"`
	GapAlpha [][3]float32 `json:"gap_alpha,omitempty"`
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

// readJSONL reads JSON lines into one split named after the file, checked
// against the model (errors name the line and the field) and standardized.
// Blank lines are skipped.
func readJSONL(p *train.Predictor, path string) (*input, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	r := bufio.NewReader(file)
	var samples []train.Sample
	var labels []*float32
	for line := 1; ; line++ {
		raw, rerr := r.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, fmt.Errorf("%s: line %d: %w", path, line, rerr)
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			s, label, err := parseSample(p, raw)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: %w", path, line, err)
			}
			samples, labels = append(samples, s), append(labels, label)
		}
		if rerr == io.EOF {
			break
		}
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("%s: no samples", path)
	}
	s, err := p.NewSplit(path, samples)
	if err != nil {
		return nil, err
	}
	known := make([]bool, len(labels))
	for i, y := range labels {
		if y != nil {
			s.Labels[i], known[i] = *y, true
		}
	}
	return &input{splits: []*datasets.Split{s}, known: [][]bool{known}}, nil
}

// parseSample decodes one JSON line and checks it (train.Predictor's
// CheckSample); it returns the sample and its label, nil when unknown.
func parseSample(p *train.Predictor, raw []byte) (train.Sample, *float32, error) {
	var js jsonSample
	var s train.Sample
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

// writePredictions writes one JSON line per prediction to path
// (atomically: repro.WriteAtomic) or, when path is empty, to stdout.
func writePredictions(path string, stdout io.Writer, preds []prediction) error {
	write := func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, p := range preds {
			if err := enc.Encode(p); err != nil {
				return err
			}
		}
		return nil
	}
	if path == "" {
		return write(stdout)
	}
	return repro.WriteAtomic(path, write)
}

// reportMetrics prints the metrics (train.Evaluate) of the samples whose
// label is known, if any.
func reportMetrics(w io.Writer, preds []prediction) error {
	var pred, label []float32
	for _, p := range preds {
		if p.Label != nil {
			pred, label = append(pred, p.Pred), append(label, *p.Label)
		}
	}
	if len(label) == 0 {
		return nil
	}
	m, err := train.Evaluate(pred, label)
	if err != nil {
		return fmt.Errorf("predict: metrics: %w", err)
	}
	fmt.Fprintf(w, "%d of %d samples labelled: MAE %.4f  Corr %.4f  Acc-2 %.2f/%.2f  F1 %.2f/%.2f (has0/non0)  Acc-7 %.2f  Acc-5 %.2f\n",
		len(label), len(preds), m.MAE, m.Corr, 100*m.Acc2Has0, 100*m.Acc2Non0, 100*m.F1Has0, 100*m.F1Non0, 100*m.Acc7, 100*m.Acc5)
	for _, s := range m.Warnings() {
		fmt.Fprintln(w, "warning:", s)
	}
	return nil
}
