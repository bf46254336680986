package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"

	"github.com/fdcmdie/fdcmdie/layers/internal/vec"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Param is a trainable tensor of the model with its checkpoint name
// (SPEC §7).
type Param struct {
	Name  string
	Node  *G.Node
	Shape []int
	// Frozen parameters get no gradient and no optimizer state.
	Frozen bool
}

// Decay reports whether AdamW decays the parameter (SPEC §8: every tensor
// with at least two dimensions, embeddings included).
func (p *Param) Decay() bool { return len(p.Shape) >= 2 }

// Dropout is a dropout mask input: the runner fills it each step with
// keep/(1−P) drawn from its own seeded RNG in training, and with ones in
// evaluation (GORGONIA.md: Gorgonia's own Dropout is unusable).
type Dropout struct {
	Node *G.Node
	P    float64

	mem  *opMemory     // the mask's storage, in the builder's arena when it has one
	hdr  *tensor.Dense // the mask tensor, kept from call to call
	rows *G.Node       // the row mask of the sequence it drops from (Builder.Rows), or nil
}

// Builder wraps a Gorgonia expression graph and keeps what the model needs
// beyond it: parameters under unique names in creation order, the data
// inputs (which never receive gradients), and the dropout masks.
type Builder struct {
	G     *G.ExprGraph
	Dtype tensor.Dtype
	// Train says whether dropout masks are created; an evaluation-only
	// graph has none.
	Train bool

	rng      *rand.Rand
	params   []*Param
	byNode   map[*G.Node]*Param
	names    map[string]bool
	made     map[*G.Node]madeBy
	data     map[*G.Node]bool
	dropouts []*Dropout
	frozen   map[string]bool
	shared   map[string]*Param   // parameters of the graph this one shares its weights with
	rowMask  map[*G.Node]*G.Node // sequences marked by Rows, and their masks
	arena    *Arena
	kernels  int // kernels applied so far: the next one's block of the arena
	err      error
	// wrap, when set, replaces every kernel before it enters the graph
	// (tests use it to perturb backward passes).
	wrap func(kernel) kernel
	// DenseRows makes kernels compute every step of a sequence marked by
	// Rows, padding included, as a graph without marks does: the reference
	// that row skipping is checked against.
	DenseRows bool
}

// NewBuilder starts a graph of the given element type (tensor.Float32 for
// the model, tensor.Float64 in gradient tests). seed drives parameter
// initialization.
func NewBuilder(dt tensor.Dtype, seed uint64, train bool) *Builder {
	return &Builder{
		G:      G.NewGraph(),
		Dtype:  dt,
		Train:  train,
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		byNode: map[*G.Node]*Param{},
		names:  map[string]bool{},
		made:   map[*G.Node]madeBy{},
		data:   map[*G.Node]bool{},
		frozen: map[string]bool{},
	}
}

// Err returns the first error met while building, if any. Module
// constructors record errors here so that model code reads as equations.
func (b *Builder) Err() error { return b.err }

// Fail records err (the first one wins) and returns it.
func (b *Builder) Fail(err error) error {
	if b.err == nil && err != nil {
		b.err = err
	}
	return b.err
}

// ShareParams makes every parameter created after this call hold the value
// tensor of src's parameter of the same name and shape, instead of new
// values: the two graphs then compute with one set of weights, and an
// update of one (AdamW writes in place) is an update of both. A parameter
// src does not have is an error.
func (b *Builder) ShareParams(src *Builder) {
	b.shared = make(map[string]*Param, len(src.params))
	for _, p := range src.params {
		b.shared[p.Name] = p
	}
}

// UseArena makes the kernels applied and dropout masks made after this
// call keep their outputs, gradients, scratch buffers and masks in a (see
// Arena).
func (b *Builder) UseArena(a *Arena) { b.arena = a }

// Freeze marks every parameter whose name starts with prefix, created after
// this call, as frozen.
func (b *Builder) Freeze(prefix string) { b.frozen[prefix] = true }

