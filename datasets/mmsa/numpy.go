package mmsa

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// dtype is a numpy dtype restricted to what MMSA files hold: f4, f8, i4,
// i8, <U n (UTF-32LE, size 4n bytes) and O (Python objects).
type dtype struct {
	kind byte // 'f', 'i', 'U' or 'O'
	size int  // bytes per element
}

func (d *dtype) String() string {
	if d.kind == 'U' {
		return "<U" + strconv.Itoa(d.size/4)
	}
	return string(d.kind) + strconv.Itoa(d.size)
}

// ndarray is a numpy array after BUILD or _frombuffer. Exactly one of the
// data fields is set, by dtype kind: f32 for f4/f8 (f8 rounded to
// float32, which is what MMSA's loader does), i64 for i4/i8, strs for U,
// objs for O. dropped is set instead when the data was skipped unread.
type ndarray struct {
	built   bool
	shape   []int
	dt      *dtype
	f32     []float32
	i64     []int64
	strs    []string
	objs    []any
	dropped bool
}

// skipped stands for a payload of n bytes that was discarded unread.
type skipped struct{ n uint64 }

// decoded is a protocol-4 float array payload already decoded to float32.
type decoded struct {
	f32   []float32
	dtype *pendingArray
}

// rawWords is a large payload of n bytes stored bit for bit as
// little-endian 32-bit words in float32 storage, so that f4 data needs no
// copy and f8 data converts in place. used marks storage handed to an
// array (and perhaps overwritten).
type rawWords struct {
	words []float32
	n     int
	used  bool
}

func (w *rawWords) word(i int) uint32 { return math.Float32bits(w.words[i]) }

// maxElements caps the element count a shape may claim; real data is
// checked against the payload size as well.
const maxElements = 1 << 40

func toShape(v any) ([]int, error) {
	t, ok := v.(tuple)
	if !ok {
		return nil, fmt.Errorf("shape is a %s, not a tuple", typeName(v))
	}
	if len(t) > 32 {
		return nil, fmt.Errorf("shape has %d dimensions", len(t))
	}
	shape := make([]int, len(t))
	for i, d := range t {
		n, ok := d.(int64)
		if !ok || n < 0 || n > maxElements {
			return nil, fmt.Errorf("bad shape dimension %v", d)
		}
		shape[i] = int(n)
	}
	return shape, nil
}

