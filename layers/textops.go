package layers

import (
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/chewxy/hm"
	"github.com/fdcmdie/fdcmdie/layers/safetensors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TextEncoder is a text encoder of SPEC §2 (NeoBERT, or BERT for the
// "w/o NeoBERT" ablation) built into a graph.
type TextEncoder interface {
	// Fwd encodes ids [B, L] (token ids held as floats in a data input)
	// with key mask [B, L] (1 = real token, 0 = padding; nil: no padding)
	// into last [B, L, H], the text features F_t_raw, and hidden, the
	// output of each layer in order.
	Fwd(b *Builder, ids, mask *G.Node) (last *G.Node, hidden []*G.Node)
	// Load copies a checkpoint's weights into the encoder's parameters.
	Load(b *Builder, path string) error
	// Width is H, the width of the features.
	Width() int
}

var (
	_ TextEncoder = (*NeoBERT)(nil)
	_ TextEncoder = (*Bert)(nil)
)

// encoderConfig is the config.json type of a text encoder.
type encoderConfig[C any] interface {
	withDefaults() C
	Validate() error
}

// loadConfig reads the config.json at path of the encoder named what
// ("bert", "neobert") into a C and, from the same file, into variant the
// fields that select a variant of the architecture; check refuses the
// variants this package does not implement. It then fills C's defaults
// and validates. Errors name the file.
func loadConfig[C encoderConfig[C]](what, path string, variant any, check func() error) (C, error) {
	var zero C
	raw, err := os.ReadFile(path)
	if err != nil {
		return zero, fmt.Errorf("layers: %s config: %w", what, err)
	}
	var c C
	if err := json.Unmarshal(raw, &c); err != nil {
		return zero, fmt.Errorf("layers: %s config %s: %w", what, path, err)
	}
	if err := json.Unmarshal(raw, variant); err != nil {
		return zero, fmt.Errorf("layers: %s config %s: %w", what, path, err)
	}
	if err := check(); err != nil {
		return zero, fmt.Errorf("layers: %s config %s: %w", what, path, err)
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return zero, fmt.Errorf("layers: %s config %s: %w", what, path, err)
	}
	return c, nil
}

// checkPadID reports a pad_token_id outside a vocabulary of vocab rows.
func checkPadID(pad, vocab int) error {
	if pad < 0 || pad >= vocab {
		return fmt.Errorf("pad_token_id %d outside the vocabulary of %d", pad, vocab)
	}
	return nil
}

// Embedding returns the rows of table [V, H] picked by ids [B, L] as
// [B, L, H]. ids is a data input holding integer-valued floats; running
// the graph fails with an error naming the position of an id outside
// [0, V). Rows whose id equals pad (pass −1 for none) receive no
// gradient, as torch.nn.Embedding(padding_idx=pad).
func Embedding(b *Builder, ids, table *G.Node, pad int) *G.Node {
	return embed(b, ids, pad, table)
}

// embed checks ids against the vocabulary of tables[0] and applies embedK.
func embed(b *Builder, ids *G.Node, pad int, tables ...*G.Node) *G.Node {
	if ids.Dims() != 2 || tables[0].Dims() != 2 {
		b.Fail(fmt.Errorf("layers: embedding: ids %v, table %v: want [B, L] and [V, H]", ids.Shape(), tables[0].Shape()))
		return b.placeholder([]int{1, 1, 1})
	}
	checked, err := G.ApplyOp(&idCheckOp{vocab: tables[0].Shape()[0], shape: ids.Shape().Clone()}, ids)
	if err != nil {
		b.Fail(fmt.Errorf("layers: embedding: %w", err))
		return b.placeholder([]int{1, 1, 1})
	}
	b.data[checked] = true
	return b.apply(embedK{pad: pad}, append([]*G.Node{checked}, tables...)...)
}

// idCheckOp passes token ids through unchanged after checking that each is
// an integer in [0, vocab), so a bad id is an error of the run, not a
// panic inside the embedding kernel.
type idCheckOp struct {
	vocab int
	shape tensor.Shape
}

func (op *idCheckOp) Arity() int { return 1 }
func (op *idCheckOp) Type() hm.Type {
	return hm.NewFnType(tensorType(op.shape.Dims()), tensorType(op.shape.Dims()))
}
func (op *idCheckOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *idCheckOp) ReturnsPtr() bool                               { return false }
func (op *idCheckOp) CallsExtern() bool                              { return false }
func (op *idCheckOp) OverwritesInput() int                           { return -1 }
func (op *idCheckOp) String() string                                 { return fmt.Sprintf("check_ids(vocab=%d)", op.vocab) }
func (op *idCheckOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "check_ids:%d:%v", op.vocab, op.shape) }
func (op *idCheckOp) Hashcode() uint32                               { return hashOf(op) }

