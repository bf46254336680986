package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
)

// TestEndToEnd runs the main job on the embedded corpus with the tiny
// preset for one epoch: the table is printed and written as CSV and JSON.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on the synthetic corpus; run without -short")
	}
	figs := map[string][]string{
		"3": {"fig6_gap_weights.png"},
		"4": {"fig4_kcl.png"},
		"6": nil,
		"7": {"fig10_ablations.png", "fig8_features_with_cl.png", "fig9_features_without_cl.png"},
	}
	for _, table := range []string{"3", "4", "6", "7"} {
		t.Run("table"+table, func(t *testing.T) {
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			args := []string{"--preset", "tiny", "--epochs", "1", "--table", table, "--out", out, "--quiet"}
			if table == "3" { // published numbers come from a file and print labelled
				pub := filepath.Join(t.TempDir(), "paper.json")
				if err := report.WriteJSON(pub, []report.Row{{Name: "Published model", Mean: map[string]float64{report.MAE: 0.7}}}); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--reported", pub)
			}
			if err := run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			var want []string
			switch table {
			case "3":
				want = []string{"FD-CMDIE", "Text-only baseline", "Published model (paper)"}
			case "4":
				want = []string{"k_cl", "1", "5", "10", "20", "50"}
			case "6":
				want = []string{"CMDIE layers", "1", "2", "3", "4", "5"}
			case "7":
				want = report.AblationNames()
			}
			for _, w := range want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("table lacks %q:\n%s", w, stdout.String())
				}
			}
			rows, err := report.ReadJSON(filepath.Join(out, "table"+table+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(want)-map[string]int{"3": 0, "4": 1, "6": 1, "7": 0}[table] {
				t.Fatalf("%d rows in JSON", len(rows))
			}
			for _, name := range figs[table] {
				fh, err := os.Open(filepath.Join(out, "figures", name))
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(fh)
				fh.Close()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
					t.Fatalf("%s: %v", name, b)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "table"+table+".csv")); err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.Mean[report.MAE] <= 0 || r.Mean[report.MAE] > 6 {
					t.Errorf("%s: MAE %v", r.Name, r.Mean[report.MAE])
				}
			}
		})
	}
}
