package main

import (
	"encoding/json"
	"fmt"
	"io"

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
