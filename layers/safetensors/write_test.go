package safetensors

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Over two read chunks, so chunk boundaries are crossed.
	big := make([]float32, chunkBytes/4*2+123)
	for i := range big {
		big[i] = float32(rng.NormFloat64())
	}
	special := []float32{
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		math.Float32frombits(0x80000000), math.Float32frombits(1), math.MaxFloat32,
		math.Float32frombits(0x7fa00001), // signaling NaN with a payload
	}
	tensors := []Tensor{
		{Name: "z.big", Shape: []int{len(big)}, Data: big},
		{Name: "a.special", Shape: []int{7, 1}, Data: special},
		{Name: "m.scalar", Shape: nil, Data: []float32{-3.5}},
		{Name: "m.empty", Shape: []int{4, 0, 2}, Data: nil},
		{Name: "b.w", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
	}
	input := slices.Clone(tensors)
	meta := map[string]string{"config": `{"d_model": 32, "tau": 0.07}`, "unicode": "ü ✓ <&> \u2028", "empty": ""}
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := Write(path, tensors, meta); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tensors, input) {
		t.Error("Write changed the caller's slice")
	}
	f := openT(t, path)
	if got, want := f.Names(), []string{"a.special", "b.w", "m.empty", "m.scalar", "z.big"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if got := f.Metadata(); !reflect.DeepEqual(got, meta) {
		t.Errorf("Metadata() = %q, want %q", got, meta)
	}
	var offset int64
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		if info.Offsets[0] != offset {
			t.Errorf("%s starts at byte %d, want %d (tensors stored in name order)", name, info.Offsets[0], offset)
		}
		offset = info.Offsets[1]
	}
	for _, want := range tensors {
		info, ok := f.Info(want.Name)
		if !ok || info.DType != F32 || !slices.Equal(info.Shape, want.Shape) {
			t.Errorf("%s: Info = %+v, %v; want F32 %v", want.Name, info, ok, want.Shape)
			continue
		}
		got := make([]float32, len(want.Data))
		if err := f.ReadFloat32(want.Name, got); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want.Data[i]) {
				t.Fatalf("%s[%d] = %g (bits %#x), want bits %#x", want.Name, i, got[i],
					math.Float32bits(got[i]), math.Float32bits(want.Data[i]))
			}
		}
	}
	if got := dirEntries(t, filepath.Dir(path)); !slices.Equal(got, []string{"ckpt.safetensors"}) {
		t.Errorf("directory holds %v, want only the checkpoint", got)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o044 != 0o044 {
		t.Errorf("checkpoint mode %v, want it readable by group and others", st.Mode())
	}
}

func TestWriteNilMetadata(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Write(path, []Tensor{{Name: "x", Shape: []int{1}, Data: []float32{1}}}, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(metaKey)) {
		t.Errorf("file without metadata has a %s entry: %q", metaKey, b)
	}
	if m := openT(t, path).Metadata(); m == nil || len(m) != 0 {
		t.Errorf("Metadata() = %#v, want an empty map", m)
	}
}

// TestWriteGolden compares Write's bytes with the file gen_testdata.py lays
// out the way the reference implementation does.
func TestWriteGolden(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "write_golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	// The same tensors as write_golden() in gen_testdata.py, in another order.
	tensors := []Tensor{
		{Name: "z", Shape: []int{1, 1, 2}, Data: []float32{math.MaxFloat32, math.SmallestNonzeroFloat32}},
		{Name: "scalar", Shape: []int{}, Data: []float32{7}},
		{Name: "b.weight", Shape: []int{2, 3}, Data: []float32{0.5, -1.25, 3, 0.1, float32(math.Copysign(0, -1)), 1e-8}},
		{Name: "empty", Shape: []int{0}, Data: []float32{}},
		{Name: "a.bias", Shape: []int{3}, Data: []float32{1, 2, 3}},
	}
	meta := map[string]string{"format": "pt", "config": `{"d_model":32,"note":"<&>"}`}
	path := filepath.Join(t.TempDir(), "golden.safetensors")
	if err := Write(path, tensors, meta); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Write produced\n%q\nwant\n%q", got, want)
	}
}

