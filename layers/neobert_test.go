package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers/safetensors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fixtures returns the shared fixtures folder, or skips the test when this
// checkout has none.
func fixtures(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "fixtures")
	if _, err := os.Stat(filepath.Join(dir, "neobert_tiny.safetensors")); err != nil {
		t.Skipf("shared fixtures not found at %s (they sit next to the repository root): %v", dir, err)
	}
	return dir
}

// neobertFixture holds the inputs and outputs stored by the official
// NeoBERT code in neobert_tiny.expected.safetensors.
type neobertFixture struct {
	B, L    int
	ids     []int64
	mask    []int64
	outputs map[string][]float32 // last_hidden_state, hidden_states.{i}
}

func loadNeoBERTFixture(t *testing.T, dir string, layers int) neobertFixture {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(dir, "neobert_tiny.expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, ok := f.Info("input_ids")
	if !ok || len(info.Shape) != 2 {
		t.Fatalf("expected file: input_ids %v", info.Shape)
	}
	fx := neobertFixture{B: info.Shape[0], L: info.Shape[1], outputs: map[string][]float32{}}
	n := fx.B * fx.L
	fx.ids, fx.mask = make([]int64, n), make([]int64, n)
	if err := f.ReadInt64("input_ids", fx.ids); err != nil {
		t.Fatal(err)
	}
	if err := f.ReadInt64("attention_mask", fx.mask); err != nil {
		t.Fatal(err)
	}
	names := []string{"last_hidden_state"}
	for i := 0; i < layers; i++ {
		names = append(names, "hidden_states."+string(rune('0'+i)))
	}
	for _, name := range names {
		info, ok := f.Info(name)
		if !ok {
			t.Fatalf("expected file has no %s", name)
		}
		fx.outputs[name] = make([]float32, info.NumElements())
		if err := f.ReadFloat32(name, fx.outputs[name]); err != nil {
			t.Fatal(err)
		}
	}
	return fx
}

// runNeoBERT loads the fixture checkpoint into a float32 evaluation graph
// and encodes ids [B, L] under mask; it returns last_hidden_state and the
// hidden states, flattened.
func runNeoBERT(t *testing.T, dir string, cfg NeoBERTConfig, ids, mask []int64, B, L int) map[string][]float64 {
	t.Helper()
	b := NewBuilder(tensor.Float32, 1, false)
	enc := NewNeoBERT(b, "text_encoder.", cfg)
	idn, mn := b.Input("text_ids", B, L), b.Input("text_mask", B, L)
	last, hidden := enc.Fwd(b, idn, mn)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.CheckHashes(); err != nil {
		t.Fatal(err)
	}
	if err := enc.Load(b, filepath.Join(dir, "neobert_tiny.safetensors")); err != nil {
		t.Fatal(err)
	}
	setInput32(t, idn, int64s(ids))
	setInput32(t, mn, int64s(mask))
	vals := run(t, b, append([]*G.Node{last}, hidden...)...)
	out := map[string][]float64{"last_hidden_state": vals[0]}
	for i, v := range vals[1:] {
		out["hidden_states."+string(rune('0'+i))] = v
	}
	return out
}

func int64s(v []int64) []float64 {
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	return f
}

// tokenRelErr returns ‖got − want‖₂ / ‖want‖₂ over one token's features.
func tokenRelErr(got []float64, want []float32) float64 {
	var d, n float64
	for j := range got {
		e := got[j] - float64(want[j])
		d += e * e
		n += float64(want[j]) * float64(want[j])
	}
	return math.Sqrt(d / n)
}

// TestNeoBERTMatchesOfficialCode compares every output of the float32
// graph with the official NeoBERT code's (fp32, CPU) at real tokens.
func TestNeoBERTMatchesOfficialCode(t *testing.T) {
	dir := fixtures(t)
	cfg, err := LoadNeoBERTConfig(filepath.Join(dir, "neobert_tiny.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	fx := loadNeoBERTFixture(t, dir, cfg.NumHiddenLayers)
	got := runNeoBERT(t, dir, cfg, fx.ids, fx.mask, fx.B, fx.L)
	const tol = 1e-4
	h := cfg.HiddenSize
	for name, want := range fx.outputs {
		worst := 0.0
		for tok := 0; tok < fx.B*fx.L; tok++ {
			if fx.mask[tok] == 0 {
				continue
			}
			g, w := got[name][tok*h:(tok+1)*h], want[tok*h:(tok+1)*h]
			e := tokenRelErr(g, w)
			worst = max(worst, e)
			if e > tol || math.IsNaN(e) {
				t.Errorf("%s: token [%d, %d]: relative error %.3g > %g", name, tok/fx.L, tok%fx.L, e, tol)
			}
			for j := range g {
				if d := math.Abs(g[j] - float64(w[j])); d > tol*math.Max(1, math.Abs(float64(w[j]))) {
					t.Errorf("%s[%d, %d, %d] = %.7g, want %.7g", name, tok/fx.L, tok%fx.L, j, g[j], w[j])
				}
			}
		}
		t.Logf("%s: worst per-token relative error %.3g", name, worst)
	}
}

// TestNeoBERTRightPaddingInvariance encodes each fixture sentence alone,
// unpadded, and compares with the padded batch at its real tokens.
func TestNeoBERTRightPaddingInvariance(t *testing.T) {
	dir := fixtures(t)
	cfg, err := LoadNeoBERTConfig(filepath.Join(dir, "neobert_tiny.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	fx := loadNeoBERTFixture(t, dir, cfg.NumHiddenLayers)
	batch := runNeoBERT(t, dir, cfg, fx.ids, fx.mask, fx.B, fx.L)
	h := cfg.HiddenSize
	padded := 0
	for s := 0; s < fx.B; s++ {
		n := 0
		for _, m := range fx.mask[s*fx.L : (s+1)*fx.L] {
			n += int(m)
		}
		if n == fx.L {
			continue
		}
		padded++
		single := runNeoBERT(t, dir, cfg, fx.ids[s*fx.L:s*fx.L+n], fx.mask[s*fx.L:s*fx.L+n], 1, n)
		for name, one := range single {
			want := make([]float32, len(one))
			for i, v := range one {
				want[i] = float32(v)
			}
			for tok := 0; tok < n; tok++ {
				g := batch[name][(s*fx.L+tok)*h : (s*fx.L+tok+1)*h]
				if e := tokenRelErr(g, want[tok*h:(tok+1)*h]); e > 1e-5 {
					t.Errorf("sentence %d, %s, token %d: padded vs alone relative difference %.3g > 1e-5", s, name, tok, e)
				}
			}
		}
	}
	if padded == 0 {
		t.Fatal("the fixture has no padded sentence")
	}
}

func TestLoadNeoBERTConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := LoadNeoBERTConfig(write("ok.json", `{"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
		"intermediate_size": 96, "vocab_size": 30522, "max_length": 4096, "pad_token_id": 0, "rope": true,
		"rms_norm": true, "hidden_act": "SwiGLU"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := NeoBERTConfig{HiddenSize: 32, NumHiddenLayers: 2, NumAttentionHeads: 2, IntermediateSize: 96,
		VocabSize: 30522, NormEps: 1e-5, MaxLength: 4096, RopeTheta: 10000}
	if got != want {
		t.Fatalf("config %+v, want %+v (defaults filled)", got, want)
	}
	// SPEC §2: F = 8·ceil(int(2·intermediate/3)/8).
	for _, c := range []struct{ inter, f int }{{3072, 2048}, {96, 64}, {12, 8}, {100, 72}} {
		if f := (NeoBERTConfig{IntermediateSize: c.inter}).FFNSize(); f != c.f {
			t.Errorf("FFNSize(%d) = %d, want %d", c.inter, f, c.f)
		}
	}
	for _, c := range []struct{ name, body, want string }{
		{"rope.json", `{"hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 12, "vocab_size": 5, "rope": false}`, "rope"},
		{"act.json", `{"hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 12, "vocab_size": 5, "hidden_act": "gelu"}`, "hidden_act"},
		{"odd.json", `{"hidden_size": 6, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 12, "vocab_size": 5}`, "even width"},
		{"zero.json", `{"hidden_size": 8, "num_hidden_layers": 0, "num_attention_heads": 2, "intermediate_size": 12, "vocab_size": 5}`, "positive"},
		{"bad.json", `{"hidden_size": "8"}`, "bad.json"},
	} {
		_, err := LoadNeoBERTConfig(write(c.name, c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: err = %v, want one naming the file and %q", c.name, err, c.want)
		}
	}
}

// tinyNeoBERT is the float64 gradient-test encoder: V=11, H=8, 2 heads of
// dh=4, F=8, 2 blocks; the pad id 10 does not occur in the ids (its row
// would get no gradient by design, which finite differences would flag).
var tinyNeoBERT = NeoBERTConfig{HiddenSize: 8, NumHiddenLayers: 2, NumAttentionHeads: 2, IntermediateSize: 12,
	VocabSize: 11, NormEps: 1e-5, MaxLength: 16, PadTokenID: 10}

// TestNeoBERTRejectsLongInputs checks max_length.
func TestNeoBERTRejectsLongInputs(t *testing.T) {
	b := newTestBuilder(1)
	NewNeoBERT(b, "enc.", tinyNeoBERT).Fwd(b, b.Input("ids", 1, 17), nil)
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "max_length 16") {
		t.Fatalf("err = %v, want a max_length error", err)
	}
}

// TestNeoBERTFrozen checks that a frozen encoder takes no part in Grad:
// its parameters are not trainable and no backward op of its kernels
// enters the graph, while the head on top of it still trains.
func TestNeoBERTFrozen(t *testing.T) {
	b := newTestBuilder(1)
	b.Freeze("enc.")
	enc := NewNeoBERT(b, "enc.", tinyNeoBERT)
	head := NewLinear(b, "head", 8, 1, true)
	ids, m := b.Input("ids", 2, 3), b.Input("m", 2, 3)
	setInput(t, ids, []float64{1, 2, 3, 4, 5, 10})
	setInput(t, m, []float64{1, 1, 1, 1, 1, 0})
	last, _ := enc.Fwd(b, ids, m)
	out := head.Fwd(b, last)
	if n := len(b.Trainable()); n != 2 {
		t.Fatalf("%d trainable parameters, want the head's 2", n)
	}
	bad := checkAll(t, b, out)
	for _, m := range bad {
		t.Errorf("gradient mismatch %v", m)
	}
	var backward []string
	for _, n := range b.G.AllNodes() {
		if op := n.Op(); op != nil && strings.HasSuffix(op.String(), "'") {
			backward = append(backward, op.String())
		}
	}
	if len(backward) != 1 {
		t.Errorf("backward ops %v, want only the head's linear'", backward)
	}
}

// TestEmbeddingPadRowAndBadIDs checks the padding_idx semantics against a
// hand-computed gradient (row v gets Σ of the output gradients of the
// tokens with id v, the pad row nothing) and the error for a bad id.
func TestEmbeddingPadRowAndBadIDs(t *testing.T) {
	b := newTestBuilder(1)
	table := randParam(b, "table", 1, 4, 3)
	ids := b.Input("ids", 2, 3)
	setInput(t, ids, []float64{2, 0, 2, 1, 0, 0})
	out := Embedding(b, ids, table, 0)
	r := randVals(rand.New(rand.NewPCG(1, 2)), 18)
	rn := b.Constant("r", r, 2, 3, 3)
	prod, err := G.HadamardProd(out, rn)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(cost, table); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(b.G, G.BindDualValues(table))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	gv, err := table.Grad()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 12)
	for j := 0; j < 3; j++ {
		want[1*3+j] = r[3*3+j]
		want[2*3+j] = r[0*3+j] + r[2*3+j]
	}
	assertClose(t, "table gradient", gv.Data().([]float64), want, 1e-12)

	for _, bad := range []float64{4, -1, 1.5} {
		setInput(t, ids, []float64{2, 0, bad, 1, 0, 0})
		m.Reset()
		if err := m.RunAll(); err == nil || !strings.Contains(err.Error(), "at [0, 2]") {
			t.Errorf("id %v: err = %v, want one naming position [0, 2]", bad, err)
		}
	}
}

// BenchmarkNeoBERTForward times one evaluation forward pass of a
// NeoBERT-base-shaped encoder (768/28/12/3072, vocab 30522, random
// weights, float32) on 8 sentences of 50 tokens. It needs about 1 GB.
// The PyTorch counterpart is tools/bench_neobert_torch.py.
func BenchmarkNeoBERTForward(bm *testing.B) {
	b := NewBuilder(tensor.Float32, 1, false)
	_, last, _, _ := neobertBench(bm, b, false)
	if err := b.Err(); err != nil {
		bm.Fatal(err)
	}
	var out G.Value
	G.Read(last, &out)
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	run := func() {
		m.Reset()
		if err := m.RunAll(); err != nil {
			bm.Fatal(err)
		}
	}
	run() // warm up, as bench_neobert_torch.py does
	bm.ResetTimer()
	for i := 0; i < bm.N; i++ {
		run()
	}
}

// neobertPaddedLengths are the real lengths of BenchmarkNeoBERTTrain's
// padded sentences: CMU-MOSI's texts under NeoBERT's tokenizer hold 5–15
// tokens of 50.
var neobertPaddedLengths = []int{7, 12, 15, 9, 5, 11, 14, 8}

// BenchmarkNeoBERTTrain times one fine-tuning step's forward + backward
// pass of the encoder of BenchmarkNeoBERTForward (NeoBERT-base shape,
// random weights, float32, 8 sentences of 50 tokens) in a training graph:
// cost = Σ last ⊙ R for a fixed random R [8, 50, 768] (zero at padding),
// gradients to every parameter (the embedding table included), zeroed
// before each run as graph.Runner does; no optimizer step. NeoBERT has no
// dropout, so the training graph has no masks to fill. dense has a mask of
// all ones; padded has sentences of neobertPaddedLengths real tokens, whose
// padding the kernels skip. It reports samples/s and needs about 4.5 GB.
// The PyTorch counterpart is tools/bench_neobert_torch.py --backward
// [--padded].
func BenchmarkNeoBERTTrain(bm *testing.B) {
	for _, padded := range []bool{false, true} {
		name := "dense"
		if padded {
			name = "padded"
		}
		bm.Run(name, func(bm *testing.B) { benchNeoBERTTrain(bm, padded) })
	}
}

// neobertBench builds the benchmarks' NeoBERT-base encoder in b on 8
// sentences of 50 random tokens (of neobertPaddedLengths real ones when
// padded) and returns it, its output, the mask's values and the random
// source that drew the tokens.
func neobertBench(bm *testing.B, b *Builder, padded bool) (*NeoBERT, *G.Node, []float64, *rand.Rand) {
	enc := NewNeoBERT(b, "text_encoder.", NeoBERTBase())
	const B, L = 8, 50
	ids, mask := b.Input("text_ids", B, L), b.Input("text_mask", B, L)
	rng := rand.New(rand.NewPCG(3, 4))
	idv, mv := make([]float64, B*L), make([]float64, B*L)
	for i := range idv {
		idv[i], mv[i] = float64(1+rng.IntN(30521)), 1
		if padded && i%L >= neobertPaddedLengths[i/L] {
			idv[i], mv[i] = 0, 0
		}
	}
	setInput32(bm, ids, idv)
	setInput32(bm, mask, mv)
	last, _ := enc.Fwd(b, ids, mask)
	return enc, last, mv, rng
}

func benchNeoBERTTrain(bm *testing.B, padded bool) {
	const B = 8
	b := NewBuilder(tensor.Float32, 1, true)
	enc, last, mv, rng := neobertBench(bm, b, padded)
	r := randVals(rng, last.Shape().TotalSize())
	for i := range r {
		r[i] *= mv[i/enc.Cfg.HiddenSize]
	}
	rn := b.Constant("bench.R", r, last.Shape()...)
	if err := b.Err(); err != nil {
		bm.Fatal(err)
	}
	prod, err := G.HadamardProd(last, rn)
	if err != nil {
		bm.Fatal(err)
	}
	cost, err := G.Sum(prod)
	if err != nil {
		bm.Fatal(err)
	}
	if n := len(b.Dropouts()); n != 0 {
		bm.Fatalf("%d dropout masks, want none (NeoBERT has no dropout)", n)
	}
	wrt := b.Trainable()
	if len(wrt) != len(enc.Params()) {
		bm.Fatalf("%d trainable parameters, want the encoder's %d", len(wrt), len(enc.Params()))
	}
	if _, err := G.Grad(cost, wrt...); err != nil {
		bm.Fatal(err)
	}
	if err := b.CheckHashes(); err != nil {
		bm.Fatal(err)
	}
	m := NewTapeMachine(b.G, G.BindDualValues(wrt...))
	defer m.Close()
	step := func() {
		// Gorgonia adds each run's gradients to the dual values and Reset
		// keeps them: clear them as graph.Runner's zeroGrads does.
		for _, n := range wrt {
			g, err := n.Grad()
			if err != nil || g == nil {
				continue // before the first run there is nothing to clear
			}
			t, ok := g.(tensor.Tensor)
			if !ok {
				bm.Fatalf("%s: gradient is %T", n.Name(), g)
			}
			t.Zero()
		}
		m.Reset()
		if err := m.RunAll(); err != nil {
			bm.Fatal(err)
		}
	}
	// Warm up, as bench_neobert_torch.py does: the first run also copies
	// every parameter into Gorgonia's dual values and grows the kernels'
	// memory, once per training run.
	step()
	bm.ResetTimer()
	for i := 0; i < bm.N; i++ {
		step()
	}
	bm.ReportMetric(float64(B*bm.N)/bm.Elapsed().Seconds(), "samples/s")
}

// ExampleNewNeoBERT builds a small NeoBERT trained from scratch, encodes
// two right-padded sentences and reads the text features F_t_raw.
func ExampleNewNeoBERT() {
	b := NewBuilder(tensor.Float32, 1, false)
	cfg := NeoBERTConfig{HiddenSize: 16, NumHiddenLayers: 2, NumAttentionHeads: 2, IntermediateSize: 24, VocabSize: 100}
	enc := NewNeoBERT(b, "text_encoder.", cfg)
	ids, mask := b.Input("text_ids", 2, 4), b.Input("text_mask", 2, 4)
	last, hidden := enc.Fwd(b, ids, mask)
	if err := b.Err(); err != nil {
		fmt.Println(err)
		return
	}
	for n, v := range map[*G.Node][]float32{ids: {1, 5, 7, 2, 1, 9, 2, 0}, mask: {1, 1, 1, 1, 1, 1, 1, 0}} {
		if err := G.Let(n, tensor.New(tensor.WithShape(2, 4), tensor.WithBacking(v))); err != nil {
			fmt.Println(err)
			return
		}
	}
	var out G.Value
	G.Read(last, &out)
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Shape(), len(hidden), "hidden states,", len(enc.Params()), "parameters")
	// Output: (2, 4, 16) 2 hidden states, 14 parameters
}
