package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/fdcmdie/fdcmdie/datasets"
)

// Shapes of the generated data: MOSI aligned_50.
const (
	SeqLen    = 50 // steps of audio, vision (and text, after tokenization)
	AudioDim  = 5  // audio features per step
	VisionDim = 20 // vision features per step
)

// Label grid and range (MOSI's annotations are averages of 5 integer
// ratings, hence multiples of 0.2 in [-3, 3]).
const (
	gridPerUnit = 5   // labels are k/5 ...
	gridMaxK    = 15  // ... with |k| ≤ 15
	labelMax    = 3.0 // = gridMaxK / gridPerUnit
	neutralSD   = 1.5 // latent of neutral-word utterances ~ N(0, 1.5²), clipped to ±3
)

// Config sets up the generator. DefaultConfig gives the MOSI-like corpus.
type Config struct {
	Seed int64 // drives everything: same Config, byte-identical dataset

	NTrain, NValid, NTest int // samples per split (MOSI: 1284 / 229 / 686)

	// Speakers per split; the three sets are disjoint, as MOSI's standard
	// folds are split by video (93 in all).
	SpeakersTrain, SpeakersValid, SpeakersTest int

	NeutralFrac float64 // share of utterances neutral in words, sentiment only in voice and face
	SarcasmFrac float64 // share of sarcastic utterances: positive words, negative voice and face
	LabelNoise  float64 // σ of the Gaussian noise added to the latent score before rounding
}

// DefaultConfig is the corpus the CLI trains on when given no data file.
func DefaultConfig() Config {
	return Config{
		Seed:          1111,
		NTrain:        1284,
		NValid:        229,
		NTest:         686,
		SpeakersTrain: 54,
		SpeakersValid: 10,
		SpeakersTest:  29,
		NeutralFrac:   0.15,
		SarcasmFrac:   0.08,
		LabelNoise:    0.3,
	}
}

// validate reports the first field of c that cannot generate a corpus.
func (c Config) validate() error {
	sizes := []struct {
		name        string
		n, speakers int
	}{
		{"train", c.NTrain, c.SpeakersTrain},
		{"valid", c.NValid, c.SpeakersValid},
		{"test", c.NTest, c.SpeakersTest},
	}
	for _, s := range sizes {
		if s.speakers < 1 {
			return fmt.Errorf("synth: config: %s: %d speakers, need at least 1", s.name, s.speakers)
		}
		if s.n < s.speakers {
			return fmt.Errorf("synth: config: %s: %d samples for %d speakers, need at least one each", s.name, s.n, s.speakers)
		}
	}
	fracOK := func(f float64) bool { return f >= 0 && f <= 1 }
	if !fracOK(c.NeutralFrac) || !fracOK(c.SarcasmFrac) || c.NeutralFrac+c.SarcasmFrac > 1 {
		return fmt.Errorf("synth: config: NeutralFrac %g, SarcasmFrac %g: need each in [0, 1] and a sum ≤ 1", c.NeutralFrac, c.SarcasmFrac)
	}
	if !(c.LabelNoise >= 0) || math.IsInf(c.LabelNoise, 0) {
		return fmt.Errorf("synth: config: LabelNoise %g: need a finite value ≥ 0", c.LabelNoise)
	}
	return nil
}

// Kind says where an utterance's sentiment lives.
type Kind uint8

// The kinds of utterances.
const (
	// Verbal: the words carry the sentiment; voice and face agree with it.
	Verbal Kind = iota
	// NeutralWords: no sentiment word; only voice and face carry the sentiment.
	NeutralWords
	// Sarcastic: positive words, negative voice and face; the label has the
	// sign of the voice and face and the magnitude of the words.
	Sarcastic
)

