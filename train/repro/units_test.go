package repro

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/train"
)

func testPlan(t *testing.T) *Plan {
	t.Helper()
	rows, err := TableRows("7", "FD-CMDIE", graph.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	set := datasets.Setting{Batch: 32, KCL: 10, Epochs: 50, LR: 1e-4, Patience: 8, Budget: time.Minute}
	p, err := NewPlan("table7", "7", "CMU-MOSI", set, 0, rows, []uint64{1111, 1112, 1113}, 1284)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanUnits(t *testing.T) {
	p := testPlan(t)
	if len(p.Units) != 18 || p.Cost() != 18*1284*50 {
		t.Fatalf("%d units costing %d, want 18 costing %d", len(p.Units), p.Cost(), 18*1284*50)
	}
	hashes := map[string]bool{}
	for i, u := range p.Units {
		row, seed := AblationNames()[i/3], []uint64{1111, 1112, 1113}[i%3]
		if u.Index != i || u.Row != row || u.Seed != seed || u.Table != "7" || len(u.Config) != 16 {
			t.Errorf("unit %d: %+v, want row %q seed %d", i, u, row, seed)
		}
		hashes[u.Config] = true
	}
	if len(hashes) != 18 {
		t.Errorf("%d distinct config hashes over 18 units", len(hashes))
	}
	// The hash ignores the time budget (when to stop is not what is trained)
	// and follows everything else.
	q := testPlan(t)
	q.Setting.Budget = 0
	if again, _ := NewPlan(q.Run, q.Table, q.Data, q.Setting, 0, q.Rows, q.Seeds, 1284); again.Units[0].Config != p.Units[0].Config {
		t.Error("the budget changes the config hash")
	}
	q.Setting.Epochs = 10
	if again, _ := NewPlan(q.Run, q.Table, q.Data, q.Setting, 0, q.Rows, q.Seeds, 1284); again.Units[0].Config == p.Units[0].Config {
		t.Error("the epochs do not change the config hash")
	}
	if _, err := NewPlan("t", "3", "d", q.Setting, 0, nil, q.Seeds, 1); err == nil {
		t.Error("a plan without rows is accepted")
	}
}

func TestShards(t *testing.T) {
	p := testPlan(t)
	seen := map[int]int{}
	for i := range 4 {
		for _, u := range p.Shard(i, 4) {
			if u.Index%4 != i {
				t.Errorf("shard %d/4 has unit %d", i, u.Index)
			}
			seen[u.Index]++
		}
	}
	if len(seen) != len(p.Units) {
		t.Errorf("shards cover %d of %d units", len(seen), len(p.Units))
	}
	for idx, n := range seen {
		if n != 1 {
			t.Errorf("unit %d in %d shards", idx, n)
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		in, slurm, k8s string
		i, n           int
		err            string
	}{
		{in: "0/1", i: 0, n: 1},
		{in: "2/3", i: 2, n: 3},
		{in: "/4", slurm: "3", i: 3, n: 4},
		{in: "/4", k8s: "1", i: 1, n: 4},
		{in: "/4", slurm: "2", k8s: "1", i: 2, n: 4},
		{in: "3/3", err: "not below the shard count"},
		{in: "/2", slurm: "2", err: "SLURM_ARRAY_TASK_ID: index 2 is not below"},
		{in: "/2", err: "none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX is set"},
		{in: "1", err: "want I/N"},
		{in: "1/0", err: "not a positive integer"},
		{in: "-1/2", err: "not a non-negative integer"},
		{in: "/2", k8s: "x", err: `JOB_COMPLETION_INDEX: index "x"`},
	} {
		i, n, err := parseShardEnv(c.in, func(name string) (string, bool) {
			v := map[string]string{"SLURM_ARRAY_TASK_ID": c.slurm, "JOB_COMPLETION_INDEX": c.k8s}[name]
			return v, v != ""
		})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q (slurm %q, k8s %q): error %v, want %q", c.in, c.slurm, c.k8s, err, c.err)
			}
			continue
		}
		if err != nil || i != c.i || n != c.n {
			t.Errorf("%q (slurm %q, k8s %q): %d/%d, %v; want %d/%d", c.in, c.slurm, c.k8s, i, n, err, c.i, c.n)
		}
	}
}

func TestResultRoundTrip(t *testing.T) {
	p := testPlan(t)
	out := t.TempDir()
	u := p.Units[4]
	res := &train.Result{
		Test:      train.Metrics{Acc2Has0: 0.1 + 0.2, MAE: 1.0 / 3, Corr: -0.5, CorrUndefined: true},
		TestPred:  []float32{0.1, -2.5, 3},
		BestEpoch: 3,
		History:   []train.EpochStats{{Epoch: 1, TrainLoss: 0.9, ValidMAE: 0.8, Seconds: 1.5}},
		Stop:      train.StopPatience,
		Alpha:     [][3]float64{{0.2, 0.3, 0.5}},
		TestS:     [3][]float32{{1, 2}, {3, 4}, {5, 6}},
		TestD:     [3][]float32{{7, 8}, {9, 10}, {11, 12}},
	}
	if _, _, err := LoadResult(out, p.Run, u); err != ErrNoResult {
		t.Fatalf("before saving: %v, want ErrNoResult", err)
	}
	if err := SaveResult(out, p.Run, u, res); err != nil {
		t.Fatal(err)
	}
	got, cfg, err := LoadResult(out, p.Run, u)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, res) || !reflect.DeepEqual(cfg, u.Model) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, res)
	}
	other := u
	other.Config = "0123456789abcdef"
	if _, _, err := LoadResult(out, p.Run, other); err != ErrNoResult {
		t.Errorf("a result for another config hash: %v, want ErrNoResult", err)
	}
	results, missing, err := p.Results(out)
	if err != nil || len(missing) != 17 || results[1][1] == nil || results[0][0] != nil {
		t.Fatalf("Results: %d missing, %v", len(missing), err)
	}
	rows, err := p.Summarize(results)
	if err != nil || len(rows) != 1 || rows[0].Name != AblationNoNeoBERT+" (1/3 seeds)" || rows[0].Mean.MAE != 1.0/3 {
		t.Errorf("Summarize: %+v, %v", rows, err)
	}
}
