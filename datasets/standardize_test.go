package datasets_test

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/synth"
)

// tinyTrain is a train split small enough to standardize by hand.
//
// Audio (T 3, D 2), AudioLen [2, 1]; row 1 holds (100, −50) at its padded
// step 1, which must neither count nor change:
//
//	feature 0 real values 1, 2, 6: mean 3, deviations −2, −1, 3,
//	  variance (4 + 1 + 9) / 3 = 14/3, std √(14/3) = 2.160246899469287
//	feature 1 real values 10, 10, 10: mean 10, std 0 < 1e-6 → 1
//
// Vision (T 2, D 1), VisionLen [2, 2]: values 2, 4, 6, 8: mean 5,
// variance (9 + 1 + 1 + 9) / 4 = 5, std √5 = 2.23606797749979.
func tinyTrain() *datasets.Split {
	return &datasets.Split{
		Name:   "train",
		Labels: []float32{0.4, -1.2},
		Audio: datasets.Seq{N: 2, T: 3, D: 2, Data: []float32{
			1, 10, 2, 10, 0, 0,
			6, 10, 100, -50, 0, 0,
		}},
		AudioLen:  []int{2, 1},
		Vision:    datasets.Seq{N: 2, T: 2, D: 1, Data: []float32{2, 4, 6, 8}},
		VisionLen: []int{2, 2},
	}
}

// tinyValid is standardized with tinyTrain's statistics:
//
//	audio (4, 12) → ((4−3)/√(14/3), (12−10)/1) = (0.4629100498862757, 2)
//	audio (7, 9)  → (4/√(14/3), −1) = (1.8516401995451028, −1)
//	vision 10     → (10−5)/√5 = 2.23606797749979
func tinyValid() *datasets.Split {
	return &datasets.Split{
		Name:      "valid",
		Labels:    []float32{2},
		Audio:     datasets.Seq{N: 1, T: 3, D: 2, Data: []float32{4, 12, 7, 9, 0, 0}},
		AudioLen:  []int{2},
		Vision:    datasets.Seq{N: 1, T: 2, D: 1, Data: []float32{10, 0}},
		VisionLen: []int{1},
	}
}

func TestFitStandardizerByHand(t *testing.T) {
	st, err := datasets.FitStandardizer(tinyTrain())
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-12
	for _, c := range []struct {
		name      string
		got, want []float64
	}{
		{"AudioMean", st.AudioMean, []float64{3, 10}},
		{"AudioStd", st.AudioStd, []float64{2.160246899469287, 1}},
		{"VisionMean", st.VisionMean, []float64{5}},
		{"VisionStd", st.VisionStd, []float64{2.23606797749979}},
	} {
		if len(c.got) != len(c.want) {
			t.Fatalf("%s = %v, want %v", c.name, c.got, c.want)
		}
		for j := range c.want {
			if math.Abs(c.got[j]-c.want[j]) > tol {
				t.Errorf("%s[%d] = %.15g, want %.15g", c.name, j, c.got[j], c.want[j])
			}
		}
	}
}

func TestApplyByHand(t *testing.T) {
	train, valid := tinyTrain(), tinyValid()
	st, err := datasets.FitStandardizer(train)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*datasets.Split{train, valid} {
		if err := st.Apply(s); err != nil {
			t.Fatal(err)
		}
	}
	const tol = 1e-6 // float32 results
	for _, c := range []struct {
		name string
		got  []float32
		want []float64
		pad  []int // indices of padding values, compared exactly
	}{
		{"train/audio", train.Audio.Data, []float64{
			-0.9258200997725514, 0, -0.4629100498862757, 0, 0, 0,
			1.3887301496588271, 0, 100, -50, 0, 0,
		}, []int{4, 5, 8, 9, 10, 11}},
		{"train/vision", train.Vision.Data, []float64{
			-1.3416407864998738, -0.4472135954999579, 0.4472135954999579, 1.3416407864998738,
		}, nil},
		{"valid/audio", valid.Audio.Data, []float64{
			0.4629100498862757, 2, 1.8516401995451028, -1, 0, 0,
		}, []int{4, 5}},
		{"valid/vision", valid.Vision.Data, []float64{2.23606797749979, 0}, []int{1}},
	} {
		for k := range c.want {
			if math.Abs(float64(c.got[k])-c.want[k]) > tol {
				t.Errorf("%s[%d] = %v, want %v", c.name, k, c.got[k], c.want[k])
			}
		}
		for _, k := range c.pad {
			if float64(c.got[k]) != c.want[k] {
				t.Errorf("%s[%d] padding = %v, want exactly %v", c.name, k, c.got[k], c.want[k])
			}
		}
	}
}

