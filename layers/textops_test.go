package layers

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers/gradcheck"
	"github.com/fdcmdie/fdcmdie/layers/safetensors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// textGradCases are the gradient cases of the text encoders and their
// kernels, run by TestTextGradients and TestTextGradientsCatchPerturbedBackward.
var textGradCases = []struct {
	name  string
	build func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node
	// encoder: every trainable tensor must get a non-zero gradient, and
	// fewer elements per tensor are checked to keep the test short.
	encoder bool
}{
	{"rope", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		// theta 7 turns the later pairs by visible angles too.
		return RoPE(b, randParam(b, "x", 1, 2, 5, 8), 2, 7)
	}, false},
	{"swiglu", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return SwiGLU(b, randParam(b, "u", 2, 2, 3, 10))
	}, false},
	{"gelu", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		return GELU(b, randParam(b, "x", 2, 3, 7))
	}, false},
	{"rope_qkv", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		// 48 elements: all of them are checked (gradcheck's default cap
		// is 64), so the perturbed backward pass cannot slip through.
		return RoPEQKV(b, randParam(b, "qkv", 1, 1, 2, 24), 2, 7)
	}, false},
	{"attention_qkv", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		// Sample 1's last step is padding: a masked key, and a query whose
		// row is zeros (Builder.Rows). 2 heads of dh 2, 48 elements.
		qkv, m := randParam(b, "qkv", 1, 2, 2, 12), b.Input("m", 2, 2)
		setInput(t, m, []float64{1, 1, 1, 0})
		return AttentionQKV(b, b.Rows(qkv, m), m, 2)
	}, false},
	{"embedding_repeated_ids", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		ids := b.Input("ids", 2, 4)
		setInput(t, ids, []float64{3, 1, 3, 0, 4, 4, 4, 2})
		return Embedding(b, ids, randParam(b, "table", 1, 5, 3), -1)
	}, false},
	{"bert_embedding", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		ids := b.Input("ids", 2, 3)
		setInput(t, ids, []float64{3, 1, 3, 0, 4, 4})
		word, pos, typ := randParam(b, "word", 1, 5, 4), randParam(b, "pos", 1, 6, 4), randParam(b, "type", 1, 2, 4)
		return embed(b, ids, -1, word, pos, typ)
	}, false},
	{"neobert_tiny", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		enc := NewNeoBERT(b, "enc.", tinyNeoBERT)
		// Random norm weights and larger matrices than the U(±0.02) init
		// make every path visible in the cost.
		for _, p := range b.Params() {
			setInput(t, p.Node, randVals(rng, p.Node.Shape().TotalSize()))
		}
		ids, m := b.Input("ids", 2, 5), b.Input("m", 2, 5)
		setInput(t, ids, []float64{1, 7, 3, 3, 9, 1, 2, 5, 0, 0})
		setInput(t, m, []float64{1, 1, 1, 1, 1, 1, 1, 1, 0, 0})
		last, hidden := enc.Fwd(b, ids, m)
		if len(hidden) != 2 {
			t.Fatalf("%d hidden states, want 2", len(hidden))
		}
		return last
	}, true},
	{"bert_tiny", func(t *testing.T, b *Builder, rng *rand.Rand) *G.Node {
		enc := NewBert(b, "enc.", BertConfig{VocabSize: 9, HiddenSize: 8, NumHiddenLayers: 2, NumAttentionHeads: 2,
			IntermediateSize: 12, MaxPositionEmbeddings: 6, PadTokenID: 8})
		for _, p := range b.Params() {
			setInput(t, p.Node, randVals(rng, p.Node.Shape().TotalSize()))
		}
		ids, m := b.Input("ids", 2, 4), b.Input("m", 2, 4)
		setInput(t, ids, []float64{1, 7, 3, 3, 1, 2, 0, 0})
		setInput(t, m, []float64{1, 1, 1, 1, 1, 1, 0, 0})
		last, _ := enc.Fwd(b, ids, m)
		return last
	}, true},
}