func TestWriteInvalid(t *testing.T) {
	one := []float32{1}
	tests := []struct {
		name    string
		tensors []Tensor
		want    string
	}{
		{"duplicate name", []Tensor{{Name: "a", Shape: []int{1}, Data: one}, {Name: "a", Shape: []int{1}, Data: one}},
			`tensor "a": listed twice`},
		{"empty name", []Tensor{{Name: "", Shape: []int{1}, Data: one}}, "tensor 0 has an empty name"},
		{"reserved name", []Tensor{{Name: metaKey, Shape: []int{1}, Data: one}}, "reserved"},
		{"shape and data disagree", []Tensor{{Name: "w", Shape: []int{2, 3}, Data: make([]float32, 5)}},
			`tensor "w": shape [2 3] has 6 elements but Data holds 5`},
		{"scalar without data", []Tensor{{Name: "s", Data: nil}}, `tensor "s": shape [] has 1 elements`},
		{"negative dimension", []Tensor{{Name: "n", Shape: []int{-2, -3}, Data: make([]float32, 6)}},
			`tensor "n": invalid shape [-2 -3]`},
		{"shape overflow", []Tensor{{Name: "o", Shape: []int{1 << 40, 1 << 40}, Data: one}}, `tensor "o": invalid shape`},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		path := filepath.Join(dir, "bad.safetensors")
		err := Write(path, tt.tensors, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want one naming %s and saying %q", tt.name, err, path, tt.want)
		}
		if got := dirEntries(t, dir); len(got) != 0 {
			t.Errorf("%s: directory holds %v after a failed Write", tt.name, got)
		}
	}
}

// TestWriteAtomicRenameFails makes the final rename fail (the target is a
// directory) and checks that no temporary file is left behind.
func TestWriteAtomicRenameFails(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "ckpt.safetensors")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	err := Write(target, []Tensor{{Name: "w", Shape: []int{2}, Data: []float32{1, 2}}}, nil)
	if err == nil || !strings.Contains(err.Error(), target) {
		t.Fatalf("Write over a directory: err = %v, want one naming %s", err, target)
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{"ckpt.safetensors"}) {
		t.Errorf("directory holds %v after a failed rename, want only the blocking directory", got)
	}
	if st, err := os.Stat(target); err != nil || !st.IsDir() {
		t.Errorf("target directory damaged: %v, %v", st, err)
	}
}

func TestWriteMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "ckpt.safetensors")
	err := Write(path, nil, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want one naming %s", err, path)
	}
}

// TestWriteReplaces overwrites an open checkpoint: the old handle keeps
// reading the old content, a new Open sees the new one.
func TestWriteReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := Write(path, []Tensor{{Name: "w", Shape: []int{2}, Data: []float32{1, 2}}}, map[string]string{"step": "1"}); err != nil {
		t.Fatal(err)
	}
	old := openT(t, path)
	if err := Write(path, []Tensor{{Name: "w", Shape: []int{3}, Data: []float32{7, 8, 9}}}, map[string]string{"step": "2"}); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 2)
	if err := old.ReadFloat32("w", got); err != nil || !slices.Equal(got, []float32{1, 2}) {
		t.Errorf("old handle reads %v, %v; want [1 2]", got, err)
	}
	f := openT(t, path)
	got = make([]float32, 3)
	if err := f.ReadFloat32("w", got); err != nil || !slices.Equal(got, []float32{7, 8, 9}) {
		t.Errorf("new file reads %v, %v; want [7 8 9]", got, err)
	}
	if m := f.Metadata(); m["step"] != "2" {
		t.Errorf("metadata %v, want step 2", m)
	}
	if got := dirEntries(t, filepath.Dir(path)); !slices.Equal(got, []string{"ckpt.safetensors"}) {
		t.Errorf("directory holds %v, want only the checkpoint", got)
	}
}

func ExampleWrite() {
	dir, err := os.MkdirTemp("", "safetensors-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	err = Write(path, []Tensor{
		{Name: "head.fc1.weight", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "head.fc1.bias", Shape: []int{2}, Data: []float32{0.5, -0.5}},
	}, map[string]string{"config": `{"d_model":2}`})
	if err != nil {
		fmt.Println(err)
		return
	}

	f, err := Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		data := make([]float32, info.NumElements())
		if err := f.ReadFloat32(name, data); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(name, info.DType, info.Shape, data)
	}
	fmt.Println(f.Metadata()["config"])
	// Output:
	// head.fc1.bias F32 [2] [0.5 -0.5]
	// head.fc1.weight F32 [2 2] [1 2 3 4]
	// {"d_model":2}
}

func BenchmarkReadFloat32(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 20, 1 << 22} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "bench.safetensors")
			data := make([]float32, n)
			if err := Write(path, []Tensor{{Name: "w", Shape: []int{n}, Data: data}}, nil); err != nil {
				b.Fatal(err)
			}
			f, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				if err := f.ReadFloat32("w", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
