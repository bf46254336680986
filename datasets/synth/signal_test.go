package synth

import (
	"math"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
)

// ridge fits y ≈ b + X·w by closed-form ridge regression, (XᵀX + λI)w =
// Xᵀ(y - ȳ) on centred columns, solved by Cholesky; it returns a predictor.
func ridge(t *testing.T, X [][]float64, y []float64, lambda float64) func([]float64) float64 {
	t.Helper()
	n, d := len(X), len(X[0])
	mx := make([]float64, d)
	my := 0.0
	for i := range n {
		for j := range d {
			mx[j] += X[i][j] / float64(n)
		}
		my += y[i] / float64(n)
	}
	A := make([][]float64, d)
	b := make([]float64, d)
	for j := range A {
		A[j] = make([]float64, d)
		A[j][j] = lambda
	}
	xc := make([]float64, d)
	for i := range n {
		for j := range d {
			xc[j] = X[i][j] - mx[j]
		}
		for j := range d {
			if xc[j] == 0 {
				continue
			}
			b[j] += xc[j] * (y[i] - my)
			for k := range d {
				A[j][k] += xc[j] * xc[k]
			}
		}
	}
	// Cholesky A = LLᵀ, then two triangular solves.
	L := make([][]float64, d)
	for j := range d {
		L[j] = make([]float64, d)
		for k := 0; k <= j; k++ {
			s := A[j][k]
			for m := range k {
				s -= L[j][m] * L[k][m]
			}
			if j == k {
				if s <= 0 {
					t.Fatalf("ridge: matrix not positive definite at %d", j)
				}
				L[j][j] = math.Sqrt(s)
			} else {
				L[j][k] = s / L[k][k]
			}
		}
	}
	z := make([]float64, d)
	for j := range d {
		s := b[j]
		for m := range j {
			s -= L[j][m] * z[m]
		}
		z[j] = s / L[j][j]
	}
	w := make([]float64, d)
	for j := d - 1; j >= 0; j-- {
		s := z[j]
		for m := j + 1; m < d; m++ {
			s -= L[m][j] * w[m]
		}
		w[j] = s / L[j][j]
	}
	return func(x []float64) float64 {
		p := my
		for j := range d {
			p += w[j] * (x[j] - mx[j])
		}
		return p
	}
}

// maeOf is the MAE of predict on (X, y).
func maeOf(X [][]float64, y []float64, predict func([]float64) float64) float64 {
	s := 0.0
	for i := range X {
		s += math.Abs(predict(X[i]) - y[i])
	}
	return s / float64(len(X))
}

// constMAE is the MAE of predicting the mean of train on test.
func constMAE(train, test []float64) float64 {
	m := 0.0
	for _, v := range train {
		m += v / float64(len(train))
	}
	s := 0.0
	for _, v := range test {
		s += math.Abs(v - m)
	}
	return s / float64(len(test))
}

// bagOfWords counts the words of texts over the vocabulary of vocabFrom.
func bagOfWords(vocabFrom []string, texts ...[]string) [][][]float64 {
	index := map[string]int{}
	for _, s := range vocabFrom {
		for _, w := range strings.Fields(s) {
			if _, ok := index[w]; !ok {
				index[w] = len(index)
			}
		}
	}
	out := make([][][]float64, len(texts))
	for k, ts := range texts {
		out[k] = make([][]float64, len(ts))
		for i, s := range ts {
			out[k][i] = make([]float64, len(index))
			for _, w := range strings.Fields(s) {
				if j, ok := index[w]; ok {
					out[k][i][j]++
				}
			}
		}
	}
	return out
}

// meanFeatures is, per sample, the mean of each audio and vision channel
// over the real steps (5 + 20 values).
func meanFeatures(s *datasets.Split) [][]float64 {
	out := make([][]float64, s.Len())
	for i := range out {
		for _, q := range []struct {
			seq datasets.Seq
			n   int
		}{{s.Audio, s.AudioLen[i]}, {s.Vision, s.VisionLen[i]}} {
			row := q.seq.Row(i)
			m := make([]float64, q.seq.D)
			for t := range q.n {
				for j := range m {
					m[j] += float64(row[t*q.seq.D+j]) / float64(q.n)
				}
			}
			out[i] = append(out[i], m...)
		}
	}
	return out
}

// labels64 converts labels, keeping the samples where keep is true.
func labels64(s *datasets.Split, keep func(int) bool) []float64 {
	var y []float64
	for i, v := range s.Labels {
		if keep(i) {
			y = append(y, float64(v))
		}
	}
	return y
}

// rows keeps the rows of X where keep is true.
func rows(X [][]float64, keep func(int) bool) [][]float64 {
	var out [][]float64
	for i, x := range X {
		if keep(i) {
			out = append(out, x)
		}
	}
	return out
}