func TestTextGradients(t *testing.T) {
	for _, c := range textGradCases {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBuilder(5)
			out := c.build(t, b, rand.New(rand.NewPCG(6, 7)))
			for _, m := range checkWith(t, b, out, textGradOptions(c.encoder)) {
				t.Errorf("gradient mismatch %v", m)
			}
			if !c.encoder {
				return
			}
			for _, n := range b.Trainable() {
				g, err := n.Grad()
				if err != nil {
					t.Fatalf("%s: %v", n.Name(), err)
				}
				nonzero := false
				for _, v := range g.Data().([]float64) {
					nonzero = nonzero || v != 0
				}
				if !nonzero {
					t.Errorf("%s gets no gradient", n.Name())
				}
			}
		})
	}
}

func textGradOptions(encoder bool) gradcheck.Options {
	if encoder {
		return gradcheck.Options{MaxPerParam: 20}
	}
	return gradcheck.Options{}
}

// TestTextGradientsCatchPerturbedBackward reruns the cases with every
// kernel's backward pass off by 1e-4 in one element per input.
func TestTextGradientsCatchPerturbedBackward(t *testing.T) {
	for _, c := range textGradCases {
		t.Run(c.name, func(t *testing.T) {
			b := newTestBuilder(5)
			b.wrap = func(k kernel) kernel { return perturbed{k} }
			out := c.build(t, b, rand.New(rand.NewPCG(6, 7)))
			if bad := checkWith(t, b, out, textGradOptions(c.encoder)); len(bad) == 0 {
				t.Fatal("a perturbed backward pass went unnoticed")
			}
		})
	}
}

// TestTextKernelsByHand checks the forward kernels on values worked out by
// hand.
func TestTextKernelsByHand(t *testing.T) {
	b := newTestBuilder(1)
	// RoPE, 1 head of dh 4, theta 100: pair 0 turns by p rad, pair 1 by
	// p/10 rad at position p.
	x := b.Input("x", 1, 2, 4)
	setInput(t, x, []float64{1, 2, 3, 4, 1, 2, 3, 4})
	rope := RoPE(b, x, 1, 100)
	c1, s1, c01, s01 := math.Cos(1), math.Sin(1), math.Cos(0.1), math.Sin(0.1)
	wantRope := []float64{1, 2, 3, 4, c1 - 2*s1, s1 + 2*c1, 3*c01 - 4*s01, 3*s01 + 4*c01}
	// SwiGLU of u = [g0, g1, v0, v1].
	u := b.Input("u", 1, 4)
	setInput(t, u, []float64{0, 2, 5, -3})
	wantSwiGLU := []float64{0, 2 / (1 + math.Exp(-2)) * -3}
	// GELU(1) = Φ(1) = 0.8413447460685429; GELU(−2) = −2·Φ(−2).
	g := b.Input("g", 2)
	setInput(t, g, []float64{1, -2})
	wantGELU := []float64{0.8413447460685429, -2 * 0.022750131948179195}
	// RoPEQKV of 1 head of dh 2 at positions 0 and 1: q and k turn by p
	// rad, v is copied.
	qkv := b.Input("qkv", 1, 2, 6)
	setInput(t, qkv, []float64{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6})
	wantQKV := []float64{1, 2, 3, 4, 5, 6, c1 - 2*s1, s1 + 2*c1, 3*c1 - 4*s1, 3*s1 + 4*c1, 5, 6}
	got := run(t, b, rope, SwiGLU(b, u), GELU(b, g), RoPEQKV(b, qkv, 1, 100))
	assertClose(t, "rope", got[0], wantRope, 1e-15)
	assertClose(t, "swiglu", got[1], wantSwiGLU, 1e-15)
	assertClose(t, "gelu", got[2], wantGELU, 1e-15)
	assertClose(t, "rope_qkv", got[3], wantQKV, 1e-15)
}

// rawTensor is one tensor of a hand-built safetensors file.
type rawTensor struct {
	name, dtype string
	shape       []int
	data        []byte
}

