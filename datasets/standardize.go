package datasets

import (
	"errors"
	"fmt"
	"math"
)

// MinStd is the smallest standard deviation a Standardizer divides by: a
// feature whose train std is below it (a constant channel) gets std 1, so
// it is only centred and never blown up.
const MinStd = 1e-6

// Standardizer holds per-feature statistics of audio and vision computed on
// the train split; x ← (x − mean) / std is applied to every real step of
// every split. The model needs the same statistics at inference, so a
// checkpoint stores them (SPEC §7, metadata beyond the model config); the
// fields serialize to JSON for that.
type Standardizer struct {
	AudioMean  []float64 `json:"audio_mean"`  // [Da] mean over real train steps
	AudioStd   []float64 `json:"audio_std"`   // [Da] population std, MinStd rule applied
	VisionMean []float64 `json:"vision_mean"` // [Dv]
	VisionStd  []float64 `json:"vision_std"`  // [Dv]
}

// FitStandardizer computes the per-feature mean and population standard
// deviation (divisor n) of audio and vision over the real steps of train
// (step t of sequence i with t < AudioLen[i], VisionLen[i]); padding does not
// count. A feature with std < MinStd gets std 1. It is an error when a
// modality with features has no real step at all or holds NaN or ±Inf in a
// real step.
func FitStandardizer(train *Split) (*Standardizer, error) {
	if train == nil {
		return nil, errors.New("datasets: standardize: nil train split")
	}
	st := &Standardizer{}
	var err error
	if st.AudioMean, st.AudioStd, err = fitSeq(train, "audio", train.Audio, train.AudioLen); err != nil {
		return nil, err
	}
	if st.VisionMean, st.VisionStd, err = fitSeq(train, "vision", train.Vision, train.VisionLen); err != nil {
		return nil, err
	}
	return st, nil
}

// fitSeq returns the mean and std of each feature of q over its real steps,
// in two passes (mean, then squared deviations) for accuracy.
func fitSeq(s *Split, key string, q Seq, lens []int) (mean, std []float64, err error) {
	if err := checkSeq(s, key, q, lens); err != nil {
		return nil, nil, err
	}
	if err := checkFinite(s, key, q, lens); err != nil {
		return nil, nil, err
	}
	mean = make([]float64, q.D)
	std = make([]float64, q.D)
	steps := 0
	for i := range q.N {
		steps += lens[i]
		xs := q.Row(i)[:lens[i]*q.D]
		for k, x := range xs {
			mean[k%q.D] += float64(x)
		}
	}
	if q.D > 0 && steps == 0 {
		return nil, nil, fmt.Errorf("datasets: %s/%s: no real step to compute statistics from", s.Name, key)
	}
	for j := range mean {
		mean[j] /= float64(steps)
	}
	for i := range q.N {
		xs := q.Row(i)[:lens[i]*q.D]
		for k, x := range xs {
			d := float64(x) - mean[k%q.D]
			std[k%q.D] += d * d
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(steps))
		if std[j] < MinStd {
			std[j] = 1
		}
	}
	return mean, std, nil
}

