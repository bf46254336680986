package layers

import (
	"fmt"
	"hash"
	"hash/fnv"
	"runtime"
	"slices"

	"github.com/chewxy/hm"
	"github.com/fdcmdie/fdcmdie/internal/par"
	"github.com/fdcmdie/fdcmdie/layers/sgemm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Float is the element type of every kernel: the model runs in float32,
// gradient tests build the same graph in float64.
type Float interface{ float32 | float64 }

// float is Float inside the package.
type float = Float

// Convert returns a new slice holding xs as To.
func Convert[To, From Float](xs []From) []To {
	out := make([]To, len(xs))
	for i, x := range xs {
		out[i] = To(x)
	}
	return out
}

// kernel is a fused computation with a hand-written backward pass. It is
// wrapped into Gorgonia ops by applyKernel: a forward op, and for Grad a
// backward op that returns the gradients of all inputs as one flat vector,
// cut into per-input gradients by pick ops (a Gorgonia op has one output).
type kernel interface {
	// String names the kernel and its configuration; it is hashed, so two
	// kernels with equal strings must compute the same function.
	String() string
	// outShape gives the output shape for the input shapes, or an error.
	outShape(in []tensor.Shape) (tensor.Shape, error)
	// forward computes a.out from a.in. a.out holds the previous run's
	// values (fwdOp reuses it): forward must write every element.
	forward(a *kargs)
	// backward accumulates into a.grads[i] (zeroed, nil where no gradient is
	// wanted) the gradient of the cost with respect to input i, given
	// a.gout, the gradient with respect to the output; see gradWriter.
	backward(a *kargs)
}

// gradWriter is a kernel whose backward pass stores every element of the
// gradients of the inputs it names, padded steps included, rather than
// adding to them: bwdOp leaves those unzeroed (they hold the previous
// run's values), which spares a pass over each activation-sized gradient.
// leadK alone stores only the elements its input's producer reads.
type gradWriter interface {
	writesGrad(i int) bool
}

// kargs carries the tensors of one kernel call. Every tensor is dense,
// contiguous and of one element type.
type kargs struct {
	dt    tensor.Dtype
	in    []*tensor.Dense
	shape []tensor.Shape
	out   *tensor.Dense
	gout  *tensor.Dense
	grads []*tensor.Dense
	scr   *scratch
	// tmp holds buffers a kernel needs only during one call (transientOf):
	// one set shared by every op of an Arena, which runs one op at a time.
	tmp *scratch
	// keep holds what a forward pass keeps for the backward pass of the
	// same run (attention's probabilities): one set per kernel application,
	// shared by the graphs of an Arena like scr (keptOf).
	keep *scratch
	// rows, for a rowWise kernel applied to a sequence marked by
	// Builder.Rows, is the real steps of in[0]'s leading [B, L] axes: the
	// kernel computes only those positions (of in[0], of inputs of its
	// shape, of out and of their gradients), and forward writes zeros at
	// the others. nil: every position.
	rows *rowSet
}

// scratch holds an op's working memory from run to run: the backing
// slices of its results (an output, gradients) and its scratch buffers.
// Ops of graphs built with one Arena share it (see Arena), so a buffer
// keeps the capacity of the largest graph's use and is resliced to the
// length each run needs.
type scratch struct {
	vals, bufs []any
	index      []int // rowIndex's
}

// scratchOf returns buffer i of the op running a, with n elements of type
// T. Its contents are whatever an earlier run left there.
func scratchOf[T float](a *kargs, i, n int) []T { return bufOf[T](a.scr, i, n) }

// keptOf returns buffer i of what the forward pass of a's kernel
// application keeps for its backward pass, with n elements of type T: the
// forward writes it, the backward of the same run reads it.
func keptOf[T float](a *kargs, i, n int) []T { return bufOf[T](a.keep, i, n) }

// transientOf returns transient buffer i of the call a, with n elements of
// type T: working memory for this call only, shared with the other ops of
// the arena (a graph would otherwise hold, say, a packed copy of every
// linear layer's input, gigabytes at CMU-MOSEI's lengths). Its contents
// are whatever an earlier call left there.
func transientOf[T float](a *kargs, i, n int) []T { return bufOf[T](a.tmp, i, n) }

// bufOf returns scratch buffer i of scr, grown to n elements of type T.
func bufOf[T float](scr *scratch, i, n int) []T {
	for len(scr.bufs) <= i {
		scr.bufs = append(scr.bufs, nil)
	}
	return grow[T](&scr.bufs[i], n)
}

// grow returns *slot's slice resliced to n elements, after replacing it by a
// new one when it is not a []T of capacity n.
func grow[T float](slot *any, n int) []T {
	if b, ok := (*slot).([]T); ok && cap(b) >= n {
		return b[:n]
	}
	b := make([]T, n)
	*slot = b
	return b
}

// result returns a tensor of type dt and shape s backed by result slot i of
// scr; *hdr keeps the tensor header from run to run while it wraps that
// memory. Its contents are whatever an earlier run left there.
func (scr *scratch) result(i int, hdr **tensor.Dense, dt tensor.Dtype, s tensor.Shape) *tensor.Dense {
	for len(scr.vals) <= i {
		scr.vals = append(scr.vals, nil)
	}
	if dt == tensor.Float32 {
		return header(grow[float32](&scr.vals[i], s.TotalSize()), hdr, s)
	}
	return header(grow[float64](&scr.vals[i], s.TotalSize()), hdr, s)
}

func header[T float](mem []T, hdr **tensor.Dense, s tensor.Shape) *tensor.Dense {
	if t := *hdr; t != nil && t.Shape().Eq(s) {
		if d, ok := t.Data().([]T); ok && len(d) == len(mem) && &d[0] == &mem[0] {
			return t
		}
	}
	*hdr = tensor.New(tensor.WithShape(s.Clone()...), tensor.WithBacking(mem))
	return *hdr
}

// Arena is working memory shared by the graphs built with it
// (Builder.UseArena): the outputs, gradients and scratch buffers of their
// kernels. The k-th kernel applied by each such graph uses the k-th block
// of the arena, grown to the largest use, so graphs of one model built for
// several batch shapes together hold the memory of the largest one, not
// the sum. The evaluation graphs of a model can share its training graphs'
// arena: an evaluation graph's k-th kernel is the training graph's k-th
// (Builder passes over the blocks of the kernels that only training has),
// which needs no more memory there than attention's evaluation rows. Only one of them may run at a time, and the values
// of a run (its outputs, its gradients) are overwritten by the next run of
// any of them.
// A buffer that grows leaves the graphs that ran before holding the old one
// until they run again: running the largest graph first sizes every buffer
// once.
type Arena struct {
	ops []*opMemory
	tmp scratch // the ops' transient buffers (kargs.tmp)
}

// NewArena returns an empty arena.
func NewArena() *Arena { return &Arena{} }

// Bytes is the memory the arena's buffers hold.
func (a *Arena) Bytes() int {
	n := a.tmp.bytes()
	for _, m := range a.ops {
		n += m.fwd.bytes() + m.bwd.bytes() + m.keep.bytes()
	}
	return n
}

// bytes is the memory of scr's buffers.
func (scr *scratch) bytes() int {
	n := 0
	for _, b := range append(slices.Clip(scr.vals), scr.bufs...) {
		switch b := b.(type) {
		case []float32:
			n += 4 * cap(b)
		case []float64:
			n += 8 * cap(b)
		}
	}
	return n
}

// opMemory is the working memory of one kernel application: its forward
// and its backward op.
type opMemory struct {
	fwd, bwd scratch
	keep     scratch  // what the forward pass keeps for the backward pass of the same run (kargs.keep)
	tmp      *scratch // the arena's transient buffers, or the op's own
}

// at returns block k of the arena, or fresh memory for a nil arena.
func (a *Arena) at(k int) *opMemory {
	if a == nil {
		return &opMemory{tmp: &scratch{}}
	}
	for len(a.ops) <= k {
		a.ops = append(a.ops, &opMemory{tmp: &a.tmp})
	}
	return a.ops[k]
}

// byType picks the float32 or float64 instance of a generic kernel
// function for tensors of type dt: byType(a.dt, poolDo[float32],
// poolDo[float64])(a, back).
func byType[F any](dt tensor.Dtype, f32, f64 F) F {
	if dt == tensor.Float32 {
		return f32
	}
	return f64
}

// copyDense copies src's elements into dst, of the same type and size.
func copyDense(dst, src *tensor.Dense) {
	byType(dst.Dtype(), copyAs[float32], copyAs[float64])(dst, src)
}

func copyAs[T float](dst, src *tensor.Dense) { copy(data[T](dst), data[T](src)) }

// data returns the backing slice of t, or nil for a nil tensor.
func data[T float](t *tensor.Dense) []T {
	if t == nil {
		return nil
	}
	return t.Data().([]T)
}

// zero clears t, split over the cores when it is large.
func zero[T float](t *tensor.Dense) {
	x := data[T](t)
	elementwise(len(x), func(lo, hi int) { clear(x[lo:hi]) })
}

// applyKernel adds k to the graph with the given inputs. needGrad[i] says
// whether input i receives a gradient; data inputs and masks do not. With
// rows, the last input is not the kernel's: it is the mask [B, L] of the
// real steps of input 0 (see Builder.Rows), read into kargs.rows each run.
func applyKernel(k kernel, mem *opMemory, needGrad []bool, rows bool, inputs ...*G.Node) (*G.Node, error) {
	if len(needGrad) != len(inputs) {
		return nil, fmt.Errorf("%v: %d inputs, %d gradient flags", k, len(inputs), len(needGrad))
	}
	shapes := make([]tensor.Shape, len(inputs))
	for i, n := range inputs {
		shapes[i] = n.Shape().Clone()
		if i > 0 && n.Dtype() != inputs[0].Dtype() {
			return nil, fmt.Errorf("%v: input %d is %v, input 0 is %v", k, i, n.Dtype(), inputs[0].Dtype())
		}
	}
	kin := shapes
	if rows {
		kin = shapes[:len(shapes)-1]
		if m, x := shapes[len(shapes)-1], kin[0]; m.Dims() != 2 || x.Dims() < 2 || m[0] != x[0] || m[1] != x[1] {
			return nil, fmt.Errorf("%v: row mask %v for input %v", k, m, x)
		}
	}
	out, err := k.outShape(kin)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", k, err)
	}
	op := &fwdOp{k: k, in: shapes, kin: kin, out: out, need: append([]bool(nil), needGrad...), mem: mem, rows: rows}
	return G.ApplyOp(op, inputs...)
}

