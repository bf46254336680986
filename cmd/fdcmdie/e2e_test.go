package main

import (
	"bytes"
	"context"
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
	for _, table := range []string{"3", "7"} {
		t.Run("table"+table, func(t *testing.T) {
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			args := []string{"--preset", "tiny", "--epochs", "1", "--table", table, "--out", out, "--quiet"}
			if err := run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			want := []string{"FD-CMDIE", "Text-only baseline", "Acc-2 (has0/non0)"}
			if table == "7" {
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
			if len(rows) != len(want)-map[string]int{"3": 1, "7": 0}[table] {
				t.Fatalf("%d rows in JSON", len(rows))
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
