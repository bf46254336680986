package datasets_test

import (
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
)

// The synthetic corpus from generation to batches: standardize audio and
// vision with train statistics, build its tokenizer, tokenize every split
// and run one shuffled epoch of fixed-shape batches, reusing one batch.
func ExampleBatcher() {
	ds, err := synth.Generate(synth.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	splits := []*datasets.Split{ds.Train, ds.Valid, ds.Test}
	st, err := datasets.FitStandardizer(ds.Train)
	if err != nil {
		log.Fatal(err)
	}
	tok, _, err := datasets.SyntheticTokenizer(ds)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range splits {
		if err := st.Apply(s); err != nil {
			log.Fatal(err)
		}
		if err := datasets.Tokenize(s, tok, 64); err != nil {
			log.Fatal(err)
		}
	}

	b, err := datasets.NewBatcher(ds.Train, datasets.BatchOptions{Size: 32})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v, %d batches\n", b.Options(), b.NumBatches())
	batch := b.NewBatch()
	samples, padding := 0, 0
	for e := b.Epoch(rand.New(rand.NewPCG(1111, 0))); e.Next(batch); {
		for _, w := range batch.Weight {
			if w == 1 {
				samples++
			} else {
				padding++
			}
		}
	}
	fmt.Println(samples, "samples,", padding, "padding rows")
	// Output:
	// {Size:32 TextFeats:false Lt:64 La:50 Lv:50}, 41 batches
	// 1284 samples, 28 padding rows
}

// tinyBatchSplit is a three-sample split for checking batches value by
// value. Values past a length (row 2's audio step 2, row 1's text feature
// step 3) are garbage that must not reach a batch.
func tinyBatchSplit() *datasets.Split {
	return &datasets.Split{
		Name:    "tiny",
		Labels:  []float32{0.5, -1, 2.5},
		TextIDs: [][]int32{{2, 11, 12, 3}, {2, 13, 3, 0}, {2, 3, 0, 0}},
		TextLen: []int{4, 3, 2},
		TextFeats: datasets.Seq{N: 3, T: 4, D: 2, Data: []float32{
			1, 2, 3, 4, 5, 6, 7, 8,
			11, 12, 13, 14, 15, 16, 17, 18,
			21, 22, 23, 24, 25, 26, 27, 28,
		}},
		Audio: datasets.Seq{N: 3, T: 3, D: 2, Data: []float32{
			1, 2, 3, 4, 5, 6,
			7, 8, 0, 0, 0, 0,
			9, 10, 11, 12, 99, 99,
		}},
		AudioLen:  []int{3, 1, 2},
		Vision:    datasets.Seq{N: 3, T: 2, D: 1, Data: []float32{0.1, 0.2, 0, 0, 0.3, 0}},
		VisionLen: []int{2, 0, 1},
	}
}

// batchCase is a batching of tinyBatchSplit with its batches written out
// by hand.
type batchCase struct {
	name string
	opts datasets.BatchOptions
	want []datasets.Batch
}

// batchesByHand are the cases of TestBatchesByHand.
var batchesByHand = []batchCase{
	{"ids, own lengths, size 2", datasets.BatchOptions{Size: 2}, []datasets.Batch{{
		B: 2, Lt: 4, La: 3, Lv: 2, Da: 2, Dv: 1,
		Index:      []int{0, 1},
		TextIDs:    []float32{2, 11, 12, 3, 2, 13, 3, 0},
		TextMask:   []float32{1, 1, 1, 1, 1, 1, 1, 0},
		Audio:      []float32{1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0},
		AudioMask:  []float32{1, 1, 1, 1, 0, 0},
		Vision:     []float32{0.1, 0.2, 0, 0},
		VisionMask: []float32{1, 1, 0, 0},
		Label:      []float32{0.5, -1},
		Weight:     []float32{1, 1},
	}, {
		B: 2, Lt: 4, La: 3, Lv: 2, Da: 2, Dv: 1,
		Index:      []int{2, -1},
		TextIDs:    []float32{2, 3, 0, 0, 0, 0, 0, 0},
		TextMask:   []float32{1, 1, 0, 0, 0, 0, 0, 0},
		Audio:      []float32{9, 10, 11, 12, 0, 0, 0, 0, 0, 0, 0, 0},
		AudioMask:  []float32{1, 1, 0, 0, 0, 0},
		Vision:     []float32{0.3, 0, 0, 0},
		VisionMask: []float32{1, 0, 0, 0},
		Label:      []float32{2.5, 0},
		Weight:     []float32{1, 0},
	}}},
	// Row 0's text keeps [CLS] 11 and its [SEP]; audio and vision keep
	// their first steps.
	{"ids, truncated", datasets.BatchOptions{Size: 3, Lt: 3, La: 2, Lv: 1}, []datasets.Batch{{
		B: 3, Lt: 3, La: 2, Lv: 1, Da: 2, Dv: 1,
		Index:      []int{0, 1, 2},
		TextIDs:    []float32{2, 11, 3, 2, 13, 3, 2, 3, 0},
		TextMask:   []float32{1, 1, 1, 1, 1, 1, 1, 1, 0},
		Audio:      []float32{1, 2, 3, 4, 7, 8, 0, 0, 9, 10, 11, 12},
		AudioMask:  []float32{1, 1, 1, 0, 1, 1},
		Vision:     []float32{0.1, 0, 0.3},
		VisionMask: []float32{1, 0, 1},
		Label:      []float32{0.5, -1, 2.5},
		Weight:     []float32{1, 1, 1},
	}}},
	{"ids, longer than the data", datasets.BatchOptions{Size: 4, Lt: 5, La: 4, Lv: 3}, []datasets.Batch{{
		B: 4, Lt: 5, La: 4, Lv: 3, Da: 2, Dv: 1,
		Index: []int{0, 1, 2, -1},
		TextIDs: []float32{
			2, 11, 12, 3, 0,
			2, 13, 3, 0, 0,
			2, 3, 0, 0, 0,
			0, 0, 0, 0, 0,
		},
		TextMask: []float32{
			1, 1, 1, 1, 0,
			1, 1, 1, 0, 0,
			1, 1, 0, 0, 0,
			0, 0, 0, 0, 0,
		},
		Audio: []float32{
			1, 2, 3, 4, 5, 6, 0, 0,
			7, 8, 0, 0, 0, 0, 0, 0,
			9, 10, 11, 12, 0, 0, 0, 0,
			0, 0, 0, 0, 0, 0, 0, 0,
		},
		AudioMask:  []float32{1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0},
		Vision:     []float32{0.1, 0.2, 0, 0, 0, 0, 0.3, 0, 0, 0, 0, 0},
		VisionMask: []float32{1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
		Label:      []float32{0.5, -1, 2.5, 0},
		Weight:     []float32{1, 1, 1, 0},
	}}},
	{"text features", datasets.BatchOptions{Size: 3, TextFeats: true}, []datasets.Batch{{
		B: 3, Lt: 4, La: 3, Lv: 2, Ht: 2, Da: 2, Dv: 1,
		Index: []int{0, 1, 2},
		TextFeats: []float32{
			1, 2, 3, 4, 5, 6, 7, 8,
			11, 12, 13, 14, 15, 16, 0, 0,
			21, 22, 23, 24, 0, 0, 0, 0,
		},
		TextMask:   []float32{1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0},
		Audio:      []float32{1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 9, 10, 11, 12, 0, 0},
		AudioMask:  []float32{1, 1, 1, 1, 0, 0, 1, 1, 0},
		Vision:     []float32{0.1, 0.2, 0, 0, 0.3, 0},
		VisionMask: []float32{1, 1, 0, 0, 1, 0},
		Label:      []float32{0.5, -1, 2.5},
		Weight:     []float32{1, 1, 1},
	}}},
	{"text features, truncated", datasets.BatchOptions{Size: 1, TextFeats: true, Lt: 2, La: 1, Lv: 1}, []datasets.Batch{
		{
			B: 1, Lt: 2, La: 1, Lv: 1, Ht: 2, Da: 2, Dv: 1,
			Index: []int{0}, TextFeats: []float32{1, 2, 3, 4}, TextMask: []float32{1, 1},
			Audio: []float32{1, 2}, AudioMask: []float32{1}, Vision: []float32{0.1}, VisionMask: []float32{1},
			Label: []float32{0.5}, Weight: []float32{1},
		},
		{
			B: 1, Lt: 2, La: 1, Lv: 1, Ht: 2, Da: 2, Dv: 1,
			Index: []int{1}, TextFeats: []float32{11, 12, 13, 14}, TextMask: []float32{1, 1},
			Audio: []float32{7, 8}, AudioMask: []float32{1}, Vision: []float32{0}, VisionMask: []float32{0},
			Label: []float32{-1}, Weight: []float32{1},
		},
		{
			B: 1, Lt: 2, La: 1, Lv: 1, Ht: 2, Da: 2, Dv: 1,
			Index: []int{2}, TextFeats: []float32{21, 22, 23, 24}, TextMask: []float32{1, 1},
			Audio: []float32{9, 10}, AudioMask: []float32{1}, Vision: []float32{0.3}, VisionMask: []float32{1},
			Label: []float32{2.5}, Weight: []float32{1},
		},
	}},
}

func TestBatchesByHand(t *testing.T) {
	for _, c := range batchesByHand {
		t.Run(c.name, func(t *testing.T) {
			b, err := datasets.NewBatcher(tinyBatchSplit(), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if b.NumBatches() != len(c.want) {
				t.Errorf("NumBatches() = %d, want %d", b.NumBatches(), len(c.want))
			}
			e := b.Epoch(nil)
			var got datasets.Batch // reused: later batches overwrite earlier ones
			for k, want := range c.want {
				if !e.Next(&got) {
					t.Fatalf("epoch ended after %d batches, want %d", k, len(c.want))
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("batch %d:\n got %+v\nwant %+v", k, got, want)
				}
			}
			if e.Next(&got) {
				t.Errorf("epoch has more than %d batches", len(c.want))
			}
		})
	}
}

func TestBatcherOptions(t *testing.T) {
	for _, c := range []struct {
		opts, want datasets.BatchOptions
	}{
		{datasets.BatchOptions{Size: 2}, datasets.BatchOptions{Size: 2, Lt: 4, La: 3, Lv: 2}},
		{datasets.BatchOptions{Size: 2, TextFeats: true, La: 7}, datasets.BatchOptions{Size: 2, TextFeats: true, Lt: 4, La: 7, Lv: 2}},
		{datasets.BatchOptions{Size: 5, Lt: 9, La: 1, Lv: 1}, datasets.BatchOptions{Size: 5, Lt: 9, La: 1, Lv: 1}},
	} {
		b, err := datasets.NewBatcher(tinyBatchSplit(), c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Options(); got != c.want {
			t.Errorf("Options() for %+v = %+v, want %+v", c.opts, got, c.want)
		}
	}
}

func TestNewBatcherErrors(t *testing.T) {
	cases := []struct {
		name  string
		split func(*datasets.Split) *datasets.Split
		opts  datasets.BatchOptions
		want  string
	}{
		{"nil split", func(*datasets.Split) *datasets.Split { return nil }, datasets.BatchOptions{Size: 2}, "nil split"},
		{"size 0", nil, datasets.BatchOptions{}, "tiny: batch size 0"},
		{"negative length", nil, datasets.BatchOptions{Size: 2, La: -1}, "negative sequence length"},
		{"no samples", func(*datasets.Split) *datasets.Split { return &datasets.Split{Name: "empty"} },
			datasets.BatchOptions{Size: 2}, "empty: no samples"},
		{"NaN label", func(s *datasets.Split) *datasets.Split { s.Labels[1] = float32(math.NaN()); return s },
			datasets.BatchOptions{Size: 2}, "tiny/labels: value NaN at row 1"},
		{"audio length past T", func(s *datasets.Split) *datasets.Split { s.AudioLen[2] = 4; return s },
			datasets.BatchOptions{Size: 2}, "tiny/audio: length 4 outside [0, 3] at row 2"},
		{"vision lengths missing", func(s *datasets.Split) *datasets.Split { s.VisionLen = nil; return s },
			datasets.BatchOptions{Size: 2}, "tiny/vision: 0 lengths"},
		{"audio rows", func(s *datasets.Split) *datasets.Split { s.Labels = append(s.Labels, 0); return s },
			datasets.BatchOptions{Size: 2}, "tiny/audio: 3 sequences for 4 labels"},
		{"no ids", func(s *datasets.Split) *datasets.Split { s.TextIDs, s.TextLen = nil, nil; return s },
			datasets.BatchOptions{Size: 2}, "tokenize the split first"},
		{"text length past row", func(s *datasets.Split) *datasets.Split { s.TextLen[1] = 5; return s },
			datasets.BatchOptions{Size: 2}, "tiny/text_ids: length 5 outside [0, 4] at row 1"},
		{"negative id", func(s *datasets.Split) *datasets.Split { s.TextIDs[2][1] = -3; return s },
			datasets.BatchOptions{Size: 2}, "id -3 at row 2, position 1"},
		{"ids Lt 1", nil, datasets.BatchOptions{Size: 2, Lt: 1}, "sequence length 1"},
		{"no text features", func(s *datasets.Split) *datasets.Split { s.TextFeats = datasets.Seq{}; return s },
			datasets.BatchOptions{Size: 2, TextFeats: true}, "tiny/text: no precomputed text features"},
		{"text feature length past T", func(s *datasets.Split) *datasets.Split { s.TextLen[0] = 5; return s },
			datasets.BatchOptions{Size: 2, TextFeats: true}, "tiny/text: length 5 outside [0, 4] at row 0"},
		{"empty vision", func(s *datasets.Split) *datasets.Split {
			s.Vision, s.VisionLen = datasets.Seq{N: 3}, []int{0, 0, 0}
			return s
		}, datasets.BatchOptions{Size: 2}, "tiny/vision: sequence length 0"},
	}
	for _, c := range cases {
		s := tinyBatchSplit()
		if c.split != nil {
			s = c.split(s)
		}
		_, err := datasets.NewBatcher(s, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestFill(t *testing.T) {
	b, err := datasets.NewBatcher(tinyBatchSplit(), datasets.BatchOptions{Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, idx := range [][]int{{0, 1, 2, 0}, {3}, {-2}} {
		if err := b.Fill(&datasets.Batch{}, idx); err == nil {
			t.Errorf("Fill(%v): no error", idx)
		}
	}
	if err := b.Fill(nil, []int{0}); err == nil {
		t.Error("Fill(nil batch): no error")
	}

	// A reused batch equals a fresh one: nothing stale survives a refill,
	// and its storage is kept.
	reused := b.NewBatch()
	if err := b.Fill(reused, []int{2, 0, 1}); err != nil {
		t.Fatal(err)
	}
	audio := &reused.Audio[0]
	for _, idx := range [][]int{{1, -1, 2}, {1}, {}} {
		if err := b.Fill(reused, idx); err != nil {
			t.Fatal(err)
		}
		fresh := &datasets.Batch{}
		if err := b.Fill(fresh, idx); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(reused, fresh) {
			t.Errorf("Fill(%v) on a reused batch:\n got %+v\nwant %+v", idx, reused, fresh)
		}
		if &reused.Audio[0] != audio {
			t.Errorf("Fill(%v) reallocated the audio buffer", idx)
		}
	}
	// All padding: index −1, every value zero.
	if !reflect.DeepEqual(reused.Index, []int{-1, -1, -1}) {
		t.Errorf("Fill([]) Index = %v, want all −1", reused.Index)
	}
	for name, xs := range batchValues(reused) {
		if slices.ContainsFunc(xs, func(x float32) bool { return x != 0 }) {
			t.Errorf("Fill([]) %s = %v, want all 0", name, xs)
		}
	}
}

// batchValues names every float slice of a batch.
func batchValues(b *datasets.Batch) map[string][]float32 {
	return map[string][]float32{
		"TextIDs": b.TextIDs, "TextFeats": b.TextFeats, "TextMask": b.TextMask,
		"Audio": b.Audio, "AudioMask": b.AudioMask, "Vision": b.Vision, "VisionMask": b.VisionMask,
		"Label": b.Label, "Weight": b.Weight,
	}
}

// randomSplit is a split of n samples with random lengths (0 to T) and
// values; token ids end in [SEP] = 3 at TextLen − 1.
func randomSplit(n int, seed uint64) *datasets.Split {
	r := rand.New(rand.NewPCG(seed, 0))
	const lt, ta, tv, da, dv = 8, 6, 5, 3, 2
	s := &datasets.Split{
		Name:      "random",
		Labels:    make([]float32, n),
		TextIDs:   make([][]int32, n),
		TextLen:   make([]int, n),
		Audio:     datasets.Seq{N: n, T: ta, D: da, Data: make([]float32, n*ta*da)},
		Vision:    datasets.Seq{N: n, T: tv, D: dv, Data: make([]float32, n*tv*dv)},
		AudioLen:  make([]int, n),
		VisionLen: make([]int, n),
	}
	for i := range n {
		s.Labels[i] = float32(r.IntN(31)-15) / 5
		s.TextLen[i] = 2 + r.IntN(lt-1)
		s.TextIDs[i] = make([]int32, lt)
		s.TextIDs[i][0] = 2
		for t := 1; t < s.TextLen[i]-1; t++ {
			s.TextIDs[i][t] = int32(5 + r.IntN(100))
		}
		s.TextIDs[i][s.TextLen[i]-1] = 3
		s.AudioLen[i], s.VisionLen[i] = r.IntN(ta+1), r.IntN(tv+1)
		for k := range s.AudioLen[i] * da {
			s.Audio.Row(i)[k] = float32(r.NormFloat64())
		}
		for k := range s.VisionLen[i] * dv {
			s.Vision.Row(i)[k] = float32(r.NormFloat64())
		}
	}
	return s
}

// epochIndices runs one epoch and checks every batch against the split:
// real rows hold their sample (truncated to the batch lengths, text keeping
// its last id), padding rows are all zero. It returns the indices of the
// real rows in order.
func epochIndices(t *testing.T, s *datasets.Split, b *datasets.Batcher, rng *rand.Rand) []int {
	t.Helper()
	o := b.Options()
	var order []int
	var batch datasets.Batch
	batches := 0
	for e := b.Epoch(rng); e.Next(&batch); {
		batches++
		for r, i := range batch.Index {
			tMask := batch.TextMask[r*o.Lt : (r+1)*o.Lt]
			ids := batch.TextIDs[r*o.Lt : (r+1)*o.Lt]
			aMask := batch.AudioMask[r*o.La : (r+1)*o.La]
			audio := batch.Audio[r*o.La*batch.Da : (r+1)*o.La*batch.Da]
			vMask := batch.VisionMask[r*o.Lv : (r+1)*o.Lv]
			vision := batch.Vision[r*o.Lv*batch.Dv : (r+1)*o.Lv*batch.Dv]
			if i < 0 {
				for _, xs := range [][]float32{tMask, ids, aMask, audio, vMask, vision, {batch.Label[r], batch.Weight[r]}} {
					if slices.ContainsFunc(xs, func(x float32) bool { return x != 0 }) {
						t.Fatalf("padding row %d of batch %d holds %v", r, batches-1, xs)
					}
				}
				continue
			}
			order = append(order, i)
			if batch.Label[r] != s.Labels[i] || batch.Weight[r] != 1 {
				t.Fatalf("row %d (sample %d): label %v weight %v, want %v 1", r, i, batch.Label[r], batch.Weight[r], s.Labels[i])
			}
			for _, m := range []struct {
				name      string
				mask, got []float32
				src       []float32
				n, d      int
			}{
				{"audio", aMask, audio, s.Audio.Row(i), s.AudioLen[i], s.Audio.D},
				{"vision", vMask, vision, s.Vision.Row(i), s.VisionLen[i], s.Vision.D},
			} {
				n := min(m.n, len(m.mask))
				for step := range m.mask {
					isReal := step < n
					if (m.mask[step] == 1) != isReal || (m.mask[step] != 0 && m.mask[step] != 1) {
						t.Fatalf("sample %d %s mask %v, want %d ones", i, m.name, m.mask, n)
					}
					for j := range m.d {
						want := float32(0)
						if isReal {
							want = m.src[step*m.d+j]
						}
						if m.got[step*m.d+j] != want {
							t.Fatalf("sample %d %s step %d feature %d: %v, want %v", i, m.name, step, j, m.got[step*m.d+j], want)
						}
					}
				}
			}
			n := s.TextLen[i]
			wantIDs := make([]float32, o.Lt)
			wantMask := make([]float32, o.Lt)
			for k := range min(n, o.Lt) {
				wantIDs[k], wantMask[k] = float32(s.TextIDs[i][k]), 1
			}
			if n > o.Lt {
				wantIDs[o.Lt-1] = float32(s.TextIDs[i][n-1])
			}
			if !slices.Equal(ids, wantIDs) || !slices.Equal(tMask, wantMask) {
				t.Fatalf("sample %d text %v mask %v, want %v %v", i, ids, tMask, wantIDs, wantMask)
			}
			if wantIDs[min(n, o.Lt)-1] != 3 {
				t.Fatalf("sample %d text %v does not end its real part with [SEP]", i, ids)
			}
		}
	}
	if want := b.NumBatches(); batches != want {
		t.Fatalf("%d batches, want %d", batches, want)
	}
	return order
}

func TestEpochCoversSplit(t *testing.T) {
	const n = 10
	s := randomSplit(n, 1)
	for _, c := range []struct {
		name        string
		opts        datasets.BatchOptions
		wantBatches int
	}{
		{"size 3", datasets.BatchOptions{Size: 3}, 4},
		{"size 3, truncated", datasets.BatchOptions{Size: 3, Lt: 4, La: 3, Lv: 2}, 4},
		{"size 5", datasets.BatchOptions{Size: 5}, 2},
		{"size 16", datasets.BatchOptions{Size: 16, Lt: 12}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := datasets.NewBatcher(s, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if b.NumBatches() != c.wantBatches {
				t.Errorf("NumBatches() = %d, want %d", b.NumBatches(), c.wantBatches)
			}
			seq := epochIndices(t, s, b, nil)
			if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(seq, want) {
				t.Errorf("sequential epoch order %v, want %v", seq, want)
			}
			shuf := epochIndices(t, s, b, rand.New(rand.NewPCG(42, 7)))
			if want := rand.New(rand.NewPCG(42, 7)).Perm(n); !slices.Equal(shuf, want) {
				t.Errorf("shuffled epoch order %v, want rng.Perm's %v", shuf, want)
			}
			if sorted := slices.Sorted(slices.Values(shuf)); !slices.Equal(sorted, seq) {
				t.Errorf("shuffled epoch visits %v, want each of 0..%d once", shuf, n-1)
			}
		})
	}
}

func TestEpochSeeds(t *testing.T) {
	s := randomSplit(50, 2)
	b, err := datasets.NewBatcher(s, datasets.BatchOptions{Size: 8})
	if err != nil {
		t.Fatal(err)
	}
	a1 := epochIndices(t, s, b, rand.New(rand.NewPCG(1111, 0)))
	a2 := epochIndices(t, s, b, rand.New(rand.NewPCG(1111, 0)))
	c := epochIndices(t, s, b, rand.New(rand.NewPCG(1112, 0)))
	if !slices.Equal(a1, a2) {
		t.Errorf("same seed, different orders:\n%v\n%v", a1, a2)
	}
	if slices.Equal(a1, c) {
		t.Errorf("seeds 1111 and 1112 gave the same order %v", a1)
	}
	// One rng across epochs: each epoch draws a new order.
	r := rand.New(rand.NewPCG(1111, 0))
	if e1, e2 := epochIndices(t, s, b, r), epochIndices(t, s, b, r); slices.Equal(e1, e2) {
		t.Errorf("two epochs from one rng gave the same order %v", e1)
	}
}

func TestEpochNextAllocs(t *testing.T) {
	s := randomSplit(200, 3)
	b, err := datasets.NewBatcher(s, datasets.BatchOptions{Size: 4})
	if err != nil {
		t.Fatal(err)
	}
	e := b.Epoch(rand.New(rand.NewPCG(1, 2)))
	dst := b.NewBatch()
	// 21 calls of the 50 batches.
	if allocs := testing.AllocsPerRun(20, func() { e.Next(dst) }); allocs != 0 {
		t.Errorf("Next on a reused batch: %v allocations, want 0", allocs)
	}
}

// BenchmarkEpoch batches a MOSI-shaped train split (aligned_50: 1284
// samples, 50 steps, audio 5, vision 20, token ids) at batch size 32.
func BenchmarkEpoch(b *testing.B) {
	const n, l = 1284, 50
	s := &datasets.Split{
		Name:      "mosi",
		Labels:    make([]float32, n),
		TextIDs:   make([][]int32, n),
		TextLen:   make([]int, n),
		Audio:     datasets.Seq{N: n, T: l, D: 5, Data: make([]float32, n*l*5)},
		Vision:    datasets.Seq{N: n, T: l, D: 20, Data: make([]float32, n*l*20)},
		AudioLen:  make([]int, n),
		VisionLen: make([]int, n),
	}
	for i := range n {
		s.TextIDs[i] = make([]int32, l)
		s.TextLen[i], s.AudioLen[i], s.VisionLen[i] = 20, 20, 20
	}
	bt, err := datasets.NewBatcher(s, datasets.BatchOptions{Size: 32})
	if err != nil {
		b.Fatal(err)
	}
	dst := bt.NewBatch()
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		for e := bt.Epoch(rng); e.Next(dst); {
		}
	}
}
