package repro

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
)

func TestRunName(t *testing.T) {
	for _, c := range []struct {
		spec  Spec
		table string
		want  string
	}{
		{Spec{Table: "3"}, "3", "table3"},
		{Spec{Table: "3", NoGAP: true}, "3", "table3_no-gap"},
		{Spec{Table: "3", NoCrossAtt2: true, NoNeoBERT: true}, "3", "table3_no-neobert_no-crossatt2"},
		{Spec{Table: "6", NoCL: true}, "6", "table6_no-cl"},
		{Spec{Table: "4", Dataset: "mosei"}, "5", "table5"},
		{Spec{Table: "4", Data: "/d/MOSEI/aligned_50.pkl"}, "5", "table5"},
	} {
		if r := c.spec.Resolve(); r.Table != c.table {
			t.Errorf("%+v: table %s, want %s", c.spec, r.Table, c.table)
		}
		if got := c.spec.RunName(); got != c.want {
			t.Errorf("%+v: run %q, want %q", c.spec, got, c.want)
		}
	}
	s := Spec{NoGAP: true, NoCL: true}
	if got := s.ModelName(); got != "FD-CMDIE w/o CL, GAP" {
		t.Errorf("model name %q", got)
	}
}

// fixtures is the shared folder of test files; tests that need it skip
// without it.
func fixture(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "fixtures", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared fixtures not found (%v): this test needs ../shared/fixtures", err)
	}
	return p
}

// TestTrainDataErrorsNameFile: data the batcher refuses during training is
// an error naming the data file, the row, and the datasets error.
func TestTrainDataErrorsNameFile(t *testing.T) {
	pkl := fixture(t, "mmsa_tiny_aligned_50.pkl")
	for _, c := range []struct {
		name  string
		spoil func(*datasets.Split, *datasets.Split)
		want  string
	}{
		{"empty train split", func(tr, _ *datasets.Split) { *tr = datasets.Split{Name: "train"} }, "train split: datasets: train: no samples"},
		{"id rows", func(_, va *datasets.Split) { va.TextIDs = va.TextIDs[:1] }, "valid split: datasets: valid/text_ids: 1 id rows and"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := Open(Spec{Data: pkl, Preset: "tiny", Table: "3", Epochs: 1, Seeds: []uint64{1111}}, io.Discard, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			c.spoil(e.Data.Train, e.Data.Valid)
			plan, err := e.Plan(nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.Trainer(plan, "", io.Discard, io.Discard).Train(context.Background(), plan.Units[0])
			if err == nil || !strings.HasPrefix(err.Error(), pkl+": FD-CMDIE, seed 1111: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q naming %s", err, c.want, pkl)
			}
		})
	}
}

// TestClaimJoin: shards join a run with the same settings, or start it;
// another setting, or another plan, is refused; merge needs the run.
func TestClaimJoin(t *testing.T) {
	dir := t.TempDir()
	s := Spec{Table: "7", Seeds: []uint64{1}, Preset: "tiny"}
	if _, err := Claim(dir, s, Merge); err == nil || !strings.Contains(err.Error(), "holds no table7 run") {
		t.Fatalf("merge of nothing: %v", err)
	}
	p := testPlan(t)
	for range 2 {
		o, err := Claim(dir, s, Join)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Commit(p, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	back, err := ReadPlan(filepath.Join(dir, "table7.plan.json"))
	if err != nil || !samePlan(back, p) || back.Units[5].Model != p.Units[5].Model {
		t.Fatalf("plan read back: %v", err)
	}
	other := s
	other.Seeds = []uint64{2}
	if _, err := Claim(dir, other, Join); err == nil || !strings.Contains(err.Error(), "seeds: [1] there, [2] now") {
		t.Errorf("a shard with other seeds: %v", err)
	}
	o, err := Claim(dir, s, Join)
	if err != nil {
		t.Fatal(err)
	}
	p.Setting.Epochs++
	q, err := NewPlan(p.Run, p.Table, p.Data, p.Setting, p.ClipNorm, p.Rows, p.Seeds, 1284)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Commit(q, io.Discard); err == nil || !strings.Contains(err.Error(), "other units") {
		t.Errorf("a shard with other epochs: %v", err)
	}
	if _, err := Claim(dir, s, Fresh); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("a fresh run into the shards' folder: %v", err)
	}
}
