package mmsa

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Values on the VM stack. Python objects map to:
//
//	None → nil, bool → bool, int → int64, float → float64, str → string,
//	bytes/bytearray → []byte (small) or *rawWords (large), tuple → tuple,
//	list → *list, dict → *dict, whitelisted globals → *global, numpy arrays
//	and dtypes → *ndarray and *dtype (numpy.go).
type (
	tuple []any
	list  struct{ items []any }
	// dict keeps insertion order; keys are compared with ==, so only
	// comparable Go values (str, int, float, bool, None) may be keys.
	dict struct{ keys, vals []any }
	// global is a whitelisted module attribute (see lookupGlobal).
	global struct{ module, name string }
)

// get returns the value stored under the string key k (the last one when
// the pickle set it twice, as Python's dict would keep).
func (d *dict) get(k string) (any, bool) {
	for i := len(d.keys) - 1; i >= 0; i-- {
		if s, ok := d.keys[i].(string); ok && s == k {
			return d.vals[i], true
		}
	}
	return nil, false
}

func (d *dict) set(k, v any) error {
	switch k.(type) {
	case nil, bool, int64, float64, string:
	default:
		return fmt.Errorf("dict key of type %s", typeName(k))
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return nil
}

// bigPayload is the size from which a bytes payload is not materialised as
// []byte: it is streamed into float32-aligned storage (or straight into a
// decoded array, or skipped) so that large arrays are held once.
const bigPayload = 4 << 10

// skipFunc reports whether the array stored under the dict key key should
// be dropped unread.
type skipFunc func(key string) bool

// machine is a pickle virtual machine restricted to the opcodes of
// protocols 2–5 that numpy and plain containers use.
type machine struct {
	r      *bufio.Reader
	pos    int64 // offset of the next byte
	size   int64 // total stream size; payload lengths are capped by it
	stack  []any
	marks  []int
	memo   map[uint64]any
	skip   skipFunc
	lastAt string // "split/key" most recently named, for error context
	split  string
}

// unpickle runs the pickle in r (size bytes long) and returns the object it
// builds.
func unpickle(r io.Reader, size int64, skip skipFunc) (any, error) {
	m := &machine{r: bufio.NewReaderSize(r, 1<<16), size: size, memo: map[uint64]any{}, skip: skip}
	v, err := m.run()
	if err != nil {
		if m.lastAt != "" {
			return nil, fmt.Errorf("pickle (near %s): %w", m.lastAt, err)
		}
		return nil, fmt.Errorf("pickle: %w", err)
	}
	return v, nil
}

var errTruncated = errors.New("unexpected end of data")

func (m *machine) readByte() (byte, error) {
	b, err := m.r.ReadByte()
	if err != nil {
		return 0, errTruncated
	}
	m.pos++
	return b, nil
}

// need checks that a payload of n bytes claimed by a header fits in what
// is left of the stream, before anything is allocated for it.
func (m *machine) need(n uint64) error {
	left := m.size - m.pos
	if left < 0 || n > uint64(left) {
		return fmt.Errorf("at offset %d: payload of %d bytes but only %d left: %w", m.pos, n, max(left, 0), errTruncated)
	}
	return nil
}

func (m *machine) readN(n uint64) ([]byte, error) {
	if err := m.need(n); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(m.r, b); err != nil {
		return nil, fmt.Errorf("at offset %d: %w", m.pos, errTruncated)
	}
	m.pos += int64(n)
	return b, nil
}

func (m *machine) readUint(width int) (uint64, error) {
	b, err := m.readN(uint64(width))
	if err != nil {
		return 0, err
	}
	var u uint64
	for i := width - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	return u, nil
}

func (m *machine) readLine() (string, error) {
	var sb strings.Builder
	for {
		b, err := m.readByte()
		if err != nil {
			return "", err
		}
		if b == '\n' {
			return sb.String(), nil
		}
		if sb.Len() > 256 {
			return "", fmt.Errorf("at offset %d: GLOBAL name longer than 256 bytes", m.pos)
		}
		sb.WriteByte(b)
	}
}

func (m *machine) push(v any) { m.stack = append(m.stack, v) }

func (m *machine) pop() (any, error) {
	base := 0
	if len(m.marks) > 0 {
		base = m.marks[len(m.marks)-1]
	}
	if len(m.stack) <= base {
		return nil, fmt.Errorf("at offset %d: stack underflow", m.pos)
	}
	v := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *machine) top() (any, error) {
	v, err := m.pop()
	if err == nil {
		m.push(v)
	}
	return v, err
}

// popMark pops everything above the innermost MARK and the mark itself.
func (m *machine) popMark() ([]any, error) {
	if len(m.marks) == 0 {
		return nil, fmt.Errorf("at offset %d: no MARK on the stack", m.pos)
	}
	k := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := append([]any(nil), m.stack[k:]...)
	m.stack = m.stack[:k]
	return items, nil
}

// noteString remembers split and key names as they go by, so that an
// error deep in the stream can say where it happened.
func (m *machine) noteString(s string) {
	switch s {
	case "train", "valid", "test":
		m.split, m.lastAt = s, s
	default:
		if m.split != "" && isKnownKey(s) {
			m.lastAt = m.split + "/" + s
		}
	}
}

func (m *machine) memoPut(idx uint64) error {
	v, err := m.top()
	if err != nil {
		return err
	}
	m.memo[idx] = v
	return nil
}

func (m *machine) memoGet(idx uint64) error {
	v, ok := m.memo[idx]
	if !ok {
		return fmt.Errorf("at offset %d: memo key %d not defined", m.pos, idx)
	}
	if s, ok := v.(string); ok {
		m.noteString(s)
	}
	m.push(v)
	return nil
}

func (m *machine) run() (any, error) {
	for {
		at := m.pos
		op, err := m.readByte()
		if err != nil {
			return nil, fmt.Errorf("at offset %d: no STOP opcode: %w", at, err)
		}
		if at == 0 && op != opProto {
			return nil, fmt.Errorf("not a pickle of protocol 2 or later (first byte 0x%02x, want 0x80)", op)
		}
		if op == opStop {
			v, err := m.pop()
			if err != nil {
				return nil, err
			}
			return v, nil
		}
		if err := m.step(op); err != nil {
			return nil, err
		}
	}
}

// Opcodes (Python's Lib/pickle.py names).
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opNone           = 'N'
	opReduce         = 'R'
	opBinUnicode     = 'X'
	opEmptyList      = ']'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opList           = 'l'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opProto          = 0x80
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadonlyBuffer = 0x98
)

