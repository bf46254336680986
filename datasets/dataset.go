package datasets

// Seq is a dense float32 array of N sequences, each T steps of D features,
// stored row-major: element (i, t, j) is Data[(i*T+t)*D+j].
type Seq struct {
	N, T, D int
	Data    []float32
}

// Row returns the T×D block of sequence i (a view into Data).
func (s Seq) Row(i int) []float32 {
	n := s.T * s.D
	return s.Data[i*n : (i+1)*n]
}

// Split is one split (train, valid or test) of a multimodal sentiment
// dataset held in memory, in the layout of an MMSA pickle (SPEC §9).
// Audio and vision are right-padded; AudioLen and VisionLen give the real
// lengths. Text comes as raw sentences, as token ids (TextIDs with the real
// length TextLen; [CLS] first, [SEP] last, [PAD]=0 after), and optionally as
// precomputed features (TextFeats, N×L×768 in MMSA files; Data is nil when
// absent or dropped).
type Split struct {
	Name      string
	IDs       []string
	RawText   []string
	Labels    []float32
	Audio     Seq
	Vision    Seq
	AudioLen  []int
	VisionLen []int
	TextIDs   [][]int32
	TextLen   []int
	TextFeats Seq
}

// Len is the number of samples in the split.
func (s *Split) Len() int { return len(s.Labels) }

// Dataset is the three splits of one corpus.
type Dataset struct {
	Name  string // e.g. "mosi", "mosei", "synthetic"
	Train *Split
	Valid *Split
	Test  *Split
}
