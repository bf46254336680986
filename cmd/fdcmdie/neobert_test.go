package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// releaseDir lays out the tiny NeoBERT fixture as a released model folder
// (config.json, model.safetensors, tokenizer.json) in a temporary folder.
func releaseDir(t *testing.T) string {
	t.Helper()
	fx := filepath.Join("..", "..", "..", "shared", "fixtures")
	if _, err := os.Stat(fx); err != nil {
		t.Skipf("fixtures folder %s absent (a user's checkout): --neobert not tested", fx)
	}
	dir := t.TempDir()
	for src, dst := range map[string]string{
		"neobert_tiny.config.json":         "config.json",
		"neobert_tiny.safetensors":         "model.safetensors",
		"bert-base-uncased-tokenizer.json": "tokenizer.json",
	} {
		in, err := os.Open(filepath.Join(fx, src))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dir, dst))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		out.Close()
	}
	return dir
}

// TestPretrainedNeoBERT trains with the released-layout encoder, first
// fine-tuned, then frozen with its features computed once and read back
// from the cache by a second run.
func TestPretrainedNeoBERT(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on the synthetic corpus; run without -short")
	}
	rel := releaseDir(t)
	base := []string{"--preset", "tiny", "--epochs", "1", "--neobert", rel}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append(base, "--quiet"), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "FD-CMDIE") {
		t.Fatalf("no table:\n%s", stdout.String())
	}
	cache := t.TempDir()
	for i, want := range []string{"cached in", "read from"} {
		stdout.Reset()
		stderr.Reset()
		if err := run(context.Background(), append(base, "--freeze-text", "--cache", cache), &stdout, &stderr); err != nil {
			t.Fatalf("frozen run %d: %v", i, err)
		}
		if !strings.Contains(stderr.String(), "text features: "+want) {
			t.Fatalf("frozen run %d: log lacks %q", i, want)
		}
		if !strings.Contains(stdout.String(), "Text-only baseline") {
			t.Fatalf("frozen run %d: no table", i)
		}
	}
	files, _ := filepath.Glob(filepath.Join(cache, "neobert-features-*.safetensors"))
	if len(files) != 1 {
		t.Fatalf("%d cache files, want 1", len(files))
	}
}

// TestPretrainedWeightsAreLoaded points --neobert at weights that do not
// fit its config.json: the run must fail naming the missing tensor, which
// shows the released weights are really loaded into the encoder.
func TestPretrainedWeightsAreLoaded(t *testing.T) {
	rel := releaseDir(t)
	cfgPath := filepath.Join(rel, "config.json")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(raw), `"num_hidden_layers": 2`, `"num_hidden_layers": 3`, 1)
	if bad == string(raw) {
		t.Fatal("fixture config has no num_hidden_layers 2")
	}
	if err := os.WriteFile(cfgPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	err = run(context.Background(), []string{"--preset", "tiny", "--epochs", "1", "--neobert", rel, "--quiet"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "transformer_encoder.2.") {
		t.Fatalf("err = %v, want a missing transformer_encoder.2 tensor", err)
	}
}

func TestPretrainedErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--neobert", t.TempDir()}, // no config.json
		{"--freeze-text"},          // needs --neobert
		{"--resume"},               // needs --out
	} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), append(args, "--quiet"), &out, &errb); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
