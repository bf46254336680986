package datasets

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// maxExactID is 2^24, the first integer float32 cannot tell from its
// neighbour; Batch.TextIDs holds ids as float32.
const maxExactID = 1 << 24

// BatchOptions sets the fixed shape of the batches a Batcher makes.
type BatchOptions struct {
	Size      int  // rows per batch, B ≥ 1 (MOSI 32, MOSEI 16)
	TextFeats bool // feed precomputed text features (Split.TextFeats) instead of token ids
	// Fixed sequence lengths; 0 takes the split's own: the widest TextIDs
	// row or TextFeats.T, Audio.T, Vision.T.
	Lt, La, Lv int
}

// Batcher cuts a split into fixed-shape batches (SPEC §1).
//
// Row r of a batch is sample Index[r] of the split. Steps past a sample's
// length (TextLen, AudioLen, VisionLen) are zero in the batch, with mask 0,
// whatever the split holds there. A sequence longer than the batch's fixed
// length is truncated to it: audio, vision and text features keep their first
// steps; token ids keep their first Lt−1 ids and end with the row's last real
// id ([SEP]), as the tokenizer truncates. The masks then cover the whole
// length.
//
// A Batcher reads the split it was made from on every batch: the split's
// values may change (standardization), its shapes, lengths and ids must not.
type Batcher struct {
	s          *Split
	size       int
	feats      bool
	lt, la, lv int
	ht, da, dv int
}

// NewBatcher checks that s can be batched with opts (labels finite, the
// arrays' shapes consistent, every length within its array, token ids or text
// features present as opts asks) and fixes the batch shape.
func NewBatcher(s *Split, opts BatchOptions) (*Batcher, error) {
	if s == nil {
		return nil, errors.New("datasets: batcher: nil split")
	}
	if opts.Size < 1 {
		return nil, fmt.Errorf("datasets: %s: batch size %d: must be at least 1", s.Name, opts.Size)
	}
	if opts.Lt < 0 || opts.La < 0 || opts.Lv < 0 {
		return nil, fmt.Errorf("datasets: %s: negative sequence length (Lt %d, La %d, Lv %d)", s.Name, opts.Lt, opts.La, opts.Lv)
	}
	n := s.Len()
	if n == 0 {
		return nil, fmt.Errorf("datasets: %s: no samples", s.Name)
	}
	for i, y := range s.Labels {
		if f := float64(y); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("datasets: %s/labels: value %v at row %d", s.Name, y, i)
		}
	}
	if err := checkSeq(s, "audio", s.Audio, s.AudioLen); err != nil {
		return nil, err
	}
	if err := checkSeq(s, "vision", s.Vision, s.VisionLen); err != nil {
		return nil, err
	}
	b := &Batcher{
		s: s, size: opts.Size, feats: opts.TextFeats,
		lt: opts.Lt, la: opts.La, lv: opts.Lv,
		da: s.Audio.D, dv: s.Vision.D,
	}
	if b.la == 0 {
		b.la = s.Audio.T
	}
	if b.lv == 0 {
		b.lv = s.Vision.T
	}
	var err error
	if opts.TextFeats {
		err = b.checkTextFeats()
	} else {
		err = b.checkTextIDs()
	}
	if err != nil {
		return nil, err
	}
	for _, m := range []struct {
		key string
		l   int
	}{{"text", b.lt}, {"audio", b.la}, {"vision", b.lv}} {
		if m.l == 0 {
			return nil, fmt.Errorf("datasets: %s/%s: sequence length 0", s.Name, m.key)
		}
	}
	return b, nil
}

// checkTextFeats checks TextFeats against TextLen and takes Lt and Ht.
func (b *Batcher) checkTextFeats() error {
	s := b.s
	if s.TextFeats.Data == nil {
		return fmt.Errorf("datasets: %s/text: no precomputed text features (absent or dropped); batch token ids instead", s.Name)
	}
	if err := checkSeq(s, "text", s.TextFeats, s.TextLen); err != nil {
		return err
	}
	b.ht = s.TextFeats.D
	if b.lt == 0 {
		b.lt = s.TextFeats.T
	}
	return nil
}

