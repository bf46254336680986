package repro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fdcmdie/fdcmdie/graph"
)

// A reproduction's files under its output folder are named after its run,
// the table and the ablation flags ("table3", "table3_no-gap"), so that
// two different reproductions never write the same file:
//
//	<run>.csv, <run>.json             measured and published rows (table 8: the cases)
//	<run>.manifest.json               the settings of the run (Manifest)
//	<run>.plan.json                   its units (Plan), for merging without the data
//	figures/<run>/                    its figures
//	checkpoints/<run>/<row>/<seed>/   each unit's checkpoints and result
//
// A reproduction whose run's files are there already is refused, unless
// it resumes that run with the same settings, joins it as a shard, merges
// it, or overwrites it (Mode).

// Manifest holds the settings that define a run's results; a Spec with
// other settings is another run. Epochs and the time budget are not among
// them: they only say when training stops, and a resumed run may change
// them.
type Manifest struct {
	Run          string   `json:"run"`
	Data         string   `json:"data"` // absolute; "" for the embedded corpus
	Dataset      string   `json:"dataset"`
	Preset       string   `json:"preset"`
	Table        string   `json:"table"` // as given; Run has it resolved
	Ablations    []string `json:"ablations"`
	TextFeatures bool     `json:"text_features"`
	NeoBERT      string   `json:"neobert"`
	FreezeText   bool     `json:"freeze_text"`
	Seeds        []uint64 `json:"seeds"`
	Values       []int    `json:"values"`
	ClipNorm     float64  `json:"clip_norm"`
	Checkpoint   string   `json:"checkpoint"`
	Cases        []string `json:"cases"`
}

// NewManifest is the manifest of s, with its paths made absolute.
func NewManifest(s Spec) (Manifest, error) {
	m := Manifest{Run: s.RunName(), Dataset: s.Dataset, Preset: s.Preset, Table: s.Table, Ablations: s.AblationFlags(),
		TextFeatures: s.TextFeatures, FreezeText: s.FreezeText, Seeds: s.Seeds, Values: s.Values,
		ClipNorm: s.ClipNorm, Cases: s.Cases}
	for _, p := range []struct {
		dst  *string
		path string
	}{{&m.Data, s.Data}, {&m.NeoBERT, s.NeoBERT}, {&m.Checkpoint, s.Checkpoint}} {
		if p.path == "" {
			continue
		}
		abs, err := filepath.Abs(p.path)
		if err != nil {
			return m, err
		}
		*p.dst = abs
	}
	return m, nil
}

// Mode says what a reproduction may do with an earlier run's files.
type Mode int

const (
	// Fresh refuses an output folder that holds the run's files.
	Fresh Mode = iota
	// Resume continues the run there, which must have the same settings.
	Resume
	// Overwrite replaces the run's files.
	Overwrite
	// Join shares the run with other shards: the same settings, or none yet.
	Join
	// Merge reads a run that must be there, with the same settings.
	Merge
)

// OutDir is a reproduction's claim on its output folder.
type OutDir struct {
	Dir, Run string
	m        Manifest
	mode     Mode
	held     []string // the run's files already in Dir, relative to it
}

func (o *OutDir) path(name string) string { return filepath.Join(o.Dir, name) }

func (o *OutDir) manifestName() string { return o.Run + ".manifest.json" }

// PlanPath is the file of the run's plan.
func (o *OutDir) PlanPath() string { return o.path(o.Run + ".plan.json") }

// files are the names, relative to Dir, of everything the run writes.
func (o *OutDir) files() []string {
	return []string{o.manifestName(), o.Run + ".plan.json", o.Run + ".csv", o.Run + ".json",
		filepath.Join("figures", o.Run), filepath.Join("checkpoints", o.Run)}
}

// Claim checks the output folder dir before any work. A folder without
// the run's files, or Overwrite, is taken as it is; Resume and Merge need
// the run's manifest with the same settings, Join accepts it or none;
// anything else is refused with an error naming the folder, what it holds
// and the ways out.
func Claim(dir string, s Spec, mode Mode) (*OutDir, error) {
	m, err := NewManifest(s)
	if err != nil {
		return nil, err
	}
	o := &OutDir{Dir: dir, Run: m.Run, m: m, mode: mode}
	for _, name := range o.files() {
		_, err := os.Lstat(o.path(name))
		switch {
		case err == nil:
			o.held = append(o.held, name)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("--out %s: %w", dir, err)
		}
	}
	hasManifest := slices.Contains(o.held, o.manifestName())
	switch {
	case mode == Merge && !hasManifest:
		return nil, fmt.Errorf("--out %s holds no %s run (no %s): run its units first", dir, o.Run, o.manifestName())
	case len(o.held) == 0 || mode == Overwrite:
		return o, nil
	case !hasManifest:
		return nil, fmt.Errorf("--out %s holds %s files (%s) without %s to say with which settings they were made: --overwrite replaces them, or choose another --out",
			dir, o.Run, strings.Join(o.held, ", "), o.manifestName())
	case mode == Fresh:
		return nil, fmt.Errorf("--out %s holds an earlier %s run (%s): --resume continues it with the same settings, --overwrite replaces it",
			dir, o.Run, strings.Join(o.held, ", "))
	}
	diff, err := o.differences()
	if err != nil {
		return nil, err
	}
	if diff != "" {
		what := map[Mode]string{Resume: "--resume", Join: "--shard", Merge: "merge"}[mode]
		return nil, fmt.Errorf("%s: the %s run in --out %s has other settings (%s): use its own, or --overwrite to replace it",
			what, o.Run, dir, diff)
	}
	return o, nil
}

