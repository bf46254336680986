package mmsa

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

// TestUnpickleScalars runs pickles that Python wrote (the expression is in
// each case's comment) through the VM and compares with the values read
// by hand from the expression.
func TestUnpickleScalars(t *testing.T) {
	// pickle.dumps({'a': -2**40, 'b': 1.5, 'c': (1, 2), 'd': [True, None, False],
	//               'e': b'xy', 'f': 70000, 'g': -1}, protocol=P).hex()
	want := map[string]any{
		"a": int64(-1 << 40), "b": 1.5, "c": tuple{int64(1), int64(2)},
		"d": []any{true, nil, false}, "e": []byte("xy"), "f": int64(70000), "g": int64(-1),
	}
	cases := []struct {
		name, hex string
	}{
		{"protocol 2 (GLOBAL _codecs.encode for bytes, BINPUT)", "80027d71002858010000006171018a060000000000ff5801000000627102473ff800000000000058010000006371034b014b0286710458010000006471055d710628884e89655801000000657107635f636f646563730a656e636f64650a710858020000007879710958060000006c6174696e31710a86710b52710c580100000066710d4a70110100580100000067710e4affffffff752e"},
		{"protocol 4 (FRAME, MEMOIZE, SHORT_BINBYTES)", "8004954e000000000000007d94288c0161948a060000000000ff8c016294473ff80000000000008c0163944b014b0286948c0164945d9428884e89658c01659443027879948c0166944a701101008c0167944affffffff752e"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := hex.DecodeString(c.hex)
			if err != nil {
				t.Fatal(err)
			}
			v, err := unpickle(bytes.NewReader(b), int64(len(b)), nil)
			if err != nil {
				t.Fatal(err)
			}
			d, ok := v.(*dict)
			if !ok {
				t.Fatalf("got a %s, want a dict", typeName(v))
			}
			if len(d.keys) != len(want) {
				t.Errorf("got %d keys, want %d", len(d.keys), len(want))
			}
			for k, w := range want {
				g, ok := d.get(k)
				if !ok {
					t.Errorf("key %q missing", k)
					continue
				}
				if l, ok := g.(*list); ok {
					g = l.items
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s: got %#v, want %#v", k, g, w)
				}
			}
		})
	}
}

// TestUnpickleErrors checks hand-made streams that must fail with a
// message saying why.
func TestUnpickleErrors(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"not a pickle", []byte("hello"), "not a pickle"},
		{"protocol 1 header", []byte{0x80, 1, '.'}, "protocol 1 not supported"},
		{"no STOP", []byte{0x80, 4, 'N'}, "no STOP"},
		{"empty stack at STOP", []byte{0x80, 4, '.'}, "stack underflow"},
		{"BINBYTES longer than the file", []byte{0x80, 4, 'B', 0xff, 0xff, 0xff, 0x7f, '.'}, "payload of 2147483647 bytes"},
		{"BINUNICODE8 longer than the file", []byte{0x80, 4, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x40, '.'}, "payload of"},
		{"unknown opcode", []byte{0x80, 4, 'i', '.'}, "unsupported opcode 0x69"},
		{"out-of-band buffer", []byte{0x80, 5, 0x97, '.'}, "out-of-band buffers"},
		{"memo miss", []byte{0x80, 4, 'h', 3, '.'}, "memo key 3 not defined"},
		{"global not allowed", []byte("\x80\x02cos\nsystem\n."), "global os.system is not allowed"},
		{"SETITEM on a list", []byte{0x80, 4, ']', 'N', 'N', 's', '.'}, "SETITEM on a list"},
		{"unhashable key", []byte{0x80, 4, '}', ']', 'N', 's', '.'}, "dict key of type list"},
		{"TUPLE without MARK", []byte{0x80, 4, 't', '.'}, "no MARK"},
		{"REDUCE on a str", []byte{0x80, 4, 0x8c, 1, 'x', ')', 'R', '.'}, "REDUCE on a str"},
		{"LONG1 too wide", []byte{0x80, 4, 0x8a, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, '.'}, "does not fit in int64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := unpickle(bytes.NewReader(c.in), int64(len(c.in)), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestUTF32 checks numpy's fixed-width unicode decoding: trailing NULs are
// padding, and invalid code points do not panic.
func TestUTF32(t *testing.T) {
	cases := []struct {
		in   []uint32
		want string
	}{
		{[]uint32{'h', 'i', 0, 0}, "hi"},
		{[]uint32{0xe9, 0x1f600}, "é😀"},
		{[]uint32{0xd800, 0x110000}, "\ufffd\ufffd"},
		{[]uint32{0, 0}, ""},
	}
	for _, c := range cases {
		if got := utf32(c.in); got != c.want {
			t.Errorf("utf32(%x) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestFillRejects checks array headers whose claims do not match their
// payload, including a shape whose byte size overflows 64 bits and would
// otherwise match an empty payload.
func TestFillRejects(t *testing.T) {
	cases := []struct {
		name  string
		shape []int
		dt    *dtype
		data  any
		want  string
	}{
		{"byte size overflows", []int{1 << 40}, &dtype{kind: 'U', size: 1 << 26}, []byte{}, "too large"},
		{"payload too short", []int{2, 3}, &dtype{kind: 'f', size: 4}, make([]byte, 20), "payload of 20 bytes"},
		{"object data not a list", []int{2}, &dtype{kind: 'O', size: 8}, []byte{}, "not a list"},
		{"object list too short", []int{2}, &dtype{kind: 'O', size: 8}, &list{items: []any{"a"}}, "has 1 items"},
		{"buffer used twice", []int{1024}, &dtype{kind: 'f', size: 4}, &rawWords{words: make([]float32, 1024), n: 4096, used: true}, "two arrays"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := (&ndarray{}).fill(c.shape, c.dt, false, c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
}