func TestStandardizerJSON(t *testing.T) {
	st, err := datasets.FitStandardizer(tinyTrain())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"audio_mean"`, `"audio_std"`, `"vision_mean"`, `"vision_std"`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("JSON %s has no key %s", raw, key)
		}
	}
	var back datasets.Standardizer
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, st) {
		t.Errorf("round trip gave %+v, want %+v", back, *st)
	}
}

func TestStandardizeErrors(t *testing.T) {
	good, err := datasets.FitStandardizer(tinyTrain())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		fit   bool // FitStandardizer on the split, else good.Apply
		st    func(*datasets.Standardizer)
		split func(*datasets.Split)
		want  []string // substrings of the error
	}{
		{"fit NaN", true, nil, func(s *datasets.Split) { s.Audio.Data[6] = float32(math.NaN()) },
			[]string{"train/audio", "row 1", "step 0"}},
		{"fit Inf", true, nil, func(s *datasets.Split) { s.Vision.Data[3] = float32(math.Inf(-1)) },
			[]string{"train/vision", "row 1", "step 1"}},
		{"fit length past T", true, nil, func(s *datasets.Split) { s.AudioLen[0] = 4 },
			[]string{"train/audio", "length 4", "row 0"}},
		{"fit lengths missing", true, nil, func(s *datasets.Split) { s.VisionLen = nil },
			[]string{"train/vision", "0 lengths"}},
		{"fit no real step", true, nil, func(s *datasets.Split) { s.VisionLen = []int{0, 0} },
			[]string{"train/vision", "no real step"}},
		{"fit data size", true, nil, func(s *datasets.Split) { s.Audio.Data = s.Audio.Data[:5] },
			[]string{"train/audio", "5 values"}},
		{"apply audio width", false, nil, func(s *datasets.Split) {
			s.Audio = datasets.Seq{N: 2, T: 1, D: 3, Data: make([]float32, 6)}
			s.AudioLen = []int{1, 1}
		}, []string{"train/audio", "3 features", "has 2"}},
		{"apply vision width", false, nil, func(s *datasets.Split) {
			s.Vision = datasets.Seq{N: 2, T: 1, D: 2, Data: make([]float32, 4)}
			s.VisionLen = []int{1, 1}
		}, []string{"train/vision", "2 features", "has 1"}},
		{"apply NaN", false, nil, func(s *datasets.Split) { s.Vision.Data[2] = float32(math.NaN()) },
			[]string{"train/vision", "row 1", "step 0"}},
		{"apply zero std", false, func(st *datasets.Standardizer) { st.AudioStd[1] = 0 }, nil,
			[]string{"standardizer", "audio", "std[1]"}},
		{"apply stats length", false, func(st *datasets.Standardizer) { st.VisionStd = nil }, nil,
			[]string{"standardizer", "vision", "1 means but 0 stds"}},
		{"apply overflow", false, func(st *datasets.Standardizer) { st.VisionStd[0] = 1e-300 }, nil,
			[]string{"train/vision", "overflows", "row 0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := tinyTrain()
			if c.split != nil {
				c.split(s)
			}
			st := &datasets.Standardizer{
				AudioMean: slices.Clone(good.AudioMean), AudioStd: slices.Clone(good.AudioStd),
				VisionMean: slices.Clone(good.VisionMean), VisionStd: slices.Clone(good.VisionStd),
			}
			if c.st != nil {
				c.st(st)
			}
			before := slices.Clone(s.Audio.Data)
			if c.fit {
				_, err = datasets.FitStandardizer(s)
			} else {
				err = st.Apply(s)
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// A failed Apply leaves the split as it was, audio included
			// when vision is the bad modality.
			if !slices.EqualFunc(before, s.Audio.Data, func(a, b float32) bool { return a == b || a != a && b != b }) {
				t.Errorf("split changed by a failed call: audio %v, was %v", s.Audio.Data, before)
			}
		})
	}
}

func TestStandardizeNil(t *testing.T) {
	good, err := datasets.FitStandardizer(tinyTrain())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := datasets.FitStandardizer(nil); err == nil {
		t.Error("FitStandardizer(nil): no error")
	}
	if err := good.Apply(nil); err == nil {
		t.Error("Apply(nil): no error")
	}
}

// The synthetic corpus comes in unrelated raw units (synth doc). After
// standardization with train statistics, train's real steps have mean 0 and
// std 1 per feature, valid and test are (x − train mean) / train std with
// the statistics recomputed here, and padding stays exactly 0.
func TestStandardizeSynthetic(t *testing.T) {
	ds, err := synth.Generate(synth.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	splits := []*datasets.Split{ds.Train, ds.Valid, ds.Test}
	type modality struct {
		name string
		q    func(*datasets.Split) datasets.Seq
		lens func(*datasets.Split) []int
	}
	mods := []modality{
		{"audio", func(s *datasets.Split) datasets.Seq { return s.Audio }, func(s *datasets.Split) []int { return s.AudioLen }},
		{"vision", func(s *datasets.Split) datasets.Seq { return s.Vision }, func(s *datasets.Split) []int { return s.VisionLen }},
	}
	// Raw copies and the train statistics, computed the plain way.
	raw := map[string][]float32{}
	mean := map[string][]float64{}
	std := map[string][]float64{}
	for _, m := range mods {
		for _, s := range splits {
			raw[s.Name+"/"+m.name] = slices.Clone(m.q(s).Data)
		}
		q, lens := m.q(ds.Train), m.lens(ds.Train)
		mean[m.name], std[m.name] = meanStd(q, lens)
	}

	st, err := datasets.FitStandardizer(ds.Train)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range splits {
		if err := st.Apply(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range mods {
		gotMean, gotStd := meanStd(m.q(ds.Train), m.lens(ds.Train))
		for j := range gotMean {
			if math.Abs(gotMean[j]) > 1e-5 || math.Abs(gotStd[j]-1) > 1e-5 {
				t.Errorf("train/%s feature %d after standardization: mean %g, std %g; want 0, 1", m.name, j, gotMean[j], gotStd[j])
			}
		}
		for _, s := range splits {
			q, lens, before := m.q(s), m.lens(s), raw[s.Name+"/"+m.name]
			for i := range q.N {
				for k, x := range q.Row(i) {
					step, j := k/q.D, k%q.D
					at := i*q.T*q.D + k
					if step >= lens[i] {
						if x != 0 {
							t.Fatalf("%s/%s row %d step %d: padding %v, want 0", s.Name, m.name, i, step, x)
						}
						continue
					}
					want := (float64(before[at]) - mean[m.name][j]) / std[m.name][j]
					if math.Abs(float64(x)-want) > 1e-5*max(1, math.Abs(want)) {
						t.Fatalf("%s/%s row %d step %d feature %d: %v, want %v", s.Name, m.name, i, step, j, x, want)
					}
				}
			}
		}
	}
}

// meanStd is the per-feature mean and population std of q's real steps.
func meanStd(q datasets.Seq, lens []int) (mean, std []float64) {
	sum := make([]float64, q.D)
	sq := make([]float64, q.D)
	n := 0
	for i := range q.N {
		for t := range lens[i] {
			n++
			for j := range q.D {
				x := float64(q.Data[(i*q.T+t)*q.D+j])
				sum[j] += x
				sq[j] += x * x
			}
		}
	}
	mean = make([]float64, q.D)
	std = make([]float64, q.D)
	for j := range q.D {
		mean[j] = sum[j] / float64(n)
		std[j] = math.Sqrt(sq[j]/float64(n) - mean[j]*mean[j])
	}
	return mean, std
}
