package report

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/train"
)

// sameMetrics reports whether two rows hold exactly the same means and
// the same standard deviations where they have one; missing (NaN) equals
// missing.
func sameMetrics(a, b train.Row) bool {
	same := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	for _, k := range train.MetricNames() {
		am, _ := a.Mean.Value(k)
		bm, _ := b.Mean.Value(k)
		as, aok := a.StdOf(k)
		bs, bok := b.StdOf(k)
		if !same(am, bm) || aok != bok || aok && as != bs {
			return false
		}
	}
	return true
}

// sameRows reports whether two row lists are equal field by field.
func sameRows(t *testing.T, got, want []train.Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Reported != w.Reported || g.Source != w.Source || g.Seeds != w.Seeds || !sameMetrics(g, w) {
			t.Errorf("row %d: got %+v, want %+v", i, g, w)
		}
	}
}

// onlyFiles fails unless dir holds exactly the named files (no temporary
// files left behind by the atomic writes).
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("folder holds %q, want %q", got, names)
	}
}

func TestCSVRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "table3.csv")
	rows := sampleRows()
	rows[0].Mean.MAE = 0.1 + 0.2 // 0.30000000000000004 must survive exactly
	rows = append(rows, train.Row{Name: `quote "and", comma`, Seeds: 2, Mean: metricsOf(map[string]float64{"Corr": 1e-300}), Std: train.Missing()})
	rows[1].Source = "paper, CMU-MOSI"
	if err := WriteCSV(path, rows); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, got, rows)
	onlyFiles(t, dir, "table3.csv")

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	wantHeader := "name,reported,source,seeds,Acc2Has0_mean,Acc2Has0_std,Acc2Non0_mean,Acc2Non0_std,F1Has0_mean,F1Has0_std," +
		"F1Non0_mean,F1Non0_std,Acc7_mean,Acc7_std,Acc5_mean,Acc5_std,MAE_mean,MAE_std,Corr_mean,Corr_std"
	if lines[0] != wantHeader {
		t.Errorf("header\n%s\nwant\n%s", lines[0], wantHeader)
	}
	if want := `MISA,true,"paper, CMU-MOSI",0,0.808,,0.821,,0.808,,0.82,,,,,,0.783,,0.761,`; lines[2] != want {
		t.Errorf("reported row\n%s\nwant\n%s", lines[2], want)
	}
	if want := `"quote ""and"", comma",false,,2,,,,,,,,,,,,,,,1e-300,`; lines[4] != want {
		t.Errorf("quoted row\n%s\nwant\n%s", lines[4], want)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "table3.json")
	rows := sampleRows()
	if err := WriteJSON(path, rows); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, got, rows)
	onlyFiles(t, dir, "table3.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The reported row has no std: the field is left out.
	for _, want := range []string{`"name": "MISA",`, `"reported": true,`, `"Acc2Has0": 0.808,`, `"Corr": -0.05`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("JSON lacks %s:\n%s", want, data)
		}
	}
	if strings.Count(string(data), `"std"`) != 2 {
		t.Errorf("want std on the two measured rows only:\n%s", data)
	}
}

func TestWriteReplacesExistingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rows.json")
	if err := os.WriteFile(path, []byte("old content that is longer than nothing"), 0o600); err != nil {
		t.Fatal(err)
	}
	rows := []train.Row{{Name: "a", Mean: metricsOf(map[string]float64{"MAE": 0.25})}}
	if err := WriteJSON(path, rows); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, got, rows)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}
	onlyFiles(t, dir, "rows.json")
}

func TestRowFileErrors(t *testing.T) {
	dir := t.TempDir()
	good := []train.Row{{Name: "a", Mean: metricsOf(map[string]float64{"MAE": 0.25})}}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := strings.Join(csvHeader(), ",")
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"csv no rows", func() error { return WriteCSV(filepath.Join(dir, "x.csv"), nil) }, "no rows"},
		{"json inf", func() error {
			return WriteJSON(filepath.Join(dir, "x.json"), []train.Row{{Name: "a", Mean: metricsOf(map[string]float64{"MAE": math.Inf(1)})}})
		}, "MAE is +Inf"},
		{"missing folder", func() error { return WriteCSV(filepath.Join(dir, "no", "x.csv"), good) }, "no such file"},
		{"read missing", func() error { _, err := ReadCSV(filepath.Join(dir, "absent.csv")); return err }, "no such file"},
		{"csv bad header", func() error { _, err := ReadCSV(write("h.csv", "name,seeds\na,1\n")); return err }, "header is"},
		{"csv empty", func() error { _, err := ReadCSV(write("e.csv", "")); return err }, "empty file"},
		{"csv header only", func() error { _, err := ReadCSV(write("o.csv", header+"\n")); return err }, "no rows"},
		{"csv bad number", func() error {
			_, err := ReadCSV(write("n.csv", header+"\na,false,,1,zero"+strings.Repeat(",", 15)+"\n"))
			return err
		}, "line 2: Acc2Has0_mean"},
		{"csv bad bool", func() error {
			_, err := ReadCSV(write("b.csv", header+"\na,maybe,,1"+strings.Repeat(",", 16)+"\n"))
			return err
		}, "line 2: reported"},
		{"json unknown field", func() error { _, err := ReadJSON(write("u.json", `[{"name":"a","extra":1}]`)); return err }, "unknown field"},
		{"json unknown metric", func() error { _, err := ReadJSON(write("m.json", `[{"name":"a","mean":{"acc2":1}}]`)); return err }, `unknown metric "acc2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
