package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/contrastive"
	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/layers"
	"github.com/fdcmdie/fdcmdie/layers/safetensors"
	"gorgonia.org/tensor"
)

// pythonTorch is Debian's interpreter with python3-torch, or "" when absent.
func pythonTorch() string {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, numpy").Run(); err != nil {
		return ""
	}
	return py
}

// readAll reads every tensor of a safetensors file as float32.
func readAll(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]float32{}
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		v := make([]float32, info.NumElements())
		if err := f.ReadFloat32(n, v); err != nil {
			t.Fatal(err)
		}
		out[n] = v
	}
	return out
}

// readAll64 reads every tensor of a safetensors file as float64.
func readAll64(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]float64{}
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		v := make([]float64, info.NumElements())
		if err := f.ReadFloat64(n, v); err != nil {
			t.Fatal(err)
		}
		out[n] = v
	}
	return out
}

// relErr is max|a − b| / max|b| (absolute when b is all zero).
func relErr(a []float32, b []float64) float64 {
	var d, s float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i])-b[i]))
		s = math.Max(s, math.Abs(b[i]))
	}
	if s == 0 {
		return d
	}
	return d / s
}

// parityCase is one cell of the PyTorch parity matrix: a model width, the
// sequence lengths (text, audio, vision) and the ablation flags of
// tools/parity_dump.py.
type parityCase struct {
	d          int
	lengths    string // "unaligned" (50/375/500, the paper's) or "aligned" (50/50/50)
	ablation   string
	flags      string
	ciSelected bool // run by default (CI); FDCMDIE_PARITY=all runs every case
}

func (c parityCase) name() string { return fmt.Sprintf("d%d/%s/%s", c.d, c.lengths, c.ablation) }

// parityMatrix is every width users run (16 to 256) at the paper's lengths,
// each ablation. The full model has the (tiny) NeoBERT encoder; the
// ablations read 768-d text features as MMSA files hold them. CI runs all
// of d 16 and the heavy cells where Gorgonia's Concat gave wrong gradients
// (d 128: the head input's blocks at 384 and 640 collided; --no-cmdie:
// blocks of width d collide for every d ≥ 64).
func parityMatrix() []parityCase {
	ablations := []struct{ name, flags string }{
		{"full", "--text neobert"},
		{"no_gap", "--text feats --no-gap"},
		{"no_crossatt2", "--text feats --no-crossatt2"},
		{"no_cmdie", "--text feats --no-cmdie"},
		{"no_cl", "--text feats --no-cl"},
		{"text_feats", "--text feats"},
		{"bert", "--text bert"},
	}
	ci := map[string]bool{"d128/unaligned/full": true, "d128/unaligned/no_cmdie": true, "d256/aligned/text_feats": true}
	var cases []parityCase
	for _, d := range []int{16, 64, 128, 256} {
		for _, lengths := range []string{"unaligned", "aligned"} {
			for _, a := range ablations {
				c := parityCase{d: d, lengths: lengths, ablation: a.name, flags: a.flags}
				c.ciSelected = d == 16 || ci[c.name()]
				cases = append(cases, c)
			}
		}
	}
	return cases
}

// TestParityWithPyTorch loads a model and batch made by the independent
// PyTorch implementation (tools/fdcmdie_ref.py) and compares prediction,
// losses, pooled features, GAP weights and every parameter gradient, in
// float64 with dropout off, over parityMatrix: 3 CMDIE layers, 4 heads,
// k_cl 10, MOSI's feature sizes, a batch of 3 right-padded samples (one
// without contrastive partners).
func TestParityWithPyTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("PyTorch parity is slow; run without -short")
	}
	py := pythonTorch()
	if py == "" {
		t.Skip("no /usr/bin/python3 with torch and numpy (Debian's python3-torch): parity not checked")
	}
	all := os.Getenv("FDCMDIE_PARITY") == "all"
	for _, c := range parityMatrix() {
		t.Run(c.name(), func(t *testing.T) {
			if !c.ciSelected && !all {
				t.Skip("outside the default selection; FDCMDIE_PARITY=all runs the whole matrix")
			}
			dir := dumpParityCase(t, py, c)
			m, r := runParityCase(t, dir)
			want := readAll64(t, filepath.Join(dir, "expected_f64.safetensors"))
			checkParityOutputs(t, m, r.Outputs(), want)
			checkParityGrads(t, c, m, want)
		})
	}
}

// dumpParityCase has tools/parity_dump.py write the model, batch and
// expected values of case c into a temporary folder, and returns it.
func dumpParityCase(t *testing.T, py string, c parityCase) string {
	t.Helper()
	lt, la, lv := 50, 375, 500
	if c.lengths == "aligned" {
		la, lv = 50, 50
	}
	dir := t.TempDir()
	args := []string{filepath.Join("..", "tools", "parity_dump.py"), "make", "--dir", dir, "--seed", "3", "--f64-only",
		"--d-model", strconv.Itoa(c.d), "--heads", "4", "--layers", "3", "--batch", "3", "--k-cl", "10",
		"--lt", strconv.Itoa(lt), "--la", strconv.Itoa(la), "--lv", strconv.Itoa(lv),
		"--audio-dim", "5", "--vision-dim", "20", "--text-dim", "768"}
	args = append(args, strings.Fields(c.flags)...)
	if out, err := exec.Command(py, args...).CombinedOutput(); err != nil {
		t.Fatalf("parity_dump.py: %v\n%s", err, out)
	}
	return dir
}