func (m *machine) step(op byte) error {
	switch op {
	case opProto:
		v, err := m.readByte()
		if err != nil {
			return err
		}
		if v < 2 || v > 5 {
			return fmt.Errorf("pickle protocol %d not supported (2 to 5 are)", v)
		}
	case opFrame:
		// Frames only group opcodes for buffered reading; the stream is
		// read sequentially anyway, and a truncated frame shows up as a
		// truncated opcode, where the error can say which key it is in.
		_, err := m.readUint(8)
		return err
	case opMark:
		m.marks = append(m.marks, len(m.stack))
	case opPop:
		_, err := m.pop()
		return err
	case opPopMark:
		_, err := m.popMark()
		return err
	case opDup:
		v, err := m.top()
		if err != nil {
			return err
		}
		m.push(v)
	case opNone:
		m.push(nil)
	case opNewTrue:
		m.push(true)
	case opNewFalse:
		m.push(false)
	case opBinInt:
		u, err := m.readUint(4)
		if err != nil {
			return err
		}
		m.push(int64(int32(uint32(u))))
	case opBinInt1:
		u, err := m.readUint(1)
		if err != nil {
			return err
		}
		m.push(int64(u))
	case opBinInt2:
		u, err := m.readUint(2)
		if err != nil {
			return err
		}
		m.push(int64(u))
	case opLong1, opLong4:
		width := 1
		if op == opLong4 {
			width = 4
		}
		n, err := m.readUint(width)
		if err != nil {
			return err
		}
		if n > 8 {
			return fmt.Errorf("at offset %d: integer of %d bytes does not fit in int64", m.pos, n)
		}
		b, err := m.readN(n)
		if err != nil {
			return err
		}
		m.push(decodeLong(b))
	case opBinFloat:
		b, err := m.readN(8)
		if err != nil {
			return err
		}
		m.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opShortBinUni, opBinUnicode, opBinUnicode8:
		n, err := m.readUint(lenWidth(op))
		if err != nil {
			return err
		}
		b, err := m.readN(n)
		if err != nil {
			return err
		}
		s := string(b)
		m.noteString(s)
		m.push(s)
	case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		n, err := m.readUint(lenWidth(op))
		if err != nil {
			return err
		}
		return m.bytesPayload(n)
	case opNextBuffer, opReadonlyBuffer:
		return fmt.Errorf("at offset %d: out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER) are not supported; pickle with in-band buffers", m.pos-1)
	case opEmptyDict:
		m.push(&dict{})
	case opEmptyList:
		m.push(&list{})
	case opEmptyTuple:
		m.push(tuple{})
	case opTuple:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(tuple(items))
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		t := make(tuple, n)
		for i := n - 1; i >= 0; i-- {
			v, err := m.pop()
			if err != nil {
				return err
			}
			t[i] = v
		}
		m.push(t)
	case opList:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(&list{items: items})
	case opDict:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		d := &dict{}
		if err := setItems(d, items, m.pos); err != nil {
			return err
		}
		m.push(d)
	case opAppend:
		v, err := m.pop()
		if err != nil {
			return err
		}
		return m.appendTo([]any{v})
	case opAppends:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		return m.appendTo(items)
	case opSetItem:
		v, err := m.pop()
		if err != nil {
			return err
		}
		k, err := m.pop()
		if err != nil {
			return err
		}
		return m.setItemsOn([]any{k, v})
	case opSetItems:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		return m.setItemsOn(items)
	case opMemoize:
		return m.memoPut(uint64(len(m.memo)))
	case opBinPut, opLongBinPut:
		idx, err := m.readUint(memoWidth(op))
		if err != nil {
			return err
		}
		return m.memoPut(idx)
	case opBinGet, opLongBinGet:
		idx, err := m.readUint(memoWidth(op))
		if err != nil {
			return err
		}
		return m.memoGet(idx)
	case opGlobal:
		mod, err := m.readLine()
		if err != nil {
			return err
		}
		name, err := m.readLine()
		if err != nil {
			return err
		}
		g, err := lookupGlobal(mod, name)
		if err != nil {
			return err
		}
		m.push(g)
	case opStackGlobal:
		name, err := m.pop()
		if err != nil {
			return err
		}
		mod, err := m.pop()
		if err != nil {
			return err
		}
		ms, ok1 := mod.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("at offset %d: STACK_GLOBAL needs two strings, got %s and %s", m.pos, typeName(mod), typeName(name))
		}
		g, err := lookupGlobal(ms, ns)
		if err != nil {
			return err
		}
		m.push(g)
	case opReduce:
		args, err := m.pop()
		if err != nil {
			return err
		}
		fn, err := m.pop()
		if err != nil {
			return err
		}
		g, ok := fn.(*global)
		if !ok {
			return fmt.Errorf("at offset %d: REDUCE on a %s, not a callable", m.pos, typeName(fn))
		}
		t, ok := args.(tuple)
		if !ok {
			return fmt.Errorf("at offset %d: REDUCE arguments are a %s, not a tuple", m.pos, typeName(args))
		}
		v, err := call(g, t)
		if err != nil {
			return fmt.Errorf("at offset %d: %s.%s: %w", m.pos, g.module, g.name, err)
		}
		m.push(v)
	case opBuild:
		state, err := m.pop()
		if err != nil {
			return err
		}
		obj, err := m.top()
		if err != nil {
			return err
		}
		if err := build(obj, state); err != nil {
			return fmt.Errorf("at offset %d: BUILD: %w", m.pos, err)
		}
	default:
		return fmt.Errorf("at offset %d: unsupported opcode 0x%02x", m.pos-1, op)
	}
	return nil
}