// Apply standardizes the audio and vision of s in place: every real step
// becomes (x − mean) / std; steps past AudioLen / VisionLen are not touched,
// so zero padding stays exactly 0. It is an error when the feature widths of
// s differ from the standardizer's, when the standardizer is malformed, or
// when a real step holds NaN or ±Inf or would overflow float32; s is then
// left unchanged.
func (st *Standardizer) Apply(s *Split) error {
	if s == nil {
		return errors.New("datasets: standardize: nil split")
	}
	mods := []struct {
		key       string
		q         Seq
		lens      []int
		mean, std []float64
	}{
		{"audio", s.Audio, s.AudioLen, st.AudioMean, st.AudioStd},
		{"vision", s.Vision, s.VisionLen, st.VisionMean, st.VisionStd},
	}
	for _, m := range mods {
		if err := checkStats(m.key, m.mean, m.std); err != nil {
			return err
		}
		if err := checkSeq(s, m.key, m.q, m.lens); err != nil {
			return err
		}
		if m.q.D != len(m.mean) {
			return fmt.Errorf("datasets: %s/%s: %d features, the standardizer has %d", s.Name, m.key, m.q.D, len(m.mean))
		}
		if err := checkFinite(s, m.key, m.q, m.lens); err != nil {
			return err
		}
		if err := checkScaled(s, m.key, m.q, m.lens, m.mean, m.std); err != nil {
			return err
		}
	}
	for _, m := range mods {
		for i := range m.q.N {
			xs := m.q.Row(i)[:m.lens[i]*m.q.D]
			for k, x := range xs {
				j := k % m.q.D
				xs[k] = float32((float64(x) - m.mean[j]) / m.std[j])
			}
		}
	}
	return nil
}

// checkStats reports a standardizer entry that cannot be applied (a
// checkpoint may hold anything).
func checkStats(key string, mean, std []float64) error {
	if len(mean) != len(std) {
		return fmt.Errorf("datasets: standardizer: %s: %d means but %d stds", key, len(mean), len(std))
	}
	for j := range mean {
		if math.IsNaN(mean[j]) || math.IsInf(mean[j], 0) {
			return fmt.Errorf("datasets: standardizer: %s: mean[%d] = %v is not finite", key, j, mean[j])
		}
		if !(std[j] > 0) || math.IsInf(std[j], 0) {
			return fmt.Errorf("datasets: standardizer: %s: std[%d] = %v is not a positive finite number", key, j, std[j])
		}
	}
	return nil
}

// checkScaled reports a real step whose standardized value overflows
// float32, before anything is written.
func checkScaled(s *Split, key string, q Seq, lens []int, mean, std []float64) error {
	for i := range q.N {
		for k, x := range q.Row(i)[:lens[i]*q.D] {
			j := k % q.D
			if y := (float64(x) - mean[j]) / std[j]; math.Abs(y) > math.MaxFloat32 {
				return fmt.Errorf("datasets: %s/%s: standardized value %g overflows float32 at row %d, step %d, feature %d",
					s.Name, key, y, i, k/q.D, j)
			}
		}
	}
	return nil
}

// checkSeq reports a sequence array whose shape disagrees with its data, the
// split's size or its lengths (key names the modality in the error).
func checkSeq(s *Split, key string, q Seq, lens []int) error {
	if q.N < 0 || q.T < 0 || q.D < 0 {
		return fmt.Errorf("datasets: %s/%s: negative shape [%d, %d, %d]", s.Name, key, q.N, q.T, q.D)
	}
	if len(q.Data) != q.N*q.T*q.D {
		return fmt.Errorf("datasets: %s/%s: %d values for shape [%d, %d, %d]", s.Name, key, len(q.Data), q.N, q.T, q.D)
	}
	if q.N != s.Len() {
		return fmt.Errorf("datasets: %s/%s: %d sequences for %d labels", s.Name, key, q.N, s.Len())
	}
	if len(lens) != q.N {
		return fmt.Errorf("datasets: %s/%s: %d lengths for %d sequences", s.Name, key, len(lens), q.N)
	}
	for i, l := range lens {
		if l < 0 || l > q.T {
			return fmt.Errorf("datasets: %s/%s: length %d outside [0, %d] at row %d", s.Name, key, l, q.T, i)
		}
	}
	return nil
}

// checkFinite reports the first NaN or ±Inf in a real step of q.
func checkFinite(s *Split, key string, q Seq, lens []int) error {
	for i := range q.N {
		for k, x := range q.Row(i)[:lens[i]*q.D] {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("datasets: %s/%s: value %v at row %d, step %d, feature %d", s.Name, key, x, i, k/q.D, k%q.D)
			}
		}
	}
	return nil
}
