package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets/mmsa"
)

// fixturePickle is the shared MMSA fixture; tests that need it skip
// without it.
func fixturePickle(t *testing.T) string {
	t.Helper()
	pkl := filepath.Join(predictFixtures, "mmsa_tiny_aligned_50.pkl")
	if _, err := os.Stat(pkl); err != nil {
		t.Skipf("shared fixtures not found at %s: %v", predictFixtures, err)
	}
	return pkl
}

// TestQuietKeepsDataWarnings: --quiet drops the progress lines but not the
// warning about feature values above mmsa.FeatureBound.
func TestQuietKeepsDataWarnings(t *testing.T) {
	pkl := fixturePickle(t)
	raw, err := os.ReadFile(pkl)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := mmsa.Read(pkl, mmsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Patch a valid audio value that occurs once in the file to 1e30.
	patched := false
	for _, v := range ds.Valid.Audio.Data {
		var o, n [4]byte
		binary.LittleEndian.PutUint32(o[:], math.Float32bits(v))
		binary.LittleEndian.PutUint32(n[:], math.Float32bits(1e30))
		if v != 0 && bytes.Count(raw, o[:]) == 1 {
			raw, patched = bytes.Replace(raw, o[:], n[:], 1), true
			break
		}
	}
	if !patched {
		t.Fatal("no valid audio value occurs once in the fixture")
	}
	path := filepath.Join(t.TempDir(), "mosi_huge.pkl")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	// Cancelled: the run stops at its first batch, after loading the data.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"--data", path, "--preset", "tiny", "--quiet"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("error %v, want the interruption", err)
	}
	if want := "valid/audio: 1 values above 1e+06 in magnitude"; !strings.Contains(stderr.String(), want) {
		t.Errorf("--quiet stderr %q lacks the warning %q", stderr.String(), want)
	}
	if strings.Contains(stderr.String(), "data: ") {
		t.Errorf("--quiet printed progress: %q", stderr.String())
	}
}