// checkTextIDs checks TextIDs against TextLen and takes Lt.
func (b *Batcher) checkTextIDs() error {
	s := b.s
	if len(s.TextIDs) != s.Len() || len(s.TextLen) != s.Len() {
		return fmt.Errorf("datasets: %s/text_ids: %d id rows and %d lengths for %d samples (tokenize the split first)",
			s.Name, len(s.TextIDs), len(s.TextLen), s.Len())
	}
	width := 0
	for i, row := range s.TextIDs {
		if l := s.TextLen[i]; l < 0 || l > len(row) {
			return fmt.Errorf("datasets: %s/text_ids: length %d outside [0, %d] at row %d", s.Name, l, len(row), i)
		}
		for t, id := range row[:s.TextLen[i]] {
			if id < 0 || id >= maxExactID {
				return fmt.Errorf("datasets: %s/text_ids: id %d at row %d, position %d outside [0, 2^24)", s.Name, id, i, t)
			}
		}
		width = max(width, len(row))
	}
	if b.lt == 0 {
		b.lt = width
	}
	if b.lt == 1 {
		return fmt.Errorf("datasets: %s/text_ids: sequence length 1: token ids need at least 2 ([CLS] and [SEP])", s.Name)
	}
	return nil
}

// Options returns the batch shape: the options given to NewBatcher with
// the zero lengths replaced by the ones taken from the split.
func (b *Batcher) Options() BatchOptions {
	return BatchOptions{Size: b.size, TextFeats: b.feats, Lt: b.lt, La: b.la, Lv: b.lv}
}

// NumBatches is the number of batches in one epoch, ⌈N / Size⌉.
func (b *Batcher) NumBatches() int { return (b.s.Len() + b.size - 1) / b.size }

// NewBatch allocates a batch of the Batcher's shape, all padding.
func (b *Batcher) NewBatch() *Batch {
	dst := &Batch{}
	b.fill(dst, nil)
	return dst
}

// Fill writes the samples idx into dst: row r is sample idx[r], or padding
// where idx[r] is −1 and for the rows past len(idx). dst's slices are reused
// when they are large enough and reallocated otherwise; every element is
// written, so a batch can be refilled. It is an error when len(idx) > Size or
// an index is outside [0, N) and not −1; dst is then not touched.
func (b *Batcher) Fill(dst *Batch, idx []int) error {
	if dst == nil {
		return fmt.Errorf("datasets: %s: nil batch", b.s.Name)
	}
	if len(idx) > b.size {
		return fmt.Errorf("datasets: %s: %d indices for batch size %d", b.s.Name, len(idx), b.size)
	}
	for r, i := range idx {
		if i < -1 || i >= b.s.Len() {
			return fmt.Errorf("datasets: %s: index %d at batch row %d outside [0, %d)", b.s.Name, i, r, b.s.Len())
		}
	}
	b.fill(dst, idx)
	return nil
}

