package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/fdcmdie/fdcmdie/layers"
)

// Metrics holds the regression metrics of SPEC §10, computed as MMSA's
// metricsTop.py does for MOSI/MOSEI. Accuracies and F1 scores are fractions
// in [0, 1]; MAE is in label units; Corr is Pearson's r in [-1, 1].
type Metrics struct {
	// Acc2Has0 is binary accuracy over all samples, positive ⇔ value ≥ 0.
	Acc2Has0 float64
	// F1Has0 is sklearn's weighted F1 for the same split as Acc2Has0.
	F1Has0 float64
	// Acc2Non0 is binary accuracy over samples whose label is not exactly 0,
	// positive ⇔ value > 0.
	Acc2Non0 float64
	// F1Non0 is sklearn's weighted F1 for the same split as Acc2Non0.
	F1Non0 float64
	// Acc7 is the 7-class accuracy: round-half-even of values clipped to [-3, 3].
	Acc7 float64
	// Acc5 is the 5-class accuracy: round-half-even of values clipped to [-2, 2].
	Acc5 float64
	// MAE is the mean absolute error on unclipped values.
	MAE float64
	// Corr is the Pearson correlation between predictions and labels.
	Corr float64
	// CorrUndefined is set when predictions or labels are constant; Corr is
	// then reported as 0 (numpy would give NaN).
	CorrUndefined bool
	// Non0Undefined is set when every label is exactly 0, so the non0 split
	// is empty; Acc2Non0 and F1Non0 are then reported as 0.
	Non0Undefined bool
}

// Warnings returns one human-readable line per undefined metric in m.
func (m Metrics) Warnings() []string {
	var w []string
	if m.CorrUndefined {
		w = append(w, "metrics: Corr undefined (constant predictions or labels), reported as 0")
	}
	if m.Non0Undefined {
		w = append(w, "metrics: no non-zero labels, Acc-2/F1 non0 reported as 0")
	}
	return w
}

// Evaluate computes the SPEC §10 metrics of predictions pred against labels
// label. Both slices must have the same, non-zero length and hold only
// finite values. All arithmetic is in float64.
func Evaluate(pred, label []float32) (Metrics, error) {
	if len(pred) != len(label) {
		return Metrics{}, fmt.Errorf("metrics: %d predictions but %d labels", len(pred), len(label))
	}
	if len(pred) == 0 {
		return Metrics{}, errors.New("metrics: no samples")
	}
	if err := checkFinite("predictions", pred); err != nil {
		return Metrics{}, err
	}
	if err := checkFinite("labels", label); err != nil {
		return Metrics{}, err
	}
	p := layers.Convert[float64](pred)
	y := layers.Convert[float64](label)
	var m Metrics

	// has0: every sample, positive ⇔ value ≥ 0.
	var has0 binaryCounts
	for i := range p {
		has0.add(y[i] >= 0, p[i] >= 0)
	}
	m.Acc2Has0, m.F1Has0 = has0.accuracy(), has0.weightedF1()

	// non0: drop samples whose label is exactly 0, positive ⇔ value > 0.
	var non0 binaryCounts
	for i := range p {
		if y[i] != 0 {
			non0.add(y[i] > 0, p[i] > 0)
		}
	}
	if non0.total() == 0 {
		m.Non0Undefined = true
	} else {
		m.Acc2Non0, m.F1Non0 = non0.accuracy(), non0.weightedF1()
	}

	m.Acc7 = classAccuracy(p, y, 3)
	m.Acc5 = classAccuracy(p, y, 2)

	var sumAbs float64
	for i := range p {
		sumAbs += math.Abs(p[i] - y[i])
	}
	m.MAE = sumAbs / float64(len(p))

	m.Corr, m.CorrUndefined = pearson(p, y)
	return m, nil
}

