package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/mmsa"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/train"
)

// predictFixtures is /work/shared/fixtures seen from this package's directory.
const predictFixtures = "../../../shared/fixtures"

// predTol bounds the difference between two float32 forward passes of the
// same samples in batches of different shapes (padding rows and steps are
// masked, so only summation order differs).
const predTol = 1e-5

// trainTiny runs the real job with the tiny preset for one epoch (extra
// flags select the data) and returns the FD-CMDIE row's best checkpoint.
func trainTiny(t *testing.T, extra ...string) string {
	t.Helper()
	out := t.TempDir()
	args := append([]string{"--preset", "tiny", "--epochs", "1", "--out", out, "--quiet"}, extra...)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("training: %v\n%s", err, stderr.String())
	}
	return filepath.Join(out, "checkpoints", "table3", "FD-CMDIE", "1111", "best.safetensors")
}

// runPredict runs `fdcmdie predict args...`.
func runPredict(args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	err = run(context.Background(), append([]string{"predict"}, args...), &o, &e)
	return o.String(), e.String(), err
}

// outLine is one output line as a user would parse it.
type outLine struct {
	ID       string       `json:"id"`
	Pred     float64      `json:"pred"`
	Label    *float64     `json:"label"`
	GapAlpha [][3]float64 `json:"gap_alpha"`
}