// runParityCase builds the float64 model of the dump in dir, loads its
// weights, and runs it once on the dumped batch with dropout off. The
// runner closes when the test ends.
func runParityCase(t *testing.T, dir string) (*Model, *Runner) {
	t.Helper()
	ckpt := filepath.Join(dir, "model.safetensors")
	cfg, _, err := ReadCheckpointMeta(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	in := readAll(t, filepath.Join(dir, "batch.safetensors"))
	B := len(in["label"])
	shape := Shape{B: B, Lt: len(in["text_mask"]) / B, La: len(in["audio_mask"]) / B, Lv: len(in["vision_mask"]) / B}
	m, err := Build(cfg, shape, Options{Dtype: tensor.Float64, Train: true, WithCL: cfg.UsesCL()})
	if err != nil {
		t.Fatal(err)
	}
	if err := layers.LoadParams(m.B, ckpt, "", func(n string) (string, bool) { return n, true }); err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(m, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ones := make([]float32, B)
	for i := range ones {
		ones[i] = 1
	}
	b := &datasets.Batch{B: B, Lt: shape.Lt, La: shape.La, Lv: shape.Lv, TextIDs: in["text_ids"], TextFeats: in["text_feats"],
		TextMask: in["text_mask"], Audio: in["audio"], AudioMask: in["audio_mask"], Vision: in["vision"],
		VisionMask: in["vision_mask"], Label: in["label"], Weight: ones}
	var p *contrastive.PartnerBatch
	if m.WithCL {
		p = &contrastive.PartnerBatch{SimT: in["sim_t"], SimV: in["sim_v"], SimA: in["sim_a"], DiffT: in["diff_t"],
			DiffV: in["diff_v"], DiffA: in["diff_a"], SimMask: in["sim_mask"], DiffMask: in["diff_mask"]}
	}
	if err := r.SetBatch(b, p); err != nil {
		t.Fatal(err)
	}
	if err := m.B.FillDropouts(rand.New(rand.NewPCG(1, 1)), false); err != nil { // dropout off
		t.Fatal(err)
	}
	if err := r.Run(); err != nil {
		t.Fatal(err)
	}
	return m, r
}

// checkParityOutputs compares the prediction, losses, pooled features and
// GAP weights with PyTorch's. Outputs pass through float32 in
// Runner.Outputs, hence the 1e-6 tolerance.
func checkParityOutputs(t *testing.T, m *Model, out Outputs, want map[string][]float64) {
	t.Helper()
	check := func(name string, got []float32, tol float64) {
		w, ok := want[name]
		if !ok {
			t.Fatalf("PyTorch dump has no %s", name)
		}
		if e := relErr(got, w); e > tol || math.IsNaN(e) {
			t.Errorf("%s: max relative error %.3g > %g", name, e, tol)
		}
	}
	check("pred", out.Pred, 1e-6)
	check("loss", []float32{float32(out.Loss)}, 1e-6)
	check("mae", []float32{float32(out.MAE)}, 1e-6)
	if m.WithCL {
		check("l_cl", []float32{float32(out.LCL)}, 1e-6)
	}
	for i, mod := range modalities {
		check("s_"+mod, out.S[i], 1e-6)
		check("d_"+mod, out.D[i], 1e-6)
		check("f_"+mod, out.F[i], 1e-6)
	}
	for l, a := range out.Alpha {
		check("alpha_"+string(rune('0'+l)), a, 1e-6)
	}
}

// checkParityGrads compares every parameter gradient, read in float64,
// with PyTorch's to a relative 1e-9.
func checkParityGrads(t *testing.T, c parityCase, m *Model, want map[string][]float64) {
	t.Helper()
	const tol = 1e-9
	var worst float64
	var worstName string
	for _, prm := range m.B.Params() {
		g, err := prm.Node.Grad()
		if err != nil {
			t.Fatal(err)
		}
		got := g.Data().([]float64)
		w := want["grad."+prm.Name]
		var d, s float64
		for i := range w {
			d = math.Max(d, math.Abs(got[i]-w[i]))
			s = math.Max(s, math.Abs(w[i]))
		}
		e := d
		if s > 1e-12 { // exactly-zero gradients (k.bias, score.fc2.bias) compare absolutely
			e = d / s
		}
		if e > worst {
			worst, worstName = e, prm.Name
		}
		if e > tol {
			t.Errorf("grad.%s: max relative error %.3g > %g", prm.Name, e, tol)
		}
	}
	t.Logf("%s: %d gradients, worst relative error %.3g (%s)", c.name(), len(m.B.Params()), worst, worstName)
}
