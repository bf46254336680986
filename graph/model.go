package graph

import (
	"fmt"

	"github.com/fdcmdie/fdcmdie/contrastive"
	"github.com/fdcmdie/fdcmdie/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Shape is the fixed batch shape a graph is built for: B rows, text length
// Lt, audio length La, vision length Lv.
type Shape struct{ B, Lt, La, Lv int }

// Model is FD-CMDIE as one expression graph (SPEC §2–6) for one batch
// shape. Its exported nodes are the graph's inputs and outputs.
type Model struct {
	Cfg   Config
	Shape Shape
	B     *layers.Builder

	// Inputs (SPEC §1). TextIDs is nil when Cfg.TextFeats, TextFeats
	// otherwise. The contrastive inputs exist only when WithCL.
	TextIDs, TextFeats, TextMask *G.Node
	Audio, AudioMask             *G.Node
	Vision, VisionMask           *G.Node
	Label, Weight                *G.Node
	Sim, Diff                    [3]*G.Node
	SimMask, DiffMask            *G.Node

	// Outputs.
	Pred  *G.Node    // ŷ [B]
	Loss  *G.Node    // L = MAE + λ_cl·L_cl [1]
	MAE   *G.Node    // weighted mean |y − ŷ| [1]
	LCL   *G.Node    // L_cl [1], nil without CL
	S, D  [3]*G.Node // pooled similarity and dissimilarity features s_m, d_m [B, d] (t, v, a)
	F     [3]*G.Node // pooled sequence features f_m [B, d]; r = [f_t; f_v; f_a] (eq. 8)
	Alpha []*G.Node  // GAP modality weights α [B, 3] per CMDIE layer
	Cost  *G.Node    // Σ Loss, the scalar that is differentiated

	WithCL bool
	// Features marks a graph built with Options.Features: only F and S.
	Features bool
}

// Options say how a graph is built.
type Options struct {
	Dtype tensor.Dtype // tensor.Float32 for the model; tensor.Float64 for gradient checks
	// Train adds dropout masks and WithCL the contrastive inputs and L_cl
	// (a training graph with Cfg.UsesCL()).
	Train, WithCL bool
	// FreezeText freezes the text encoder: no gradient, no optimizer state.
	FreezeText bool
	Seed       uint64 // parameter initialization
	// Share, when set, gives the graph Share's weights instead of new ones:
	// every parameter holds the tensor of Share's parameter of the same
	// name (graphs of one model for several batch shapes).
	Share *Model
	// Arena, when set, holds the working memory of the graph's kernels,
	// shared with the other graphs built with it; only one of them may run
	// at a time (layers.Arena).
	Arena *layers.Arena
	// DenseRows runs every step of the sequences, padding included, instead
	// of each sample's real steps only (layers.Builder.Rows): the same
	// numbers at every real step, at the cost of the padded length. For
	// checks of the row skipping.
	DenseRows bool
	// Features builds an evaluation graph of the memory bank's values only
	// (SPEC §3–4): the pooled sequence features F and the pooled similarity
	// features S, with the same numbers as the full graph gives them, but
	// without the dissimilarity encoders, the CMDIE stack, the head and
	// the loss (Pred, Loss, MAE, D and Alpha stay nil). At the paper's
	// sizes that is about a seventh of the forward's products.
	Features bool
}

// Build creates the model graph for one batch shape.
func Build(cfg Config, shape Shape, o Options) (*Model, error) {
	dt, train, withCL, seed := o.Dtype, o.Train, o.WithCL, o.Seed
	if dt == (tensor.Dtype{}) {
		dt = tensor.Float32
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if shape.B <= 0 || shape.Lt <= 0 || shape.La <= 0 || shape.Lv <= 0 {
		return nil, fmt.Errorf("graph: batch shape %+v must be positive", shape)
	}
	if withCL && !cfg.UsesCL() {
		return nil, fmt.Errorf("graph: contrastive inputs requested with no_cl or lambda_cl 0")
	}
	if o.Features && (train || withCL || cfg.TextOnly) {
		return nil, fmt.Errorf("graph: a features graph evaluates the memory bank's values: no training, no contrastive loss, not the text-only baseline")
	}
	b := layers.NewBuilder(dt, seed, train)
	if o.FreezeText {
		b.Freeze("text_encoder.")
	}
	if o.Share != nil {
		b.ShareParams(o.Share.B)
	}
	b.UseArena(o.Arena)
	b.DenseRows = o.DenseRows
	m := &Model{Cfg: cfg, Shape: shape, B: b, WithCL: withCL, Features: o.Features}
	m.build()
	if err := b.Err(); err != nil {
		return nil, err
	}
	if err := b.CheckHashes(); err != nil {
		return nil, err
	}
	return m, nil
}

// modules are FD-CMDIE's parts, created in checkpoint order (SPEC §7).
type modules struct {
	text                  layers.TextEncoder // nil with precomputed text features
	textProj              *layers.Linear
	audioLSTM, visionLSTM *layers.LSTM
	shared                *encoder
	private               [3]*encoder // t, v, a
	stack                 []cmdieLayer
	head                  *head
}

// cmdieLayer is one CMDIE layer: a DIPU per modality and the GAP that
// merges their global features (nil under --no-gap).
type cmdieLayer struct {
	dipu [3]*dipu
	gap  *gap
}

func newModules(b *layers.Builder, cfg Config) *modules {
	d, p := cfg.DModel, cfg.Dropout
	mods := &modules{}
	switch {
	case cfg.TextFeats:
	case cfg.TextEncoder == "bert":
		mods.text = layers.NewBert(b, "text_encoder.", cfg.BertConfig())
	default:
		mods.text = layers.NewNeoBERT(b, "text_encoder.", cfg.NeoBERT)
	}
	mods.textProj = layers.NewLinear(b, "text_proj", cfg.TextWidth(), d, true)
	if cfg.TextOnly {
		mods.head = newHead(b, d, d, p)
		return mods
	}
	mods.audioLSTM = layers.NewLSTM(b, "audio_lstm", cfg.AudioDim, d, 2, p)
	mods.visionLSTM = layers.NewLSTM(b, "vision_lstm", cfg.VisionDim, d, 2, p)
	mods.shared = newEncoder(b, "shared_enc", d, p)
	for i, mod := range modalities {
		mods.private[i] = newEncoder(b, "private_enc."+mod, d, p)
	}
	for l := 0; l < cfg.Layers && !cfg.NoCMDIE; l++ {
		var ly cmdieLayer
		for i, mod := range modalities {
			ly.dipu[i] = newDIPU(b, fmt.Sprintf("cmdie.%d.dipu.%s", l, mod), cfg)
		}
		if !cfg.NoGAP {
			ly.gap = newGAP(b, fmt.Sprintf("cmdie.%d.gap", l), d)
		}
		mods.stack = append(mods.stack, ly)
	}
	mods.head = newHead(b, 6*d, d, p)
	return mods
}

func (m *Model) build() {
	m.inputs()
	mods := newModules(m.B, m.Cfg)
	if m.Features {
		feats := m.extract(mods)
		for i := range modalities {
			m.F[i], m.S[i] = m.pools(mods, feats, i)
		}
		return
	}
	m.Pred = m.forward(mods)
	m.loss()
}

// inputs creates the data inputs of SPEC §1.
func (m *Model) inputs() {
	b, cfg, s := m.B, m.Cfg, m.Shape
	if cfg.TextFeats {
		m.TextFeats = b.Input("text_feats", s.B, s.Lt, cfg.TextDim)
	} else {
		m.TextIDs = b.Input("text_ids", s.B, s.Lt)
	}
	m.TextMask = b.Input("text_mask", s.B, s.Lt)
	m.Audio = b.Input("audio", s.B, s.La, cfg.AudioDim)
	m.AudioMask = b.Input("audio_mask", s.B, s.La)
	m.Vision = b.Input("vision", s.B, s.Lv, cfg.VisionDim)
	m.VisionMask = b.Input("vision_mask", s.B, s.Lv)
	m.Label = b.Input("label", s.B)
	m.Weight = b.Input("weight", s.B)
}

// forward is SPEC §2–6 and returns ŷ [B].
func (m *Model) forward(mods *modules) *G.Node {
	b := m.B
	if m.Cfg.TextOnly {
		ft := m.textFeatures(mods)
		return b.Must(G.Reshape(mods.head.fwd(b, layers.Pool(b, ft, m.TextMask)), []int{m.Shape.B}))
	}
	feats := m.extract(mods)
	// §3 Decoupling: S_m = Enc_shared(F_m), D_m = Enc_m(F_m) and their pools.
	masks := m.masks()
	var private [3]*G.Node // D_m [B, L_m, d]
	for i := range modalities {
		m.F[i], m.S[i] = m.pools(mods, feats, i)
		private[i] = mods.private[i].fwd(b, feats[i])
		m.D[i] = layers.Pool(b, private[i], masks[i])
	}
	// §5–6 The head reads z [B, 6d].
	var z *G.Node
	if m.Cfg.NoCMDIE {
		z = layers.Concat(b, 1, m.S[0], m.S[1], m.S[2], m.D[0], m.D[1], m.D[2])
	} else {
		z = m.cmdie(mods.stack, private)
	}
	return b.Must(G.Reshape(mods.head.fwd(b, z), []int{m.Shape.B}))
}

// textFeatures is F_t [B, Lt, d]: the text encoder's output (or the
// precomputed features) through text_proj.
func (m *Model) textFeatures(mods *modules) *G.Node {
	b := m.B
	textRaw := m.TextFeats // F_t_raw [B, Lt, H]
	if mods.text != nil {
		textRaw, _ = mods.text.Fwd(b, m.TextIDs, m.TextMask)
	}
	// Every sequence from here on is computed at each sample's real steps
	// only; its padded steps hold zeros and are read only through the
	// masks, with weight 0 (layers.Builder.Rows).
	return mods.textProj.Fwd(b, b.Rows(textRaw, m.TextMask))
}

// extract is §2 Feature extraction: F_t, F_v, F_a [B, L_m, d]. Each
// sample's LSTM stops at its last real step: everything after it is read
// only through the masks, with weight 0 (layers.LSTM.FwdMasked).
func (m *Model) extract(mods *modules) [3]*G.Node {
	b := m.B
	return [3]*G.Node{m.textFeatures(mods),
		b.Rows(mods.visionLSTM.FwdMasked(b, m.Vision, m.VisionMask), m.VisionMask),
		b.Rows(mods.audioLSTM.FwdMasked(b, m.Audio, m.AudioMask), m.AudioMask)}
}

// pools are modality i's f_i = pool(F_i) and s_i = pool(Enc_shared(F_i))
// [B, d], the memory bank's values (eq. 8, SPEC §3).
func (m *Model) pools(mods *modules, feats [3]*G.Node, i int) (f, s *G.Node) {
	b, mask := m.B, m.masks()[i]
	return layers.Pool(b, feats[i], mask), layers.Pool(b, mods.shared.fwd(b, feats[i]), mask)
}

// masks are the key masks of t, v, a.
func (m *Model) masks() [3]*G.Node { return [3]*G.Node{m.TextMask, m.VisionMask, m.AudioMask} }

// cmdie runs the CMDIE stack (SPEC §5) from G⁰ = [s_t; s_v; s_a] and the
// private sequences x, and returns the head input
// z = [flatten(G^k); pool(X_t^k); pool(X_v^k); pool(X_a^k)] [B, 6d].
func (m *Model) cmdie(stack []cmdieLayer, x [3]*G.Node) *G.Node {
	b, masks := m.B, m.masks()
	g := layers.Concat(b, 1, toToken(b, m.S[0]), toToken(b, m.S[1]), toToken(b, m.S[2])) // G⁰ [B, 3, d]
	for l, ly := range stack {
		var gs [3]*G.Node // G_t, G_v, G_a [B, 3, d]
		for i := range modalities {
			gs[i], x[i] = ly.dipu[i].fwd(b, g, x[i], masks[i])
		}
		if ly.gap != nil {
			var alpha *G.Node
			g, alpha = ly.gap.fwd(b, gs)
			m.Alpha = append(m.Alpha, alpha)
			continue
		}
		third := make([]float64, 3*m.Shape.B) // --no-gap: the plain mean
		for i := range third {
			third[i] = 1.0 / 3
		}
		g = layers.Mix(b, b.Constant(fmt.Sprintf("cmdie.%d.mean_weights", l), third, m.Shape.B, 3), gs[0], gs[1], gs[2])
	}
	return layers.Concat(b, 1, flatten(b, g),
		layers.Pool(b, x[0], masks[0]), layers.Pool(b, x[1], masks[1]), layers.Pool(b, x[2], masks[2]))
}

// loss is SPEC §6: L = MAE + λ_cl·L_cl (the MAE alone without the
// contrastive loss), and Cost = Σ L, the scalar that is differentiated.
func (m *Model) loss() {
	b, cfg, s := m.B, m.Cfg, m.Shape
	m.MAE = b.ApplyKernel(maeK{}, m.Pred, m.Label, m.Weight)
	m.Loss = m.MAE
	if m.WithCL {
		k, d := cfg.KCL, cfg.DModel
		for i, mod := range modalities {
			m.Sim[i] = b.Input("sim_"+mod, s.B, k, d)
			m.Diff[i] = b.Input("diff_"+mod, s.B, k, d)
		}
		m.SimMask = b.Input("sim_mask", s.B, k)
		m.DiffMask = b.Input("diff_mask", s.B, k)
		m.LCL = contrastive.Loss(b, contrastive.LossConfig{Tau: cfg.Tau, Margin: cfg.Margin, LambdaTri: cfg.LambdaTri},
			contrastive.Inputs{S: m.S, D: m.D, Sim: m.Sim, Diff: m.Diff, SimMask: m.SimMask, DiffMask: m.DiffMask, Weight: m.Weight})
		m.Loss = layers.Mix(b, b.Constant("loss_weights", []float64{1, cfg.LambdaCL}, 1, 2), m.MAE, m.LCL)
	}
	m.Cost = b.Must(G.Sum(m.Loss))
}

// toToken reshapes a pooled vector [B, d] into one token [B, 1, d].
func toToken(b *layers.Builder, x *G.Node) *G.Node {
	s := x.Shape()
	return b.Must(G.Reshape(x, []int{s[0], 1, s[1]}))
}