// fill is Fill on indices known to be valid.
func (b *Batcher) fill(dst *Batch, idx []int) {
	s := b.s
	dst.B, dst.Lt, dst.La, dst.Lv = b.size, b.lt, b.la, b.lv
	dst.Ht, dst.Da, dst.Dv = b.ht, b.da, b.dv
	dst.Index = resize(dst.Index, b.size)
	if b.feats {
		dst.TextIDs = nil
		dst.TextFeats = resize(dst.TextFeats, b.size*b.lt*b.ht)
	} else {
		dst.TextIDs = resize(dst.TextIDs, b.size*b.lt)
		dst.TextFeats = nil
	}
	dst.TextMask = resize(dst.TextMask, b.size*b.lt)
	dst.Audio = resize(dst.Audio, b.size*b.la*b.da)
	dst.AudioMask = resize(dst.AudioMask, b.size*b.la)
	dst.Vision = resize(dst.Vision, b.size*b.lv*b.dv)
	dst.VisionMask = resize(dst.VisionMask, b.size*b.lv)
	dst.Label = resize(dst.Label, b.size)
	dst.Weight = resize(dst.Weight, b.size)

	for r := range b.size {
		i := -1
		if r < len(idx) {
			i = idx[r]
		}
		tMask := dst.TextMask[r*b.lt : (r+1)*b.lt]
		aMask := dst.AudioMask[r*b.la : (r+1)*b.la]
		vMask := dst.VisionMask[r*b.lv : (r+1)*b.lv]
		audio := dst.Audio[r*b.la*b.da : (r+1)*b.la*b.da]
		vision := dst.Vision[r*b.lv*b.dv : (r+1)*b.lv*b.dv]
		var ids, feats []float32
		if b.feats {
			feats = dst.TextFeats[r*b.lt*b.ht : (r+1)*b.lt*b.ht]
		} else {
			ids = dst.TextIDs[r*b.lt : (r+1)*b.lt]
		}
		dst.Index[r] = i
		if i < 0 {
			for _, xs := range [][]float32{tMask, aMask, vMask, audio, vision, ids, feats} {
				clear(xs)
			}
			dst.Label[r], dst.Weight[r] = 0, 0
			continue
		}
		dst.Label[r], dst.Weight[r] = s.Labels[i], 1
		if b.feats {
			copySteps(feats, tMask, s.TextFeats.Row(i), s.TextLen[i], b.ht)
		} else {
			copyIDs(ids, tMask, s.TextIDs[i][:s.TextLen[i]])
		}
		copySteps(audio, aMask, s.Audio.Row(i), s.AudioLen[i], b.da)
		copySteps(vision, vMask, s.Vision.Row(i), s.VisionLen[i], b.dv)
	}
}

// copySteps writes the first min(n, len(mask)) steps of src (d features a
// step) to dst with mask 1, and zeros with mask 0 after them.
func copySteps(dst, mask, src []float32, n, d int) {
	n = min(n, len(mask))
	copy(dst, src[:n*d])
	clear(dst[n*d:])
	setMask(mask, n)
}

// copyIDs writes the real ids of one row to dst as float32 with mask 1 and
// pads with [PAD] = 0 and mask 0; a row longer than dst keeps its first
// len(dst)−1 ids and its last id ([SEP]).
func copyIDs(dst, mask []float32, ids []int32) {
	n := len(ids)
	if n > len(dst) {
		for t := range dst[:len(dst)-1] {
			dst[t] = float32(ids[t])
		}
		dst[len(dst)-1] = float32(ids[n-1])
		setMask(mask, len(dst))
		return
	}
	for t, id := range ids {
		dst[t] = float32(id)
	}
	clear(dst[n:])
	setMask(mask, n)
}

// setMask sets the first n entries of mask to 1 and the rest to 0.
func setMask(mask []float32, n int) {
	for t := range mask[:n] {
		mask[t] = 1
	}
	clear(mask[n:])
}

// resize returns buf with length n, reusing its storage when it can.
func resize[T any](buf []T, n int) []T {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]T, n)
}

// Epoch is one pass over a split: every sample in exactly one batch, the
// last batch filled up with padding rows.
type Epoch struct {
	b     *Batcher
	order []int
	next  int
}

// Epoch starts a pass over the split in the order of a permutation drawn
// from rng (rng.Perm), or in split order when rng is nil. The same rng state
// gives the same order.
func (b *Batcher) Epoch(rng *rand.Rand) *Epoch {
	var order []int
	if rng != nil {
		order = rng.Perm(b.s.Len())
	} else {
		order = make([]int, b.s.Len())
		for i := range order {
			order[i] = i
		}
	}
	return &Epoch{b: b, order: order}
}

// Next fills dst (not nil) with the next batch (see Fill) and reports
// whether there was one; after the last batch it returns false and leaves
// dst alone.
// Reusing one dst for the whole epoch allocates nothing after the first
// call.
func (e *Epoch) Next(dst *Batch) bool {
	if e.next >= len(e.order) {
		return false
	}
	end := min(e.next+e.b.size, len(e.order))
	e.b.fill(dst, e.order[e.next:end])
	e.next = end
	return true
}