// fwdOp runs a kernel's forward pass. Its output tensor is allocated on
// the first run and reused by every later run: a training step allocates
// nothing for it, and the memory stays mapped instead of being returned to
// the OS and faulted in again (at the paper preset that cost a third of
// the step). Gorgonia only overwrites a value once no op reads it any more
// in that run, and the kernel writes every element of it in the next, so
// reuse gives the numbers fresh tensors would. A graph with such ops must
// not run on two machines at once; graphs sharing an Arena must not run at
// the same time.
type fwdOp struct {
	k    kernel
	in   []tensor.Shape // the op's inputs: the kernel's, then the row mask with rows
	kin  []tensor.Shape // the kernel's inputs
	out  tensor.Shape
	need []bool
	mem  *opMemory
	buf  *tensor.Dense
	rows bool
}

func tensorType(dims int) G.TensorType {
	return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')}
}

func fnType(in []tensor.Shape, outDims int) hm.Type {
	ts := make([]hm.Type, 0, len(in)+1)
	for _, s := range in {
		ts = append(ts, tensorType(s.Dims()))
	}
	ts = append(ts, tensorType(outDims))
	return hm.NewFnType(ts...)
}

func (op *fwdOp) Arity() int                                     { return len(op.in) }
func (op *fwdOp) Type() hm.Type                                  { return fnType(op.in, op.out.Dims()) }
func (op *fwdOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.out.Clone(), nil }
func (op *fwdOp) ReturnsPtr() bool                               { return false }
func (op *fwdOp) CallsExtern() bool                              { return false }
func (op *fwdOp) OverwritesInput() int                           { return -1 }
func (op *fwdOp) String() string                                 { return op.k.String() }
func (op *fwdOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "fwd:%v:%v:%v:%v", op.k, op.in, op.need, op.rows)
}
func (op *fwdOp) Hashcode() uint32   { return hashOf(op) }
func (op *fwdOp) DiffWRT(int) []bool { return append([]bool(nil), op.need...) }

