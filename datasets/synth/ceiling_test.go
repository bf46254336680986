package synth

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

// Expected metrics of the oracle for one latent score, from
// testdata/oracle_ceiling.py (exact sums, checked there by Monte Carlo).
var singleLatentCases = []struct {
	latent float32
	sigma  float64
	want   Ceiling
}{
	{latent: 0, sigma: 0.3, want: Ceiling{MAE: 0.234873, Acc2Has0: 0.630559, Acc2Non0: 0.500000, Acc7: 0.904419}},
	{latent: 0.5, sigma: 0.3, want: Ceiling{MAE: 0.248299, Acc2Has0: 0.977250, Acc2Non0: 0.975578, Acc7: 0.499571}},
	{latent: -0.1, sigma: 0.3, want: Ceiling{MAE: 0.248299, Acc2Has0: 0.500000, Acc2Non0: 0.664458, Acc7: 0.886039}},
	{latent: 2.9, sigma: 0.3, want: Ceiling{MAE: 0.174149, Acc2Has0: 1.000000, Acc2Non0: 1.000000, Acc7: 0.908789}},
	{latent: -3, sigma: 0.3, want: Ceiling{MAE: 0.117437, Acc2Has0: 1.000000, Acc2Non0: 1.000000, Acc7: 0.952210}},
	{latent: 1.25, sigma: 0.6, want: Ceiling{MAE: 0.481205, Acc2Has0: 0.987776, Acc2Non0: 0.987584, Acc7: 0.555889}},
	{latent: 0.37, sigma: 0, want: Ceiling{MAE: 0.030000, Acc2Has0: 1.000000, Acc2Non0: 1.000000, Acc7: 1.000000}},
	{latent: 0.07, sigma: 0, want: Ceiling{MAE: 0.070000, Acc2Has0: 1.000000, Acc2Non0: 0.000000, Acc7: 1.000000}},
}

// closeCeiling reports the first metric where got and want differ by more
// than tol, or "".
func closeCeiling(got, want Ceiling, tol Ceiling) string {
	for _, m := range []struct {
		name           string
		got, want, tol float64
	}{
		{"MAE", got.MAE, want.MAE, tol.MAE},
		{"Acc2Has0", got.Acc2Has0, want.Acc2Has0, tol.Acc2Has0},
		{"Acc2Non0", got.Acc2Non0, want.Acc2Non0, tol.Acc2Non0},
		{"Acc7", got.Acc7, want.Acc7, tol.Acc7},
	} {
		if !(math.Abs(m.got-m.want) <= m.tol) {
			return fmt.Sprintf("%s = %.6f, want %.6f ± %.6f", m.name, m.got, m.want, m.tol)
		}
	}
	return ""
}

func TestOracleCeilingSingleLatent(t *testing.T) {
	tol := Ceiling{MAE: 1e-5, Acc2Has0: 1e-5, Acc2Non0: 1e-5, Acc7: 1e-5}
	for _, tc := range singleLatentCases {
		got, err := OracleCeiling([]float32{tc.latent}, tc.sigma)
		if err != nil {
			t.Errorf("latent %v, σ %v: %v", tc.latent, tc.sigma, err)
			continue
		}
		if msg := closeCeiling(got, tc.want, tol); msg != "" {
			t.Errorf("latent %v, σ %v: %s", tc.latent, tc.sigma, msg)
		}
	}
}

func TestOracleCeilingErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		latent []float32
		sigma  float64
	}{
		{"no latents", nil, 0.3},
		{"NaN noise", []float32{1}, math.NaN()},
		{"negative noise", []float32{1}, -0.3},
		{"infinite latent", []float32{1, float32(math.Inf(-1))}, 0.3},
	} {
		if _, err := OracleCeiling(tc.latent, tc.sigma); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// empiricalOracle scores predictions p = latent against the labels y, with
// the metric definitions of SPEC §10 written out directly.
func empiricalOracle(latent, y []float64) (c Ceiling, n0 float64) {
	var hit, nz float64
	for i, l := range latent {
		c.MAE += math.Abs(l-y[i]) / float64(len(y))
		if (l >= 0) == (y[i] >= 0) {
			c.Acc2Has0 += 1 / float64(len(y))
		}
		if y[i] != 0 {
			nz++
			if (l > 0) == (y[i] > 0) {
				hit++
			}
		}
		if math.RoundToEven(max(min(l, 3), -3)) == math.RoundToEven(max(min(y[i], 3), -3)) {
			c.Acc7 += 1 / float64(len(y))
		}
	}
	c.Acc2Non0 = hit / nz
	return c, nz
}

// TestDocumentedCeilings recomputes DefaultCeiling on 8 seeds (17,592
// utterances) two ways: the exact expectation over the label noise
// (OracleCeiling) and the oracle's metrics against the drawn labels.
func TestDocumentedCeilings(t *testing.T) {
	var latent32 []float32
	var latent, y []float64
	for seed := int64(1); seed <= 8; seed++ {
		ds, tr := mustGenerate(t, withSeed(seed))
		for _, p := range splits(ds, tr) {
			latent32 = append(latent32, p.tr.Latent...)
			for i, v := range p.tr.Latent {
				latent = append(latent, float64(v))
				y = append(y, float64(p.s.Labels[i]))
			}
		}
	}
	n := float64(len(y))
	expected, err := OracleCeiling(latent32, DefaultConfig().LabelNoise)
	if err != nil {
		t.Fatal(err)
	}
	// DefaultCeiling averages 200 seeds; 8 seeds scatter around it by the
	// spread of the latents only (the noise is integrated out), well within
	// these bounds.
	if msg := closeCeiling(expected, DefaultCeiling, Ceiling{MAE: 0.002, Acc2Has0: 0.002, Acc2Non0: 0.002, Acc7: 0.004}); msg != "" {
		t.Errorf("expected oracle metrics on seeds 1-8 vs DefaultCeiling: %s", msg)
	}
	// The drawn labels scatter around the expectation: 4 standard errors
	// (MAE: sd of |y - latent| ≈ 0.19).
	emp, nz := empiricalOracle(latent, y)
	se := func(p, n float64) float64 { return 4 * math.Sqrt(p*(1-p)/n) }
	tol := Ceiling{
		MAE:      4 * 0.19 / math.Sqrt(n),
		Acc2Has0: se(expected.Acc2Has0, n),
		Acc2Non0: se(expected.Acc2Non0, nz),
		Acc7:     se(expected.Acc7, n),
	}
	if msg := closeCeiling(emp, expected, tol); msg != "" {
		t.Errorf("oracle vs drawn labels on seeds 1-8 vs its expectation: %s", msg)
	}
	t.Logf("expected %+v, drawn %+v", expected, emp)

	// The truly Bayes-optimal predictions (the median of the label for MAE,
	// P(label ≥ 0) > 1/2 for Acc-2 has0) do only slightly better than the
	// latent itself, as the package doc says.
	var bayesMAE, bayesHas0 float64
	var p [2*gridMaxK + 1]float64
	for _, l := range latent {
		gridProbs(l, DefaultConfig().LabelNoise, &p)
		median, cum, pos := 0.0, 0.0, 0.0
		for j, pk := range p {
			if cum < 0.5 && cum+pk >= 0.5 {
				median = float64(j-gridMaxK) / gridPerUnit
			}
			cum += pk
			if j >= gridMaxK {
				pos += pk
			}
		}
		for j, pk := range p {
			bayesMAE += pk * math.Abs(float64(j-gridMaxK)/gridPerUnit-median) / n
		}
		bayesHas0 += max(pos, 1-pos) / n
	}
	if gap := expected.MAE - bayesMAE; gap < 0 || gap > 0.005 {
		t.Errorf("MAE: oracle %.4f, Bayes %.4f: want Bayes lower by at most 0.005", expected.MAE, bayesMAE)
	}
	if gap := bayesHas0 - expected.Acc2Has0; gap < 0 || gap > 0.003 {
		t.Errorf("Acc-2 has0: oracle %.4f, Bayes %.4f: want Bayes higher by at most 0.003", expected.Acc2Has0, bayesHas0)
	}
}

// TestDocQuotesCeilings keeps doc.go in step with DefaultCeiling.
func TestDocQuotesCeilings(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(strings.ReplaceAll(string(b), "//", "")), " ")
	for _, want := range []string{
		fmt.Sprintf("MAE %.3f", DefaultCeiling.MAE),
		fmt.Sprintf("Acc-2 %.1f/%.1f", 100*DefaultCeiling.Acc2Has0, 100*DefaultCeiling.Acc2Non0),
		fmt.Sprintf("Acc-7 %.1f", 100*DefaultCeiling.Acc7),
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("doc.go does not say %q", want)
		}
	}
}