func shapeCount(shape []int) (int, error) {
	c := 1
	for _, d := range shape {
		if d != 0 && c > maxElements/d {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		c *= d
	}
	return c, nil
}

// lookupGlobal returns the whitelisted global module.name, or an error
// naming it.
func lookupGlobal(module, name string) (*global, error) {
	ok := false
	switch name {
	case "_reconstruct", "scalar":
		ok = module == "numpy.core.multiarray" || module == "numpy._core.multiarray"
	case "_frombuffer":
		ok = module == "numpy.core.numeric" || module == "numpy._core.numeric"
	case "ndarray", "dtype":
		ok = module == "numpy"
	case "encode":
		ok = module == "_codecs"
	case "bytes":
		ok = module == "builtins" || module == "__builtin__"
	}
	if !ok {
		return nil, fmt.Errorf("global %s.%s is not allowed (only numpy array reconstruction is)", module, name)
	}
	return &global{module: module, name: name}, nil
}

// call applies a whitelisted global to its REDUCE arguments.
func call(g *global, args tuple) (any, error) {
	switch g.name {
	case "_reconstruct":
		if len(args) != 3 {
			return nil, fmt.Errorf("want 3 arguments, got %d", len(args))
		}
		if c, ok := args[0].(*global); !ok || c.name != "ndarray" {
			return nil, fmt.Errorf("can only reconstruct numpy.ndarray, not %s", typeName(args[0]))
		}
		return &ndarray{}, nil
	case "dtype":
		if len(args) < 1 {
			return nil, fmt.Errorf("no arguments")
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("dtype spec is a %s, not a str", typeName(args[0]))
		}
		return parseDtype(s)
	case "scalar":
		return scalar(args)
	case "_frombuffer":
		return frombuffer(args)
	case "encode":
		return codecsEncode(args)
	case "bytes":
		if len(args) != 0 {
			return nil, fmt.Errorf("only bytes() with no arguments is supported")
		}
		return []byte{}, nil
	case "ndarray":
		return nil, fmt.Errorf("direct ndarray construction is not supported")
	}
	return nil, fmt.Errorf("not callable")
}

func parseDtype(s string) (*dtype, error) {
	if len(s) < 2 {
		return nil, fmt.Errorf("unsupported dtype %q", s)
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil {
		return nil, fmt.Errorf("unsupported dtype %q", s)
	}
	switch {
	case s[0] == 'f' && (n == 4 || n == 8), s[0] == 'i' && (n == 4 || n == 8):
		return &dtype{kind: s[0], size: n}, nil
	case s[0] == 'O' && (n == 4 || n == 8):
		return &dtype{kind: 'O', size: n}, nil
	case s[0] == 'U' && n >= 1 && n <= 1<<24:
		return &dtype{kind: 'U', size: 4 * n}, nil
	}
	return nil, fmt.Errorf("unsupported dtype %q (f4, f8, i4, i8, U n and O are)", s)
}

// build applies a BUILD state to a dtype or an ndarray.
func build(obj, state any) error {
	t, ok := state.(tuple)
	if !ok {
		return fmt.Errorf("state of a %s is a %s, not a tuple", typeName(obj), typeName(state))
	}
	switch o := obj.(type) {
	case *dtype:
		return o.setState(t)
	case *ndarray:
		return o.setState(t)
	}
	return fmt.Errorf("cannot set the state of a %s", typeName(obj))
}

// setState applies numpy's dtype state
// (version, endian, subdescr, names, fields, elsize, alignment, flags[, metadata]).
func (d *dtype) setState(t tuple) error {
	if len(t) < 6 {
		return fmt.Errorf("dtype state has %d items", len(t))
	}
	switch t[1] {
	case "<", "|", "=":
	case ">":
		return fmt.Errorf("big-endian dtype %s is not supported", d)
	default:
		return fmt.Errorf("dtype byte order %v", t[1])
	}
	if t[2] != nil || t[3] != nil || t[4] != nil {
		return fmt.Errorf("structured dtypes are not supported")
	}
	if el, ok := t[5].(int64); ok && el >= 0 && d.kind == 'U' && int(el) != d.size {
		return fmt.Errorf("dtype %s claims element size %d", d, el)
	}
	return nil
}

// setState applies ndarray.__setstate__'s (version, shape, dtype,
// is_fortran, data) or (shape, dtype, is_fortran, data).
func (a *ndarray) setState(t tuple) error {
	if len(t) == 5 {
		t = t[1:]
	}
	if len(t) != 4 {
		return fmt.Errorf("ndarray state has %d items", len(t))
	}
	if a.built {
		return fmt.Errorf("ndarray state set twice")
	}
	shape, err := toShape(t[0])
	if err != nil {
		return err
	}
	dt, ok := t[1].(*dtype)
	if !ok {
		return fmt.Errorf("ndarray dtype is a %s", typeName(t[1]))
	}
	fortran, ok := t[2].(bool)
	if !ok {
		return fmt.Errorf("ndarray is_fortran is a %s", typeName(t[2]))
	}
	return a.fill(shape, dt, fortran, t[3])
}

func frombuffer(args tuple) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("want 4 arguments, got %d", len(args))
	}
	dt, ok := args[1].(*dtype)
	if !ok {
		return nil, fmt.Errorf("dtype is a %s", typeName(args[1]))
	}
	shape, err := toShape(args[2])
	if err != nil {
		return nil, err
	}
	order, ok := args[3].(string)
	if !ok || (order != "C" && order != "F") {
		return nil, fmt.Errorf("order %v", args[3])
	}
	if dt.kind == 'O' {
		return nil, fmt.Errorf("object arrays cannot come from a buffer")
	}
	a := &ndarray{}
	return a, a.fill(shape, dt, order == "F", args[0])
}

// fill sets the array's shape, dtype and data, converting the payload.
func (a *ndarray) fill(shape []int, dt *dtype, fortran bool, data any) error {
	count, err := shapeCount(shape)
	if err != nil {
		return err
	}
	if fortran && len(shape) > 1 {
		return fmt.Errorf("arrays in Fortran order are not supported")
	}
	a.built, a.shape, a.dt = true, shape, dt
	if dt.kind == 'O' {
		l, ok := data.(*list)
		if !ok {
			return fmt.Errorf("object array data is a %s, not a list", typeName(data))
		}
		if len(l.items) != count {
			return fmt.Errorf("object array of shape %v has %d items", shape, len(l.items))
		}
		a.objs = l.items
		return nil
	}
	if count > (1<<62)/dt.size {
		return fmt.Errorf("array of shape %v and dtype %s is too large", shape, dt)
	}
	want := uint64(count) * uint64(dt.size)
	switch d := data.(type) {
	case skipped:
		if d.n != want {
			return payloadErr(shape, dt, d.n)
		}
		a.dropped = true
		return nil
	case *decoded:
		if d.dtype.kind != dt.kind || d.dtype.size != dt.size || len(d.f32) != count {
			return fmt.Errorf("decoded payload does not match dtype %s shape %v", dt, shape)
		}
		a.f32 = d.f32
		return nil
	case []byte:
		if uint64(len(d)) != want {
			return payloadErr(shape, dt, uint64(len(d)))
		}
		a.fromBytes(d, count)
		return nil
	case *rawWords:
		if uint64(d.n) != want {
			return payloadErr(shape, dt, uint64(d.n))
		}
		if d.used {
			return fmt.Errorf("one buffer backs two arrays")
		}
		d.used = true
		return a.fromWords(d, count)
	}
	return fmt.Errorf("array data is a %s, not bytes", typeName(data))
}

func payloadErr(shape []int, dt *dtype, n uint64) error {
	return fmt.Errorf("array of shape %v and dtype %s has a payload of %d bytes", shape, dt, n)
}