func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// dense converts an op argument to a contiguous dense tensor.
func dense(v G.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("expected a dense tensor, got %T", v)
	}
	if d.RequiresIterator() {
		m := d.Materialize()
		if d, ok = m.(*tensor.Dense); !ok {
			return nil, fmt.Errorf("materialized view is %T", m)
		}
	}
	return d, nil
}

func denseAll(vs []G.Value) ([]*tensor.Dense, error) {
	ds := make([]*tensor.Dense, len(vs))
	for i, v := range vs {
		d, err := dense(v)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		ds[i] = d
	}
	return ds, nil
}

func (op *fwdOp) Do(vs ...G.Value) (G.Value, error) {
	in, err := denseAll(vs)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", op.k, err)
	}
	dt := in[0].Dtype()
	out := op.mem.fwd.result(0, &op.buf, dt, op.out)
	in, rows := op.split(in)
	op.k.forward(&kargs{dt: dt, in: in, shape: op.kin, out: out, scr: &op.mem.fwd, keep: &op.mem.keep, tmp: op.mem.tmp, rows: rows})
	return out, nil
}

// split separates the kernel's inputs from the row mask, read into a row set.
func (op *fwdOp) split(in []*tensor.Dense) ([]*tensor.Dense, *rowSet) {
	if !op.rows {
		return in, nil
	}
	return in[:len(in)-1], rowsOf(in[len(in)-1])
}

