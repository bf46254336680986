package mmsa

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

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
