//go:build !openblas

package train

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/fdcmdie/fdcmdie/layers/sgemm"
)

// recordedBits are SHA-256 hashes of two training steps of each bench
// preset (dense, and over two right-padded batches) with the checkpoint
// saved after them, and of the predictions that follow, as
// TestSameBitsOnEveryMachine computes them. They were recorded on
// 2026-11-29 on a 2-core AMD EPYC (AVX2/FMA, the AVX2 micro-kernel) and
// gave the same hashes on an Intel Xeon with AVX-512 (a lent machine's
// host, the AVX-512 micro-kernel), at 16 cores and at 2, and on a 2-core
// AMD EPYC of the Zen 4 generation with AVX-512, with the AVX-512 kernel
// and with it off (GODEBUG=cpu.avx512f=off); and again on both AVX-512
// CPUs once the softmax's exponentials ran sixteen lanes at a time
// (vec.ExpSum).
var recordedBits = map[string]string{
	"small padded=false predict": "a69c98ca5320bf9423be848352366c629fdfb7baa2d5cd8974e4565b470cbd04",
	"small padded=false":         "2d81d0047381f22d55d63a8b7579c251e6e1ac5058bfd4fce88bb8e9cf636df6",
	"small padded=true predict":  "d335753292d58d6a56dfe05fa1728756b1faf6614787cb28fc49fc720b095441",
	"small padded=true":          "225bac1e0244f37520749f3bb5ad8cfb05204ae6d20ef6391e463f2329285010",
	"paper padded=false predict": "3d1f0d540e0324dbabc0b9891116bbb91347ff5548fc2333a319bc3920329be7",
	"paper padded=false":         "44f9ffdde1abc02ff1c066e130fe67a1593f3d534f1df2efd7d0aa02a027fefd",
	"paper padded=true predict":  "41446a114818b6c2b129a0ec33c2ce3cd8f6567b18cb74c7f1fccee3fa2ac33a",
	"paper padded=true":          "4f8d994d73336104da8c8cd872a69aab9c758d82baf7af5a2a34a43e3ba52b3c",
}

// TestSameBitsOnEveryMachine checks that training gives the recorded bits:
// the losses of two steps, the checkpoint and the predictions after them
// are the same bytes on every amd64 machine with AVX2/FMA, whatever its
// core count and whether it has AVX-512, which is what lets a grid's units
// run on any machines and merge as one machine's (train/repro). A build
// whose kernels round differently skips: the portable kernels (no AVX2/FMA,
// or another architecture), and GOAMD64=v3 or v4, with which the Go
// compiler fuses multiply-adds in Go code. If it fails after a deliberate
// change of the arithmetic (or a Go release that changes math), earlier
// results are no longer reproduced bit for bit: record the new hashes and
// say so. The paper preset runs without -short.
func TestSameBitsOnEveryMachine(t *testing.T) {
	if runtime.GOARCH != "amd64" || !sgemm.Accelerated() {
		t.Skip("the recorded bits are those of the amd64 AVX2/FMA kernels; this build's portable kernels round differently")
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "GOAMD64" && s.Value != "v1" && s.Value != "v2" {
				t.Skipf("GOAMD64=%s: the Go compiler fuses multiply-adds in Go code, which rounds differently", s.Value)
			}
		}
	}
	presets := benchPresets()
	if testing.Short() {
		presets = presets[:1]
	}
	for _, p := range presets {
		for _, padded := range []bool{false, true} {
			train, predict := trainingBits(t, p, padded)
			for key, got := range map[string]string{
				fmt.Sprintf("%s padded=%v", p.name, padded):         train,
				fmt.Sprintf("%s padded=%v predict", p.name, padded): predict,
			} {
				if want := recordedBits[key]; got != want {
					t.Errorf("%s: %s, recorded %s", key, got, want)
				}
			}
		}
	}
}

// trainingBits trains preset p two steps from seed 1 (on its dense bench
// batch, or on two right-padded batches) and returns the SHA-256 of the
// steps' outputs and the saved checkpoint, and of the predictions on the
// first batch.
func trainingBits(t *testing.T, p benchPreset, padded bool) (train, predict string) {
	t.Helper()
	m, err := NewModel(p.cfg, p.shape, ModelOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	batches, pb := paddedBatches(p, 2)
	if !padded {
		b, q := benchBatch(p)
		batches, pb = append(batches[:0], b), q
	}
	h := sha256.New()
	for step := 0; step < 2; step++ {
		for _, b := range batches {
			o, err := m.TrainStep(b, pb)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(h, "%v", o)
		}
	}
	o, err := m.Predict(batches[0])
	if err != nil {
		t.Fatal(err)
	}
	predict = fmt.Sprintf("%x", sha256.Sum256(fmt.Appendf(nil, "%v", o)))
	path := filepath.Join(t.TempDir(), "m")
	if err := m.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h.Write(data)
	return fmt.Sprintf("%x", h.Sum(nil)), predict
}