func (b *Builder) claim(name string) bool {
	if name == "" {
		b.Fail(fmt.Errorf("layers: a node without a name"))
		return false
	}
	if b.names[name] {
		b.Fail(fmt.Errorf("layers: two nodes named %q (Gorgonia would merge them)", name))
		return false
	}
	b.names[name] = true
	return true
}

// Init fills a parameter's initial values.
type Init func(rng *rand.Rand, data []float64)

// Uniform draws from U(−a, a).
func Uniform(a float64) Init {
	return func(rng *rand.Rand, d []float64) {
		for i := range d {
			d[i] = (2*rng.Float64() - 1) * a
		}
	}
}

// Const fills every value with v.
func Const(v float64) Init {
	return func(_ *rand.Rand, d []float64) {
		for i := range d {
			d[i] = v
		}
	}
}

// Param creates a trainable tensor named name (SPEC §7) initialized by init,
// or holding the tensor of the graph given to ShareParams.
func (b *Builder) Param(name string, init Init, shape ...int) *G.Node {
	if !b.claim(name) {
		return b.placeholder(shape)
	}
	var value *tensor.Dense
	if b.shared != nil {
		src := b.shared[name]
		if src == nil {
			b.Fail(fmt.Errorf("layers: parameter %q: the graph it shares weights with has none of that name", name))
			return b.placeholder(shape)
		}
		value, _ = src.Node.Value().(*tensor.Dense)
		if !slices.Equal(src.Shape, shape) || value == nil || value.Dtype() != b.Dtype {
			b.Fail(fmt.Errorf("layers: parameter %q %v %v: the shared one is %v %v", name, b.Dtype, shape, src.Node.Dtype(), src.Shape))
			return b.placeholder(shape)
		}
	} else {
		vals := make([]float64, tensor.Shape(shape).TotalSize())
		init(b.rng, vals)
		value = b.tensorOf(vals, shape)
	}
	n := G.NewTensor(b.G, b.Dtype, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(value))
	p := &Param{Name: name, Node: n, Shape: append([]int(nil), shape...)}
	for prefix := range b.frozen {
		if len(name) >= len(prefix) && name[:len(prefix)] == prefix {
			p.Frozen = true
		}
	}
	b.params = append(b.params, p)
	b.byNode[n] = p
	return n
}

// placeholder stands in for a node that could not be created, so building
// can go on until the caller checks Err.
func (b *Builder) placeholder(shape []int) *G.Node {
	return G.NewTensor(b.G, b.Dtype, len(shape), G.WithShape(shape...), G.WithName(fmt.Sprintf("invalid.%d", len(b.names))))
}

func (b *Builder) tensorOf(vals []float64, shape []int) *tensor.Dense {
	switch b.Dtype {
	case tensor.Float32:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(Convert[float32](vals)))
	default:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), vals...)))
	}
}

// Input creates a data input (a batch tensor, a mask, a constant table): it
// receives no gradient. Its value is set with gorgonia.Let before each run.
func (b *Builder) Input(name string, shape ...int) *G.Node {
	if !b.claim(name) {
		return b.placeholder(shape)
	}
	n := G.NewTensor(b.G, b.Dtype, len(shape), G.WithShape(shape...), G.WithName(name))
	b.data[n] = true
	return n
}

// Constant creates a data input holding vals (row-major, shape given).
func (b *Builder) Constant(name string, vals []float64, shape ...int) *G.Node {
	if !b.claim(name) {
		return b.placeholder(shape)
	}
	n := G.NewTensor(b.G, b.Dtype, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(b.tensorOf(vals, shape)))
	b.data[n] = true
	return n
}

// needsGrad reports whether n can carry a gradient: data inputs, frozen
// parameters and kernel outputs computed only from those cannot.
func (b *Builder) needsGrad(n *G.Node) bool {
	if b.data[n] {
		return false
	}
	if p, ok := b.byNode[n]; ok {
		return !p.Frozen
	}
	return true
}