// TestBothSignalPathsExist fits two linear models on train and checks them
// on test against the constant predictor (the train mean): words alone (bag
// of words) beat it overall, more so on the verbal utterances, and not on
// the neutral-word ones; mean audio/vision features, fitted on the
// neutral-word utterances, beat it there, where words carry nothing.
func TestBothSignalPathsExist(t *testing.T) {
	ds, tr := mustGenerate(t, DefaultConfig())
	all := func(int) bool { return true }
	kindOf := func(tr *SplitTruth, k Kind) func(int) bool {
		return func(i int) bool { return tr.Kind[i] == k }
	}
	yTrain, yTest := labels64(ds.Train, all), labels64(ds.Test, all)

	bow := bagOfWords(ds.Train.RawText, ds.Train.RawText, ds.Test.RawText)
	predictBoW := ridge(t, bow[0], yTrain, 1)
	nvTrain, nvTest := meanFeatures(ds.Train), meanFeatures(ds.Test)
	nTrain, nTest := kindOf(tr.Train, NeutralWords), kindOf(tr.Test, NeutralWords)
	vTest := kindOf(tr.Test, Verbal)
	predictNV := ridge(t, rows(nvTrain, nTrain), labels64(ds.Train, nTrain), 1)
	yTestNeutral, yTestVerbal := labels64(ds.Test, nTest), labels64(ds.Test, vTest)

	// Ratios seen over seeds 1-12: bag of words 0.77-0.87 on all test
	// utterances, 0.68-0.77 on the verbal ones, 1.01-1.12 on the
	// neutral-word ones; audio+vision 0.53-0.73 on the neutral-word ones.
	// Words fall short of the oracle (0.15) because negation, modifiers and
	// clause averaging are not linear in word counts.

	for _, tc := range []struct {
		name          string
		mae, constant float64
		maxRatio      float64 // the model's MAE over the constant's must be below this
		minRatio      float64 // ... and above this
	}{
		{"bag of words, all test", maeOf(bow[1], yTest, predictBoW), constMAE(yTrain, yTest), 0.92, 0},
		{"bag of words, verbal test", maeOf(rows(bow[1], vTest), yTestVerbal, predictBoW), constMAE(yTrain, yTestVerbal), 0.82, 0},
		{"bag of words, neutral-word test", maeOf(rows(bow[1], nTest), yTestNeutral, predictBoW),
			constMAE(labels64(ds.Train, nTrain), yTestNeutral), math.Inf(1), 0.95},
		{"audio+vision means, neutral-word test", maeOf(rows(nvTest, nTest), yTestNeutral, predictNV),
			constMAE(labels64(ds.Train, nTrain), yTestNeutral), 0.85, 0},
	} {
		ratio := tc.mae / tc.constant
		t.Logf("%s: MAE %.3f, constant %.3f (ratio %.2f)", tc.name, tc.mae, tc.constant, ratio)
		if ratio >= tc.maxRatio || ratio <= tc.minRatio {
			t.Errorf("%s: MAE %.3f / constant %.3f = %.2f, want in (%.2f, %.2f)", tc.name, tc.mae, tc.constant, ratio, tc.minRatio, tc.maxRatio)
		}
	}
}

// TestSpeakerOffsets checks that speakers shift the features: on a
// noise-only channel (vision 10) the clip means of one speaker share an
// offset, so the speaker means spread far more than clip-to-clip noise
// alone would make them (a one-way ANOVA F statistic).
func TestSpeakerOffsets(t *testing.T) {
	const ch = 10
	ds, _ := mustGenerate(t, DefaultConfig())
	s := ds.Train
	bySpeaker := map[string][]float64{}
	var order []string
	for i, id := range s.IDs {
		spk := strings.SplitN(id, "$_$", 2)[0]
		if _, ok := bySpeaker[spk]; !ok {
			order = append(order, spk)
		}
		row := s.Vision.Row(i)
		m := 0.0
		for step := range s.VisionLen[i] {
			m += float64(row[step*VisionDim+ch]) / float64(s.VisionLen[i])
		}
		bySpeaker[spk] = append(bySpeaker[spk], m)
	}
	grand, n := 0.0, 0.0
	for _, xs := range bySpeaker {
		for _, x := range xs {
			grand += x
			n++
		}
	}
	grand /= n
	var between, within float64
	for _, spk := range order {
		xs := bySpeaker[spk]
		m := 0.0
		for _, x := range xs {
			m += x / float64(len(xs))
		}
		between += float64(len(xs)) * (m - grand) * (m - grand)
		for _, x := range xs {
			within += (x - m) * (x - m)
		}
	}
	k := float64(len(order))
	f := (between / (k - 1)) / (within / (n - k))
	// Without speaker offsets F would be about 1 (above 1.5 with
	// probability < 1% for these degrees of freedom).
	if f < 5 {
		t.Errorf("vision channel %d: speaker F statistic %.2f over %d speakers, want ≥ 5", ch, f, len(order))
	}
	t.Logf("vision channel %d: F = %.1f", ch, f)
}
