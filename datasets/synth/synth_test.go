package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fdcmdie/fdcmdie/datasets"
)

// mustGenerate generates cfg with its truth or stops the test.
func mustGenerate(t *testing.T, cfg Config) (*datasets.Dataset, *Truth) {
	t.Helper()
	ds, tr, err := GenerateWithTruth(cfg)
	if err != nil {
		t.Fatalf("GenerateWithTruth(seed %d): %v", cfg.Seed, err)
	}
	return ds, tr
}

// withSeed is DefaultConfig with another seed.
func withSeed(seed int64) Config {
	c := DefaultConfig()
	c.Seed = seed
	return c
}

// splits lists the splits of ds with their truth.
func splits(ds *datasets.Dataset, tr *Truth) []struct {
	s  *datasets.Split
	tr *SplitTruth
} {
	return []struct {
		s  *datasets.Split
		tr *SplitTruth
	}{{ds.Train, tr.Train}, {ds.Valid, tr.Valid}, {ds.Test, tr.Test}}
}

// hashDataset hashes every field of every split, and the truth.
func hashDataset(t *testing.T, ds *datasets.Dataset, tr *Truth) [32]byte {
	t.Helper()
	h := sha256.New()
	w := func(v any) {
		if err := binary.Write(h, binary.LittleEndian, v); err != nil {
			t.Fatalf("hash: %v", err)
		}
	}
	str := func(s string) { w(int64(len(s))); h.Write([]byte(s)) }
	str(ds.Name)
	for _, p := range splits(ds, tr) {
		s := p.s
		str(s.Name)
		for i := range s.Labels {
			str(s.IDs[i])
			str(s.RawText[i])
			w(int64(s.AudioLen[i]))
			w(int64(s.VisionLen[i]))
			w(uint8(p.tr.Kind[i]))
		}
		w(s.Labels)
		w(p.tr.Latent)
		for _, q := range []datasets.Seq{s.Audio, s.Vision, s.TextFeats} {
			w([]int64{int64(q.N), int64(q.T), int64(q.D)})
			w(q.Data)
		}
		w(int64(len(s.TextIDs)))
		w(int64(len(s.TextLen)))
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func TestDeterministic(t *testing.T) {
	hash := func(seed int64) [32]byte {
		ds, tr := mustGenerate(t, withSeed(seed))
		return hashDataset(t, ds, tr)
	}
	a, b, c := hash(1111), hash(1111), hash(1112)
	if a != b {
		t.Errorf("seed 1111 twice: hashes %x and %x differ", a, b)
	}
	if a == c {
		t.Errorf("seeds 1111 and 1112: same hash %x", a)
	}
}

func TestSplitSizes(t *testing.T) {
	ds, _ := mustGenerate(t, DefaultConfig())
	if ds.Name != "synthetic" {
		t.Errorf("Name = %q, want synthetic", ds.Name)
	}
	for _, tc := range []struct {
		s    *datasets.Split
		name string
		n    int
	}{{ds.Train, "train", 1284}, {ds.Valid, "valid", 229}, {ds.Test, "test", 686}} {
		s := tc.s
		if s.Name != tc.name || s.Len() != tc.n {
			t.Errorf("split %q: %d samples, want %q with %d", s.Name, s.Len(), tc.name, tc.n)
		}
		for _, l := range []int{len(s.IDs), len(s.RawText), len(s.AudioLen), len(s.VisionLen)} {
			if l != tc.n {
				t.Errorf("%s: a per-sample slice has %d entries, want %d", tc.name, l, tc.n)
			}
		}
		for _, q := range []struct {
			seq datasets.Seq
			d   int
		}{{s.Audio, 5}, {s.Vision, 20}} {
			if q.seq.N != tc.n || q.seq.T != 50 || q.seq.D != q.d || len(q.seq.Data) != tc.n*50*q.d {
				t.Errorf("%s: seq %d×%d×%d with %d values, want %d×50×%d", tc.name, q.seq.N, q.seq.T, q.seq.D, len(q.seq.Data), tc.n, q.d)
			}
		}
		if s.TextIDs != nil || s.TextLen != nil || s.TextFeats.Data != nil {
			t.Errorf("%s: text ids/features filled, want them left to the tokenizer", tc.name)
		}
	}
}

var idPattern = regexp.MustCompile(`^([A-Za-z0-9_-]{11})\$_\$([1-9][0-9]*)$`)

func TestSpeakers(t *testing.T) {
	cfg := DefaultConfig()
	ds, _ := mustGenerate(t, cfg)
	owner := map[string]string{} // speaker → split
	for _, tc := range []struct {
		s        *datasets.Split
		speakers int
	}{{ds.Train, cfg.SpeakersTrain}, {ds.Valid, cfg.SpeakersValid}, {ds.Test, cfg.SpeakersTest}} {
		clips := map[string]int{}
		for i, id := range tc.s.IDs {
			m := idPattern.FindStringSubmatch(id)
			if m == nil {
				t.Fatalf("%s[%d]: id %q does not look like speaker$_$clip", tc.s.Name, i, id)
			}
			spk := m[1]
			if o, ok := owner[spk]; ok && o != tc.s.Name {
				t.Errorf("speaker %s in both %s and %s", spk, o, tc.s.Name)
			}
			owner[spk] = tc.s.Name
			clips[spk]++
			if want := strconv.Itoa(clips[spk]); m[2] != want {
				t.Errorf("%s[%d]: id %q, want clip %s (clips numbered 1, 2, ... per speaker)", tc.s.Name, i, id, want)
			}
		}
		if len(clips) != tc.speakers {
			t.Errorf("%s: %d speakers, want %d", tc.s.Name, len(clips), tc.speakers)
		}
	}
	if len(owner) != 93 {
		t.Errorf("%d speakers in all, want 93", len(owner))
	}
}

func TestLabelsOnGrid(t *testing.T) {
	ds, tr := mustGenerate(t, DefaultConfig())
	for _, p := range splits(ds, tr) {
		for i, y := range p.s.Labels {
			k := float64(y) * 5
			if math.Abs(k-math.Round(k)) > 1e-5 || y < -3 || y > 3 {
				t.Errorf("%s[%d]: label %v off the 0.2 grid in [-3, 3]", p.s.Name, i, y)
			}
			if l := p.tr.Latent[i]; l < -3 || l > 3 {
				t.Errorf("%s[%d]: latent %v outside [-3, 3]", p.s.Name, i, l)
			}
		}
	}
}

func TestLengthsAndPadding(t *testing.T) {
	ds, tr := mustGenerate(t, DefaultConfig())
	for _, p := range splits(ds, tr) {
		s := p.s
		for i := range s.Labels {
			n := len(strings.Fields(s.RawText[i]))
			if s.AudioLen[i] != n || s.VisionLen[i] != n || n < 1 || n > 50 {
				t.Fatalf("%s[%d]: %d words, audio length %d, vision length %d; want equal, in [1, 50]",
					s.Name, i, n, s.AudioLen[i], s.VisionLen[i])
			}
			for _, q := range []datasets.Seq{s.Audio, s.Vision} {
				row := q.Row(i)
				for k, v := range row {
					step := k / q.D
					if step >= n && v != 0 {
						t.Fatalf("%s[%d]: value %v at padded step %d (length %d)", s.Name, i, v, step, n)
					}
					if step < n && v == 0 {
						t.Fatalf("%s[%d]: exact zero at real step %d (length %d)", s.Name, i, step, n)
					}
				}
			}
		}
	}
}

func TestKindShares(t *testing.T) {
	cfg := DefaultConfig()
	counts := map[Kind]float64{}
	total := 0.0
	for seed := int64(1); seed <= 4; seed++ {
		ds, tr := mustGenerate(t, withSeed(seed))
		for _, p := range splits(ds, tr) {
			for _, k := range p.tr.Kind {
				counts[k]++
				total++
			}
		}
	}
	for _, tc := range []struct {
		kind Kind
		want float64
	}{{NeutralWords, cfg.NeutralFrac}, {Sarcastic, cfg.SarcasmFrac}, {Verbal, 1 - cfg.NeutralFrac - cfg.SarcasmFrac}} {
		got := counts[tc.kind] / total
		tol := 4 * math.Sqrt(tc.want*(1-tc.want)/total) // 4 binomial standard errors
		if math.Abs(got-tc.want) > tol {
			t.Errorf("share of %v = %.4f, want %.2f ± %.4f", tc.kind, got, tc.want, tol)
		}
	}
}

func TestLabelNoiseLevel(t *testing.T) {
	// Away from the clip at ±3, label - latent is N(0, σ²) plus the
	// rounding error, uniform on ±0.1: variance σ² + 0.2²/12.
	const sigma = 0.3
	want := math.Sqrt(sigma*sigma + 0.04/12)
	var sum, sum2, n float64
	for seed := int64(1); seed <= 4; seed++ {
		ds, tr := mustGenerate(t, withSeed(seed))
		for _, p := range splits(ds, tr) {
			for i, y := range p.s.Labels {
				l := float64(p.tr.Latent[i])
				if math.Abs(l) > 2.2 {
					continue
				}
				d := float64(y) - l
				sum += d
				sum2 += d * d
				n++
			}
		}
	}
	mean := sum / n
	sd := math.Sqrt(sum2/n - mean*mean)
	if math.Abs(mean) > 0.01 || math.Abs(sd-want) > 0.01 {
		t.Errorf("label - latent over %.0f samples: mean %.4f, sd %.4f; want 0 ± 0.01, %.4f ± 0.01", n, mean, sd, want)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no train speakers", func(c *Config) { c.SpeakersTrain = 0 }, "train"},
		{"fewer test samples than speakers", func(c *Config) { c.NTest = 10 }, "test"},
		{"negative valid size", func(c *Config) { c.NValid = -1 }, "valid"},
		{"neutral share above 1", func(c *Config) { c.NeutralFrac = 1.5 }, "NeutralFrac"},
		{"shares sum above 1", func(c *Config) { c.NeutralFrac, c.SarcasmFrac = 0.6, 0.5 }, "SarcasmFrac"},
		{"negative sarcasm", func(c *Config) { c.SarcasmFrac = -0.1 }, "SarcasmFrac"},
		{"NaN noise", func(c *Config) { c.LabelNoise = math.NaN() }, "LabelNoise"},
		{"negative noise", func(c *Config) { c.LabelNoise = -1 }, "LabelNoise"},
		{"infinite noise", func(c *Config) { c.LabelNoise = math.Inf(1) }, "LabelNoise"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			ds, err := Generate(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) || ds != nil {
				t.Errorf("Generate = %v, %v; want nil and an error naming %q", ds, err, tc.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Verbal: "verbal", NeutralWords: "neutral-words", Sarcastic: "sarcastic", Kind(9): "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}

func TestGenerateIsFast(t *testing.T) {
	best := time.Hour
	for range 3 {
		start := time.Now()
		if _, err := Generate(DefaultConfig()); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	if best > 500*time.Millisecond {
		t.Errorf("Generate(DefaultConfig()) took %v at best of 3, want < 0.5 s", best)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(DefaultConfig()); err != nil {
			b.Fatal(err)
		}
	}
}