// checkFinite reports the first NaN or infinite value of xs, naming which
// input (what) it belongs to and its index.
func checkFinite(what string, xs []float32) error {
	for i, x := range xs {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("metrics: %s[%d] is %v", what, i, x)
		}
	}
	return nil
}

// binaryCounts is the 2×2 confusion matrix of a binary split; the first
// index is the true class, the second the predicted class (1 = positive).
type binaryCounts struct {
	n [2][2]int
}

func (c *binaryCounts) add(truePos, predPos bool) {
	c.n[b2i(truePos)][b2i(predPos)]++
}

func (c *binaryCounts) total() int {
	return c.n[0][0] + c.n[0][1] + c.n[1][0] + c.n[1][1]
}

func (c *binaryCounts) accuracy() float64 {
	return float64(c.n[0][0]+c.n[1][1]) / float64(c.total())
}

// weightedF1 is sklearn's f1_score(y_true, y_pred, average='weighted'):
// per-class F1 = 2tp/(2tp+fp+fn) (0 where the denominator is 0), weighted
// by the class support counted on y_true.
func (c *binaryCounts) weightedF1() float64 {
	var sum float64
	for k := 0; k < 2; k++ {
		tp := c.n[k][k]
		fn := c.n[k][1-k]
		fp := c.n[1-k][k]
		support := tp + fn
		den := 2*tp + fp + fn
		if support == 0 || den == 0 {
			continue
		}
		sum += float64(support) * 2 * float64(tp) / float64(den)
	}
	return sum / float64(c.total())
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// classAccuracy is MMSA's multiclass accuracy: the share of samples whose
// prediction and label, clipped to [-bound, bound] and rounded half to
// even (np.round), agree.
func classAccuracy(p, y []float64, bound float64) float64 {
	var hit int
	for i := range p {
		if roundClip(p[i], bound) == roundClip(y[i], bound) {
			hit++
		}
	}
	return float64(hit) / float64(len(p))
}

func roundClip(x, bound float64) float64 {
	return math.RoundToEven(math.Max(-bound, math.Min(bound, x)))
}

// pearson returns Pearson's r of x and y, clipped to [-1, 1] as
// np.corrcoef does, and reports undefined (with r = 0) when either input is
// constant.
func pearson(x, y []float64) (r float64, undefined bool) {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0, true
	}
	r = sxy / math.Sqrt(sxx*syy)
	return math.Max(-1, math.Min(1, r)), false
}

// Aggregate returns the mean and the population standard deviation
// (ddof = 0, as MMSA's result tables) of each metric over results, one per
// seed, with numpy's arithmetic: the sum divided by n, and the square root
// of the mean squared deviation. The undefined flags of mean are set when
// any result has them; those of std are left false.
func Aggregate(results []Metrics) (mean, std Metrics, err error) {
	if len(results) == 0 {
		return Metrics{}, Metrics{}, errors.New("metrics: aggregate: no results")
	}
	n := float64(len(results))
	for _, r := range results {
		mf, rf := mean.fields(), r.fields()
		for i := range mf {
			*mf[i] += *rf[i]
		}
		mean.CorrUndefined = mean.CorrUndefined || r.CorrUndefined
		mean.Non0Undefined = mean.Non0Undefined || r.Non0Undefined
	}
	for _, f := range mean.fields() {
		*f /= n
	}
	for _, r := range results {
		mf, sf, rf := mean.fields(), std.fields(), r.fields()
		for i := range sf {
			d := *rf[i] - *mf[i]
			*sf[i] += d * d
		}
	}
	for _, f := range std.fields() {
		*f = math.Sqrt(*f / n)
	}
	return mean, std, nil
}

// fields lists pointers to the numeric metrics of m in declaration order.
func (m *Metrics) fields() []*float64 {
	return []*float64{&m.Acc2Has0, &m.F1Has0, &m.Acc2Non0, &m.F1Non0, &m.Acc7, &m.Acc5, &m.MAE, &m.Corr}
}