func (a *ndarray) fromBytes(b []byte, count int) {
	le := binary.LittleEndian
	switch {
	case a.dt.kind == 'f' && a.dt.size == 4:
		a.f32 = make([]float32, count)
		for i := range a.f32 {
			a.f32[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case a.dt.kind == 'f':
		a.f32 = make([]float32, count)
		for i := range a.f32 {
			a.f32[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	case a.dt.kind == 'i' && a.dt.size == 4:
		a.i64 = make([]int64, count)
		for i := range a.i64 {
			a.i64[i] = int64(int32(le.Uint32(b[4*i:])))
		}
	case a.dt.kind == 'i':
		a.i64 = make([]int64, count)
		for i := range a.i64 {
			a.i64[i] = int64(le.Uint64(b[8*i:]))
		}
	default: // 'U'
		words := make([]uint32, len(b)/4)
		for i := range words {
			words[i] = le.Uint32(b[4*i:])
		}
		a.strs = make([]string, count)
		for i := range a.strs {
			a.strs[i] = utf32(words[i*a.dt.size/4 : (i+1)*a.dt.size/4])
		}
	}
}

// fromWords converts word storage; float data is converted in place so the
// array keeps the storage it was read into.
func (a *ndarray) fromWords(w *rawWords, count int) error {
	switch {
	case a.dt.kind == 'f' && a.dt.size == 4:
		a.f32 = w.words[:count]
	case a.dt.kind == 'f':
		// Element i reads words 2i and 2i+1 before word i is written;
		// i <= 2i, so nothing is overwritten before it is read.
		for i := 0; i < count; i++ {
			bits := uint64(w.word(2*i)) | uint64(w.word(2*i+1))<<32
			w.words[i] = float32(math.Float64frombits(bits))
		}
		a.f32 = w.words[:count:count]
	case a.dt.kind == 'i' && a.dt.size == 4:
		a.i64 = make([]int64, count)
		for i := range a.i64 {
			a.i64[i] = int64(int32(w.word(i)))
		}
	case a.dt.kind == 'i':
		a.i64 = make([]int64, count)
		for i := range a.i64 {
			a.i64[i] = int64(uint64(w.word(2*i)) | uint64(w.word(2*i+1))<<32)
		}
	default: // 'U'
		per := a.dt.size / 4
		a.strs = make([]string, count)
		runes := make([]uint32, per)
		for i := range a.strs {
			for j := range runes {
				runes[j] = w.word(i*per + j)
			}
			a.strs[i] = utf32(runes)
		}
	}
	return nil
}

// utf32 decodes one fixed-width numpy unicode element: code points, with
// trailing NULs stripped as numpy does; invalid code points become U+FFFD.
func utf32(words []uint32) string {
	for len(words) > 0 && words[len(words)-1] == 0 {
		words = words[:len(words)-1]
	}
	var sb strings.Builder
	for _, c := range words {
		r := rune(c)
		if c > utf8.MaxRune || !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// scalar is numpy.core.multiarray.scalar(dtype, data): a numpy scalar,
// returned as the Go value (string, float64 or int64).
func scalar(args tuple) (any, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("want 1 or 2 arguments, got %d", len(args))
	}
	dt, ok := args[0].(*dtype)
	if !ok {
		return nil, fmt.Errorf("dtype is a %s", typeName(args[0]))
	}
	if dt.kind == 'O' {
		if len(args) != 2 {
			return nil, fmt.Errorf("object scalar without a value")
		}
		return args[1], nil
	}
	var b []byte
	if len(args) == 2 {
		switch d := args[1].(type) {
		case []byte:
			b = d
		case *rawWords:
			b = make([]byte, 0, d.n)
			for i := range d.words {
				b = binary.LittleEndian.AppendUint32(b, d.word(i))
			}
			b = b[:d.n]
		default:
			return nil, fmt.Errorf("scalar data is a %s, not bytes", typeName(args[1]))
		}
	}
	if len(b) != dt.size {
		return nil, fmt.Errorf("scalar of dtype %s has %d bytes", dt, len(b))
	}
	a := &ndarray{dt: dt}
	a.fromBytes(b, 1)
	switch dt.kind {
	case 'f':
		if dt.size == 8 {
			return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
		}
		return float64(a.f32[0]), nil
	case 'i':
		return a.i64[0], nil
	}
	return a.strs[0], nil
}

// codecsEncode is _codecs.encode(str, "latin1"), which protocol 2 uses
// for bytes.
func codecsEncode(args tuple) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("want 2 arguments, got %d", len(args))
	}
	s, ok1 := args[0].(string)
	enc, ok2 := args[1].(string)
	if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1") {
		return nil, fmt.Errorf("only encode(str, 'latin1') is supported")
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("character U+%04X is not latin-1", r)
		}
		b = append(b, byte(r))
	}
	return b, nil
}

// typeName names a VM value the way Python would, for error messages.
func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte, *rawWords, *decoded, skipped:
		return "bytes"
	case tuple:
		return "tuple"
	case *list:
		return "list"
	case *dict:
		return "dict"
	case *global:
		return x.module + "." + x.name
	case *dtype:
		return "numpy.dtype"
	case *ndarray:
		return "numpy.ndarray"
	}
	return fmt.Sprintf("%T", v)
}