// differences lists the settings in which the manifest on disk differs
// from this run's, as "name: there, now".
func (o *OutDir) differences() (string, error) {
	path := o.path(o.manifestName())
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var there map[string]json.RawMessage
	if err := json.Unmarshal(raw, &there); err != nil {
		return "", fmt.Errorf("%s: %w (--overwrite replaces the run)", path, err)
	}
	mine, err := json.Marshal(o.m)
	if err != nil {
		return "", err
	}
	var now map[string]json.RawMessage
	if err := json.Unmarshal(mine, &now); err != nil {
		return "", err
	}
	var keys []string
	for k := range now {
		keys = append(keys, k)
	}
	for k := range there {
		if _, ok := now[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var diffs []string
	for _, k := range keys {
		if a, b := compact(there[k]), compact(now[k]); a != b {
			diffs = append(diffs, fmt.Sprintf("%s: %s there, %s now", k, a, b))
		}
	}
	return strings.Join(diffs, "; "), nil
}

// compact is a JSON value on one line; "none" for a missing one.
func compact(v json.RawMessage) string {
	if v == nil {
		return "none"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return string(v)
	}
	return b.String()
}

// Commit makes the folder the run's once its data has loaded: with
// Overwrite it removes the run's earlier files, then it writes the
// manifest and the plan atomically. Shards that join write the same
// bytes; a plan that differs from the one there (other epochs, other
// data) is refused.
func (o *OutDir) Commit(plan *Plan, log io.Writer) error {
	if o.mode == Overwrite && len(o.held) > 0 {
		for _, name := range o.held {
			if name == o.manifestName() {
				continue // replaced below
			}
			if err := os.RemoveAll(o.path(name)); err != nil {
				return fmt.Errorf("--overwrite: %w", err)
			}
		}
		fmt.Fprintf(log, "--overwrite: replacing the earlier %s run in %s (%s)\n", o.Run, o.Dir, strings.Join(o.held, ", "))
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	raw, err := json.MarshalIndent(o.m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeBytes(o.path(o.manifestName()), append(raw, '\n')); err != nil {
		return err
	}
	if plan == nil {
		return nil
	}
	if o.mode == Join {
		if there, err := ReadPlan(o.PlanPath()); err == nil && !samePlan(there, plan) {
			return fmt.Errorf("--shard: %s has other units than this command's (other --epochs, or other data?)", o.PlanPath())
		}
	}
	return plan.Write(o.PlanPath())
}

// planJSON is the file form of a Plan.
type planJSON struct {
	Run      string    `json:"run"`
	Table    string    `json:"table"`
	Data     string    `json:"data"`
	Batch    int       `json:"batch"`
	LR       float64   `json:"lr"`
	Epochs   int       `json:"epochs"`
	Patience int       `json:"patience"`
	ClipNorm float64   `json:"clip_norm"`
	Rows     []rowJSON `json:"rows"`
	Seeds    []uint64  `json:"seeds"`
	Units    []Unit    `json:"units"`
}

type rowJSON struct {
	Name   string       `json:"name"`
	Config graph.Config `json:"config"`
}

// Write stores the plan at path atomically.
func (p *Plan) Write(path string) error {
	j := planJSON{Run: p.Run, Table: p.Table, Data: p.Data, Batch: p.Setting.Batch, LR: p.Setting.LR, Epochs: p.Setting.Epochs,
		Patience: p.Setting.Patience, ClipNorm: p.ClipNorm, Seeds: p.Seeds, Units: p.Units}
	for _, r := range p.Rows {
		j.Rows = append(j.Rows, rowJSON{r.Name, r.Config})
	}
	raw, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return writeBytes(path, append(raw, '\n'))
}

// ReadPlan reads a plan that Plan.Write stored.
func ReadPlan(path string) (*Plan, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var j planJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p := &Plan{Run: j.Run, Table: j.Table, Data: j.Data, ClipNorm: j.ClipNorm, Seeds: j.Seeds, Units: j.Units}
	p.Setting.Batch, p.Setting.LR, p.Setting.Epochs, p.Setting.Patience = j.Batch, j.LR, j.Epochs, j.Patience
	for _, r := range j.Rows {
		p.Rows = append(p.Rows, Row{r.Name, r.Config})
	}
	if len(p.Rows)*len(p.Seeds) != len(p.Units) {
		return nil, fmt.Errorf("%s: %d units for %d rows × %d seeds", path, len(p.Units), len(p.Rows), len(p.Seeds))
	}
	for i := range p.Units {
		if p.Units[i].Index != i {
			return nil, fmt.Errorf("%s: unit %d has index %d", path, i, p.Units[i].Index)
		}
		p.Units[i].Model = p.Rows[i/len(p.Seeds)].Config
	}
	return p, nil
}

// samePlan reports whether two plans have the same units.
func samePlan(a, b *Plan) bool {
	if len(a.Units) != len(b.Units) {
		return false
	}
	for i := range a.Units {
		x, y := a.Units[i], b.Units[i]
		x.Model, y.Model = graph.Config{}, graph.Config{}
		if x != y {
			return false
		}
	}
	return true
}

// WriteAtomic writes a file through fill into a temporary file next to
// path, syncs it, and renames it over path: path holds its old content or
// the new, never a part. On error the temporary file is removed and path is
// left as it was.
func WriteAtomic(path string, fill func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("%s: %w", path, err)
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// writeBytes writes data to path atomically (WriteAtomic).
func writeBytes(path string, data []byte) error {
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
