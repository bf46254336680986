package datasets_test

import (
	"slices"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
)

// maskOf returns a right-padded mask of rows of the given real lengths.
func maskOf(steps int, lengths ...int) []float32 {
	m := make([]float32, 0, steps*len(lengths))
	for _, n := range lengths {
		for t := 0; t < steps; t++ {
			m = append(m, map[bool]float32{true: 1}[t < n])
		}
	}
	return m
}

// seq returns n values 1, 2, …, n.
func seq(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i + 1)
	}
	return v
}

func TestBatchRealLengthsAndCut(t *testing.T) {
	cases := []struct {
		name       string
		weight     []float32
		text       []int // real text lengths per row, then audio, vision
		audio      []int
		vision     []int
		lt, la, lv int
	}{
		{"longest weighted row", []float32{1, 1, 0}, []int{2, 3, 6}, []int{1, 4, 5}, []int{2, 1, 3}, 3, 4, 2},
		{"a padding row counts for nothing", []float32{1, 0, 0}, []int{1, 6, 0}, []int{2, 5, 0}, []int{1, 3, 0}, 1, 2, 1},
		{"a weighted row without real steps keeps the full length", []float32{1, 1, 0}, []int{2, 0, 0}, []int{1, 1, 0}, []int{0, 2, 0}, 6, 1, 3},
		{"at least one step", []float32{0, 0, 0}, []int{0, 0, 0}, []int{0, 0, 0}, []int{0, 0, 0}, 1, 1, 1},
	}
	const B, Lt, La, Lv, Ht, Da, Dv = 3, 6, 5, 3, 2, 1, 3
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &datasets.Batch{B: B, Lt: Lt, La: La, Lv: Lv, Ht: Ht, Da: Da, Dv: Dv, Index: []int{4, 7, -1},
				TextFeats: seq(B * Lt * Ht), TextMask: maskOf(Lt, c.text...), Audio: seq(B * La * Da), AudioMask: maskOf(La, c.audio...),
				Vision: seq(B * Lv * Dv), VisionMask: maskOf(Lv, c.vision...), Label: []float32{0.5, -1, 0}, Weight: c.weight}
			lt, la, lv := b.RealLengths()
			if lt != c.lt || la != c.la || lv != c.lv {
				t.Fatalf("real lengths %d, %d, %d; want %d, %d, %d", lt, la, lv, c.lt, c.la, c.lv)
			}
			var cut datasets.Batch
			if err := b.Cut(&cut, lt, la, lv); err != nil {
				t.Fatal(err)
			}
			if cut.B != B || cut.Lt != lt || cut.La != la || cut.Lv != lv || cut.Ht != Ht || cut.Da != Da || cut.Dv != Dv {
				t.Fatalf("cut shape %+v", cut)
			}
			if !slices.Equal(cut.Index, b.Index) || !slices.Equal(cut.Label, b.Label) || !slices.Equal(cut.Weight, b.Weight) || cut.TextIDs != nil {
				t.Fatalf("rows changed: index %v, label %v, weight %v, ids %v", cut.Index, cut.Label, cut.Weight, cut.TextIDs)
			}
			for _, m := range []struct {
				name        string
				got, full   []float32
				steps, n, d int
			}{
				{"text_feats", cut.TextFeats, b.TextFeats, Lt, lt, Ht}, {"text_mask", cut.TextMask, b.TextMask, Lt, lt, 1},
				{"audio", cut.Audio, b.Audio, La, la, Da}, {"audio_mask", cut.AudioMask, b.AudioMask, La, la, 1},
				{"vision", cut.Vision, b.Vision, Lv, lv, Dv}, {"vision_mask", cut.VisionMask, b.VisionMask, Lv, lv, 1},
			} {
				for r := 0; r < B; r++ {
					if got, want := m.got[r*m.n*m.d:(r+1)*m.n*m.d], m.full[r*m.steps*m.d:(r*m.steps+m.n)*m.d]; !slices.Equal(got, want) {
						t.Fatalf("%s row %d: %v, want the leading steps %v", m.name, r, got, want)
					}
				}
			}
		})
	}
}

func TestBatchCutRefusesLengths(t *testing.T) {
	b := &datasets.Batch{B: 1, Lt: 2, La: 2, Lv: 2}
	var dst datasets.Batch
	for _, l := range [][3]int{{0, 1, 1}, {1, 3, 1}, {1, 1, -1}} {
		if err := b.Cut(&dst, l[0], l[1], l[2]); err == nil {
			t.Errorf("cut to %v: no error", l)
		}
	}
	if err := b.Cut(b, 1, 1, 1); err == nil {
		t.Error("cut into itself: no error")
	}
}
