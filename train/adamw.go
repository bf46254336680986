package train

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/fdcmdie/fdcmdie/internal/par"
)

// AdamWConfig holds the hyperparameters of AdamW (SPEC §8).
type AdamWConfig struct {
	LR          float64 // learning rate, 1e-4
	Beta1       float64 // first-moment decay β1, 0.9
	Beta2       float64 // second-moment decay β2, 0.999
	Eps         float64 // added to the bias-corrected sqrt(v), 1e-8
	WeightDecay float64 // decoupled weight decay for tensors with Decay set, 0.01
}

// DefaultAdamWConfig returns the SPEC §8 hyperparameters: lr 1e-4,
// β = (0.9, 0.999), eps 1e-8, weight decay 0.01.
func DefaultAdamWConfig() AdamWConfig {
	return AdamWConfig{LR: 1e-4, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
}

// Validate checks the ranges torch.optim.AdamW accepts: lr, eps and weight
// decay ≥ 0, betas in [0, 1).
func (c AdamWConfig) Validate() error {
	switch {
	case !(c.LR >= 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("adamw: invalid LR %v", c.LR)
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("adamw: invalid Beta1 %v (want [0, 1))", c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("adamw: invalid Beta2 %v (want [0, 1))", c.Beta2)
	case !(c.Eps >= 0) || math.IsInf(c.Eps, 0):
		return fmt.Errorf("adamw: invalid Eps %v", c.Eps)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("adamw: invalid WeightDecay %v", c.WeightDecay)
	}
	return nil
}

// DecayFor reports whether a tensor of the given shape gets weight decay:
// SPEC §8 decays every tensor with at least 2 dimensions (embeddings
// included) and no 1-D tensor (biases, norm weights).
func DecayFor(shape []int) bool {
	return len(shape) >= 2
}

// AdamWParam is one tensor handed to AdamW.Step: its values W (updated in
// place), its gradient G of the same length, and whether it is decayed.
type AdamWParam struct {
	Name  string // checkpoint name; keys the optimizer state
	W     []float32
	G     []float32
	Decay bool // apply WeightDecay; see DecayFor
}

// AdamWTensorState is the optimizer state of one tensor, as in PyTorch's
// state_dict: its own step count and the moment estimates.
type AdamWTensorState struct {
	Step     int       // updates applied to this tensor
	ExpAvg   []float32 // first moment m
	ExpAvgSq []float32 // second moment v
}

// AdamWState is the whole optimizer state, keyed by tensor name, for
// checkpoint save and resume.
type AdamWState struct {
	Tensors map[string]AdamWTensorState
}

// AdamW is torch.optim.AdamW (amsgrad off, maximize off) on flat float32
// tensors. The moments are stored in float32 as PyTorch stores them for
// float32 parameters; each element update is computed in float64, four at
// a time with AVX2 where the CPU has it (bitwise the one-at-a-time loop),
// and the tensors are split in chunks over the cores.
type AdamW struct {
	cfg   AdamWConfig
	slots map[string]*AdamWTensorState
}

// NewAdamW returns an optimizer with empty state after validating cfg.
func NewAdamW(cfg AdamWConfig) (*AdamW, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &AdamW{cfg: cfg, slots: map[string]*AdamWTensorState{}}, nil
}

// Config returns the hyperparameters the optimizer was made with.
func (o *AdamW) Config() AdamWConfig {
	return o.cfg
}

// Step applies one AdamW update to every tensor in params, as
// torch.optim.AdamW does per parameter:
//
//	t ← t + 1
//	w ← w·(1 − lr·wd)                 (wd = 0 unless Decay)
//	m ← β1·m + (1 − β1)·g
//	v ← β2·v + (1 − β2)·g²
//	w ← w − lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps)
//
// A tensor seen for the first time starts with zero moments and t = 0.
// All tensors are checked (names, lengths, finite gradients) before any is
// changed, so an error leaves weights and state untouched.
func (o *AdamW) Step(params []AdamWParam) error {
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		if p.Name == "" {
			return errors.New("adamw: tensor with empty name")
		}
		if seen[p.Name] {
			return fmt.Errorf("adamw: %s: tensor given twice in one step", p.Name)
		}
		seen[p.Name] = true
		if len(p.W) != len(p.G) {
			return fmt.Errorf("adamw: %s: %d weights but %d gradients", p.Name, len(p.W), len(p.G))
		}
		if s, ok := o.slots[p.Name]; ok && len(s.ExpAvg) != len(p.W) {
			return fmt.Errorf("adamw: %s: %d weights but optimizer state has %d", p.Name, len(p.W), len(s.ExpAvg))
		}
	}
	if err := checkGradients(params); err != nil {
		return err
	}
	states := make([]*AdamWTensorState, len(params))
	consts := make([]adamwConsts, len(params))
	for i, p := range params {
		s, ok := o.slots[p.Name]
		if !ok {
			s = &AdamWTensorState{ExpAvg: make([]float32, len(p.W)), ExpAvgSq: make([]float32, len(p.W))}
			o.slots[p.Name] = s
		}
		s.Step++
		states[i], consts[i] = s, o.consts(p, s.Step)
	}
	// The updates of the elements are independent: the cores take chunks
	// of the tensors in turn.
	eachChunk(params, func(i, lo, hi int) {
		p, s := params[i], states[i]
		w, g, m, v := p.W[lo:hi], p.G[lo:hi], s.ExpAvg[lo:hi], s.ExpAvgSq[lo:hi]
		n := adamwVector(w, g, m, v, &consts[i])
		adamwGo(w[n:], g[n:], m[n:], v[n:], &consts[i])
	})
	return nil
}

// checkGradients reports the first gradient that is not finite, the
// tensors checked on all cores.
func checkGradients(params []AdamWParam) error {
	bad := make([]int, len(params)) // per tensor: 1 + the first bad index, or 0
	var mu sync.Mutex
	eachChunk(params, func(i, lo, hi int) {
		for j, g := range params[i].G[lo:hi] {
			if f := float64(g); math.IsNaN(f) || math.IsInf(f, 0) {
				mu.Lock()
				if bad[i] == 0 || lo+j+1 < bad[i] {
					bad[i] = lo + j + 1
				}
				mu.Unlock()
				return
			}
		}
	})
	for i, b := range bad {
		if b != 0 {
			p := params[i]
			return fmt.Errorf("adamw: %s: gradient[%d] is %v", p.Name, b-1, p.G[b-1])
		}
	}
	return nil
}

// adamwChunk is the number of elements the cores take at a time.
const adamwChunk = 1 << 16

// eachChunk calls f(i, lo, hi) for chunks [lo, hi) of at most adamwChunk
// elements of every tensor i of params, on all cores.
func eachChunk(params []AdamWParam, f func(i, lo, hi int)) {
	type chunk struct{ i, lo, hi int }
	var chunks []chunk
	for i, p := range params {
		for lo := 0; lo < len(p.G); lo += adamwChunk {
			chunks = append(chunks, chunk{i, lo, min(lo+adamwChunk, len(p.G))})
		}
	}
	par.Pull(len(chunks), func(_, c int) { f(chunks[c].i, chunks[c].lo, chunks[c].hi) })
}

// adamwConsts are the numbers of one tensor's update at one step, in the
// layout adamwAVX2 reads.
type adamwConsts struct {
	decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2 float64
	stepSize, bc2Sqrt, eps                            float64
}

// consts returns the numbers of p's update at step t.
func (o *AdamW) consts(p AdamWParam, t int) adamwConsts {
	c := o.cfg
	decay := 1.0
	if p.Decay {
		decay = 1 - c.LR*c.WeightDecay
	}
	return adamwConsts{decay: decay, beta1: c.Beta1, oneMinusBeta1: 1 - c.Beta1, beta2: c.Beta2, oneMinusBeta2: 1 - c.Beta2,
		stepSize: c.LR / (1 - math.Pow(c.Beta1, float64(t))), bc2Sqrt: math.Sqrt(1 - math.Pow(c.Beta2, float64(t))), eps: c.Eps}
}

// adamwGo updates weights w with gradients g and moments m and v, element
// by element in float64. The conversions to float64 round every product
// before it is added, so that no build fuses a multiply and an add: the
// numbers are those of adamwAVX2 on every machine.
func adamwGo(w, g, m, v []float32, k *adamwConsts) {
	for i, g32 := range g {
		gi := float64(g32)
		wi := float64(float64(w[i]) * k.decay)
		mi := float64(k.beta1*float64(m[i])) + float64(k.oneMinusBeta1*gi)
		vi := float64(k.beta2*float64(v[i])) + float64(k.oneMinusBeta2*gi*gi)
		m[i], v[i] = float32(mi), float32(vi)
		denom := math.Sqrt(float64(v[i]))/k.bc2Sqrt + k.eps
		w[i] = float32(wi - float64(k.stepSize*float64(m[i]))/denom)
	}
}

// State returns a deep copy of the optimizer state for a checkpoint.
func (o *AdamW) State() AdamWState {
	st := AdamWState{Tensors: make(map[string]AdamWTensorState, len(o.slots))}
	for name, s := range o.slots {
		st.Tensors[name] = AdamWTensorState{
			Step:     s.Step,
			ExpAvg:   append([]float32(nil), s.ExpAvg...),
			ExpAvgSq: append([]float32(nil), s.ExpAvgSq...),
		}
	}
	return st
}

// LoadState replaces the optimizer state with a deep copy of st, as saved
// by State. It checks every tensor first and leaves the state unchanged on
// error.
func (o *AdamW) LoadState(st AdamWState) error {
	names := make([]string, 0, len(st.Tensors))
	for name := range st.Tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	slots := make(map[string]*AdamWTensorState, len(names))
	for _, name := range names {
		s := st.Tensors[name]
		if name == "" {
			return errors.New("adamw: load state: tensor with empty name")
		}
		if s.Step < 0 {
			return fmt.Errorf("adamw: load state: %s: negative step %d", name, s.Step)
		}
		if len(s.ExpAvg) != len(s.ExpAvgSq) {
			return fmt.Errorf("adamw: load state: %s: exp_avg has %d values but exp_avg_sq %d", name, len(s.ExpAvg), len(s.ExpAvgSq))
		}
		for i := range s.ExpAvg {
			m, v := float64(s.ExpAvg[i]), float64(s.ExpAvgSq[i])
			if math.IsNaN(m) || math.IsInf(m, 0) || !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("adamw: load state: %s: moments[%d] = (%v, %v) not finite or v < 0", name, i, m, v)
			}
		}
		slots[name] = &AdamWTensorState{
			Step:     s.Step,
			ExpAvg:   append([]float32(nil), s.ExpAvg...),
			ExpAvgSq: append([]float32(nil), s.ExpAvgSq...),
		}
	}
	o.slots = slots
	return nil
}

// ClipGlobalNorm scales grads in place so that their joint L2 norm is at
// most maxNorm, with torch.nn.utils.clip_grad_norm_ semantics: the scale is
// maxNorm/(norm + 1e-6), applied only when below 1. It returns the norm
// before clipping. A non-finite norm is returned with an error and the
// gradients are left as they are.
func ClipGlobalNorm(grads [][]float32, maxNorm float64) (float64, error) {
	if !(maxNorm > 0) {
		return 0, fmt.Errorf("adamw: clip: invalid max norm %v", maxNorm)
	}
	var sumSq float64
	for _, g := range grads {
		for _, x := range g {
			sumSq += float64(x) * float64(x)
		}
	}
	norm := math.Sqrt(sumSq)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, fmt.Errorf("adamw: clip: gradient norm is %v", norm)
	}
	scale := maxNorm / (norm + 1e-6)
	if scale >= 1 {
		return norm, nil
	}
	for _, g := range grads {
		for i, x := range g {
			g[i] = float32(float64(x) * scale)
		}
	}
	return norm, nil
}