func (b *Builder) apply(k kernel, inputs ...*G.Node) *G.Node {
	if b.wrap != nil {
		k = b.wrap(k)
	}
	mask := b.rowMask[inputs[0]]
	if _, ok := k.(rowWise); !ok || b.DenseRows {
		mask = nil
	}
	if mask != nil {
		inputs = append(inputs[:len(inputs):len(inputs)], mask)
	}
	need := make([]bool, len(inputs))
	for i, n := range inputs {
		need[i] = b.needsGrad(n)
	}
	out, err := applyKernel(k, b.arena.at(b.kernels), need, mask != nil, inputs...)
	b.kernels++
	if err != nil {
		b.Fail(err)
		return b.placeholder(inputs[0].Shape())
	}
	if mask != nil {
		b.rowMask[out] = mask
	}
	if !b.sameKernel(out, k, inputs) {
		b.fresh(out, k, madeBy{k, inputs})
	}
	if !slices.Contains(need, true) {
		b.data[out] = true
	}
	return out
}

// sameKernel reports whether out, returned for kernel k on inputs, is an
// earlier application of an equal kernel to the same inputs: the common
// subexpression that Gorgonia rightly shares (attention over one key
// sequence projects its keys once). A node that merely shares the hash is
// not one.
func (b *Builder) sameKernel(out *G.Node, k kernel, inputs []*G.Node) bool {
	by, ok := b.made[out]
	return ok && by.k != nil && reflect.DeepEqual(by.k, k) && slices.Equal(by.in, inputs)
}

// dropoutMask adds a dropout mask input of x's shape, named
// "dropout.<n>.mask" for the n-th mask of the graph (FillDropouts draws
// them in that order), or returns nil when p is 0 or the graph is for
// evaluation. An evaluation graph still passes over the mask's block of
// the arena, so that its k-th kernel uses the k-th block of a training
// graph of the same model, the same kernel's: the two can share an arena
// at no cost (Arena).
func (b *Builder) dropoutMask(x *G.Node, p float64) *G.Node {
	if p == 0 {
		return nil
	}
	if !b.Train {
		b.kernels++
		return nil
	}
	m := b.Input(fmt.Sprintf("dropout.%d.mask", len(b.dropouts)), x.Shape()...)
	d := &Dropout{Node: m, P: p, mem: b.arena.at(b.kernels)}
	if !b.DenseRows {
		d.rows = b.rowMask[x]
	}
	b.dropouts = append(b.dropouts, d)
	b.kernels++
	return m
}

// Params returns the parameters in creation order.
func (b *Builder) Params() []*Param { return b.params }

// Trainable returns the nodes of the parameters that are not frozen.
func (b *Builder) Trainable() G.Nodes {
	var ns G.Nodes
	for _, p := range b.params {
		if !p.Frozen {
			ns = append(ns, p.Node)
		}
	}
	return ns
}

// Dropouts returns the dropout masks in creation order.
func (b *Builder) Dropouts() []*Dropout { return b.dropouts }

// FillDropouts sets every dropout mask: in training each element keeps with
// probability 1−p and is scaled by 1/(1−p); otherwise all ones. A mask's
// tensor is reused from the previous call (and shared through the arena,
// see UseArena). In training each mask takes one
// seed from rng, and the features of sample i at step t (row (i, t) of a
// mask [B, T, F]; a mask [B, F] has the one step t = 0) are drawn from a
// stream of their own keyed by (i, t). A mask's values therefore depend on
// rng alone: not on the number of cores, and not on the sequence length
// the graph was built for: the mask of a batch cut to its first T' steps
// is the leading block of the mask of the uncut batch, so a run gives the
// same numbers whatever lengths its batches are cut to. The mask of a
// sequence marked by Rows is drawn at its real steps only, from its row
// mask's current value (set it first), and is zero at the others, which the
// kernels skip.
func (b *Builder) FillDropouts(rng *rand.Rand, train bool) error {
	for _, d := range b.dropouts {
		v := d.mem.fwd.result(0, &d.hdr, b.Dtype, d.Node.Shape())
		var seed uint64
		if train {
			seed = rng.Uint64()
		}
		rows, steps, err := maskRows(v.Shape())
		if err != nil {
			return fmt.Errorf("layers: dropout %s: %w", d.Node.Name(), err)
		}
		var rs *rowSet
		if mv, ok := valueOf(d.rows).(*tensor.Dense); ok && train {
			rs = rowsOf(mv)
		}
		switch m := v.Data().(type) {
		case []float32:
			fillMask(m, rows, steps, seed, d.P, train, rs)
		case []float64:
			fillMask(m, rows, steps, seed, d.P, train, rs)
		}
		if err := G.Let(d.Node, v); err != nil {
			return fmt.Errorf("layers: dropout %s: %w", d.Node.Name(), err)
		}
	}
	return nil
}

