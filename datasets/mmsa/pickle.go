package mmsa

import (
	"bufio"
	"errors"
	"fmt"
	"io"
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

// topAs returns the top of the stack as a T, or an error saying that op
// ("APPEND to") needs a want ("list") there.
func topAs[T any](m *machine, op, want string) (T, error) {
	var zero T
	v, err := m.top()
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("at offset %d: %s a %s, not a %s", m.pos, op, typeName(v), want)
	}
	return t, nil
}

func (m *machine) appendTo(items []any) error {
	l, err := topAs[*list](m, "APPEND to", "list")
	if err != nil {
		return err
	}
	l.items = append(l.items, items...)
	return nil
}

func (m *machine) setItemsOn(items []any) error {
	d, err := topAs[*dict](m, "SETITEM on", "dict")
	if err != nil {
		return err
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