func parseOutput(t *testing.T, out string) []outLine {
	t.Helper()
	var lines []outLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		var l outLine
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

// writeLines writes JSON values, one a line.
func writeLines(t *testing.T, path string, values []any) {
	t.Helper()
	var buf bytes.Buffer
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// steps returns the first n steps of row i of q as [n][D] values.
func steps(q datasets.Seq, i, n int) [][]float32 {
	row := q.Row(i)
	out := make([][]float32, n)
	for k := range out {
		out[k] = append([]float32(nil), row[k*q.D:(k+1)*q.D]...)
	}
	return out
}

// synthSample is sample i of a raw (unstandardized) synthetic split as a
// JSON line.
func synthSample(s *datasets.Split, i int) map[string]any {
	return map[string]any{
		"id": s.IDs[i], "text": s.RawText[i], "label": s.Labels[i],
		"audio": steps(s.Audio, i, s.AudioLen[i]), "vision": steps(s.Vision, i, s.VisionLen[i]),
	}
}

// pickSynth returns n test samples spread over the split whose text fits
// synth.SeqLen tokens, so training's tokenization cut none of them.
func pickSynth(t *testing.T, test *datasets.Split, n int) []int {
	t.Helper()
	var idx []int
	for i := 0; i < test.Len() && len(idx) < n; i += 97 {
		if test.TextLen[i] < synth.SeqLen {
			idx = append(idx, i)
		}
	}
	if len(idx) < n {
		t.Fatalf("only %d usable test samples", len(idx))
	}
	return idx
}

// synthRun is TestPredictSynthetic's setup: the tiny preset trained on
// the synthetic corpus, the corpus, and `predict` run on three of its test
// samples and two sentences. (That the predictions match training's
// batches is train's TestPredictMatchesTrainingBatches.)
type synthRun struct {
	ckpt, dir, in  string
	cfg            graph.Config
	raw            *datasets.Dataset
	picked         []int
	stdout, stderr string
	lines          []outLine
}

func newSynthRun(t *testing.T) *synthRun {
	t.Helper()
	ckpt := trainTiny(t)
	cfg, _, err := graph.ReadCheckpointMeta(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	r := &synthRun{ckpt: ckpt, cfg: cfg, dir: t.TempDir()}
	if r.raw, err = synth.Generate(synth.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	// The test split tokenized with the checkpoint's tokenizer, to pick
	// samples whose text training did not cut.
	p, err := train.LoadPredictor(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ds, err := synth.Generate(synth.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Prepare(ds.Test); err != nil {
		t.Fatal(err)
	}
	r.picked = pickSynth(t, ds.Test, 3)

	// Input: the three synthetic samples with labels, then two sentences
	// without, one with a word the vocabulary spells in pieces.
	r.in = filepath.Join(r.dir, "in.jsonl")
	var values []any
	for _, i := range r.picked {
		values = append(values, synthSample(r.raw.Test, i))
	}
	values = append(values,
		map[string]any{"id": "u1", "text": "I really loved it!", "audio": [][]float32{{1, 2, 3, 4, 5}, {0, 0, 0, 0, 1}},
			"vision": [][]float32{make([]float32, 20)}},
		map[string]any{"id": "u2", "text": "the plot was not very good, zyxwv", "audio": [][]float32{{-1, 0, 0.5, 2, 3}},
			"vision": [][]float32{make([]float32, 20), make([]float32, 20), make([]float32, 20)}})
	writeLines(t, r.in, values)

	if r.stdout, r.stderr, err = runPredict("--checkpoint", ckpt, "--jsonl", r.in); err != nil {
		t.Fatalf("%v\n%s", err, r.stderr)
	}
	r.lines = parseOutput(t, r.stdout)
	return r
}

func TestPredictSynthetic(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the tiny preset on the synthetic corpus; run without -short")
	}
	r := newSynthRun(t)
	t.Run("lines", r.testLines)
	t.Run("deterministic", r.testDeterministic)
	t.Run("mmsa pickle", r.testPickle)
	t.Run("bad input", r.testBadInput)
}

func (r *synthRun) testLines(t *testing.T) {
	raw, picked, lines := r.raw, r.picked, r.lines
	wantIDs := []string{raw.Test.IDs[picked[0]], raw.Test.IDs[picked[1]], raw.Test.IDs[picked[2]], "u1", "u2"}
	if len(lines) != len(wantIDs) {
		t.Fatalf("%d output lines for %d inputs:\n%s", len(lines), len(wantIDs), r.stdout)
	}
	for k, l := range lines {
		if l.ID != wantIDs[k] {
			t.Errorf("line %d: id %q, want %q", k+1, l.ID, wantIDs[k])
		}
		if math.IsNaN(l.Pred) || math.IsInf(l.Pred, 0) {
			t.Errorf("line %d: pred %v", k+1, l.Pred)
		}
		if k < 3 {
			want := float64(raw.Test.Labels[picked[k]])
			if l.Label == nil || math.Abs(*l.Label-want) > 1e-6 {
				t.Errorf("line %d: label %v, want %v", k+1, l.Label, want)
			}
		} else if l.Label != nil {
			t.Errorf("line %d: label %v for an unlabelled input", k+1, *l.Label)
		}
		if len(l.GapAlpha) != r.cfg.Layers {
			t.Fatalf("line %d: %d gap_alpha rows for %d CMDIE layers", k+1, len(l.GapAlpha), r.cfg.Layers)
		}
		for layer, a := range l.GapAlpha {
			if sum := a[0] + a[1] + a[2]; math.Abs(sum-1) > 1e-5 || a[0] <= 0 || a[1] <= 0 || a[2] <= 0 {
				t.Errorf("line %d, layer %d: alpha %v (sum %v) is not a softmax", k+1, layer, a, sum)
			}
		}
	}
	if !strings.Contains(r.stderr, "3 of 5 samples labelled: MAE") {
		t.Errorf("stderr lacks the metrics of the 3 labelled samples:\n%s", r.stderr)
	}
}

func (r *synthRun) testDeterministic(t *testing.T) {
	out := filepath.Join(r.dir, "out.jsonl")
	if _, e, err := runPredict("--checkpoint", r.ckpt, "--jsonl", r.in, "--out", out); err != nil {
		t.Fatalf("%v\n%s", err, e)
	}
	again, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != r.stdout {
		t.Errorf("second run (--out) differs:\n%s\nfirst:\n%s", again, r.stdout)
	}
}

func (r *synthRun) testPickle(t *testing.T) {
	pkl := filepath.Join(predictFixtures, "mmsa_tiny_aligned_50.pkl")
	if _, err := os.Stat(pkl); err != nil {
		t.Skipf("shared fixtures not found at %s: %v", predictFixtures, err)
	}
	want, err := mmsa.Read(pkl, mmsa.Options{DropTextFeats: true})
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runPredict("--checkpoint", r.ckpt, "--data", pkl, "--split", "all")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	got := parseOutput(t, out)
	var ids []string
	var labels []float32
	for _, s := range []*datasets.Split{want.Train, want.Valid, want.Test} {
		ids, labels = append(ids, s.IDs...), append(labels, s.Labels...)
	}
	if len(got) != len(ids) {
		t.Fatalf("%d lines for %d samples", len(got), len(ids))
	}
	var mae float64
	for k, l := range got {
		if l.ID != ids[k] || l.Label == nil || math.Abs(*l.Label-float64(labels[k])) > 1e-6 {
			t.Errorf("line %d: id %q label %v, want %q %v", k+1, l.ID, l.Label, ids[k], labels[k])
			continue
		}
		mae += math.Abs(l.Pred-*l.Label) / float64(len(got))
	}
	m := regexp.MustCompile(`8 of 8 samples labelled: MAE ([0-9.]+)`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("stderr lacks the metrics:\n%s", errOut)
	}
	if printed, _ := strconv.ParseFloat(m[1], 64); math.Abs(printed-mae) > 1e-4 {
		t.Errorf("printed MAE %v, mean |pred − label| of the output %v", printed, mae)
	}
	if _, e, err := runPredict("--checkpoint", r.ckpt, "--data", pkl); err != nil || e == "" {
		t.Errorf("default split: %v\n%s", err, e)
	}
}

// badCase is a `predict` command line that must fail with an error naming
// each of want.
type badCase struct {
	name string
	args []string
	want []string
}

// badInputs writes the inputs of testBadInput and returns its cases.
func (r *synthRun) badInputs(t *testing.T) []badCase {
	raw, picked, dir, ckpt, in := r.raw, r.picked, r.dir, r.ckpt, r.in
	good := synthSample(raw.Test, picked[0])
	changed := func(change func(map[string]any)) map[string]any {
		s := synthSample(raw.Test, picked[1])
		change(s)
		return s
	}
	wrongAudio := changed(func(s map[string]any) { s["audio"] = [][]float32{{1, 2, 3, 4, 5}, {1, 2, 3, 4}} })
	wrongVision := changed(func(s map[string]any) { s["vision"] = [][]float32{{1, 2}} })
	noAudio := changed(func(s map[string]any) { delete(s, "audio") })
	noID := changed(func(s map[string]any) { delete(s, "id") })
	noText := changed(func(s map[string]any) { delete(s, "text") })
	nullAudio := changed(func(s map[string]any) { s["audio"] = [][]any{{1, 2, 3, 4, 5}, {1, 2, nil, 4, 5}} })
	label9 := changed(func(s map[string]any) { s["label"] = 9 })
	file := func(name string, lines ...any) string {
		p := filepath.Join(dir, name)
		writeLines(t, p, lines)
		return p
	}
	malformed := filepath.Join(dir, "malformed.jsonl")
	goodLine, _ := json.Marshal(good)
	if err := os.WriteFile(malformed, append(append(goodLine, '\n', '\n'), `{"id": "x", "audio": [[1,2`...), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.jsonl")
	if err := os.WriteFile(empty, []byte("\n \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []badCase{
		{"missing checkpoint", []string{"--checkpoint", filepath.Join(dir, "none.safetensors"), "--jsonl", in},
			[]string{"none.safetensors"}},
		{"not a checkpoint", []string{"--checkpoint", in, "--jsonl", in}, []string{"in.jsonl"}},
		{"wrong audio dim", []string{"--checkpoint", ckpt, "--jsonl", file("audio.jsonl", good, wrongAudio)},
			[]string{"audio.jsonl", "line 2", "audio[1]", "4 features", "audio_dim"}},
		{"wrong vision dim", []string{"--checkpoint", ckpt, "--jsonl", file("vision.jsonl", wrongVision)},
			[]string{"line 1", "vision[0]", "vision_dim"}},
		{"no audio", []string{"--checkpoint", ckpt, "--jsonl", file("noaudio.jsonl", good, good, noAudio)},
			[]string{"line 3", "audio"}},
		{"no id", []string{"--checkpoint", ckpt, "--jsonl", file("noid.jsonl", noID)}, []string{"line 1", "id"}},
		{"no text", []string{"--checkpoint", ckpt, "--jsonl", file("notext.jsonl", noText)}, []string{"line 1", "text"}},
		{"null feature", []string{"--checkpoint", ckpt, "--jsonl", file("null.jsonl", good, nullAudio)},
			[]string{"line 2", "audio[1][2]: null"}},
		{"label out of range", []string{"--checkpoint", ckpt, "--jsonl", file("label.jsonl", label9)},
			[]string{"line 1", "label: 9 outside [-3, 3]"}},
		{"audio not numbers", []string{"--checkpoint", ckpt, "--jsonl", file("str.jsonl", map[string]any{"id": "s", "audio": "loud"})},
			[]string{"line 1", "audio"}},
		{"malformed JSON", []string{"--checkpoint", ckpt, "--jsonl", malformed}, []string{"line 3", "malformed JSON"}},
		{"not an object", []string{"--checkpoint", ckpt, "--jsonl", file("array.jsonl", []int{1})}, []string{"line 1", "object"}},
		{"no samples", []string{"--checkpoint", ckpt, "--jsonl", empty}, []string{"no samples"}},
		{"missing jsonl", []string{"--checkpoint", ckpt, "--jsonl", filepath.Join(dir, "none.jsonl")}, []string{"none.jsonl"}},
		{"no checkpoint flag", []string{"--jsonl", in}, []string{"--checkpoint"}},
		{"no input", []string{"--checkpoint", ckpt}, []string{"--data", "--jsonl"}},
		{"both inputs", []string{"--checkpoint", ckpt, "--jsonl", in, "--data", in}, []string{"--data", "--jsonl"}},
		{"split without data", []string{"--checkpoint", ckpt, "--jsonl", in, "--split", "all"}, []string{"--split"}},
		{"bad split", []string{"--checkpoint", ckpt, "--data", in, "--split", "dev"}, []string{"dev"}},
		{"extra argument", []string{"--checkpoint", ckpt, "--jsonl", in, "more"}, []string{"more"}},
	}
}

func (r *synthRun) testBadInput(t *testing.T) {
	for _, c := range r.badInputs(t) {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(r.dir, "never.jsonl")
			stdout, _, err := runPredict(append(c.args, "--out", out)...)
			if err == nil {
				t.Fatalf("accepted; output:\n%s", stdout)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not name %q", msg, w)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("--out written after an error (%v)", err)
			}
		})
	}
}

// mmsaModel is a model of TestPredictMMSAModels: its training flags and
// how its JSON lines give the text.
type mmsaModel struct {
	name      string
	flags     []string
	textKey   string
	text      func(i int) any
	wrongText any    // a text value of the wrong size
	wrongWant string // what its error names
	noText    string // what the error without the text key names
}

// TestPredictMMSAModels predicts with models trained on the MMSA fixture:
// token ids from text_bert (no tokenizer in the checkpoint) and precomputed
// text features. The test split given as JSON lines (raw audio and vision,
// with text_ids or text_feats) must predict as the pickle does.
func TestPredictMMSAModels(t *testing.T) {
	if testing.Short() {
		t.Skip("trains tiny models on the MMSA fixture; run without -short")
	}
	pkl := filepath.Join(predictFixtures, "mmsa_tiny_aligned_50.pkl")
	if _, err := os.Stat(pkl); err != nil {
		t.Skipf("shared fixtures not found at %s: %v", predictFixtures, err)
	}
	ds, err := mmsa.Read(pkl, mmsa.Options{})
	if err != nil {
		t.Fatal(err)
	}
	test := ds.Test
	for _, c := range []mmsaModel{
		{
			name: "text_bert ids", textKey: "text_ids",
			text:      func(i int) any { return test.TextIDs[i][:test.TextLen[i]] },
			wrongText: []int32{101, 40000, 102}, wrongWant: "vocabulary",
			noText: "text_ids",
		},
		{
			name: "text features", flags: []string{"--text-features"}, textKey: "text_feats",
			text:      func(i int) any { return steps(test.TextFeats, i, test.TextLen[i]) },
			wrongText: [][]float32{{1, 2, 3}}, wrongWant: "text_dim",
			noText: "text_feats",
		},
	} {
		t.Run(c.name, func(t *testing.T) { testMMSAModel(t, pkl, test, c) })
	}
}

func testMMSAModel(t *testing.T, pkl string, test *datasets.Split, c mmsaModel) {
	ckpt := trainTiny(t, append([]string{"--data", pkl}, c.flags...)...)
	want, e, err := runPredict("--checkpoint", ckpt, "--data", pkl)
	if err != nil {
		t.Fatalf("%v\n%s", err, e)
	}
	dir := t.TempDir()
	var values []any
	for i := range test.Len() {
		values = append(values, map[string]any{
			"id": test.IDs[i], "text": test.RawText[i], c.textKey: c.text(i), "label": test.Labels[i],
			"audio": steps(test.Audio, i, test.AudioLen[i]), "vision": steps(test.Vision, i, test.VisionLen[i]),
		})
	}
	in := filepath.Join(dir, "test.jsonl")
	writeLines(t, in, values)
	got, e, err := runPredict("--checkpoint", ckpt, "--jsonl", in)
	if err != nil {
		t.Fatalf("%v\n%s", err, e)
	}
	g, w := parseOutput(t, got), parseOutput(t, want)
	if len(g) != len(w) || len(g) != test.Len() {
		t.Fatalf("%d lines from JSON lines, %d from the pickle, %d samples", len(g), len(w), test.Len())
	}
	for k := range g {
		if g[k].ID != w[k].ID || math.Abs(g[k].Pred-w[k].Pred) > predTol {
			t.Errorf("line %d: %s %v from JSON lines, %s %v from the pickle", k+1, g[k].ID, g[k].Pred, w[k].ID, w[k].Pred)
		}
	}

	bad := values[0].(map[string]any)
	bad[c.textKey] = c.wrongText
	writeLines(t, in, []any{values[1], bad})
	if _, _, err := runPredict("--checkpoint", ckpt, "--jsonl", in); err == nil ||
		!strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), c.wrongWant) {
		t.Errorf("wrong %s: error %v, want one naming line 2 and %q", c.textKey, err, c.wrongWant)
	}
	delete(bad, c.textKey)
	writeLines(t, in, []any{bad})
	if _, _, err := runPredict("--checkpoint", ckpt, "--jsonl", in); err == nil ||
		!strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), c.noText) {
		t.Errorf("no %s: error %v, want one naming line 1 and %q", c.textKey, err, c.noText)
	}
}

// TestPredictOutRefused gives --out as a folder, as a link to the
// checkpoint and as a hard link to the input: each is refused before the
// checkpoint is even read (these inputs are not valid), and no file
// changes.
func TestPredictOutRefused(t *testing.T) {
	dir := t.TempDir()
	ckpt, in := filepath.Join(dir, "model.safetensors"), filepath.Join(dir, "in.jsonl")
	for _, p := range []string{ckpt, in} {
		if err := os.WriteFile(p, []byte("precious "+p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link, hard := filepath.Join(dir, "link.jsonl"), filepath.Join(dir, "hard.jsonl")
	if err := os.Symlink(ckpt, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ out, want string }{
		{dir, "is a directory"},
		{link, "is the input " + ckpt},
		{hard, "is the input " + in},
		{filepath.Join(dir, "missing", "out.jsonl"), "no such file or directory"},
	} {
		_, _, err := runPredict("--checkpoint", ckpt, "--jsonl", in, "--out", c.out)
		if err == nil || !strings.Contains(err.Error(), "--out "+c.out) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--out %s: error %v, want one naming --out and %q", c.out, err, c.want)
		}
	}
	for _, p := range []string{ckpt, in} {
		if b, err := os.ReadFile(p); err != nil || string(b) != "precious "+p {
			t.Errorf("%s changed: %q, %v", p, b, err)
		}
	}
}

// TestPredictLongInputs predicts samples of very different lengths
// together and one at a time (the same numbers), and refuses one longer
// than --max-steps, naming it.
func TestPredictLongInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the tiny preset on the synthetic corpus; run without -short")
	}
	ckpt := trainTiny(t)
	dir := t.TempDir()
	sample := func(id string, steps int) map[string]any {
		audio := make([][]float32, steps)
		for k := range audio {
			audio[k] = []float32{float32(k % 7), 1, -1, 0.5, float32(k%3) - 1}
		}
		return map[string]any{"id": id, "text": "it was fine", "audio": audio, "vision": [][]float32{make([]float32, 20)}}
	}
	var values []any
	for i, steps := range []int{2, 700, 5, 60} {
		values = append(values, sample(fmt.Sprintf("s%d", i), steps))
	}
	all := filepath.Join(dir, "all.jsonl")
	writeLines(t, all, values)
	stdout, stderr, err := runPredict("--checkpoint", ckpt, "--jsonl", all)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	together := parseOutput(t, stdout)
	if len(together) != len(values) {
		t.Fatalf("%d lines for %d samples", len(together), len(values))
	}
	for i, v := range values {
		one := filepath.Join(dir, fmt.Sprintf("one%d.jsonl", i))
		writeLines(t, one, []any{v})
		stdout, stderr, err := runPredict("--checkpoint", ckpt, "--jsonl", one)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		alone := parseOutput(t, stdout)
		if together[i].ID != alone[0].ID || math.Abs(together[i].Pred-alone[0].Pred) > predTol {
			t.Errorf("sample %d: %s %v together, %s %v alone", i, together[i].ID, together[i].Pred, alone[0].ID, alone[0].Pred)
		}
	}

	_, _, err = runPredict("--checkpoint", ckpt, "--jsonl", all, "--max-steps", "600")
	want := all + `: sample "s1" (row 1): audio has 700 steps, more than --max-steps 600`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}
