package synth

import (
	"errors"
	"fmt"
	"math"
)

// Ceiling holds regression metrics as SPEC §10 defines them (accuracies as
// fractions, not percentages).
type Ceiling struct {
	MAE      float64 // mean absolute error
	Acc2Has0 float64 // Acc-2, positive ⇔ value ≥ 0, all samples
	Acc2Non0 float64 // Acc-2, samples with label ≠ 0, positive ⇔ value > 0
	Acc7     float64 // round-half-even of the values clipped to ±3 agree
}

// Ceilings of DefaultConfig with any seed: the expected metrics of the
// oracle that predicts the latent score, averaged over the label noise
// and the latent distribution (computed with OracleCeiling on 200 seeds,
// 439,800 utterances). TestDocumentedCeilings recomputes them.
var DefaultCeiling = Ceiling{
	MAE:      0.2304,
	Acc2Has0: 0.9774,
	Acc2Non0: 0.9866,
	Acc7:     0.7574,
}

// OracleCeiling gives the metrics that predicting latent[i] for sample i
// is expected to reach against labels drawn as Generate draws them
// (latent + N(0, labelNoise²), rounded to the nearest multiple of 0.2,
// clipped to ±3). The expectation over the label noise is exact (sums
// over the 31 grid values); Acc2Non0 is the ratio of the expected counts.
func OracleCeiling(latent []float32, labelNoise float64) (Ceiling, error) {
	if len(latent) == 0 {
		return Ceiling{}, errors.New("synth: oracle ceiling: no latent scores")
	}
	if !(labelNoise >= 0) || math.IsInf(labelNoise, 0) {
		return Ceiling{}, fmt.Errorf("synth: oracle ceiling: label noise %g: need a finite value ≥ 0", labelNoise)
	}
	var mae, has0, non0Hit, non0N, acc7 float64
	var p [2*gridMaxK + 1]float64
	for i, l32 := range latent {
		l := float64(l32)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return Ceiling{}, fmt.Errorf("synth: oracle ceiling: latent[%d] = %g", i, l)
		}
		gridProbs(l, labelNoise, &p)
		class := math.RoundToEven(min(max(l, -labelMax), labelMax))
		for j, pk := range p {
			k := j - gridMaxK
			y := float64(k) / gridPerUnit
			mae += pk * math.Abs(y-l)
			if (y >= 0) == (l >= 0) {
				has0 += pk
			}
			if k != 0 {
				non0N += pk
				if (y > 0) == (l > 0) {
					non0Hit += pk
				}
			}
			if math.RoundToEven(y) == class {
				acc7 += pk
			}
		}
	}
	n := float64(len(latent))
	c := Ceiling{MAE: mae / n, Acc2Has0: has0 / n, Acc7: acc7 / n}
	if non0N > 0 {
		c.Acc2Non0 = non0Hit / non0N
	}
	return c, nil
}

// gridProbs sets p[k+15] to the probability that the label of a sample
// with latent l is k/5: P(round(5·(l+ε)) = k) for ε ~ N(0, sigma²), the
// end points taking the clipped tails.
func gridProbs(l, sigma float64, p *[2*gridMaxK + 1]float64) {
	if sigma == 0 {
		*p = [2*gridMaxK + 1]float64{}
		k := min(max(math.Round(l*gridPerUnit), -gridMaxK), gridMaxK)
		p[int(k)+gridMaxK] = 1
		return
	}
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-(x-l)/(sigma*math.Sqrt2)) }
	lo := 0.0 // CDF at the lower edge of the current cell
	for j := range p {
		k := j - gridMaxK
		hi := 1.0
		if k < gridMaxK {
			hi = cdf((float64(k) + 0.5) / gridPerUnit)
		}
		p[j] = hi - lo
		lo = hi
	}
}
