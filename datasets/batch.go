package datasets

// Batch is one fixed-shape batch as the model graph consumes it (SPEC §1).
// Every slice is row-major float32; masks are 1 for a real step and 0 for
// padding. The last batch of a split is filled up with padding rows whose
// Index is −1 and Weight 0, so every sample is evaluated exactly once and
// padding weighs nothing in loss and metrics.
type Batch struct {
	B          int   // rows
	Lt, La, Lv int   // sequence lengths
	Ht         int   // text feature width (0 when token ids are used)
	Da, Dv     int   // audio and vision feature widths
	Index      []int // [B] sample index in the split, −1 for padding

	TextIDs    []float32 // [B, Lt] token ids (nil when TextFeats is used)
	TextFeats  []float32 // [B, Lt, Ht] precomputed text features (nil when ids are used)
	TextMask   []float32 // [B, Lt]
	Audio      []float32 // [B, La, Da]
	AudioMask  []float32 // [B, La]
	Vision     []float32 // [B, Lv, Dv]
	VisionMask []float32 // [B, Lv]
	Label      []float32 // [B]
	Weight     []float32 // [B] 1 real, 0 padding
}
