package safetensors

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// expectTensor is one tensor of dtypes_expect.json or fixture_expect.json,
// written by the Python scripts in testdata/.
type expectTensor struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Index   []int    `json:"index"`
	F32Bits []uint32 `json:"f32_bits"`
	F64Bits []uint64 `json:"f64_bits"`
	Int64   []int64  `json:"int64"`
	Sum     float64  `json:"sum"`
	SumSq   float64  `json:"sum_sq"`
}

// expectFile is the expectation for one safetensors file.
type expectFile struct {
	Metadata map[string]string       `json:"metadata"`
	Tensors  map[string]expectTensor `json:"tensors"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func openT(t *testing.T, path string) *File {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// checkHeader compares names, metadata, dtypes and shapes with exp.
func checkHeader(t *testing.T, f *File, exp expectFile) {
	t.Helper()
	want := make([]string, 0, len(exp.Tensors))
	for name := range exp.Tensors {
		want = append(want, name)
	}
	sort.Strings(want)
	if got := f.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if got := f.Metadata(); !reflect.DeepEqual(got, exp.Metadata) {
		t.Errorf("Metadata() = %q, want %q", got, exp.Metadata)
	}
	for name, e := range exp.Tensors {
		info, ok := f.Info(name)
		if !ok {
			t.Errorf("Info(%q) missing", name)
			continue
		}
		if string(info.DType) != e.DType || !slices.Equal(info.Shape, e.Shape) {
			t.Errorf("%s: dtype %s shape %v, want %s %v", name, info.DType, info.Shape, e.DType, e.Shape)
		}
	}
}

func fixturesDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "fixtures")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared fixtures not found at %s (they sit beside the repository as ../shared/fixtures): %v", dir, err)
	}
	return dir
}

func TestFixtures(t *testing.T) {
	dir := fixturesDir(t)
	var expect map[string]expectFile
	readJSON(t, filepath.Join("testdata", "fixture_expect.json"), &expect)
	if len(expect) != 2 {
		t.Fatalf("fixture_expect.json describes %d files, want 2", len(expect))
	}
	for file, exp := range expect {
		t.Run(file, func(t *testing.T) {
			f := openT(t, filepath.Join(dir, file))
			checkHeader(t, f, exp)
			for name, e := range exp.Tensors {
				info, _ := f.Info(name)
				switch e.DType {
				case "F32":
					got := make([]float32, info.NumElements())
					if err := f.ReadFloat32(name, got); err != nil {
						t.Fatal(err)
					}
					for k, i := range e.Index {
						if b := math.Float32bits(got[i]); b != e.F32Bits[k] {
							t.Errorf("%s[%d] = %g (bits %#x), want bits %#x", name, i, got[i], b, e.F32Bits[k])
						}
					}
					var sum, sumSq float64
					for _, v := range got {
						sum += float64(v)
						sumSq += float64(v) * float64(v)
					}
					// numpy sums pairwise, Go sequentially: the float64
					// results agree to far better than 1e-9 relative.
					const tol = 1e-9
					if math.Abs(sum-e.Sum) > tol*math.Max(1, math.Abs(e.Sum)) {
						t.Errorf("%s: sum %.17g, want %.17g", name, sum, e.Sum)
					}
					if math.Abs(sumSq-e.SumSq) > tol*math.Max(1, e.SumSq) {
						t.Errorf("%s: sum of squares %.17g, want %.17g", name, sumSq, e.SumSq)
					}
				case "I64":
					got := make([]int64, info.NumElements())
					if err := f.ReadInt64(name, got); err != nil {
						t.Fatal(err)
					}
					for k, i := range e.Index {
						if got[i] != e.Int64[k] {
							t.Errorf("%s[%d] = %d, want %d", name, i, got[i], e.Int64[k])
						}
					}
					err := f.ReadFloat32(name, make([]float32, info.NumElements()))
					if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "I64") {
						t.Errorf("ReadFloat32(%q) on I64: err = %v, want a refusal naming tensor and dtype", name, err)
					}
				default:
					t.Fatalf("%s: unexpected dtype %s in fixture_expect.json", name, e.DType)
				}
			}
		})
	}
}

func TestDTypes(t *testing.T) {
	var exp expectFile
	readJSON(t, filepath.Join("testdata", "dtypes_expect.json"), &exp)
	f := openT(t, filepath.Join("testdata", "dtypes.safetensors"))
	checkHeader(t, f, exp)
	for name, e := range exp.Tensors {
		info, _ := f.Info(name)
		n := info.NumElements()
		if e.F32Bits != nil {
			got := make([]float32, n)
			if err := f.ReadFloat32(name, got); err != nil {
				t.Fatal(err)
			}
			if len(e.F32Bits) != n {
				t.Fatalf("%s: %d expected values for %d elements", name, len(e.F32Bits), n)
			}
			for i, v := range got {
				if math.Float32bits(v) != e.F32Bits[i] {
					t.Errorf("ReadFloat32 %s[%d] = %g (bits %#x), want bits %#x (%g)", name, i, v,
						math.Float32bits(v), e.F32Bits[i], math.Float32frombits(e.F32Bits[i]))
				}
			}
			got64 := make([]float64, n)
			if err := f.ReadFloat64(name, got64); err != nil {
				t.Fatal(err)
			}
			for i, v := range got64 {
				if math.Float64bits(v) != e.F64Bits[i] {
					t.Errorf("ReadFloat64 %s[%d] = %g, want %g", name, i, v, math.Float64frombits(e.F64Bits[i]))
				}
			}
		}
		if e.Int64 != nil {
			got := make([]int64, n)
			if err := f.ReadInt64(name, got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e.Int64) {
				t.Errorf("ReadInt64 %s = %v, want %v", name, got, e.Int64)
			}
		}
	}
}

// TestF16Exhaustive compares all 65536 half-precision patterns with
// numpy's float16 -> float32 conversion, bit for bit (NaN payloads too).
func TestF16Exhaustive(t *testing.T) {
	f := openT(t, filepath.Join("testdata", "dtypes.safetensors"))
	got := make([]float32, 1<<16)
	want := make([]float32, 1<<16)
	if err := f.ReadFloat32("f16_all", got); err != nil {
		t.Fatal(err)
	}
	if err := f.ReadFloat32("f16_all.expected", want); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			if bad++; bad <= 10 {
				t.Errorf("f16 %#04x -> %g (bits %#x), numpy %g (bits %#x)", i, got[i],
					math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of 65536 half-precision patterns differ", bad)
	}
}

// TestConversionByHand checks a few conversions against values worked out
// by hand from the bit layouts.
func TestConversionByHand(t *testing.T) {
	tests := []struct {
		name string
		conv func(uint16) float32
		in   uint16
		want float32
	}{
		{"bf16 one", bf16ToFloat32, 0x3F80, 1},
		{"bf16 minus two", bf16ToFloat32, 0xC000, -2},
		{"bf16 pi", bf16ToFloat32, 0x4049, 3.140625},                 // 1.5703125·2
		{"bf16 0.1", bf16ToFloat32, 0x3DCD, 0.10009765625},           // 1.6015625·2^-4
		{"f16 one", f16ToFloat32, 0x3C00, 1},                         // exp 15
		{"f16 third", f16ToFloat32, 0x3555, 0.333251953125},          // (1+341/1024)·2^-2
		{"f16 max", f16ToFloat32, 0x7BFF, 65504},                     // (2-2^-10)·2^15
		{"f16 min normal", f16ToFloat32, 0x0400, 1.0 / 16384},        // 2^-14
		{"f16 min subnormal", f16ToFloat32, 0x0001, 1.0 / (1 << 24)}, // 2^-24
		{"f16 max subnormal", f16ToFloat32, 0x83FF, -1023.0 / (1 << 24)},
	}
	for _, tt := range tests {
		if got := tt.conv(tt.in); got != tt.want {
			t.Errorf("%s: %#04x -> %g, want %g", tt.name, tt.in, got, tt.want)
		}
	}
	if v := f16ToFloat32(0x7C00); !math.IsInf(float64(v), 1) {
		t.Errorf("f16 0x7c00 -> %g, want +Inf", v)
	}
	if v := f16ToFloat32(0xFC00); !math.IsInf(float64(v), -1) {
		t.Errorf("f16 0xfc00 -> %g, want -Inf", v)
	}
	if v := f16ToFloat32(0x7E00); !math.IsNaN(float64(v)) {
		t.Errorf("f16 0x7e00 -> %g, want NaN", v)
	}
	if v := f16ToFloat32(0x8000); v != 0 || !math.Signbit(float64(v)) {
		t.Errorf("f16 0x8000 -> %g, want -0", v)
	}
}

func TestReadErrors(t *testing.T) {
	path := filepath.Join("testdata", "dtypes.safetensors")
	f := openT(t, path)
	tests := []struct {
		name string
		read func() error
		want []string
	}{
		{"F32 of an integer tensor", func() error { return f.ReadFloat32("i32", make([]float32, 5)) },
			[]string{`"i32"`, "I32", "ReadFloat32"}},
		{"F64 of BOOL", func() error { return f.ReadFloat64("bool", make([]float64, 6)) },
			[]string{`"bool"`, "BOOL"}},
		{"int64 of a float tensor", func() error { return f.ReadInt64("f32", make([]int64, 12)) },
			[]string{`"f32"`, "F32", "ReadInt64"}},
		{"destination too short", func() error { return f.ReadFloat32("f32", make([]float32, 11)) },
			[]string{`"f32"`, "11 elements", "[3 4]", "12"}},
		{"destination too long", func() error { return f.ReadInt64("i8", make([]int64, 5)) },
			[]string{`"i8"`, "5 elements"}},
		{"unknown tensor", func() error { return f.ReadFloat32("nope", nil) },
			[]string{`no tensor "nope"`}},
		{"U64 above MaxInt64", func() error { return f.ReadInt64("u64_big", make([]int64, 2)) },
			[]string{`"u64_big"`, "element 1", "9223372036854775808"}},
	}
	for _, tt := range tests {
		err := tt.read()
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, w := range append(tt.want, path) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tt.name, err, w)
			}
		}
	}
}

func TestClose(t *testing.T) {
	f, err := Open(filepath.Join("testdata", "dtypes.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.ReadFloat32("f32", make([]float32, 12)); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("read after Close: err = %v, want a 'closed' error", err)
	}
	if err := f.Close(); err == nil {
		t.Error("second Close: no error")
	}
	if len(f.Names()) == 0 {
		t.Error("Names() empty after Close; the header stays readable")
	}
}

func TestInfoReturnsCopy(t *testing.T) {
	f := openT(t, filepath.Join("testdata", "dtypes.safetensors"))
	info, _ := f.Info("f32")
	info.Shape[0] = 99
	again, _ := f.Info("f32")
	if again.Shape[0] != 3 {
		t.Errorf("Info shares its Shape slice: shape %v after a caller's change", again.Shape)
	}
	if _, ok := f.Info("nope"); ok {
		t.Error(`Info("nope") reports a tensor`)
	}
}
