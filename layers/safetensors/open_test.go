package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rawFile builds a file from a header string, padded with spaces to 8
// bytes, and a data section.
func rawFile(header string, data []byte) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	return withLength(uint64(len(header)), []byte(header), data)
}

// withLength builds a file whose header length field says n, whatever
// follows.
func withLength(n uint64, rest ...[]byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, n)
	for _, r := range rest {
		b = append(b, r...)
	}
	return b
}

// corruptCase is a malformed file and the words its error must contain.
type corruptCase struct {
	name string
	data []byte
	want []string
}

func corruptCases(t testing.TB) []corruptCase {
	golden, err := os.ReadFile(filepath.Join("testdata", "write_golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	f32 := func(name, shape, offsets string) string {
		return `"` + name + `":{"dtype":"F32","shape":` + shape + `,"data_offsets":` + offsets + `}`
	}
	return []corruptCase{
		{"empty file", nil, []string{"0 bytes", "8-byte header length"}},
		{"shorter than the length field", []byte{1, 2, 3}, []string{"3 bytes"}},
		{"truncated in the data", golden[:len(golden)-5], []string{`tensor "z"`, "run past the end", "[40, 48]", "43-byte data section"}},
		{"truncated in the header", golden[:50], []string{"header length 384", "42 bytes after the length field"}},
		{"header length huge", withLength(1<<62, []byte("{}")), []string{"header length 4611686018427387904", "limit"}},
		{"header length max uint64", withLength(math.MaxUint64), []string{"limit"}},
		{"header length past EOF", withLength(100, []byte("{}")), []string{"header length 100", "2 bytes after"}},
		{"empty header", withLength(0), []string{"does not start with '{'"}},
		{"header not an object", rawFile(`[1, 2]`, nil), []string{"does not start with '{'"}},
		{"bad JSON", rawFile(`{"a":{"dtype":"F32",`, nil), []string{"bad"}},
		{"bad JSON key", rawFile(`{not json}`, nil), []string{"bad header JSON"}},
		{"data after the JSON", rawFile(`{}x`, nil), []string{"after the closing brace"}},
		{"two JSON objects", rawFile(`{}{}`, nil), []string{"after the closing brace"}},
		{"offsets past EOF", rawFile(`{`+f32("a", "[2]", "[0,8]")+`}`, make([]byte, 4)),
			[]string{`tensor "a"`, "[0, 8]", "run past the end of the 4-byte data section"}},
		{"wrong byte size", rawFile(`{`+f32("w", "[3]", "[0,8]")+`}`, make([]byte, 8)),
			[]string{`tensor "w"`, "need 12 bytes", "hold 8"}},
		{"shape product overflows", rawFile(`{`+f32("w", "[1099511627776,1099511627776]", "[0,8]")+`}`, make([]byte, 8)),
			[]string{`tensor "w"`, "over 2^63"}},
		{"unknown dtype", rawFile(`{"q":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, make([]byte, 16)),
			[]string{`tensor "q"`, `unknown dtype "F128"`}},
		{"gap between tensors", rawFile(`{`+f32("a", "[1]", "[0,4]")+`,`+f32("b", "[1]", "[8,12]")+`}`, make([]byte, 12)),
			[]string{`tensor "b"`, "leave a gap", "ends at byte 4"}},
		{"overlapping tensors", rawFile(`{`+f32("a", "[2]", "[0,8]")+`,`+f32("b", "[1]", "[4,8]")+`}`, make([]byte, 8)),
			[]string{`tensor "b"`, "overlap"}},
		{"first tensor not at 0", rawFile(`{`+f32("a", "[1]", "[4,8]")+`}`, make([]byte, 8)),
			[]string{`tensor "a"`, "leave a gap"}},
		{"bytes after the last tensor", rawFile(`{`+f32("a", "[1]", "[0,4]")+`}`, make([]byte, 8)),
			[]string{"cover 4 bytes", "holds 8"}},
		{"negative dimension", rawFile(`{`+f32("n", "[-1]", "[0,0]")+`}`, nil),
			[]string{`tensor "n"`, "negative dimension"}},
		{"fractional dimension", rawFile(`{`+f32("n", "[1.5]", "[0,4]")+`}`, make([]byte, 4)),
			[]string{`tensor "n"`, "bad entry"}},
		{"decreasing offsets", rawFile(`{`+f32("d", "[1]", "[4,0]")+`}`, make([]byte, 4)),
			[]string{`tensor "d"`, "not an increasing pair"}},
		{"three offsets", rawFile(`{`+f32("d", "[1]", "[0,4,8]")+`}`, make([]byte, 8)),
			[]string{`tensor "d"`, "3 values"}},
		{"missing dtype", rawFile(`{"m":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)),
			[]string{`tensor "m"`, "needs dtype"}},
		{"duplicate tensor", rawFile(`{`+f32("a", "[1]", "[0,4]")+`,`+f32("a", "[1]", "[4,8]")+`}`, make([]byte, 8)),
			[]string{`tensor "a"`, "listed twice"}},
		{"metadata not strings", rawFile(`{"__metadata__":{"epoch":3}}`, nil),
			[]string{"__metadata__", "strings"}},
		{"metadata twice", rawFile(`{"__metadata__":{},"__metadata__":{}}`, nil),
			[]string{"duplicate __metadata__"}},
	}
}

func TestOpenCorrupt(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range corruptCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".safetensors")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path)
			if err == nil {
				f.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range append(tc.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestOpenMissingAndDirectory(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.safetensors")
	if _, err := Open(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Open(missing) err = %v, want one naming the path", err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Open(directory) err = %v, want 'not a regular file'", err)
	}
}

// TestOpenMinimal accepts the smallest valid files: no tensors, and
// zero-size tensors sharing an offset.
func TestOpenMinimal(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		names []string
	}{
		{"no tensors", rawFile(`{}`, nil), []string{}},
		{"metadata only", rawFile(`{"__metadata__":{"a":"b"}}`, nil), []string{}},
		{"zero-size tensors", rawFile(`{"b":{"dtype":"F16","shape":[0],"data_offsets":[0,0]},`+
			`"a":{"dtype":"I64","shape":[2,0],"data_offsets":[0,0]},`+
			`"c":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}`, []byte{9}), []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		f, err := parse(bytes.NewReader(tt.data), int64(len(tt.data)), tt.name)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := f.Names(); !slices.Equal(got, tt.names) {
			t.Errorf("%s: Names() = %v, want %v", tt.name, got, tt.names)
		}
	}
}

// FuzzOpen checks that no input makes the parser or the readers panic, and
// that every accepted file is self-consistent: tensors tile the data
// section and each one reads into a slice of its element count.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"write_golden.safetensors", "dtypes.safetensors"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, tc := range corruptCases(f) {
		f.Add(tc.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := parse(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		total := sf.dataBase
		names := sf.Names()
		if !slices.IsSorted(names) {
			t.Fatalf("names not sorted: %v", names)
		}
		for _, name := range names {
			info, _ := sf.Info(name)
			total += info.Offsets[1] - info.Offsets[0]
			n := info.NumElements()
			if int64(n*info.DType.Size()) != info.Offsets[1]-info.Offsets[0] {
				t.Fatalf("%s: %d elements of %s in %v", name, n, info.DType, info.Offsets)
			}
			errF := sf.ReadFloat32(name, make([]float32, n))
			errD := sf.ReadFloat64(name, make([]float64, n))
			errI := sf.ReadInt64(name, make([]int64, n))
			if (errF == nil) != (errD == nil) {
				t.Fatalf("%s: ReadFloat32 err %v but ReadFloat64 err %v", name, errF, errD)
			}
			if errF == nil && errI == nil {
				t.Fatalf("%s: dtype %s read both as float and as int", name, info.DType)
			}
		}
		if total != int64(len(data)) {
			t.Fatalf("tensors end at byte %d of a %d-byte file", total, len(data))
		}
	})
}
