package train

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers"
)

// predTol bounds the difference between two float32 forward passes of the
// same samples in batches of different shapes (padding rows and steps are
// masked, so only summation order differs).
const predTol = 1e-5

// idsFixture is a token-id model, untrained (its outputs are arbitrary but
// fixed), saved with the metadata datasets.Prepare gives a small synthetic
// corpus, and loaded back as a Predictor.
type idsFixture struct {
	path      string
	cfg       graph.Config
	raw, prep *datasets.Dataset // the corpus as generated, and as training prepares it
	lt        int
	p         *Predictor
}

func newIDsFixture(t *testing.T) *idsFixture {
	t.Helper()
	gen := synth.DefaultConfig()
	gen.NTrain, gen.NValid, gen.NTest = 60, 10, 40
	gen.SpeakersTrain, gen.SpeakersValid, gen.SpeakersTest = 6, 2, 4
	raw, err := synth.Generate(gen)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := synth.Generate(gen)
	if err != nil {
		t.Fatal(err)
	}
	_, tokJSON, err := datasets.SyntheticTokenizer(ds)
	if err != nil {
		t.Fatal(err)
	}
	prep, err := datasets.Prepare(ds, datasets.PrepareOptions{Source: "synthetic", TokenizerJSON: tokJSON, MaxLen: synth.SeqLen})
	if err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig()
	cfg.AudioDim, cfg.VisionDim, cfg.TextFeats = synth.AudioDim, synth.VisionDim, false
	cfg.NeoBERT = layers.NeoBERTConfig{HiddenSize: 16, NumHiddenLayers: 1, NumAttentionHeads: 2, IntermediateSize: 32,
		VocabSize: prep.Vocab, NormEps: 1e-5, MaxLength: synth.SeqLen}
	m, err := NewModel(cfg, graph.Shape{B: 4, Lt: prep.Lt, La: synth.SeqLen, Lv: synth.SeqLen}, ModelOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	fx := &idsFixture{path: filepath.Join(t.TempDir(), "ids.safetensors"), cfg: cfg, raw: raw, prep: &prep.Dataset, lt: prep.Lt}
	if err := m.Save(fx.path, prep.Meta); err != nil {
		t.Fatal(err)
	}
	if fx.p, err = LoadPredictor(fx.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fx.p.Close)
	return fx
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

// rawSample is sample i of a raw split as a Sample.
func rawSample(s *datasets.Split, i int) Sample {
	return Sample{ID: s.IDs[i], Text: s.RawText[i], Audio: steps(s.Audio, i, s.AudioLen[i]), Vision: steps(s.Vision, i, s.VisionLen[i])}
}

// TestPredictMatchesTrainingBatches predicts raw test samples and compares
// them with the prepared test split through Model at training's batch
// shape, with PredictSplit on the whole prepared split, and with each
// sample predicted alone.
func TestPredictMatchesTrainingBatches(t *testing.T) {
	fx := newIDsFixture(t)
	test := fx.prep.Test
	var picked []int
	var samples []Sample
	for i := 0; i < test.Len() && len(picked) < 12; i++ {
		if test.TextLen[i] < synth.SeqLen { // training's tokenization cut none of them
			picked, samples = append(picked, i), append(samples, rawSample(fx.raw.Test, i))
		}
	}
	ctx := context.Background()
	got, err := fx.p.Predict(ctx, samples)
	if err != nil {
		t.Fatal(err)
	}
	b, err := datasets.NewBatcher(test, datasets.BatchOptions{Size: 16, Lt: fx.lt})
	if err != nil {
		t.Fatal(err)
	}
	bo := b.Options()
	m, err := NewModel(fx.cfg, graph.Shape{B: bo.Size, Lt: bo.Lt, La: bo.La, Lv: bo.Lv}, ModelOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Load(fx.path); err != nil {
		t.Fatal(err)
	}
	batch := b.NewBatch()
	if err := b.Fill(batch, picked); err != nil {
		t.Fatal(err)
	}
	want, err := m.Predict(batch)
	if err != nil {
		t.Fatal(err)
	}
	split, err := fx.p.PredictSplit(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	for k, i := range picked {
		g := got[k]
		if g.ID != test.IDs[i] || g.Polarity != PolarityOf(g.Score) || len(g.Alpha) != fx.cfg.Layers {
			t.Fatalf("sample %d: id %q, polarity %v of score %v, %d alpha rows", k, g.ID, g.Polarity, g.Score, len(g.Alpha))
		}
		closeTo(t, g, want.Pred[k], want.Alpha, k, "training batches")
		closeTo(t, g, split[i].Score, alphaRows(split[i].Alpha), 0, "the prepared split")
		alone, err := fx.p.Predict(ctx, samples[k:k+1])
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, g, alone[0].Score, alphaRows(alone[0].Alpha), 0, "alone")
	}
}

// closeTo compares a prediction with a score and the GAP weights of row
// row of a batch's alpha outputs.
func closeTo(t *testing.T, p Prediction, score float32, alpha [][]float32, row int, what string) {
	t.Helper()
	if d := math.Abs(float64(p.Score - score)); d > predTol {
		t.Errorf("sample %s: score %v, %v through %s (|diff| %.2g > %g)", p.ID, p.Score, score, what, d, predTol)
	}
	for l, a := range alpha {
		for j := range 3 {
			if d := math.Abs(float64(p.Alpha[l][j] - a[row*3+j])); d > predTol {
				t.Errorf("sample %s, layer %d: alpha[%d] %v, %v through %s", p.ID, l, j, p.Alpha[l][j], a[row*3+j], what)
			}
		}
	}
}

// alphaRows lays one prediction's GAP weights out as a batch of one row.
func alphaRows(alpha [][3]float32) [][]float32 {
	var rows [][]float32
	for _, a := range alpha {
		rows = append(rows, a[:])
	}
	return rows
}

// TestPredictLengthGroups: samples are batched by length, each batch as
// long as its longest sample rounded up to a power of two, and batches of
// one shape share a group.
func TestPredictLengthGroups(t *testing.T) {
	const n = 2*predictBatch + 5
	s := &datasets.Split{Name: "test"}
	for i := 0; i < n; i++ {
		// Every third sample is long; the others are short.
		la := 3 + i%5
		if i%3 == 0 {
			la = 300 + i
		}
		s.AudioLen = append(s.AudioLen, la)
		s.VisionLen = append(s.VisionLen, 2)
		s.TextLen = append(s.TextLen, 4)
		s.Labels = append(s.Labels, 0)
	}
	p := &Predictor{cfg: graph.Config{TextFeats: true}}
	groups := p.lengthGroups(s)
	seen := map[int]bool{}
	var las []int
	for _, g := range groups {
		for _, idx := range g.batches {
			if len(idx) > predictBatch {
				t.Fatalf("batch of %d samples", len(idx))
			}
			for _, i := range idx {
				if seen[i] || s.AudioLen[i] > g.bo.La {
					t.Fatalf("sample %d (audio %d) twice or in a batch of %d steps", i, s.AudioLen[i], g.bo.La)
				}
				seen[i] = true
			}
		}
		las = append(las, g.bo.La)
	}
	if len(seen) != n {
		t.Fatalf("%d of %d samples predicted", len(seen), n)
	}
	// 46 short samples (≤ 7 steps) and 23 long ones: a batch of 32 short
	// ones in 8 steps, then a mixed batch and a long one in 512.
	if want := []int{8, 512}; !slices.Equal(las, want) {
		t.Errorf("audio lengths of the groups %v, want %v", las, want)
	}
}

func TestPolarityOf(t *testing.T) {
	for _, c := range []struct {
		score float32
		want  Polarity
	}{
		{-7, Negative}, {-0.51, Negative}, {-0.5, Neutral}, {0, Neutral}, {0.5, Neutral}, {0.500001, Positive}, {2.9, Positive},
	} {
		if got := PolarityOf(c.score); got != c.want {
			t.Errorf("PolarityOf(%v) = %v, want %v", c.score, got, c.want)
		}
	}
	if s := fmtPolarities(Negative, Neutral, Positive, Polarity(5)); s != "negative neutral positive Polarity(5)" {
		t.Errorf("names %q", s)
	}
}

func fmtPolarities(ps ...Polarity) string {
	var names []string
	for _, p := range ps {
		names = append(names, p.String())
	}
	return strings.Join(names, " ")
}

// featsCheckpoint saves an untrained text-features model (tinyConfig) with
// the given metadata and returns its path.
func featsCheckpoint(t *testing.T, meta map[string]string) string {
	t.Helper()
	m, err := NewModel(tinyConfig(), tinyShape, ModelOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	path := filepath.Join(t.TempDir(), "feats.safetensors")
	if err := m.Save(path, meta); err != nil {
		t.Fatal(err)
	}
	return path
}

// standardizerJSON is the standardizer of a random tinyConfig split.
func standardizerJSON(t *testing.T) string {
	t.Helper()
	st, err := datasets.FitStandardizer(randomSplit("train", 20, 1))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestLoadPredictorMetadata reads the accessors of a checkpoint and
// refuses checkpoints whose metadata cannot be used, naming the file and
// the field.
func TestLoadPredictorMetadata(t *testing.T) {
	st := standardizerJSON(t)
	p, err := LoadPredictor(featsCheckpoint(t, map[string]string{datasets.MetaStandardizer: st,
		datasets.MetaTokenizer: "not read: the model reads text features", datasets.MetaTextFeatures: "frozen NeoBERT from x"}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Config() != tinyConfig() || p.Tokenizer() != nil || p.TextFeatures() != "frozen NeoBERT from x" || len(p.Standardizer().AudioMean) != 3 {
		t.Errorf("config %+v, tokenizer %v, text features %q, standardizer %+v", p.Config(), p.Tokenizer(), p.TextFeatures(), p.Standardizer())
	}
	p.Close()
	if _, err := p.Predict(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "after Close") {
		t.Errorf("predict after Close: %v", err)
	}

	for _, c := range []struct {
		name string
		meta map[string]string
		want []string
	}{
		{"no standardizer", nil, []string{`no "standardizer" in __metadata__`}},
		{"null", map[string]string{datasets.MetaStandardizer: "null"}, []string{"__metadata__ standardizer is null"}},
		{"unknown field", map[string]string{datasets.MetaStandardizer: `{"mean": [1]}`}, []string{"__metadata__ standardizer", "mean"}},
		{"wrong widths", map[string]string{datasets.MetaStandardizer: `{"audio_mean": [0], "audio_std": [1]}`},
			[]string{"standardizer has 1 audio and 0 vision features, the config 3 and 2"}},
	} {
		path := featsCheckpoint(t, c.meta)
		_, err := LoadPredictor(path)
		for _, w := range append(c.want, path) {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want one naming %q", c.name, err, w)
			}
		}
	}
	missing := filepath.Join(t.TempDir(), "none.safetensors")
	if _, err := LoadPredictor(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: error %v", err)
	}

	fx := newIDsFixture(t)
	if fx.p.Tokenizer() == nil || fx.p.Path() != fx.path {
		t.Errorf("token-id model: tokenizer %v, path %q", fx.p.Tokenizer(), fx.p.Path())
	}
}

// TestCheckSample refuses samples the model cannot read, naming the field
// and the config entry, in Predict too (with the sample's position and ID).
func TestCheckSample(t *testing.T) {
	fx := newIDsFixture(t)
	good := rawSample(fx.raw.Test, 0)
	feats, err := LoadPredictor(featsCheckpoint(t, map[string]string{datasets.MetaStandardizer: standardizerJSON(t)}))
	if err != nil {
		t.Fatal(err)
	}
	featsGood := Sample{ID: "f", Audio: [][]float32{{1, 2, 3}}, Vision: [][]float32{{1, 2}}, TextFeats: [][]float32{make([]float32, 6)}}
	with := func(s Sample, change func(*Sample)) Sample { change(&s); return s }
	for _, c := range []struct {
		name string
		p    *Predictor
		s    Sample
		want string
	}{
		{"good", fx.p, good, ""},
		{"good features", feats, featsGood, ""},
		{"audio width", fx.p, with(good, func(s *Sample) { s.Audio = [][]float32{{1, 2, 3, 4, 5}, {1, 2, 3, 4}} }),
			"audio[1]: 4 features, the checkpoint's model takes 5 (audio_dim)"},
		{"vision width", fx.p, with(good, func(s *Sample) { s.Vision = [][]float32{{1, 2}} }), "vision[0]: 2 features, the checkpoint's model takes 20 (vision_dim)"},
		{"no audio", fx.p, with(good, func(s *Sample) { s.Audio = nil }), "audio: missing or empty"},
		{"short ids", fx.p, with(good, func(s *Sample) { s.TextIDs = []int32{2} }), "text_ids: 1 ids"},
		{"id outside vocabulary", fx.p, with(good, func(s *Sample) { s.TextIDs = []int32{2, 99999, 3} }),
			"text_ids: id 99999 at position 1 outside the checkpoint's vocabulary"},
		{"no text features", feats, with(featsGood, func(s *Sample) { s.TextFeats = nil }), "text_feats: missing: the checkpoint's model reads 6-d"},
		{"text feature width", feats, with(featsGood, func(s *Sample) { s.TextFeats = [][]float32{{1}} }), "text_feats[0]: 1 features, the checkpoint's model takes 6 (text_dim)"},
	} {
		err := c.p.CheckSample(c.s)
		_, perr := c.p.Predict(context.Background(), []Sample{featsGood, c.s})
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || err.Error() != c.want && !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
		if c.p == feats && (perr == nil || !strings.Contains(perr.Error(), `samples: sample 1 ("f"): `+c.want)) {
			t.Errorf("%s: Predict's error %v, want one naming the sample", c.name, perr)
		}
	}
}
