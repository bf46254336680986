package mmsa

import (
	"encoding/binary"
	"fmt"
	"math"
)

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

// step runs one opcode op, already read from the stream. It is one case
// per opcode, named as in Python's Lib/pickle.py, so that it reads
// against that table; it is over the 80-line limit for functions on purpose.
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
