package mmsa

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Decode: it must return a Dataset or an
// error naming the file, never panic, and never allocate more than the
// input could hold. The seeds are the fixtures and the testdata pickles,
// whole and truncated, so a plain `go test` runs them all quickly.
func FuzzRead(f *testing.F) {
	paths, err := filepath.Glob("testdata/*.pkl")
	if err != nil {
		f.Fatal(err)
	}
	fixtures, err := filepath.Glob(filepath.Join(fixtureDir, "mmsa_tiny_*.pkl"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range append(paths, fixtures...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		for _, n := range []int{1, 2, 11, 64, 200, 1100, 5000, len(b) / 3, len(b) - 1} {
			if n < len(b) {
				f.Add(b[:n])
			}
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, drop := range []bool{false, true} {
			ds, _, err := Decode(bytes.NewReader(data), int64(len(data)), "fuzz.pkl", Options{DropTextFeats: drop})
			if err != nil {
				if !strings.HasPrefix(err.Error(), "mmsa: fuzz.pkl: ") {
					t.Fatalf("error %q does not name the file", err)
				}
				continue
			}
			if ds.Train == nil || ds.Valid == nil || ds.Test == nil {
				t.Fatal("no error but a split is missing")
			}
		}
	})
}
