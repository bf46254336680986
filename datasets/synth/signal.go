package synth

import (
	"math"
	"math/rand/v2"
)

// Parameters of the audio and vision generator (see the package doc).
const (
	noiseRho        = 0.6 // AR(1) coefficient of the per-step feature noise (unit variance)
	speakerBiasSD   = 0.5 // per-speaker, per-channel offset, in noise units
	speakerLogScale = 0.4 // per-speaker gain is exp(U[-0.4, 0.4]), per modality
	// The non-verbal amplitude is e·latent with e ~ U[lo, hi]: weak while
	// the words speak (verbal utterances), strong when only voice and face
	// carry the sentiment (neutral-word and sarcastic utterances).
	expressVerbalLo, expressVerbalHi = 0.1, 0.6
	expressOtherLo, expressOtherHi   = 0.5, 1.0
	rawMeanSD                        = 2.0 // corpus-level channel means ~ N(0, 2²) ...
	rawLogScale                      = 1.0 // ... and channel scales exp(U[-1, 1]), as raw COVAREP/Facet units differ
)

// load says how one channel responds to the non-verbal sentiment z at the
// peak of the expression profile: signed·z + magnitude·|z|.
type load struct{ signed, magnitude float64 }

// audioLoads: pitch-like (follows z), energy (follows |z|, the arousal, not
// the sign), voice quality (against z); the other channels are noise.
var audioLoads = [AudioDim]load{{0.8, 0}, {0, 0.6}, {-0.5, 0}}

// visionLoads: smile / AU12 (follows z), brow lowerer / AU4 (against z),
// cheek raiser / AU6 (follows z), head motion (follows |z|); the other 16
// channels are noise.
var visionLoads = [VisionDim]load{{1.0, 0}, {-0.7, 0}, {0.5, 0}, {0, 0.5}}

// channelUnits are the corpus-level mean and scale of each channel: raw
// features are mean + scale·(standardized feature).
type channelUnits struct{ mean, scale float64 }

// newUnits draws the corpus-level units of d channels.
func newUnits(r *rand.Rand, d int) []channelUnits {
	u := make([]channelUnits, d)
	for j := range u {
		u[j] = channelUnits{
			mean:  rawMeanSD * r.NormFloat64(),
			scale: math.Exp(rawLogScale * (2*r.Float64() - 1)),
		}
	}
	return u
}

// speakerStyle is one speaker's offset (per channel) and gain (per
// modality) on the standardized features.
type speakerStyle struct {
	bias []float64
	gain float64
}

// newStyle draws a speaker's style for d channels.
func newStyle(r *rand.Rand, d int) speakerStyle {
	s := speakerStyle{bias: make([]float64, d)}
	for j := range s.bias {
		s.bias[j] = speakerBiasSD * r.NormFloat64()
	}
	s.gain = math.Exp(speakerLogScale * (2*r.Float64() - 1))
	return s
}

// profile is the temporal shape of an expression over n steps: a Gaussian
// bump peaking at a random step in the middle half of the utterance, with
// a width growing with its length. It returns the values in dst[:n].
func profile(r *rand.Rand, n int, dst []float64) {
	center := (0.25 + 0.5*r.Float64()) * float64(n-1)
	width := 1 + 0.2*float64(n)
	for t := range n {
		d := (float64(t) - center) / width
		dst[t] = math.Exp(-0.5 * d * d)
	}
}

// fillModality writes n steps of one modality into row (T×D, zeroed past
// n): raw = mean + scale·(bias + gain·(load·z·prof(t) + noise_t)), with
// AR(1) noise per channel.
func fillModality(r *rand.Rand, row []float32, n, d int, z float64, prof []float64,
	loads []load, units []channelUnits, style speakerStyle) {
	innov := math.Sqrt(1 - noiseRho*noiseRho)
	for j := range d {
		var l load
		if j < len(loads) {
			l = loads[j]
		}
		amp := l.signed*z + l.magnitude*math.Abs(z)
		noise := r.NormFloat64()
		for t := range n {
			if t > 0 {
				noise = noiseRho*noise + innov*r.NormFloat64()
			}
			x := style.bias[j] + style.gain*(amp*prof[t]+noise)
			row[t*d+j] = float32(units[j].mean + units[j].scale*x)
		}
	}
}