// kindNames are the names of the kinds, by value.
var kindNames = [...]string{Verbal: "verbal", NeutralWords: "neutral-words", Sarcastic: "sarcastic"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// SplitTruth is what the generator knows about each sample of a split and
// a model can only estimate, aligned with the split's samples.
type SplitTruth struct {
	// Latent is the noise-free sentiment score in [-3, 3]: the label is
	// Latent plus N(0, LabelNoise²), rounded to the 0.2 grid and clipped.
	// Predicting Latent is the oracle behind the documented ceilings.
	Latent []float32
	Kind   []Kind // where the sentiment lives
}

// Truth holds the SplitTruth of each split.
type Truth struct {
	Train, Valid, Test *SplitTruth
}

// Generate builds the synthetic corpus of cfg.
func Generate(cfg Config) (*datasets.Dataset, error) {
	ds, _, err := GenerateWithTruth(cfg)
	return ds, err
}

// speaker is one speaker (one MOSI video) with a YouTube-like id and its
// audio and vision styles.
type speaker struct {
	id     string
	weight float64 // relative number of clips
	audio  speakerStyle
	vision speakerStyle
}

// Random streams: one for the corpus (units, speakers), one per split, so
// that a split's samples do not depend on the sizes of the other splits.
const (
	streamCorpus uint64 = 0x5eed_c0de_0000_0000 + iota
	streamTrain
	streamValid
	streamTest
)

// newRand is the PCG stream of seed (stable across Go versions).
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// idAlphabet is YouTube's video-id alphabet.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// GenerateWithTruth builds the synthetic corpus of cfg and, per split, the
// latent scores and kinds behind it.
func GenerateWithTruth(cfg Config) (*datasets.Dataset, *Truth, error) {
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	r := newRand(cfg.Seed, streamCorpus)
	audioUnits := newUnits(r, AudioDim)
	visionUnits := newUnits(r, VisionDim)
	seen := map[string]bool{}
	newSpeakers := func(n int) []speaker {
		sp := make([]speaker, n)
		for i := range sp {
			id := make([]byte, 11)
			for {
				for k := range id {
					id[k] = idAlphabet[r.IntN(len(idAlphabet))]
				}
				if !seen[string(id)] {
					break
				}
			}
			seen[string(id)] = true
			sp[i] = speaker{
				id:     string(id),
				weight: 0.3 + 1.4*r.Float64(),
				audio:  newStyle(r, AudioDim),
				vision: newStyle(r, VisionDim),
			}
		}
		return sp
	}
	trainSp := newSpeakers(cfg.SpeakersTrain)
	validSp := newSpeakers(cfg.SpeakersValid)
	testSp := newSpeakers(cfg.SpeakersTest)

	g := splitGen{cfg: cfg, audioUnits: audioUnits, visionUnits: visionUnits}
	ds := &datasets.Dataset{Name: "synthetic"}
	tr := &Truth{}
	ds.Train, tr.Train = g.split("train", cfg.NTrain, trainSp, newRand(cfg.Seed, streamTrain))
	ds.Valid, tr.Valid = g.split("valid", cfg.NValid, validSp, newRand(cfg.Seed, streamValid))
	ds.Test, tr.Test = g.split("test", cfg.NTest, testSp, newRand(cfg.Seed, streamTest))
	return ds, tr, nil
}

// splitGen holds what all splits share.
type splitGen struct {
	cfg         Config
	audioUnits  []channelUnits
	visionUnits []channelUnits
}

// clipCounts gives each speaker one clip, then deals the other n-len(sp)
// clips in proportion to the speakers' weights.
func clipCounts(r *rand.Rand, n int, sp []speaker) []int {
	counts := make([]int, len(sp))
	total := 0.0
	for i := range sp {
		counts[i] = 1
		total += sp[i].weight
	}
	for range n - len(sp) {
		u := r.Float64() * total
		k := 0
		for k < len(sp)-1 && u >= sp[k].weight {
			u -= sp[k].weight
			k++
		}
		counts[k]++
	}
	return counts
}

// split generates n samples of the speakers sp, grouped by speaker in clip
// order, as MOSI's files are.
func (g splitGen) split(name string, n int, sp []speaker, r *rand.Rand) (*datasets.Split, *SplitTruth) {
	s := &datasets.Split{
		Name:      name,
		IDs:       make([]string, n),
		RawText:   make([]string, n),
		Labels:    make([]float32, n),
		Audio:     datasets.Seq{N: n, T: SeqLen, D: AudioDim, Data: make([]float32, n*SeqLen*AudioDim)},
		Vision:    datasets.Seq{N: n, T: SeqLen, D: VisionDim, Data: make([]float32, n*SeqLen*VisionDim)},
		AudioLen:  make([]int, n),
		VisionLen: make([]int, n),
	}
	tr := &SplitTruth{Latent: make([]float32, n), Kind: make([]Kind, n)}
	prof := make([]float64, SeqLen)
	counts := clipCounts(r, n, sp)
	i := 0
	for k, spk := range sp {
		for clip := 1; clip <= counts[k]; clip++ {
			kind, text, latent := g.utterance(r)
			nWords := len(strings.Fields(text))
			// The templates stay below SeqLen words (at most 42);
			// the guard keeps the arrays in bounds regardless.
			nSteps := min(nWords, SeqLen)
			lo, hi := expressOtherLo, expressOtherHi
			if kind == Verbal {
				lo, hi = expressVerbalLo, expressVerbalHi
			}
			z := (lo + (hi-lo)*r.Float64()) * latent
			profile(r, nSteps, prof)
			fillModality(r, s.Audio.Row(i), nSteps, AudioDim, z, prof, audioLoads[:], g.audioUnits, spk.audio)
			fillModality(r, s.Vision.Row(i), nSteps, VisionDim, z, prof, visionLoads[:], g.visionUnits, spk.vision)

			s.IDs[i] = fmt.Sprintf("%s$_$%d", spk.id, clip)
			s.RawText[i] = text
			s.Labels[i] = noisyLabel(latent, g.cfg.LabelNoise, r)
			s.AudioLen[i], s.VisionLen[i] = nSteps, nSteps
			tr.Latent[i], tr.Kind[i] = float32(latent), kind
			i++
		}
	}
	return s, tr
}

// utterance draws a kind, its words and its latent score.
func (g splitGen) utterance(r *rand.Rand) (Kind, string, float64) {
	u := r.Float64()
	switch {
	case u < g.cfg.SarcasmFrac:
		text, score := verbalText(r, true)
		return Sarcastic, text, -score
	case u < g.cfg.SarcasmFrac+g.cfg.NeutralFrac:
		latent := min(max(neutralSD*r.NormFloat64(), -labelMax), labelMax)
		return NeutralWords, neutralText(r), latent
	default:
		text, score := verbalText(r, false)
		return Verbal, text, score
	}
}

// noisyLabel is latent + N(0, sigma²), rounded to the nearest multiple of
// 0.2 (halves away from zero) and clipped to [-3, 3].
func noisyLabel(latent, sigma float64, r *rand.Rand) float32 {
	k := math.Round((latent + sigma*r.NormFloat64()) * gridPerUnit)
	k = min(max(k, -gridMaxK), gridMaxK)
	return float32(k / gridPerUnit)
}
