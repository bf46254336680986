package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
)

// snapshot reads every file under dir (paths relative to it) whose
// relative path starts with one of the prefixes.
func snapshot(t *testing.T, dir string, prefixes ...string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		for _, p := range prefixes {
			if strings.HasPrefix(rel, p) {
				raw, err := os.ReadFile(path)
				files[rel] = string(raw)
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameFiles fails unless the two snapshots hold the same files with the
// same bytes.
func sameFiles(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	if len(after) != len(before) {
		t.Errorf("%s: %d files before, %d after", what, len(before), len(after))
	}
	for name, b := range before {
		if a, ok := after[name]; !ok || a != b {
			t.Errorf("%s: %s changed or removed", what, name)
		}
	}
}

// TestOutProtected: a second command into the --out of a finished run is
// refused, and leaves every file as it was, unless it resumes with the
// same settings or asks to overwrite; another ablation writes its own
// files beside the first run's.
func TestOutProtected(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on the synthetic corpus; run without -short")
	}
	out := t.TempDir()
	base := []string{"--preset", "tiny", "--epochs", "1", "--out", out, "--quiet"}
	runCLI := func(extra ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append(append([]string{}, base...), extra...), &stdout, &stderr)
		return stderr.String(), err
	}
	if e, err := runCLI(); err != nil {
		t.Fatalf("%v\n%s", err, e)
	}
	full := []string{"table3.", "checkpoints/table3/", "figures/table3/"}
	first := snapshot(t, out, full...)
	for _, name := range []string{"table3.csv", "table3.json", "table3.manifest.json",
		"checkpoints/table3/FD-CMDIE/1111/last.state.safetensors", "checkpoints/table3/Text-only_baseline/1111/best.safetensors",
		"figures/table3/fig6_gap_weights.png"} {
		if _, ok := first[name]; !ok {
			t.Fatalf("the first run wrote no %s", name)
		}
	}

	t.Run("rerun refused", func(t *testing.T) {
		_, err := runCLI()
		if err == nil {
			t.Fatal("a second run into the same --out was accepted")
		}
		for _, want := range []string{"--out " + out, "earlier table3 run", "table3.manifest.json", "checkpoints/table3", "--resume", "--overwrite"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		sameFiles(t, "after the refused rerun", first, snapshot(t, out, full...))
	})

	t.Run("resume with other settings refused", func(t *testing.T) {
		_, err := runCLI("--resume", "--seeds", "1112", "--clip-norm", "1")
		if err == nil {
			t.Fatal("--resume with other seeds was accepted")
		}
		for _, want := range []string{"--resume", "other settings", "seeds: [1111] there, [1112] now", "clip_norm: 0 there, 1 now", "--overwrite"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		sameFiles(t, "after the refused resume", first, snapshot(t, out, full...))
	})

	t.Run("another ablation writes its own files", func(t *testing.T) {
		if e, err := runCLI("--no-gap"); err != nil {
			t.Fatalf("%v\n%s", err, e)
		}
		sameFiles(t, "table3 after --no-gap", first, snapshot(t, out, full...))
		rows, err := report.ReadJSON(filepath.Join(out, "table3_no-gap.json"))
		if err != nil {
			t.Fatal(err)
		}
		if rows[0].Name != "FD-CMDIE w/o GAP" || rows[1].Name != "Text-only baseline" {
			t.Errorf("table3_no-gap.json: rows %q, %q", rows[0].Name, rows[1].Name)
		}
		for _, name := range []string{"table3_no-gap.csv", "table3_no-gap.manifest.json",
			"checkpoints/table3_no-gap/FD-CMDIE_w_o_GAP/1111/best.safetensors", "checkpoints/table3_no-gap/Text-only_baseline/1111/best.safetensors"} {
			if _, err := os.Stat(filepath.Join(out, name)); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("overwrite replaces only its own run", func(t *testing.T) { checkOverwrite(t, out, runCLI) })
}

// checkOverwrite: --overwrite of table 3 (with another seed) into out
// replaces table 3's files, the stale ones too, and leaves the --no-gap
// run's as they were.
func checkOverwrite(t *testing.T, out string, runCLI func(...string) (string, error)) {
	ablation := snapshot(t, out, "table3_no-gap.", "checkpoints/table3_no-gap/")
	stale := filepath.Join(out, "checkpoints", "table3", "FD-CMDIE", "9999")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	if e, err := runCLI("--overwrite", "--seeds", "1112"); err != nil {
		t.Fatalf("%v\n%s", err, e)
	}
	sameFiles(t, "table3_no-gap after --overwrite of table3", ablation, snapshot(t, out, "table3_no-gap.", "checkpoints/table3_no-gap/"))
	for _, gone := range []string{stale, filepath.Join(out, "checkpoints", "table3", "FD-CMDIE", "1111")} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("%s outlived --overwrite", gone)
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "table3.manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"seeds": [
    1112
  ]`) {
		t.Errorf("manifest after --overwrite:\n%s", raw)
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoints", "table3", "FD-CMDIE", "1112", "best.safetensors")); err != nil {
		t.Error(err)
	}
}

// TestOutWithoutManifest: files of the run in --out that no manifest
// explains (an older version's, or copied there) are not overwritten, nor
// resumed; the error says so before any data is read.
func TestOutWithoutManifest(t *testing.T) {
	out := t.TempDir()
	csv := filepath.Join(out, "table3.csv")
	if err := os.WriteFile(csv, []byte("kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"--resume"}} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"--data", filepath.Join(out, "absent.pkl"), "--out", out}, extra...)
		err := run(context.Background(), args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "table3 files (table3.csv) without table3.manifest.json") ||
			!strings.Contains(err.Error(), "--overwrite") {
			t.Errorf("%v: error %v", extra, err)
		}
		if raw, _ := os.ReadFile(csv); string(raw) != "kept\n" {
			t.Errorf("%v: table3.csv holds %q", extra, raw)
		}
	}
}