func (op *fwdOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	b := &bwdOp{f: op, grads: make([]*tensor.Dense, len(inputs))}
	args := append(append(G.Nodes(nil), inputs...), output, grad)
	done, err := G.ApplyOp(b, args...)
	if err != nil {
		return nil, err
	}
	grads := make(G.Nodes, len(inputs))
	for i := range op.in {
		if !op.need[i] {
			continue
		}
		if grads[i], err = G.ApplyOp(&pickOp{b: b, i: i}, done); err != nil {
			return nil, err
		}
	}
	return grads, nil
}

// bwdOp runs a kernel's backward pass into one gradient tensor per wanted
// input, kept from run to run like fwdOp's output and zeroed before each
// pass. Its own value is a one-element token that orders the pick ops
// after it; they hand the gradients to the graph.
type bwdOp struct {
	f     *fwdOp
	grads []*tensor.Dense
	token *tensor.Dense
}

func (op *bwdOp) Arity() int { return len(op.f.in) + 2 }
func (op *bwdOp) Type() hm.Type {
	in := append(append([]tensor.Shape(nil), op.f.in...), op.f.out, op.f.out)
	return fnType(in, 1)
}
func (op *bwdOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.Shape{1}, nil }
func (op *bwdOp) ReturnsPtr() bool                               { return false }
func (op *bwdOp) CallsExtern() bool                              { return false }
func (op *bwdOp) OverwritesInput() int                           { return -1 }
func (op *bwdOp) String() string                                 { return op.f.k.String() + "'" }
func (op *bwdOp) WriteHash(h hash.Hash) {
	fmt.Fprint(h, "bwd:")
	op.f.WriteHash(h)
}
func (op *bwdOp) Hashcode() uint32 { return hashOf(op) }

func (op *bwdOp) Do(vs ...G.Value) (G.Value, error) {
	all, err := denseAll(vs)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", op, err)
	}
	n := len(op.f.in)
	dt := all[0].Dtype()
	scr := &op.f.mem.bwd
	in, rows := op.f.split(all[:n])
	a := &kargs{dt: dt, in: in, shape: op.f.kin, out: all[n], gout: all[n+1], grads: make([]*tensor.Dense, len(in)), scr: scr, keep: &op.f.mem.keep, tmp: op.f.mem.tmp, rows: rows}
	w, _ := op.f.k.(gradWriter)
	for i, s := range op.f.kin {
		if op.f.need[i] {
			a.grads[i] = scr.result(i, &op.grads[i], dt, s)
			if w == nil || !w.writesGrad(i) {
				byType(dt, zero[float32], zero[float64])(a.grads[i])
			}
		}
	}
	op.f.k.backward(a)
	return scr.result(n, &op.token, dt, tensor.Shape{1}), nil
}