// maskRows returns the samples and steps of a dropout mask's shape: [B, T, F]
// has B samples of T steps, [B, F] B samples of one step, [F] one.
func maskRows(s tensor.Shape) (samples, steps int, err error) {
	switch s.Dims() {
	case 1:
		return 1, 1, nil
	case 2:
		return s[0], 1, nil
	case 3:
		return s[0], s[1], nil
	}
	return 0, 0, fmt.Errorf("mask shape %v: want [B, T, F], [B, F] or [F]", s)
}

// fillMask draws a dropout mask of samples×steps rows from seed, or sets it
// to ones outside training. Row (i, t) comes from the stream keyed by
// i·2³² + t; an element is dropped when a uniform 32-bit draw falls below
// p·2³², two draws per 64-bit number. Rows that rs (nil: none) says are
// padding are set to zero instead. float32 masks of rows of 16 or more
// take eight rows at a time where the CPU has AVX-512 (fillMask8): the
// same draws, the same masks.
func fillMask[T float](m []T, samples, steps int, seed uint64, p float64, train bool, rs *rowSet) {
	if !train {
		for i := range m {
			m[i] = 1
		}
		return
	}
	keepDrop := [2]T{T(1 / (1 - p)), 0}
	drop := uint32(min(p*(1<<32), math.MaxUint32))
	width := len(m) / (samples * steps)
	rowOf := func(r int) []T { return m[r*width : (r+1)*width] }
	parallelFor(samples*steps, func(lo, hi int) {
		var src, src2 rand.PCG
		r := lo
		if m32, ok := any(m).([]float32); ok && usePCG8 && width >= 16 {
			r = fillMask8(m32, lo, hi, width, steps, seed, drop, float32(keepDrop[0]), rs)
		}
		for ; r < hi; r++ {
			if !rs.real(r) {
				clear(rowOf(r))
				continue
			}
			src.Seed(seed, maskKey(r, steps))
			if r+1 < hi && rs.real(r+1) {
				// Two rows at once: their generators' dependency chains
				// overlap, and each row's draws are those of its own.
				src2.Seed(seed, maskKey(r+1, steps))
				row, row2 := rowOf(r), rowOf(r+1)
				for i := 0; i < len(row); i += 2 {
					u, u2 := src.Uint64(), src2.Uint64()
					row[i], row2[i] = keepDrop[below(uint32(u), drop)], keepDrop[below(uint32(u2), drop)]
					if i+1 < len(row) {
						row[i+1], row2[i+1] = keepDrop[below(uint32(u>>32), drop)], keepDrop[below(uint32(u2>>32), drop)]
					}
				}
				r++
				continue
			}
			drawRow(&src, rowOf(r), keepDrop, drop)
		}
	})
}

// maskKey is the stream key of mask row r: sample r/steps, step r%steps.
func maskKey(r, steps int) uint64 { return uint64(r/steps)<<32 | uint64(r%steps) }

// drawRow fills row from src's next draws, two elements per 64-bit draw
// (its low 32 bits first): keepDrop[1] where a 32-bit draw is below drop,
// else keepDrop[0].
func drawRow[T float](src *rand.PCG, row []T, keepDrop [2]T, drop uint32) {
	for i := 0; i < len(row); i += 2 {
		u := src.Uint64()
		row[i] = keepDrop[below(uint32(u), drop)]
		if i+1 < len(row) {
			row[i+1] = keepDrop[below(uint32(u>>32), drop)]
		}
	}
}