// memoWidth is the width of the memo index after BINPUT/BINGET (1) and
// LONG_BINPUT/LONG_BINGET (4).
func memoWidth(op byte) int {
	if op == opBinPut || op == opBinGet {
		return 1
	}
	return 4
}

// lenWidth is the width of the length prefix of a str or bytes opcode.
func lenWidth(op byte) int {
	switch op {
	case opShortBinUni, opShortBinBytes:
		return 1
	case opBinUnicode, opBinBytes:
		return 4
	}
	return 8
}

// decodeLong decodes a little-endian two's-complement integer of at most
// 8 bytes (LONG1/LONG4).
func decodeLong(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	if shift := uint(64 - 8*len(b)); shift > 0 {
		return int64(u<<shift) >> shift
	}
	return int64(u)
}

func (m *machine) appendTo(items []any) error {
	v, err := m.top()
	if err != nil {
		return err
	}
	l, ok := v.(*list)
	if !ok {
		return fmt.Errorf("at offset %d: APPEND to a %s, not a list", m.pos, typeName(v))
	}
	l.items = append(l.items, items...)
	return nil
}

func (m *machine) setItemsOn(items []any) error {
	v, err := m.top()
	if err != nil {
		return err
	}
	d, ok := v.(*dict)
	if !ok {
		return fmt.Errorf("at offset %d: SETITEM on a %s, not a dict", m.pos, typeName(v))
	}
	return setItems(d, items, m.pos)
}