// pickOp returns the gradient of input i computed by a backward op.
type pickOp struct {
	b *bwdOp
	i int
}

func (op *pickOp) Arity() int { return 1 }
func (op *pickOp) Type() hm.Type {
	return hm.NewFnType(tensorType(1), tensorType(op.b.f.in[op.i].Dims()))
}
func (op *pickOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.b.f.in[op.i].Clone(), nil
}
func (op *pickOp) ReturnsPtr() bool     { return false }
func (op *pickOp) CallsExtern() bool    { return false }
func (op *pickOp) OverwritesInput() int { return -1 }
func (op *pickOp) String() string       { return fmt.Sprintf("pick[%d]", op.i) }
func (op *pickOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "pick:%d:", op.i)
	op.b.WriteHash(h)
}
func (op *pickOp) Hashcode() uint32 { return hashOf(op) }

func (op *pickOp) Do(...G.Value) (G.Value, error) {
	if g := op.b.grads[op.i]; g != nil {
		return g, nil
	}
	return nil, fmt.Errorf("%v of %v: the backward pass has not run", op, op.b)
}

// gemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices.
// float32 products, the model's, run on the AVX2/FMA kernels of package
// sgemm (pure Go elsewhere), which split large products over the cores
// with a fixed order of summation. float64 products (gradient tests) go
// through Gorgonia's BLAS, split by rows of C: each element of C is still
// computed by one BLAS call, so results do not depend on the split.
func gemm[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	product(false, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmSerial is gemm on the calling goroutine alone, for kernels that run
// their products side by side (attention heads): nested splitting would
// put more goroutines than cores on the products. Its results are bitwise
// those of gemm.
func gemmSerial[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	product(true, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func product[T float](serial, tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if a32, ok := any(a).([]float32); ok {
		f := float32Gemm
		if serial {
			f = float32GemmSerial
		}
		f(tA, tB, m, n, k, float32(alpha), a32, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
		return
	}
	const splitFlops = 1 << 21
	if workers := runtime.GOMAXPROCS(0); !serial && workers > 1 && m >= 2*workers && m*n*k >= splitFlops {
		parallelFor(m, func(lo, hi int) {
			aOff := lo * lda // rows lo..hi of op(A)
			if tA {
				aOff = lo // columns lo..hi of A
			}
			dgemm(tA, tB, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[lo*ldc:], ldc)
		})
		return
	}
	dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// float32Gemm and float32GemmSerial run the model's products: package
// sgemm, or OpenBLAS in an openblas build on a CPU without AVX2/FMA
// (blas_openblas.go).
var float32Gemm, float32GemmSerial = sgemm.Sgemm, sgemm.Serial

// packedProducts says whether float32 products with a weight fixed over
// many calls may use package sgemm's packed operands (false where
// float32Gemm is OpenBLAS).
var packedProducts = true

// transpose is the BLAS flag of op(X): X itself or its transpose.
func transpose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// dgemm is a float64 product through Gorgonia's BLAS.
func dgemm[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	G.WhichBLAS().Dgemm(transpose(tA), transpose(tB), m, n, k, float64(alpha), any(a).([]float64), lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
}

// parallelFor runs f over [0, n) split into contiguous chunks, one per
// available core. Each index is handled by exactly one call, so results do
// not depend on the number of cores.
func parallelFor(n int, f func(lo, hi int)) {
	parallelWork(n, func(_, lo, hi int) { f(lo, hi) })
}

// parallelWork is parallelFor whose calls also get their worker's index
// w < par.Workers(n), for scratch memory of their own.
func parallelWork(n int, f func(w, lo, hi int)) {
	nw := par.Workers(n)
	if nw <= 1 {
		if n > 0 {
			f(0, 0, n)
		}
		return
	}
	// The first chunk runs on the calling goroutine.
	chunk := (n + nw - 1) / nw
	par.Fork((n+chunk-1)/chunk, func(w int) { f(w, w*chunk, min((w+1)*chunk, n)) })
}