// usePCG8 selects fillMask8 where the CPU runs vec.PCGMask8; tests turn
// it off to compare.
var usePCG8 = vec.PCG8

// fillMask8 is fillMask's loop over rows [lo, hi) of width elements for
// the real rows that come in whole groups of eight: vec.PCGMask8 draws
// each group's rows side by side, each from its own generator, up to a
// multiple of 16 elements, and the rest of each row comes from the
// generators where it left them (PCG.Seed), in Go. It clears the padding
// rows it passes and returns the row after its last group, where
// fillMask's loop goes on.
func fillMask8(m []float32, lo, hi, width, steps int, seed uint64, drop uint32, keep float32, rs *rowSet) int {
	var st [16]uint64
	var rows [8]*float32
	var idx [8]int
	next, n, w16 := lo, 0, width&^15
	keepDrop := [2]float32{keep, 0}
	for r := lo; r < hi; r++ {
		if !rs.real(r) {
			clear(m[r*width : (r+1)*width])
			continue
		}
		idx[n], n = r, n+1
		if n < 8 {
			continue
		}
		for i, r := range idx {
			st[i], st[8+i] = seed, maskKey(r, steps)
			rows[i] = &m[r*width]
		}
		vec.PCGMask8(&st, &rows, w16/2, drop, keep)
		if w16 < width {
			var src rand.PCG
			for i, r := range idx {
				src.Seed(st[i], st[8+i])
				drawRow(&src, m[r*width+w16:(r+1)*width], keepDrop, drop)
			}
		}
		n, next = 0, r+1
	}
	return next
}

// below is 1 when u < drop, else 0, without a branch: a dropout draw
// is as unpredictable as a coin.
func below(u, drop uint32) int {
	return int((uint64(u) - uint64(drop)) >> 63)
}

// CheckHashes returns an error if two distinct nodes of the graph share a
// hash: Gorgonia's compiler would give them one register (GORGONIA.md).
func (b *Builder) CheckHashes() error {
	seen := map[uint32]*G.Node{}
	for _, n := range b.G.AllNodes() {
		h := n.Hashcode()
		if o, ok := seen[h]; ok && o != n {
			return fmt.Errorf("layers: nodes %q and %q share hash %#x; rename one", o.Name(), n.Name(), h)
		}
		seen[h] = n
	}
	return nil
}

// PyTorchUniform is the bound of PyTorch's default Linear and LSTM init,
// 1/sqrt(fan).
func PyTorchUniform(fan int) Init { return Uniform(1 / math.Sqrt(float64(fan))) }

// Must passes on n from a Gorgonia call, recording err in the builder, so
// model code reads as equations: b.Must(G.Tanh(x)).
func (b *Builder) Must(n *G.Node, err error) *G.Node {
	if err != nil {
		b.Fail(fmt.Errorf("layers: %w", err))
		return n
	}
	b.fresh(n, n.Op(), madeBy{})
	return n
}

// fresh records n, the node an op application returned, and fails when
// Gorgonia handed back a node that already existed. Gorgonia merges a new
// node into an old one whose hash agrees, so an op whose hash loses
// information silently turns two different computations into one
// (GORGONIA.md: Slice hashes its bounds modulo 256). A Gorgonia built-in
// applied through Must is meant to compute something new, so any merge is
// an error; a kernel may be merged only with the same computation
// (sameKernel).
func (b *Builder) fresh(n *G.Node, op fmt.Stringer, by madeBy) {
	if _, ok := b.made[n]; ok || b.data[n] || b.byNode[n] != nil {
		b.Fail(fmt.Errorf("layers: %v returned the existing node %v: Gorgonia merged it with an earlier node of the same hash", op, n))
		return
	}
	b.made[n] = by
}

// madeBy is the kernel and inputs a node was made from (zero for a node
// made by a Gorgonia built-in).
type madeBy struct {
	k  kernel
	in []*G.Node
}

// valueOf is n's value, nil for a nil node.
func valueOf(n *G.Node) G.Value {
	if n == nil {
		return nil
	}
	return n.Value()
}
