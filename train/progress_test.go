package train

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestBar(t *testing.T) {
	var buf bytes.Buffer
	quiet := NewBar(&buf) // a buffer is not a terminal
	quiet.Update("epoch 1", 1, 2, time.Now(), "")
	quiet.End()
	if buf.Len() != 0 {
		t.Fatalf("a bar on a buffer wrote %q", buf.String())
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(w) {
		t.Fatal("a pipe is taken for a terminal")
	}
	bar := &Bar{w: &buf, draw: true}
	bar.Update("epoch 1", 1, 2, time.Now(), "loss 0.5000  ")
	if got, want := buf.String(), "\repoch 1 [############............] 1/2  loss 0.5000  ETA "; !strings.HasPrefix(got, want) {
		t.Fatalf("bar %q, want it to start with %q", got, want)
	}
	bar.End()
	bar.Clear() // the line is already ended: nothing to erase
	if got := buf.String(); !strings.HasSuffix(got, "\n") || strings.Contains(got, "\033[K") {
		t.Fatalf("ended bar %q", got)
	}
}

// TestProgressForLogs: a Progress writer without ProgressBar (a log file,
// CI) gets whole lines only: one for the memory-bank fill and one per
// epoch, and no carriage return.
func TestProgressForLogs(t *testing.T) {
	data := Data{Train: randomSplit("train", 20, 1), Valid: randomSplit("valid", 5, 2), Test: randomSplit("test", 5, 3)}
	var log bytes.Buffer
	if _, err := Fit(context.Background(), tinyConfig(), data, Options{BatchSize: 8, Epochs: 2, TextFeats: true, Progress: &log}); err != nil {
		t.Fatal(err)
	}
	out := log.String()
	if strings.ContainsAny(out, "\r\033") {
		t.Fatalf("log holds terminal control characters: %q", out)
	}
	epochs := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "epoch ") {
			epochs++
		}
	}
	if n := strings.Count(out, "memory bank: 20 training samples in "); n != 1 || epochs != 2 {
		t.Fatalf("%d memory-bank lines and %d epoch lines, want 1 and 2:\n%s", n, epochs, out)
	}
}
