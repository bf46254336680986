package train_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers"
	"github.com/fdcmdie/fdcmdie/train"
)

// ExampleLoadPredictor trains a tiny model on a small synthetic corpus,
// saves its checkpoint, loads it back with LoadPredictor and predicts
// three hand-written utterances from their text and raw audio and vision.
func ExampleLoadPredictor() {
	gen := synth.DefaultConfig()
	gen.NTrain, gen.NValid, gen.NTest = 800, 60, 60
	gen.SpeakersTrain, gen.SpeakersValid, gen.SpeakersTest = 20, 4, 4
	ds, err := synth.Generate(gen)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Tokenize and standardize as training does; prep.Meta holds the
	// tokenizer and the statistics that the checkpoint must carry.
	_, tokJSON, err := datasets.SyntheticTokenizer(ds)
	if err != nil {
		fmt.Println(err)
		return
	}
	prep, err := datasets.Prepare(ds, datasets.PrepareOptions{Source: "synthetic", TokenizerJSON: tokJSON, MaxLen: synth.SeqLen})
	if err != nil {
		fmt.Println(err)
		return
	}

	cfg := graph.DefaultConfig()
	cfg.DModel, cfg.Heads, cfg.Layers = 8, 2, 1
	cfg.NoCL = true // no memory bank: faster
	cfg.AudioDim, cfg.VisionDim = synth.AudioDim, synth.VisionDim
	cfg.TextFeats = false // a NeoBERT trained from scratch reads the token ids
	cfg.NeoBERT = layers.NeoBERTConfig{HiddenSize: 16, NumHiddenLayers: 1, NumAttentionHeads: 2,
		IntermediateSize: 32, VocabSize: prep.Vocab, NormEps: 1e-5, MaxLength: synth.SeqLen}
	adamw := train.DefaultAdamWConfig()
	adamw.LR = 3e-3 // a tiny model learns fast
	dir, err := os.MkdirTemp("", "fdcmdie-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	_, err = train.Fit(context.Background(), cfg, train.Data{Train: prep.Train, Valid: prep.Valid, Test: prep.Test},
		train.Options{Model: train.ModelOptions{Seed: 1111, AdamW: adamw}, BatchSize: 32, Epochs: 8, Lt: prep.Lt, OutDir: dir, Meta: prep.Meta})
	if err != nil {
		fmt.Println(err)
		return
	}

	p, err := train.LoadPredictor(filepath.Join(dir, train.BestFile))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	// Raw audio and vision steps near the corpus's averages, so that the
	// text decides.
	voice := []float32{-3, 2.8, 0, 2.6, -2}
	face := []float32{0.3, -0.6, 1.4, -0.8, 5.7, 0.9, -2.7, 2.8, -0.4, 1.5, -1, 2.5, -1.8, 1.1, -1.1, 1.8, -1, 4.7, -0.4, 3.2}
	steps := func(n int, step []float32) [][]float32 {
		s := make([][]float32, n)
		for t := range s {
			s[t] = step
		}
		return s
	}
	samples := []train.Sample{
		{ID: "a", Text: "i really loved this movie", Audio: steps(12, voice), Vision: steps(12, face)},
		{ID: "b", Text: "the acting was terrible", Audio: steps(7, voice), Vision: steps(9, face)},
		{ID: "c", Text: "my sister and i hated the ending", Audio: steps(10, voice), Vision: steps(10, face)},
	}
	preds, err := p.Predict(context.Background(), samples)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, x := range preds {
		a := x.Alpha[0] // the one CMDIE layer's (α_t, α_v, α_a)
		fmt.Printf("%s: %s, GAP weights sum to %.2f\n", x.ID, x.Polarity, a[0]+a[1]+a[2])
	}
	// Output:
	// a: positive, GAP weights sum to 1.00
	// b: negative, GAP weights sum to 1.00
	// c: negative, GAP weights sum to 1.00
}
