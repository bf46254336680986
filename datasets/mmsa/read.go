package mmsa

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fdcmdie/fdcmdie/datasets"
)

// Options control Read.
type Options struct {
	// DropTextFeats skips the precomputed BERT features (`text`,
	// N×L×768) unread: Split.TextFeats stays empty. The model computes
	// its own text features from text_bert, and on MOSEI these features
	// alone are 2.5 GB.
	DropTextFeats bool
	// Name is the Dataset's name; empty guesses it from the path
	// ("mosei", "mosi", else the file's base name).
	Name string
	// Vocab, when positive, is the text encoder's vocabulary size: a
	// text_bert id ≥ Vocab within a sample's length is an error naming the
	// split, the sample and the id, in every split, before any training.
	Vocab int
}

// Report says what Read changed or found doubtful in the data. Map keys
// are "split/key", e.g. "train/audio".
type Report struct {
	NaN      map[string]int // NaNs set to 0
	NegInf   map[string]int // −inf set to 0 (audio only, as MMSA does)
	Warnings []string       // padding not at the end, text mask with holes, values above FeatureBound, ...
}

// FeatureBound is the magnitude above which a feature value is reported as
// a warning: standardized MMSA features (COVAREP, Facet, BERT) stay far
// below it, and values near float32's limit overflow the model's sums.
const FeatureBound = 1e6

func newReport() *Report {
	return &Report{NaN: map[string]int{}, NegInf: map[string]int{}}
}

func (r *Report) warnf(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// String lists the report's non-zero counts and warnings, one per line.
func (r *Report) String() string {
	var lines []string
	for _, c := range []struct {
		what string
		m    map[string]int
	}{{"NaN set to 0", r.NaN}, {"-inf set to 0", r.NegInf}} {
		keys := make([]string, 0, len(c.m))
		for k := range c.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			lines = append(lines, fmt.Sprintf("%s: %d %s", k, c.m[k], c.what))
		}
	}
	return strings.Join(append(lines, r.Warnings...), "\n")
}

// Read loads an MMSA pickle (aligned_50.pkl or unaligned_50.pkl; SPEC §9)
// into memory. See ReadReport for what is cleaned and checked.
func Read(path string, opts Options) (*datasets.Dataset, error) {
	d, _, err := ReadReport(path, opts)
	return d, err
}

// ReadReport is Read that also returns the Report of what was cleaned:
// features become float32, audio −inf becomes 0 and NaN becomes 0
// (counted), lengths come from audio_lengths/vision_lengths or, in aligned
// files, from the text mask; rows whose padding is not all zero are
// reported. Missing splits or keys, wrong shapes, lengths outside [0, T]
// and labels outside [-3, 3] are errors naming the file, split and key.
func ReadReport(path string, opts Options) (*datasets.Dataset, *Report, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, fmt.Errorf("mmsa: %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("mmsa: %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, nil, fmt.Errorf("mmsa: %s: is a directory, not a pickle file (e.g. unaligned_50.pkl)", path)
	}
	if opts.Name == "" {
		opts.Name = guessName(path)
	}
	return Decode(f, st.Size(), path, opts)
}