func (op *idCheckOp) Do(vs ...G.Value) (G.Value, error) {
	in, err := dense(vs[0])
	if err != nil {
		return nil, fmt.Errorf("%v: %w", op, err)
	}
	var backing any
	switch d := in.Data().(type) {
	case []float32:
		err = checkIDs(d, op.vocab, op.shape)
		backing = slices.Clone(d)
	case []float64:
		err = checkIDs(d, op.vocab, op.shape)
		backing = slices.Clone(d)
	default:
		err = fmt.Errorf("unsupported data %T", d)
	}
	if err != nil {
		return nil, fmt.Errorf("layers: token ids: %w", err)
	}
	return tensor.New(tensor.WithShape(op.shape.Clone()...), tensor.WithBacking(backing)), nil
}

func checkIDs[T float](ids []T, vocab int, shape tensor.Shape) error {
	for i, v := range ids {
		f := float64(v)
		if f < 0 || f >= float64(vocab) || f != math.Trunc(f) {
			return fmt.Errorf("id %v at [%d, %d] is not an integer in [0, %d)", f, i/shape[1], i%shape[1], vocab)
		}
	}
	return nil
}

// embedK: inputs ids [B, L] (checked), word [V, H], and optionally BERT's
// position [P, H] and token type [T, H] tables. Output [B, L, H]:
// word[id] without extras, (word[id] + type[0]) + pos[l] with them (HF
// BertEmbeddings' order of additions, every token of type 0).
type embedK struct{ pad int }

func (k embedK) String() string { return fmt.Sprintf("embedding(pad=%d)", k.pad) }

func (embedK) outShape(in []tensor.Shape) (tensor.Shape, error) {
	ids, w := in[0], in[1]
	if len(in) != 2 && len(in) != 4 {
		return nil, fmt.Errorf("%d inputs: want ids and a table, or ids and three tables", len(in))
	}
	for _, t := range in[1:] {
		if t.Dims() != 2 || t[1] != w[1] || t[0] < 1 {
			return nil, fmt.Errorf("table %v does not match word table %v", t, w)
		}
	}
	if len(in) == 4 && in[2][0] < ids[1] {
		return nil, fmt.Errorf("%d positions exceed the %d rows of the position table", ids[1], in[2][0])
	}
	return tensor.Shape{ids[0], ids[1], w[1]}, nil
}

func (k embedK) forward(a *kargs) {
	byType(a.dt, embedFwd[float32], embedFwd[float64])(a)
}

func (k embedK) backward(a *kargs) {
	byType(a.dt, embedBwd[float32], embedBwd[float64])(k, a)
}

func embedFwd[T float](a *kargs) {
	ids, w, y := data[T](a.in[0]), data[T](a.in[1]), data[T](a.out)
	h, L := a.shape[1][1], a.shape[0][1]
	for t, id := range ids {
		copy(y[t*h:(t+1)*h], w[int(id)*h:(int(id)+1)*h])
	}
	if len(a.in) == 4 {
		pos, typ := data[T](a.in[2]), data[T](a.in[3])
		for t := range ids {
			row, p := y[t*h:(t+1)*h], pos[(t%L)*h:]
			for j := range row {
				row[j] = (row[j] + typ[j]) + p[j]
			}
		}
	}
}

// embedBwd scatter-adds the output gradient into the used rows, token by
// token in a fixed order (deterministic).
func embedBwd[T float](k embedK, a *kargs) {
	ids, g := data[T](a.in[0]), data[T](a.gout)
	h, L := a.shape[1][1], a.shape[0][1]
	if gw := data[T](a.grads[1]); gw != nil {
		for t, id := range ids {
			if int(id) == k.pad {
				continue
			}
			row := gw[int(id)*h : (int(id)+1)*h]
			for j, v := range g[t*h : (t+1)*h] {
				row[j] += v
			}
		}
	}
	if len(a.in) != 4 {
		return
	}
	gp, gt := data[T](a.grads[2]), data[T](a.grads[3])
	for t := range ids {
		src := g[t*h : (t+1)*h]
		if gp != nil {
			row := gp[(t%L)*h:]
			for j, v := range src {
				row[j] += v
			}
		}
		if gt != nil {
			for j, v := range src {
				gt[j] += v
			}
		}
	}
}

