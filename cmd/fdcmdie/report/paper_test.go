package report

import (
	"math"
	"strings"
	"testing"
)

// TestPaperRows checks the shape of every published table and a few cells
// against the paper as printed (percent → fraction; "-" absent).
func TestPaperRows(t *testing.T) {
	const tol = 1e-12
	for _, c := range []struct {
		table     int
		dataset   string
		n         int
		first     string
		last      string
		key       string
		lastValue float64
	}{
		{3, MOSI, 14, "MFN", "FD-CMDIE", "Acc2Non0", 0.886},
		{3, MOSEI, 14, "MFN", "FD-CMDIE", "Acc2Non0", 0.8759},
		{4, MOSI, 11, "2", "12", "F1Non0", 0.8825},
		{5, MOSEI, 8, "10", "80", "Acc2Has0", 0.8236},
		{6, MOSI, 5, "1", "5", "Acc2Non0", 0.8537},
		{7, MOSEI, 6, "w/o NeoBERT", "FD-CMDIE", "F1Non0", 0.8749},
	} {
		rows, err := PaperRows(c.table, c.dataset)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != c.n || rows[0].Name != c.first || rows[len(rows)-1].Name != c.last {
			t.Fatalf("table %d %s: %d rows %q…%q, want %d %q…%q", c.table, c.dataset, len(rows), rows[0].Name, rows[len(rows)-1].Name, c.n, c.first, c.last)
		}
		if got, _ := rows[len(rows)-1].Mean.Value(c.key); math.Abs(got-c.lastValue) > tol {
			t.Errorf("table %d %s: last row %s = %v, want %v", c.table, c.dataset, c.key, got, c.lastValue)
		}
		for _, r := range rows {
			if !r.Reported || r.Source != PaperSource(c.dataset) || r.Seeds != 0 {
				t.Errorf("table %d %s: row %q: reported %v, source %q, seeds %d", c.table, c.dataset, r.Name, r.Reported, r.Source, r.Seeds)
			}
		}
	}
	// MFN prints "-" for Acc-2 non0 on MOSI: the cell must read "-".
	rows, _ := PaperRows(3, MOSI)
	if v, _ := rows[0].Mean.Value("Acc2Non0"); !math.IsNaN(v) {
		t.Errorf("MFN has an Acc-2 non0 the paper does not print")
	}
	if got := tableCells(rows[0]); got[0] != "MFN (paper, CMU-MOSI)" || got[1] != "77.4/-" {
		t.Errorf("MFN cells %q", got)
	}
	for _, bad := range []struct {
		table   int
		dataset string
	}{{4, MOSEI}, {5, MOSI}, {8, MOSI}, {3, "imdb"}} {
		if _, err := PaperRows(bad.table, bad.dataset); err == nil || !strings.Contains(err.Error(), "paper_results.json") {
			t.Errorf("table %d %s: error %v", bad.table, bad.dataset, err)
		}
	}
}

func TestPaperCases(t *testing.T) {
	cases, err := PaperCases()
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 5 || cases[0].Text != "Just the great great movie" || cases[4].Truth != -1.0 || cases[4].PolarityPred != "negative" {
		t.Fatalf("cases %+v", cases)
	}
}