func guessName(path string) string {
	low := strings.ToLower(path)
	switch {
	case strings.Contains(low, "mosei"):
		return "mosei"
	case strings.Contains(low, "mosi"):
		return "mosi"
	}
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// Decode reads an MMSA pickle of size bytes from r; name is the file name
// used in errors. Payload sizes claimed by the pickle are capped by size,
// so a corrupt header cannot make it allocate more than the file holds.
func Decode(r io.Reader, size int64, name string, opts Options) (*datasets.Dataset, *Report, error) {
	if size == 0 {
		return nil, nil, fmt.Errorf("mmsa: %s: empty file", name)
	}
	var skip skipFunc
	if opts.DropTextFeats {
		skip = func(key string) bool { return key == "text" }
	}
	root, err := unpickle(r, size, skip)
	if err != nil {
		return nil, nil, fmt.Errorf("mmsa: %s: %w", name, err)
	}
	top, ok := root.(*dict)
	if !ok {
		return nil, nil, fmt.Errorf("mmsa: %s: top level is a %s, not a dict of splits", name, typeName(root))
	}
	rep := newReport()
	ds := &datasets.Dataset{Name: opts.Name}
	for _, s := range []struct {
		name string
		dst  **datasets.Split
	}{{"train", &ds.Train}, {"valid", &ds.Valid}, {"test", &ds.Test}} {
		v, ok := top.get(s.name)
		if !ok {
			return nil, nil, fmt.Errorf("mmsa: %s: missing split %s", name, s.name)
		}
		d, ok := v.(*dict)
		if !ok {
			return nil, nil, fmt.Errorf("mmsa: %s: %s: is a %s, not a dict", name, s.name, typeName(v))
		}
		sp, err := convertSplit(s.name, d, opts, rep)
		if err != nil {
			return nil, nil, fmt.Errorf("mmsa: %s: %w", name, err)
		}
		*s.dst = sp
	}
	return ds, rep, nil
}

// knownKeys are the keys of an MMSA split dict.
var knownKeys = map[string]bool{
	"raw_text": true, "id": true, "audio": true, "vision": true, "text": true,
	"text_bert": true, "regression_labels": true, "classification_labels": true,
	"annotations": true, "audio_lengths": true, "vision_lengths": true,
}

func isKnownKey(s string) bool { return knownKeys[s] }

// splitReader fetches and checks the keys of one split dict; errors name
// "split/key".
type splitReader struct {
	split string
	d     *dict
	rep   *Report
}

func (s *splitReader) errf(key, format string, args ...any) error {
	return fmt.Errorf("%s/%s: %s", s.split, key, fmt.Sprintf(format, args...))
}

func (s *splitReader) get(key string) (any, error) {
	v, ok := s.d.get(key)
	if !ok {
		return nil, s.errf(key, "missing key")
	}
	return v, nil
}

// array fetches key as an ndarray of the given rank whose first dimension
// is n (n < 0: any).
func (s *splitReader) array(key string, rank, n int) (*ndarray, error) {
	v, err := s.get(key)
	if err != nil {
		return nil, err
	}
	a, ok := v.(*ndarray)
	if !ok || !a.built {
		return nil, s.errf(key, "is a %s, not a numpy array", typeName(v))
	}
	if a.dropped && key != "text" {
		return nil, s.errf(key, "array data was skipped as text features")
	}
	if len(a.shape) != rank {
		return nil, s.errf(key, "shape %v is not %d-D", a.shape, rank)
	}
	if n >= 0 && a.shape[0] != n {
		return nil, s.errf(key, "%d rows but regression_labels has %d", a.shape[0], n)
	}
	return a, nil
}

// floats fetches key as a float array of the given rank and n rows.
func (s *splitReader) floats(key string, rank, n int) (*ndarray, error) {
	a, err := s.array(key, rank, n)
	if err != nil {
		return nil, err
	}
	if a.dt.kind != 'f' {
		return nil, s.errf(key, "dtype %s is not float", a.dt)
	}
	return a, nil
}

// seq fetches a [N, T, D] feature array and cleans it: NaN → 0, and for
// audio −inf → 0, counting both in the report. Any other infinity is an
// error; values above FeatureBound are a warning.
func (s *splitReader) seq(key string, n int) (datasets.Seq, error) {
	a, err := s.floats(key, 3, n)
	if err != nil {
		return datasets.Seq{}, err
	}
	if a.dropped {
		return datasets.Seq{}, nil
	}
	q := datasets.Seq{N: a.shape[0], T: a.shape[1], D: a.shape[2], Data: a.f32}
	var nan, negInf, big int
	var peak float64
	for i, x := range q.Data {
		switch {
		case x != x:
			q.Data[i] = 0
			nan++
		case math.IsInf(float64(x), -1) && key == "audio":
			q.Data[i] = 0
			negInf++
		case math.IsInf(float64(x), 0):
			row, step := i/(q.T*q.D), i/q.D%q.T
			return datasets.Seq{}, s.errf(key, "value %v at row %d, step %d, feature %d is not finite", x, row, step, i%q.D)
		case math.Abs(float64(x)) > FeatureBound:
			big++
			peak = max(peak, math.Abs(float64(x)))
		}
	}
	at := s.split + "/" + key
	if nan > 0 {
		s.rep.NaN[at] += nan
	}
	if negInf > 0 {
		s.rep.NegInf[at] += negInf
	}
	if big > 0 {
		s.rep.warnf("%s: %d values above %g in magnitude (up to %.3g): check the features' scale", at, big, float64(FeatureBound), peak)
	}
	return q, nil
}

// strs fetches key as N strings: a list of str or a U/O array.
func (s *splitReader) strs(key string, n int) ([]string, error) {
	return items(s, key, n, "str", "a str", func(x *ndarray) ([]string, error) {
		if len(x.shape) != 1 {
			return nil, s.errf(key, "shape %v is not 1-D", x.shape)
		}
		if x.strs != nil || x.dt.kind == 'U' {
			return x.strs, nil
		}
		return typed[string](s, key, x.objs, "a str")
	})
}

// ints fetches key as N integers from a list of int or an integer array.
func (s *splitReader) ints(key string, n int) ([]int64, error) {
	return items(s, key, n, "int", "an int", func(x *ndarray) ([]int64, error) {
		if len(x.shape) != 1 || x.dt.kind != 'i' {
			return nil, s.errf(key, "array of shape %v and dtype %s is not a 1-D integer array", x.shape, x.dt)
		}
		return x.i64, nil
	})
}

// items fetches key as N values of type T: the items of a list, or what
// fromArray takes out of an array. elem and noun name T in errors ("int",
// "an int").
func items[T any](s *splitReader, key string, n int, elem, noun string, fromArray func(*ndarray) ([]T, error)) ([]T, error) {
	v, err := s.get(key)
	if err != nil {
		return nil, err
	}
	var out []T
	switch x := v.(type) {
	case *list:
		out, err = typed[T](s, key, x.items, noun)
	case *ndarray:
		out, err = fromArray(x)
	default:
		return nil, s.errf(key, "is a %s, not a list or array of %s", typeName(v), elem)
	}
	if err != nil {
		return nil, err
	}
	if len(out) != n {
		return nil, s.errf(key, "%d items but regression_labels has %d", len(out), n)
	}
	return out, nil
}

// typed returns the Python objects vs as T values, or an error naming the
// first item that is not one (noun: "a str").
func typed[T any](s *splitReader, key string, vs []any, noun string) ([]T, error) {
	out := make([]T, len(vs))
	for i, v := range vs {
		t, ok := v.(T)
		if !ok {
			return nil, s.errf(key, "item %d is a %s, not %s", i, typeName(v), noun)
		}
		out[i] = t
	}
	return out, nil
}

// intAt reads element i of an integer array, or of a float array whose
// values are whole numbers (some MMSA files store text_bert as float).
func intAt(a *ndarray, i int) (int64, bool) {
	if a.dt.kind == 'i' {
		return a.i64[i], true
	}
	x := float64(a.f32[i])
	if x != math.Trunc(x) || math.Abs(x) > 1<<31 {
		return 0, false
	}
	return int64(x), true
}

func convertSplit(name string, d *dict, opts Options, rep *Report) (*datasets.Split, error) {
	s := &splitReader{split: name, d: d, rep: rep}
	sp := &datasets.Split{Name: name}

	lab, err := s.floats("regression_labels", 1, -1)
	if err != nil {
		return nil, err
	}
	n := lab.shape[0]
	for i, y := range lab.f32 {
		if !(y >= -3 && y <= 3) {
			return nil, s.errf("regression_labels", "label %v outside [-3, 3] at row %d", y, i)
		}
	}
	sp.Labels = lab.f32

	if sp.IDs, err = s.strs("id", n); err != nil {
		return nil, err
	}
	if sp.RawText, err = s.strs("raw_text", n); err != nil {
		return nil, err
	}
	if err := s.textBert(sp, n); err != nil {
		return nil, err
	}
	if err := s.checkVocab(sp, opts.Vocab); err != nil {
		return nil, err
	}
	if sp.Audio, err = s.seq("audio", n); err != nil {
		return nil, err
	}
	if sp.Vision, err = s.seq("vision", n); err != nil {
		return nil, err
	}
	if _, ok := d.get("text"); ok {
		if opts.DropTextFeats {
			// Large payloads were skipped while reading; small ones are
			// dropped here. The shape is checked either way.
			if _, err := s.floats("text", 3, n); err != nil {
				return nil, err
			}
		} else if sp.TextFeats, err = s.seq("text", n); err != nil {
			return nil, err
		}
	}
	if err := s.lengths(sp, n); err != nil {
		return nil, err
	}
	s.checkPadding("audio", sp.Audio, sp.AudioLen)
	s.checkPadding("vision", sp.Vision, sp.VisionLen)
	return sp, nil
}

// textBert splits text_bert [N, 3, L] into ids (row 0) and the length
// (the sum of the mask, row 1).
func (s *splitReader) textBert(sp *datasets.Split, n int) error {
	const key = "text_bert"
	a, err := s.array(key, 3, n)
	if err != nil {
		return err
	}
	if a.dt.kind != 'i' && a.dt.kind != 'f' {
		return s.errf(key, "dtype %s is not numeric", a.dt)
	}
	if a.shape[1] != 3 {
		return s.errf(key, "shape %v is not [N, 3, L]", a.shape)
	}
	l := a.shape[2]
	ids := make([]int32, n*l)
	sp.TextIDs = make([][]int32, n)
	sp.TextLen = make([]int, n)
	holes, firstHole := 0, -1
	for i := range n {
		base := i * 3 * l
		hole := false
		for t := range l {
			id, ok := intAt(a, base+t)
			if !ok || id < 0 || id > math.MaxInt32 {
				return s.errf(key, "token id at row %d, position %d is not a valid id", i, t)
			}
			ids[i*l+t] = int32(id)
			m, ok := intAt(a, base+l+t)
			if !ok || (m != 0 && m != 1) {
				return s.errf(key, "attention mask at row %d, position %d is not 0 or 1", i, t)
			}
			if m == 1 {
				hole = hole || sp.TextLen[i] < t
				sp.TextLen[i]++
			}
		}
		if hole {
			if holes == 0 {
				firstHole = i
			}
			holes++
		}
		sp.TextIDs[i] = ids[i*l : (i+1)*l : (i+1)*l]
	}
	if holes > 0 {
		s.rep.warnf("%s/%s: %d rows have an attention mask with holes, padding is not at the end (first: row %d)", s.split, key, holes, firstHole)
	}
	return nil
}

// checkVocab refuses a token id the text encoder has no embedding for
// (vocab ≤ 0: no check).
func (s *splitReader) checkVocab(sp *datasets.Split, vocab int) error {
	if vocab <= 0 {
		return nil
	}
	for i, row := range sp.TextIDs {
		for t, id := range row[:sp.TextLen[i]] {
			if int(id) >= vocab {
				return s.errf("text_bert", "sample %q (row %d): token id %d at position %d is outside the text encoder's vocabulary of %d ids",
					sp.IDs[i], i, id, t, vocab)
			}
		}
	}
	return nil
}

// lengths sets AudioLen and VisionLen from the *_lengths keys, or in
// aligned files (which have neither) from the text length.
func (s *splitReader) lengths(sp *datasets.Split, n int) error {
	_, hasA := s.d.get("audio_lengths")
	_, hasV := s.d.get("vision_lengths")
	if hasA != hasV {
		missing := "vision_lengths"
		if hasV {
			missing = "audio_lengths"
		}
		return s.errf(missing, "missing key (the other modality has lengths)")
	}
	for _, m := range []struct {
		key string
		seq datasets.Seq
		dst *[]int
	}{{"audio_lengths", sp.Audio, &sp.AudioLen}, {"vision_lengths", sp.Vision, &sp.VisionLen}} {
		if !hasA {
			for i, l := range sp.TextLen {
				if l > m.seq.T {
					return s.errf(strings.TrimSuffix(m.key, "_lengths"), "aligned file: text length %d > %d steps at row %d", l, m.seq.T, i)
				}
			}
			*m.dst = append([]int(nil), sp.TextLen...)
			continue
		}
		raw, err := s.ints(m.key, n)
		if err != nil {
			return err
		}
		out := make([]int, n)
		for i, l := range raw {
			if l < 0 {
				return s.errf(m.key, "length %d < 0 at row %d", l, i)
			}
			if l > int64(m.seq.T) {
				return s.errf(m.key, "length %d > %d at row %d", l, m.seq.T, i)
			}
			out[i] = int(l)
		}
		*m.dst = out
	}
	return nil
}

// checkPadding reports rows with non-zero values past their length.
func (s *splitReader) checkPadding(key string, q datasets.Seq, lens []int) {
	bad, first := 0, -1
	for i := range q.N {
		row := q.Row(i)
		for _, x := range row[lens[i]*q.D:] {
			if x != 0 {
				if first < 0 {
					first = i
				}
				bad++
				break
			}
		}
	}
	if bad > 0 {
		s.rep.warnf("%s/%s: %d rows have non-zero values past their length, padding is not at the end (first: row %d, length %d of %d)",
			s.split, key, bad, first, lens[first], q.T)
	}
}