// GELU is the exact GELU of HF BERT, x·Φ(x) = 0.5·x·(1 + erf(x/√2)),
// applied elementwise.
func GELU(b *Builder, x *G.Node) *G.Node { return b.apply(geluK{}, x) }

type geluK struct{}

func (geluK) String() string { return "gelu_erf" }

func (geluK) outShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (k geluK) forward(a *kargs)  { byType(a.dt, geluDo[float32], geluDo[float64])(a, false) }
func (k geluK) backward(a *kargs) { byType(a.dt, geluDo[float32], geluDo[float64])(a, true) }

// geluDo computes y = x·Φ(x), or in the backward pass
// gx = g·(Φ(x) + x·φ(x)), in float64 per element.
func geluDo[T float](a *kargs, bwd bool) {
	x := data[T](a.in[0])
	y, g := data[T](a.out), data[T](a.gout)
	if bwd {
		y = data[T](a.grads[0])
	} else {
		clearPadding(a.rows, y)
	}
	parallelRows(a.rows, len(x), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := float64(x[i])
			cdf := 0.5 * (1 + math.Erf(v/math.Sqrt2))
			if !bwd {
				y[i] = T(v * cdf)
				continue
			}
			pdf := math.Exp(-0.5*v*v) / math.Sqrt(2*math.Pi)
			y[i] = T(float64(g[i]) * (cdf + v*pdf))
		}
	})
}

// LoadParams copies the tensors of the safetensors file at path into the
// parameters of b whose names start with prefix. rename maps each tensor
// name of the file to a parameter name, or reports false for a tensor to
// skip. Every parameter under prefix must receive exactly one tensor, of
// its shape and of a floating-point dtype: F32 is read as is, F64, BF16
// and F16 are converted. A missing, unexpected, duplicated, mis-shaped or
// non-float tensor is an error naming it and the file, found before any
// value is written. Each tensor is read straight into its parameter's
// storage, so the weights are never held twice.
func LoadParams(b *Builder, path, prefix string, rename func(string) (string, bool)) error {
	want := map[string]*Param{}
	for _, p := range b.Params() {
		if strings.HasPrefix(p.Name, prefix) {
			want[p.Name] = p
		}
	}
	f, err := safetensors.Open(path)
	if err != nil {
		return fmt.Errorf("layers: %w", err)
	}
	defer f.Close()
	src := map[string]string{} // parameter name → tensor name
	var unexpected []string
	for _, name := range f.Names() {
		pname, ok := rename(name)
		if !ok {
			continue
		}
		p, known := want[pname]
		if !known {
			unexpected = append(unexpected, fmt.Sprintf("%q", name))
			continue
		}
		if prev, dup := src[pname]; dup {
			return fmt.Errorf("layers: %s: tensors %q and %q both map to parameter %q", path, prev, name, pname)
		}
		info, _ := f.Info(name)
		switch info.DType {
		case safetensors.F32, safetensors.F64, safetensors.BF16, safetensors.F16:
		default:
			return fmt.Errorf("layers: %s: tensor %q has dtype %s, want a floating-point dtype (F32, F64, BF16, F16)", path, name, info.DType)
		}
		if !slices.Equal(info.Shape, p.Shape) {
			return fmt.Errorf("layers: %s: tensor %q has shape %v, parameter %q wants %v", path, name, info.Shape, pname, p.Shape)
		}
		src[pname] = name
	}
	if len(unexpected) > 0 {
		return fmt.Errorf("layers: %s: unexpected tensors %s (no parameter under %q takes them)", path, someOf(unexpected), prefix)
	}
	var missing []string
	for pname := range want {
		if _, ok := src[pname]; !ok {
			missing = append(missing, fmt.Sprintf("%q", pname))
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("layers: %s: no tensor for parameters %s", path, someOf(missing))
	}
	for pname, name := range src {
		switch d := want[pname].Node.Value().Data().(type) {
		case []float32:
			err = f.ReadFloat32(name, d)
		case []float64:
			err = f.ReadFloat64(name, d)
		default:
			err = fmt.Errorf("layers: parameter %q holds %T", pname, d)
		}
		if err != nil {
			return fmt.Errorf("layers: loading %q: %w", pname, err)
		}
	}
	return nil
}

// someOf joins up to five names and counts the rest.
func someOf(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
}
