package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
	"github.com/fdcmdie/fdcmdie/train/repro"
)

// TestEndToEnd runs tables 3–8 on the embedded corpus with the tiny preset
// for one epoch: each prints its measured rows (the short sweeps' values),
// then the paper's rows under the not-comparable line, writes CSV and JSON
// with the two kinds of row apart, and the figures its runs can give.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on the synthetic corpus; run without -short")
	}
	for _, c := range []struct {
		table    string
		measured []string // first-column names of the measured rows
		paper    []string // a few of the paper's rows that must print
		figs     map[string][2]int
	}{
		{"3", []string{"FD-CMDIE", "Text-only baseline"}, []string{"MFN (paper, CMU-MOSI)", "UniMSE (paper, CMU-MOSI)", "FD-CMDIE (paper, CMU-MOSI)"},
			map[string][2]int{"fig6_gap_weights.png": {900, 450}}},
		{"4", []string{"2", "7", "12"}, []string{"2 (paper, CMU-MOSI)", "11 (paper, CMU-MOSI)"},
			map[string][2]int{"fig4_kcl.png": {900, 450}}},
		{"5", []string{"10", "50", "80"}, []string{"30 (paper, CMU-MOSEI)", "80 (paper, CMU-MOSEI)"},
			map[string][2]int{"fig5_kcl.png": {900, 450}}},
		{"6", []string{"1", "3", "5"}, []string{"4 (paper, CMU-MOSI)"}, nil},
		{"7", repro.AblationNames(), []string{"w/o CrossAtt-2 (paper, CMU-MOSI)"},
			map[string][2]int{"fig10_ablations.png": {900, 750}, "fig6_gap_weights.png": {900, 450},
				"fig8_tsne_without_cl.png": {900, 700}, "fig9_tsne_with_cl.png": {900, 700}}},
	} {
		t.Run("table"+c.table, func(t *testing.T) {
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			args := []string{"--preset", "tiny", "--epochs", "1", "--table", c.table, "--out", out, "--quiet"}
			if err := run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			text := stdout.String()
			note := "measured on synthetic, not CMU-MOSI: not comparable number-for-number"
			if c.table == "5" {
				note = "measured on synthetic, not CMU-MOSEI"
			}
			at := strings.Index(text, note)
			if at < 0 {
				t.Fatalf("no %q line:\n%s", note, text)
			}
			for _, name := range c.measured {
				if i := strings.Index(text, "| "+name+" "); i < 0 || i > at {
					t.Errorf("measured row %q missing or below the paper's:\n%s", name, text)
				}
			}
			for _, name := range c.paper {
				if i := strings.Index(text, "| "+name); i < at {
					t.Errorf("paper row %q missing or above the note:\n%s", name, text)
				}
			}
			if !strings.Contains(text, "stopped after epoch 1 of at most 1 (maximum epochs)") {
				t.Errorf("no stop line:\n%s", text)
			}
			if strings.Contains("456", c.table) && !strings.Contains(text, "a short sweep on the embedded corpus") {
				t.Errorf("sweep values not stated:\n%s", text)
			}
			checkTableFiles(t, out, c.table, len(c.measured))
			for name, size := range c.figs {
				checkFigure(t, filepath.Join(out, "figures", "table"+c.table, name), size[0], size[1])
			}
		})
	}
}

// checkTableFiles reads the JSON rows a table run wrote under out and
// fails unless the measured ones (measuredRows of them, with a plausible
// MAE) come first and the paper's rows of the table follow; the CSV must
// be there too.
func checkTableFiles(t *testing.T, out, table string, measuredRows int) {
	t.Helper()
	rows, err := report.ReadJSON(filepath.Join(out, "table"+table+".json"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(table)
	wantPaper, err := report.PaperRows(n, map[bool]string{true: report.MOSEI, false: report.MOSI}[table == "5"])
	if err != nil {
		t.Fatal(err)
	}
	var measured, reported int
	for _, r := range rows {
		if r.Reported {
			reported++
			continue
		}
		measured++
		if r.Mean.MAE <= 0 || r.Mean.MAE > 6 {
			t.Errorf("%s: MAE %v", r.Name, r.Mean.MAE)
		}
	}
	if measured != measuredRows || reported != len(wantPaper) || rows[0].Reported {
		t.Errorf("JSON: %d measured, %d reported rows (first reported %v); want %d, %d", measured, reported, rows[0].Reported, measuredRows, len(wantPaper))
	}
	if _, err := os.Stat(filepath.Join(out, "table"+table+".csv")); err != nil {
		t.Fatal(err)
	}
}

// checkFigure decodes a PNG and fails unless it is w×h and not blank:
// at least 2% of its pixels drawn in at least 20 colours.
func checkFigure(t *testing.T, path string, w, h int) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		t.Fatalf("%s: %v, want %d×%d", path, b, w, h)
	}
	colors := map[[3]uint32]bool{}
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				ink++
			}
		}
	}
	if frac := float64(ink) / float64(w*h); frac < 0.02 || len(colors) < 20 {
		t.Fatalf("%s: %.3f of the pixels drawn in %d colours: blank", path, frac, len(colors))
	}
	if _, err := os.Stat(report.SVGPath(path)); err != nil {
		t.Fatal(err)
	}
}

// TestCaseAnalysis trains the tiny model for one epoch and prints table 8:
// five cases, one of each kind, with a polarity verdict each, beside the
// paper's five; then analyses the saved checkpoint again with --checkpoint
// and gets the same cases and predictions.
func TestCaseAnalysis(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on the synthetic corpus; run without -short")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"--preset", "tiny", "--epochs", "1", "--table", "8", "--out", out, "--quiet"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	text := stdout.String()
	for _, kind := range []string{"strong positive", "negation", "mild positive", "mild negative", "sarcasm"} {
		if !strings.Contains(text, "("+kind+", id ") {
			t.Errorf("no verdict line for %q:\n%s", kind, text)
		}
	}
	if n := strings.Count(text, ": polarity right:") + strings.Count(text, ": polarity wrong:"); n != 5 {
		t.Errorf("%d verdict lines, want 5:\n%s", n, text)
	}
	if !strings.Contains(text, "Just the great great movie") || !strings.Contains(text, "not comparable number-for-number") {
		t.Errorf("the paper's cases are missing:\n%s", text)
	}
	read := func(path string) []repro.Case {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Measured []repro.Case
			Paper    []report.PaperCase
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Paper) != 5 {
			t.Fatalf("%s: %d paper cases", path, len(v.Paper))
		}
		return v.Measured
	}
	trained := read(filepath.Join(out, "table8.json"))
	if len(trained) != 5 || trained[4].Kind != "sarcasm" || trained[4].Truth >= 0 || len(trained[0].Alpha) != 3 {
		t.Fatalf("cases %+v", trained)
	}
	out2 := t.TempDir()
	ck := filepath.Join(out, "checkpoints", "table8", "FD-CMDIE", "1111", "best.safetensors")
	stdout.Reset()
	if err := run(context.Background(), []string{"--table", "8", "--checkpoint", ck, "--out", out2, "--quiet"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	again := read(filepath.Join(out2, "table8.json"))
	for i := range trained {
		if again[i].ID != trained[i].ID || again[i].Pred != trained[i].Pred {
			t.Errorf("case %d: %s %.4f from the checkpoint, %s %.4f after training", i+1, again[i].ID, again[i].Pred, trained[i].ID, trained[i].Pred)
		}
	}
}
