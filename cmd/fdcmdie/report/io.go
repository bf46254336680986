package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/fdcmdie/fdcmdie/train"
	"github.com/fdcmdie/fdcmdie/train/repro"
)

// csvHeader returns the CSV header: name, reported, source, seeds, then
// "<key>_mean" and "<key>_std" for every metric key in canonical order.
func csvHeader() []string {
	h := []string{"name", "reported", "source", "seeds"}
	for _, k := range train.MetricNames() {
		h = append(h, k+"_mean", k+"_std")
	}
	return h
}

// WriteCSV writes rows to path as CSV with the header name, reported,
// source, seeds, Acc2Has0_mean, Acc2Has0_std, …, Corr_mean, Corr_std. Values are
// raw fractions in the shortest form that reads back exactly; a missing
// metric is an empty cell. The file is replaced atomically.
func WriteCSV(path string, rows []train.Row) error {
	if err := validateRows(rows); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.Write(csvHeader()); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	for _, r := range rows {
		rec := []string{r.Name, strconv.FormatBool(r.Reported), r.Source, strconv.Itoa(r.Seeds)}
		for _, k := range train.MetricNames() {
			mean, _ := r.Mean.Value(k)
			std, ok := r.StdOf(k)
			if !ok {
				std = math.NaN()
			}
			rec = append(rec, formatOptional(mean), formatOptional(std))
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("report: %s: row %q: %w", path, r.Name, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	return repro.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// formatOptional formats v exactly, or returns "" when it is missing (NaN).
func formatOptional(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// ReadCSV reads rows written by [WriteCSV].
func ReadCSV(path string) ([]train.Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("report: %s: empty file", path)
	}
	if want := csvHeader(); !slices.Equal(recs[0], want) {
		return nil, fmt.Errorf("report: %s: header is %q, want %q", path, recs[0], want)
	}
	rows := make([]train.Row, 0, len(recs)-1)
	for line, rec := range recs[1:] {
		r, err := parseCSVRow(rec)
		if err != nil {
			return nil, fmt.Errorf("report: %s: line %d: %w", path, line+2, err)
		}
		rows = append(rows, r)
	}
	if err := validateRows(rows); err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	return rows, nil
}

// parseCSVRow parses one data record of a [WriteCSV] file.
func parseCSVRow(rec []string) (train.Row, error) {
	const first = 4 // name, reported, source, seeds
	r := train.Row{Name: rec[0], Source: rec[2], Mean: train.Missing(), Std: train.Missing()}
	var err error
	if r.Reported, err = strconv.ParseBool(rec[1]); err != nil {
		return train.Row{}, fmt.Errorf("reported: %w", err)
	}
	if r.Seeds, err = strconv.Atoi(rec[3]); err != nil {
		return train.Row{}, fmt.Errorf("seeds: %w", err)
	}
	for i, k := range train.MetricNames() {
		for j, m := range []*train.Metrics{&r.Mean, &r.Std} {
			cell := rec[first+2*i+j]
			if cell == "" {
				continue
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				return train.Row{}, fmt.Errorf("%s: %w", csvHeader()[first+2*i+j], err)
			}
			if err := m.Set(k, v); err != nil {
				return train.Row{}, err
			}
		}
	}
	return r, nil
}

// WriteJSON writes rows to path as an indented JSON array of [train.Row] objects
// ({"name", "reported", "seeds", "mean": {key: value}, "std": {…}}). The
// file is replaced atomically.
func WriteJSON(path string, rows []train.Row) error {
	if err := validateRows(rows); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	data, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	data = append(data, '\n')
	return repro.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// ReadJSON reads rows written by [WriteJSON].
func ReadJSON(path string) ([]train.Row, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var rows []train.Row
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	if err := validateRows(rows); err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	return rows, nil
}