// writeRaw writes a safetensors file with any dtypes (safetensors.Write
// only writes F32).
func writeRaw(t *testing.T, path string, ts []rawTensor) {
	t.Helper()
	header := map[string]any{}
	var body []byte
	for _, r := range ts {
		header[r.name] = map[string]any{"dtype": r.dtype, "shape": r.shape, "data_offsets": []int{len(body), len(body) + len(r.data)}}
		body = append(body, r.data...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	if err := os.WriteFile(path, append(append(out, h...), body...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func f32Bytes(v []float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// releasedTensors returns, for every parameter of a tiny NeoBERT under
// "enc.", a tensor with the released name ("model." + name), shape and
// distinct values, plus the MLM head that loading skips.
func releasedTensors(b *Builder) []rawTensor {
	var ts []rawTensor
	for i, p := range b.Params() {
		v := make([]float32, p.Node.Shape().TotalSize())
		for j := range v {
			v[j] = float32(i) + float32(j)/1024
		}
		ts = append(ts, rawTensor{"model." + strings.TrimPrefix(p.Name, "enc."), "F32", p.Shape, f32Bytes(v)})
	}
	return append(ts, rawTensor{"decoder.weight", "F32", []int{2, 2}, f32Bytes([]float32{1, 2, 3, 4})})
}

// newTinyNeoBERT is a float32 tinyNeoBERT under "enc." on a new builder.
func newTinyNeoBERT() (*Builder, *NeoBERT) {
	b := NewBuilder(tensor.Float32, 1, false)
	return b, NewNeoBERT(b, "enc.", tinyNeoBERT)
}

func TestNeoBERTLoad(t *testing.T) {
	dir := t.TempDir()
	b, enc := newTinyNeoBERT()
	good := releasedTensors(b)
	path := filepath.Join(dir, "good.safetensors")
	writeRaw(t, path, good)
	if err := enc.Load(b, path); err != nil {
		t.Fatal(err)
	}
	for i, p := range b.Params() {
		got := p.Node.Value().Data().([]float32)
		for j, v := range got {
			if want := float32(i) + float32(j)/1024; v != want {
				t.Fatalf("%s[%d] = %v, want %v", p.Name, j, v, want)
			}
		}
	}

	path = filepath.Join(dir, "half.safetensors")
	writeRaw(t, path, halfTensors(good))
	if err := enc.Load(b, path); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*G.Node{enc.Norm.W, enc.Blocks[0].FFNNorm.W} {
		for j, v := range w.Value().Data().([]float32) {
			if want := []float32{1.5, -2}[j%2]; v != want {
				t.Fatalf("%s[%d] = %v, want %v", w.Name(), j, v, want)
			}
		}
	}
}

// halfTensors is good with the final norm's weight in BF16 and block 0's
// FFN norm weight in F16, both alternating 1.5 and -2, which loading
// converts: 1.5 is 0x3FC0 in bfloat16 and 0x3E00 in float16; -2 is 0xC000
// in both.
func halfTensors(good []rawTensor) []rawTensor {
	half := append([]rawTensor(nil), good...)
	for i, r := range half {
		var dtype string
		var bits []uint16
		switch r.name {
		case "model.layer_norm.weight":
			dtype, bits = "BF16", []uint16{0x3FC0, 0xC000}
		case "model.transformer_encoder.0.ffn_norm.weight":
			dtype, bits = "F16", []uint16{0x3E00, 0xC000}
		default:
			continue
		}
		var data []byte
		for j := 0; j < r.shape[0]; j++ {
			data = binary.LittleEndian.AppendUint16(data, bits[j%2])
		}
		half[i].dtype, half[i].data = dtype, data
	}
	return half
}

// TestNeoBERTLoadMismatch loads checkpoints that differ from the model and
// wants an error naming the file and the tensor, with the weights left as
// they were.
func TestNeoBERTLoadMismatch(t *testing.T) {
	dir := t.TempDir()
	b, _ := newTinyNeoBERT()
	good := releasedTensors(b)
	for _, c := range []struct {
		name   string
		change func([]rawTensor) []rawTensor
		want   []string
	}{
		{"missing", func(ts []rawTensor) []rawTensor {
			return dropTensor(ts, "model.transformer_encoder.1.wo.weight")
		}, []string{`"enc.transformer_encoder.1.wo.weight"`}},
		{"unexpected", func(ts []rawTensor) []rawTensor {
			return append(ts, rawTensor{"model.transformer_encoder.2.wo.weight", "F32", []int{1}, f32Bytes([]float32{1})})
		}, []string{`"model.transformer_encoder.2.wo.weight"`, "unexpected"}},
		{"shape", func(ts []rawTensor) []rawTensor {
			ts = dropTensor(ts, "model.transformer_encoder.0.qkv.weight")
			return append(ts, rawTensor{"model.transformer_encoder.0.qkv.weight", "F32", []int{8, 24}, f32Bytes(make([]float32, 192))})
		}, []string{`"model.transformer_encoder.0.qkv.weight"`, "[8 24]", "[24 8]"}},
		{"dtype", func(ts []rawTensor) []rawTensor {
			ts = dropTensor(ts, "model.layer_norm.weight")
			return append(ts, rawTensor{"model.layer_norm.weight", "I32", []int{8}, make([]byte, 32)})
		}, []string{`"model.layer_norm.weight"`, "I32"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".safetensors")
			writeRaw(t, path, c.change(append([]rawTensor(nil), good...)))
			b, enc := newTinyNeoBERT()
			before := append([]float32(nil), enc.Embed.Value().Data().([]float32)...)
			err := enc.Load(b, path)
			if err == nil {
				t.Fatal("loaded a mismatched checkpoint")
			}
			for _, w := range append(c.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if after := enc.Embed.Value().Data().([]float32); after[0] != before[0] {
				t.Error("a failed load changed the weights")
			}
		})
	}
}

func dropTensor(ts []rawTensor, name string) []rawTensor {
	var out []rawTensor
	for _, r := range ts {
		if r.name != name {
			out = append(out, r)
		}
	}
	return out
}

// TestLoadParamsFloat64 reads F32 tensors exactly into a float64 graph
// through safetensors.Write, the writer of Go checkpoints.
func TestLoadParamsFloat64(t *testing.T) {
	b := newTestBuilder(1)
	l := NewLinear(b, "head.fc", 3, 2, true)
	path := filepath.Join(t.TempDir(), "head.safetensors")
	w := []float32{0.1, 0.2, 0.3, -1, -2, -3}
	err := safetensors.Write(path, []safetensors.Tensor{
		{Name: "fc.weight", Shape: []int{2, 3}, Data: w},
		{Name: "fc.bias", Shape: []int{2}, Data: []float32{7, 8}},
		{Name: "other.weight", Shape: []int{1}, Data: []float32{0}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rename := func(n string) (string, bool) {
		return "head." + n, strings.HasPrefix(n, "fc.")
	}
	if err := LoadParams(b, path, "head.", rename); err != nil {
		t.Fatal(err)
	}
	want := make([]float64, len(w))
	for i, v := range w {
		want[i] = float64(v)
	}
	assertClose(t, "weight", l.W.Value().Data().([]float64), want, 0)
	assertClose(t, "bias", l.B.Value().Data().([]float64), []float64{7, 8}, 0)
}

// TestSwiGLUAVX2MatchesGo checks that SwiGLU's assembly rows (vec.SwiGLU,
// vec.SwiGLUGrad) are bitwise the Go loops', at NeoBERT-base's width
// (2048) and at widths with a tail past the last group of four, with large
// gates (σ at 0 and 1), infinities and NaN.
func TestSwiGLUAVX2MatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	defer func() { useAVX2 = true }()
	rng := rand.New(rand.NewPCG(17, 18))
	for _, f := range []int{2048, 13, 4, 7} {
		vals := func(scale float64) []float32 {
			v := make([]float32, f)
			for j := range v {
				v[j] = float32(rng.NormFloat64() * scale)
			}
			return v
		}
		g, v, dy := vals(3), vals(2), vals(1)
		g[0], g[f-1], v[f/2] = 90, -90, float32(math.Inf(1))
		if f > 4 {
			g[1], dy[2] = float32(math.NaN()), float32(math.Inf(-1))
		}
		s := append([]float32(nil), g...)
		sigmoidRow32(s)
		var y, dg, dv [2][]float32
		for k, avx := range []bool{true, false} {
			useAVX2 = avx
			y[k], dg[k], dv[k] = make([]float32, f), make([]float32, f), make([]float32, f)
			swigluRow(g, v, s, y[k])
			swigluGradRow(g, v, s, dy, dg[k], dv[k])
		}
		useAVX2 = true
		for _, out := range []struct {
			name string
			v    [2][]float32
		}{{"y", y}, {"dg", dg}, {"dv", dv}} {
			for j := range f {
				a, b := out.v[0][j], out.v[1][j]
				if math.Float32bits(a) != math.Float32bits(b) && !(a != a && b != b) {
					t.Fatalf("width %d: %s[%d]: AVX2 %v, Go %v", f, out.name, j, a, b)
				}
			}
		}
	}
}
