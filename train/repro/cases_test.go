package repro

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
)

// TestPickCasesEmbedded checks each pick on the embedded corpus's test
// split against the rule: the sample is of its kind, and every other
// sample of that kind not picked before it has a worse label, or an
// equal one later in the split.
func TestPickCasesEmbedded(t *testing.T) {
	ds, truth, err := synth.GenerateWithTruth(synth.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	test, kinds := ds.Test, truth.Test.Kind
	picks, err := PickCases(test, "synthetic", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	words := func(i int) []string { return strings.Fields(test.RawText[i]) }
	hasNegator := func(i int) bool {
		return slices.ContainsFunc(words(i), func(w string) bool {
			return w == "not" || w == "never" || w == "isn't" || w == "wasn't" || w == "didn't" || w == "don't"
		})
	}
	short := func(i int) bool { return len(words(i)) <= 10 }
	plain := func(i int) bool { return short(i) && kinds[i] == synth.Verbal && !hasNegator(i) }
	y := func(i int) float64 { return float64(test.Labels[i]) }
	rules := []struct {
		kind string
		ok   func(int) bool
		cost func(int) float64
	}{
		{"strong positive", plain, func(i int) float64 { return -y(i) }},
		{"negation", func(i int) bool { return short(i) && kinds[i] == synth.Verbal && hasNegator(i) }, y},
		{"mild positive", plain, func(i int) float64 { return math.Abs(y(i) - 1.5) }},
		{"mild negative", plain, func(i int) float64 { return math.Abs(y(i) + 1.5) }},
		{"sarcasm", func(i int) bool { return short(i) && kinds[i] == synth.Sarcastic }, y},
	}
	if len(picks) != len(rules) {
		t.Fatalf("%d picks, want %d: %v", len(picks), len(rules), picks)
	}
	for n, r := range rules {
		p := picks[n]
		if p.Kind != r.kind || !r.ok(p.Index) {
			t.Fatalf("pick %d = %+v (%q, label %.3f, kind %v): want a %s case", n, p, test.RawText[p.Index], y(p.Index), kinds[p.Index], r.kind)
		}
		for i := range test.Labels {
			before := slices.ContainsFunc(picks[:n], func(q Pick) bool { return q.Index == i })
			if i == p.Index || before || !r.ok(i) {
				continue
			}
			if c := r.cost(i); c < r.cost(p.Index) || c == r.cost(p.Index) && i < p.Index {
				t.Errorf("%s: picked %d (label %.3f), but %d (label %.3f, %q) comes first by the rule",
					r.kind, p.Index, y(p.Index), i, y(i), test.RawText[i])
			}
		}
	}
	again, err := PickCases(test, "synthetic", nil, true)
	if err != nil || !slices.Equal(again, picks) {
		t.Fatalf("second call: %v, %v; want %v", again, err, picks)
	}
}

// handSplit is a test split of nine labelled samples with ties.
func handSplit() *datasets.Split {
	s := &datasets.Split{Name: "test", Labels: []float32{0.5, 3, -2, 1.25, -1.5, 1.75, 3, -3, 1.25}}
	for i := range s.Labels {
		s.IDs = append(s.IDs, fmt.Sprintf("clip%d", i))
		s.RawText = append(s.RawText, "words")
	}
	return s
}

func TestPickCasesMMSA(t *testing.T) {
	got, err := PickCases(handSplit(), "mini", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: 3 at 1 and 6 (the first wins), −3 at 7; 1.25, 1.75 and
	// 1.25 at 3, 5 and 8 are all 0.25 from +1.5 (3 wins, then 5 among
	// the rest); −1.5 at 4.
	want := []Pick{{1, "largest positive"}, {7, "largest negative"}, {3, "near +1.5"}, {4, "near -1.5"}, {5, "near +1.5"}}
	if !slices.Equal(got, want) {
		t.Fatalf("picks %v, want %v", got, want)
	}
	small := handSplit()
	small.Labels = small.Labels[:4]
	if _, err := PickCases(small, "mini", nil, false); err == nil || err.Error() != "table 8: no near +1.5 case in the test split of mini" {
		t.Fatalf("four samples: error %v", err)
	}
	if _, err := PickCases(handSplit(), "mini", nil, true); err == nil || !strings.Contains(err.Error(), "kinds for 9 test samples") {
		t.Fatalf("embedded rule on another split: error %v", err)
	}
}

func TestPickCasesIDs(t *testing.T) {
	got, err := PickCases(handSplit(), "mini", []string{"clip8", " clip0 "}, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Pick{{8, "--cases"}, {0, "--cases"}}; !slices.Equal(got, want) {
		t.Fatalf("picks %v, want %v", got, want)
	}
	_, err = PickCases(handSplit(), "mini", []string{"clip1", "clip9"}, false)
	if want := `--cases: id "clip9" is not in the test split of mini`; err == nil || err.Error() != want {
		t.Fatalf("unknown id: error %v, want %q", err, want)
	}
}