func setItems(d *dict, items []any, pos int64) error {
	if len(items)%2 != 0 {
		return fmt.Errorf("at offset %d: odd number of items for a dict", pos)
	}
	for i := 0; i < len(items); i += 2 {
		if err := d.set(items[i], items[i+1]); err != nil {
			return fmt.Errorf("at offset %d: %w", pos, err)
		}
	}
	return nil
}

// bytesPayload reads a bytes/bytearray payload of n bytes. Small payloads
// become []byte. Large ones are, depending on what the stack says they
// are for: discarded (an array the skip function drops), decoded straight
// into float32 (the raw data of a protocol-4 float array, whose dtype and
// shape are already on the stack), or read into float32-aligned storage
// (*rawWords) that the array built from it later converts in place.
func (m *machine) bytesPayload(n uint64) error {
	if err := m.need(n); err != nil {
		return err
	}
	if n < bigPayload {
		b, err := m.readN(n)
		if err != nil {
			return err
		}
		m.push(b)
		return nil
	}
	key, pending := m.arrayContext()
	if m.skip != nil && key != "" && m.skip(key) {
		if _, err := io.CopyN(io.Discard, m.r, int64(n)); err != nil {
			return fmt.Errorf("at offset %d: %w", m.pos, errTruncated)
		}
		m.pos += int64(n)
		m.push(skipped{n: n})
		return nil
	}
	if pending != nil && pending.kind == 'f' && n == uint64(pending.count)*uint64(pending.size) {
		dst := make([]float32, pending.count)
		if err := m.streamFloats(dst, int(n), pending.size == 8); err != nil {
			return err
		}
		m.push(&decoded{f32: dst, dtype: pending})
		return nil
	}
	w := &rawWords{n: int(n), words: make([]float32, (n+3)/4)}
	if err := m.streamFloats(w.words, int(n), false); err != nil {
		return err
	}
	m.push(w)
	return nil
}

// pendingArray is what the stack says about the protocol-4 array whose raw
// bytes come next: its dtype and element count.
type pendingArray struct {
	kind  byte
	size  int
	count int
}

// arrayContext looks at the stack around the innermost MARK for the
// layouts numpy pickles use when raw array bytes come:
//
//	protocol 4: key, ndarray, MARK, 1, shape, dtype, is_fortran
//	protocol 5: key, _frombuffer, MARK
//
// It returns the dict key the array is stored under ("" when unknown) and,
// for protocol 4, the pending array's dtype and element count.
func (m *machine) arrayContext() (string, *pendingArray) {
	if len(m.marks) == 0 {
		return "", nil
	}
	k := m.marks[len(m.marks)-1]
	if k < 2 {
		return "", nil
	}
	key, _ := m.stack[k-2].(string)
	switch below := m.stack[k-1].(type) {
	case *global:
		if below.name != "_frombuffer" || len(m.stack) != k {
			return "", nil
		}
		return key, nil
	case *ndarray:
		items := m.stack[k:]
		if len(items) != 4 {
			return key, nil
		}
		shape, err1 := toShape(items[1])
		dt, ok := items[2].(*dtype)
		fortran, ok2 := items[3].(bool)
		if err1 != nil || !ok || !ok2 || fortran {
			return key, nil
		}
		count, err := shapeCount(shape)
		if err != nil {
			return key, nil
		}
		return key, &pendingArray{kind: dt.kind, size: dt.size, count: count}
	}
	return "", nil
}

// streamFloats reads n bytes from the stream into dst through a small
// buffer. With wide false it stores little-endian 32-bit words (float32
// values, or raw words for later in-place conversion; a partial last word
// is zero-padded); with wide true it decodes little-endian float64 values
// and stores them rounded to float32.
func (m *machine) streamFloats(dst []float32, n int, wide bool) error {
	var buf [1 << 16]byte
	j := 0
	for n > 0 {
		c := min(n, len(buf))
		if _, err := io.ReadFull(m.r, buf[:c]); err != nil {
			return fmt.Errorf("at offset %d: %w", m.pos, errTruncated)
		}
		m.pos += int64(c)
		n -= c
		b := buf[:c]
		if wide {
			for ; len(b) >= 8; b = b[8:] {
				dst[j] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b)))
				j++
			}
			continue
		}
		for ; len(b) >= 4; b = b[4:] {
			dst[j] = math.Float32frombits(binary.LittleEndian.Uint32(b))
			j++
		}
		if len(b) > 0 {
			var w [4]byte
			copy(w[:], b)
			dst[j] = math.Float32frombits(binary.LittleEndian.Uint32(w[:]))
		}
	}
	return nil
}
