package repro

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers/safetensors"
	"github.com/fdcmdie/fdcmdie/train"
)

// A unit's files live in its own folder under the output folder,
//
//	checkpoints/<run>/<row>/<seed>/
//
// beside its training checkpoints: result.safetensors is written last,
// atomically, when the unit has finished. Its presence, with the unit's
// config hash, is what marks the unit done; the test predictions and the
// pooled test features (figures 8–9) are its tensors, the rest of
// train.Result its metadata.
const resultFile = "result.safetensors"

// UnitDir is the folder of a unit's checkpoints and result under out.
func UnitDir(out, run string, u Unit) string {
	return filepath.Join(out, "checkpoints", run, Slug(u.Row), fmt.Sprint(u.Seed))
}

// Slug makes a row name usable as a folder name.
func Slug(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			return r
		}
		return '_'
	}, s)
}

// stored is the metadata of a result file.
type stored struct {
	Test      train.Metrics      `json:"test"`
	BestEpoch int                `json:"best_epoch"`
	History   []train.EpochStats `json:"history"`
	Stop      string             `json:"stop"`
	Alpha     [][3]float64       `json:"alpha"`
}

// resultTensors names the arrays of a result.
func resultTensors(r *train.Result) map[string]*[]float32 {
	t := map[string]*[]float32{"test_pred": &r.TestPred}
	for m, name := range []string{"t", "v", "a"} {
		t["test_s."+name] = &r.TestS[m]
		t["test_d."+name] = &r.TestD[m]
	}
	return t
}

// SaveResult stores the result of unit u under out (see UnitDir).
func SaveResult(out, run string, u Unit, r *train.Result) error {
	meta := map[string]string{}
	for key, v := range map[string]any{"unit": u, "config": u.Model,
		"result": stored{r.Test, r.BestEpoch, r.History, r.Stop, r.Alpha}} {
		data, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("unit %d (%s, seed %d): %w", u.Index, u.Row, u.Seed, err)
		}
		meta[key] = string(data)
	}
	var ts []safetensors.Tensor
	for name, data := range resultTensors(r) {
		if len(*data) > 0 {
			ts = append(ts, safetensors.Tensor{Name: name, Shape: []int{len(*data)}, Data: *data})
		}
	}
	dir := UnitDir(out, run, u)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return safetensors.Write(filepath.Join(dir, resultFile), ts, meta)
}

// ErrNoResult is returned by LoadResult for a unit that has not finished,
// or whose stored result is for other settings (another config hash).
var ErrNoResult = errors.New("no result")

// LoadResult reads the stored result of unit u, with the model config it
// was trained with. A missing result, or one of another config hash, is
// ErrNoResult; an unreadable one is an error naming the file.
func LoadResult(out, run string, u Unit) (*train.Result, graph.Config, error) {
	path := filepath.Join(UnitDir(out, run, u), resultFile)
	f, err := safetensors.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, graph.Config{}, ErrNoResult
	}
	if err != nil {
		return nil, graph.Config{}, err
	}
	defer f.Close()
	meta := f.Metadata()
	var su Unit
	if err := decodeMeta(meta, "unit", &su); err != nil {
		return nil, graph.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if su.Config != u.Config || su.Row != u.Row || su.Seed != u.Seed {
		return nil, graph.Config{}, ErrNoResult
	}
	var s stored
	var cfg graph.Config
	if err := decodeMeta(meta, "result", &s); err != nil {
		return nil, graph.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := decodeMeta(meta, "config", &cfg); err != nil {
		return nil, graph.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	r := &train.Result{Test: s.Test, BestEpoch: s.BestEpoch, History: s.History, Stop: s.Stop, Alpha: s.Alpha}
	for name, data := range resultTensors(r) {
		info, ok := f.Info(name)
		if !ok {
			continue
		}
		*data = make([]float32, info.NumElements())
		if err := f.ReadFloat32(name, *data); err != nil {
			return nil, graph.Config{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	return r, cfg, nil
}

// decodeMeta decodes the metadata entry key strictly into v.
func decodeMeta(meta map[string]string, key string, v any) error {
	raw, ok := meta[key]
	if !ok {
		return fmt.Errorf("__metadata__ has no %q", key)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("__metadata__ %q: %w", key, err)
	}
	return nil
}
