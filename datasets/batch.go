package datasets

import "fmt"

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

// RealLengths returns, per modality, the number of leading steps that hold
// every real step (mask ≠ 0) of the batch's weighted rows: the steps after
// it are padding in every row that counts. A weighted row with no real step
// in a modality gives that modality's full length: attention over a fully
// masked key sequence is uniform over all of its steps, so cutting would
// change that row's output. Rows of weight 0 (padding rows) count for
// nothing; their outputs may change when the batch is cut. The lengths are
// at least 1.
func (b *Batch) RealLengths() (lt, la, lv int) {
	return realLength(b.TextMask, b.Weight, b.Lt), realLength(b.AudioMask, b.Weight, b.La), realLength(b.VisionMask, b.Weight, b.Lv)
}

func realLength(mask, weight []float32, steps int) int {
	n := 1
	for r, w := range weight {
		if w == 0 {
			continue
		}
		last := -1
		for t, m := range mask[r*steps : (r+1)*steps] {
			if m != 0 {
				last = t
			}
		}
		if last < 0 {
			return steps
		}
		n = max(n, last+1)
	}
	return n
}

// Cut writes into dst the batch cut to its first lt, la and lv steps per
// modality (each between 1 and the batch's length): the same rows, labels
// and weights, each sequence's leading steps. dst's slices are reused when
// they are large enough; dst must not be b.
func (b *Batch) Cut(dst *Batch, lt, la, lv int) error {
	if dst == b {
		return fmt.Errorf("datasets: cut into the batch itself")
	}
	if lt < 1 || lt > b.Lt || la < 1 || la > b.La || lv < 1 || lv > b.Lv {
		return fmt.Errorf("datasets: cut to Lt %d, La %d, Lv %d: outside [1, %d], [1, %d], [1, %d]", lt, la, lv, b.Lt, b.La, b.Lv)
	}
	*dst = Batch{B: b.B, Lt: lt, La: la, Lv: lv, Ht: b.Ht, Da: b.Da, Dv: b.Dv,
		Index: append(dst.Index[:0], b.Index...), Label: append(dst.Label[:0], b.Label...), Weight: append(dst.Weight[:0], b.Weight...),
		TextIDs: cutSteps(dst.TextIDs, b.TextIDs, b.B, b.Lt, lt, 1), TextFeats: cutSteps(dst.TextFeats, b.TextFeats, b.B, b.Lt, lt, b.Ht),
		TextMask: cutSteps(dst.TextMask, b.TextMask, b.B, b.Lt, lt, 1),
		Audio:    cutSteps(dst.Audio, b.Audio, b.B, b.La, la, b.Da), AudioMask: cutSteps(dst.AudioMask, b.AudioMask, b.B, b.La, la, 1),
		Vision: cutSteps(dst.Vision, b.Vision, b.B, b.Lv, lv, b.Dv), VisionMask: cutSteps(dst.VisionMask, b.VisionMask, b.B, b.Lv, lv, 1)}
	return nil
}

// cutSteps copies the first n of the steps steps (d values each) of every
// one of rows rows of src into buf, resized; a nil src gives nil.
func cutSteps(buf, src []float32, rows, steps, n, d int) []float32 {
	if src == nil {
		return nil
	}
	buf = resize(buf, rows*n*d)
	for r := 0; r < rows; r++ {
		copy(buf[r*n*d:(r+1)*n*d], src[r*steps*d:(r*steps+n)*d])
	}
	return buf
}
