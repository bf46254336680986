package main

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

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
)

// A command's files under --out are named after its run, the table and the
// ablation flags ("table3", "table3_no-gap"), so that two different
// commands never write the same file:
//
//	<run>.csv, <run>.json             measured and published rows (table 8: the cases)
//	<run>.manifest.json               the settings of the run
//	figures/<run>/                    its figures
//	checkpoints/<run>/<row>/<seed>/   its checkpoints
//
// A command whose run's files are there already refuses to start, unless
// --resume continues that run with the same settings or --overwrite
// replaces it.

// runName names a command's files: its table (as resolved: --table 4 on
// MOSEI is table 5) and its ablation flags.
func runName(table string, f *flags) string {
	name := "table" + table
	for _, a := range f.ablations() {
		name += "_" + strings.TrimPrefix(a, "--")
	}
	return name
}

// manifest holds the settings that define a run's results; a command with
// other settings is another run. --epochs and --time-budget are not among
// them: they only say when training stops, and a resumed run may change
// them.
type manifest struct {
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

func newManifest(f *flags, run string) (manifest, error) {
	m := manifest{Run: run, Dataset: f.dataset, Preset: f.preset, Table: f.table, Ablations: f.ablations(),
		TextFeatures: f.textFeatures, FreezeText: f.freezeText, Seeds: f.seeds, Values: f.values,
		ClipNorm: f.clipNorm, Cases: f.cases}
	for _, p := range []struct {
		dst  *string
		path string
	}{{&m.Data, f.data}, {&m.NeoBERT, f.neobert}, {&m.Checkpoint, f.checkpoint}} {
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

// outDir is a command's claim on --out.
type outDir struct {
	dir, run string
	m        manifest
	held     []string // the run's files already in dir, relative to it
}

func (o *outDir) path(name string) string { return filepath.Join(o.dir, name) }

func (o *outDir) manifestName() string { return o.run + ".manifest.json" }

// files are the names, relative to dir, of everything the run writes.
func (o *outDir) files() []string {
	return []string{o.manifestName(), o.run + ".csv", o.run + ".json",
		filepath.Join("figures", o.run), filepath.Join("checkpoints", o.run)}
}

// claimOut checks --out before any work. A folder without the run's files,
// or --overwrite, is taken as it is; --resume needs the run's manifest with
// the same settings; anything else is refused with an error naming the
// folder, what it holds and the two ways out.
func claimOut(f *flags, table string) (*outDir, error) {
	run := runName(table, f)
	m, err := newManifest(f, run)
	if err != nil {
		return nil, err
	}
	o := &outDir{dir: f.out, run: run, m: m}
	for _, name := range o.files() {
		_, err := os.Lstat(o.path(name))
		switch {
		case err == nil:
			o.held = append(o.held, name)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("--out %s: %w", f.out, err)
		}
	}
	if len(o.held) == 0 || f.overwrite {
		return o, nil
	}
	held := strings.Join(o.held, ", ")
	if !slices.Contains(o.held, o.manifestName()) {
		return nil, fmt.Errorf("--out %s holds %s files (%s) without %s to say with which settings they were made: --overwrite replaces them, or choose another --out",
			f.out, run, held, o.manifestName())
	}
	if !f.resume {
		return nil, fmt.Errorf("--out %s holds an earlier %s run (%s): --resume continues it with the same settings, --overwrite replaces it",
			f.out, run, held)
	}
	diff, err := o.differences()
	if err != nil {
		return nil, err
	}
	if diff != "" {
		return nil, fmt.Errorf("--resume: the %s run in --out %s has other settings (%s): resume it with its own, or --overwrite to replace it",
			run, f.out, diff)
	}
	return o, nil
}

// differences lists the settings in which the manifest on disk differs
// from this run's, as "name: there, now".
func (o *outDir) differences() (string, error) {
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

// commit makes --out the run's once its data has loaded: with --overwrite
// it removes the run's earlier files, then it writes the manifest
// atomically.
func (o *outDir) commit(overwrite bool, log io.Writer) error {
	if overwrite && len(o.held) > 0 {
		for _, name := range o.held {
			if name == o.manifestName() {
				continue // replaced below
			}
			if err := os.RemoveAll(o.path(name)); err != nil {
				return fmt.Errorf("--overwrite: %w", err)
			}
		}
		fmt.Fprintf(log, "--overwrite: replacing the earlier %s run in %s (%s)\n", o.run, o.dir, strings.Join(o.held, ", "))
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	raw, err := json.MarshalIndent(o.m, "", "  ")
	if err != nil {
		return err
	}
	return report.WriteAtomic(o.path(o.manifestName()), func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	})
}
