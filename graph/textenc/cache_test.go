package textenc_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph/textenc"
)

// tinyData is three splits of short sentences tokenized with the release's
// tokenizer, ready for Freeze.
func tinyData(t *testing.T, p *textenc.Pretrained) *datasets.Prepared {
	t.Helper()
	words := []string{"good", "bad", "movie", "plot", "actors", "really", "not", "boring", "great", "music"}
	split := func(name string, n, off int) *datasets.Split {
		s := &datasets.Split{Name: name, Labels: make([]float32, n)}
		for i := range n {
			var b strings.Builder
			for k := range 1 + (i+off)%7 {
				fmt.Fprintf(&b, "%s ", words[(i*3+k*off+k)%len(words)])
			}
			s.RawText = append(s.RawText, b.String())
		}
		if err := datasets.Tokenize(s, p.Tokenizer(), 12); err != nil {
			t.Fatal(err)
		}
		return s
	}
	d := &datasets.Prepared{Dataset: datasets.Dataset{Name: "tiny", Train: split("train", 90, 1), Valid: split("valid", 30, 2),
		Test: split("test", 40, 3)}, Source: "tiny sentences", Meta: map[string]string{}}
	for _, s := range d.Splits() {
		for _, n := range s.TextLen {
			d.Lt = max(d.Lt, n)
		}
	}
	return d
}

// freeze loads the release in dir and freezes tiny data with the cache in
// cache, returning the data and the log.
func freeze(t *testing.T, dir, cache string) (*datasets.Prepared, string) {
	t.Helper()
	p, err := textenc.LoadPretrained(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := tinyData(t, p)
	var log bytes.Buffer
	if err := p.Freeze(d, cache, &log, nil); err != nil {
		t.Fatal(err)
	}
	return d, log.String()
}

// entry returns the bytes of the one cache entry in cache, failing on any
// other file there (a leftover temporary file).
func entry(t *testing.T, cache string) []byte {
	t.Helper()
	files, err := os.ReadDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || !strings.HasPrefix(files[0].Name(), "neobert-features-") {
		var names []string
		for _, f := range files {
			names = append(names, f.Name())
		}
		t.Fatalf("cache holds %q, want one neobert-features entry", names)
	}
	raw, err := os.ReadFile(filepath.Join(cache, files[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestFreezeCache(t *testing.T) {
	dir, cache := releaseDir(t), t.TempDir()
	d, log := freeze(t, dir, cache)
	if !strings.Contains(log, "text features: cached in") {
		t.Fatalf("first run's log lacks the caching:\n%s", log)
	}
	if !d.TextFeats || d.Meta[datasets.MetaTextFeatures] != "frozen NeoBERT from "+dir {
		t.Errorf("TextFeats %v, meta %q", d.TextFeats, d.Meta[datasets.MetaTextFeatures])
	}
	for _, s := range d.Splits() {
		if f := s.TextFeats; f.N != s.Len() || f.T != d.Lt || f.D != 32 || len(f.Data) != f.N*f.T*f.D {
			t.Fatalf("%s: features [%d, %d, %d] with %d values, want [%d, %d, 32]", s.Name, f.N, f.T, f.D, len(f.Data), s.Len(), d.Lt)
		}
	}
	again, log := freeze(t, dir, cache)
	if !strings.Contains(log, "text features: read from") {
		t.Fatalf("second run's log lacks the cache read:\n%s", log)
	}
	if !reflect.DeepEqual(again.Splits(), d.Splits()) {
		t.Error("features read from the cache differ from the computed ones")
	}
	entry(t, cache)

	p, err := textenc.LoadPretrained(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Freeze(d, cache, &bytes.Buffer{}, nil); err == nil {
		t.Error("freezing data that already has text features: no error")
	}
}

// TestFreezeDamagedEntry damages the cache entry in several ways: each time
// the next run must say so, compute the features again and leave an
// intact entry, while a leftover temporary file is ignored.
func TestFreezeDamagedEntry(t *testing.T) {
	dir, cache := releaseDir(t), t.TempDir()
	want, _ := freeze(t, dir, cache)
	good := entry(t, cache)
	path, _ := filepath.Glob(filepath.Join(cache, "neobert-features-*"))
	leftover := filepath.Join(cache, "."+filepath.Base(path[0])+".tmp-123")
	if err := os.WriteFile(leftover, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, log := freeze(t, dir, cache); !strings.Contains(log, "read from") {
		t.Errorf("with a leftover temporary file: log\n%s", log)
	}
	os.Remove(leftover)
	flip := bytes.Clone(good)
	flip[len(flip)-1] ^= 1
	for name, bad := range map[string][]byte{
		"truncated": good[:len(good)-4],
		"bit flip":  flip,
		"garbage":   []byte("not a safetensors file"),
		"empty":     {},
	} {
		if err := os.WriteFile(path[0], bad, 0o644); err != nil {
			t.Fatal(err)
		}
		got, log := freeze(t, dir, cache)
		if !strings.Contains(log, "unusable cache entry") || !strings.Contains(log, "cached in") {
			t.Errorf("%s: log\n%s", name, log)
		}
		if !reflect.DeepEqual(got.Splits(), want.Splits()) {
			t.Errorf("%s: features differ from the first computation", name)
		}
		if !bytes.Equal(entry(t, cache), good) {
			t.Errorf("%s: the entry written again differs", name)
		}
	}
}

// childEnv makes TestFreezeConcurrent's test binary a child: it holds the
// release folder, the cache folder, a barrier folder and the child's name.
const childEnv = "TEXTENC_FREEZE_CHILD"

// TestFreezeConcurrent runs two processes that need the same cache entry
// at the same moment: both compute it (each waits, at the end of its
// encoder pass, until the other has got there too), both write it, and
// the entry must be intact and equal to a fresh computation.
func TestFreezeConcurrent(t *testing.T) {
	if args := os.Getenv(childEnv); args != "" {
		freezeChild(t, strings.Split(args, string(os.PathListSeparator)))
		return
	}
	dir, cache, barrier := releaseDir(t), t.TempDir(), t.TempDir()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, name := range []string{"a", "b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFreezeConcurrent$", "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"="+strings.Join([]string{dir, cache, barrier, name}, string(os.PathListSeparator)))
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
		if !strings.Contains(outs[i].String(), "text features: cached in") {
			t.Errorf("child %d did not write the entry:\n%s", i, outs[i])
		}
	}
	shared := entry(t, cache)
	fresh := t.TempDir()
	freeze(t, dir, fresh)
	if !bytes.Equal(shared, entry(t, fresh)) {
		t.Error("the entry written by the two processes differs from a fresh computation")
	}
}

// freezeChild is one process of TestFreezeConcurrent.
func freezeChild(t *testing.T, args []string) {
	dir, cache, barrier, name := args[0], args[1], args[2], args[3]
	p, err := textenc.LoadPretrained(dir)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	err = p.Freeze(tinyData(t, p), cache, &log, meet{t, barrier, name})
	fmt.Print(log.String())
	if err != nil {
		t.Fatal(err)
	}
}

// meet is a Progress that makes the encoder's pass wait at its end (Clear)
// until every process of TestFreezeConcurrent has got there.
type meet struct {
	t             *testing.T
	barrier, name string
}

func (m meet) Update(string, int, int, time.Time, string) {}

func (m meet) Clear() {
	if err := os.WriteFile(filepath.Join(m.barrier, m.name), nil, 0o644); err != nil {
		m.t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		if ready, _ := filepath.Glob(filepath.Join(m.barrier, "*")); len(ready) == 2 {
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatal("the other process did not compute the entry too")
		}
	}
}
