package mmsa

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fdcmdie/fdcmdie/datasets"
)

// fixtureDir is /work/shared/fixtures seen from this package's directory.
const fixtureDir = "../../../shared/fixtures"

// keyFacts and splitFacts mirror what testdata/dump_expected.py writes
// from numpy's reading of each file.
type keyFacts struct {
	Shape          []int
	Dtype          string
	NaN            [][]int `json:"nan"`
	NegInf         [][]int `json:"neginf"`
	Sum            float64
	AbsSum         float64 `json:"abs_sum"`
	Picks          [][2]json.RawMessage
	BadPaddingRows int `json:"bad_padding_rows"`
}

type splitFacts struct {
	N             int
	Labels        []float64
	IDs           []string
	RawText       []string `json:"raw_text"`
	TextBertShape []int    `json:"text_bert_shape"`
	TextBertDtype string   `json:"text_bert_dtype"`
	TextIDs       [][]int  `json:"text_ids"`
	TextLen       []int    `json:"text_len"`
	LengthsKind   string   `json:"lengths_kind"`
	AudioLengths  []int    `json:"audio_lengths"`
	VisionLengths []int    `json:"vision_lengths"`
	Audio         keyFacts
	Vision        keyFacts
	Text          keyFacts
}

func loadExpected(t *testing.T) map[string]map[string]splitFacts {
	t.Helper()
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]map[string]splitFacts
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// filePath finds a file named in expected.json: fixtures live in the
// shared folder, the small pickles in testdata.
func filePath(t *testing.T, name string) string {
	t.Helper()
	if strings.HasPrefix(name, "mmsa_tiny") {
		if _, err := os.Stat(fixtureDir); err != nil {
			t.Skipf("fixtures folder %s absent: skipping %s", fixtureDir, name)
		}
		return filepath.Join(fixtureDir, name)
	}
	return filepath.Join("testdata", name)
}

func splits(ds *datasets.Dataset) map[string]*datasets.Split {
	return map[string]*datasets.Split{"train": ds.Train, "valid": ds.Valid, "test": ds.Test}
}

// TestReadMatchesNumpy reads every file in expected.json and compares with
// what numpy read: shapes, labels, strings, ids, lengths, chosen values,
// the −inf and NaN positions (now 0) and their counts, and sums per key.
func TestReadMatchesNumpy(t *testing.T) {
	const relTol = 1e-6 // float64 sums of the same float32 values, in another order
	for name, want := range loadExpected(t) {
		for _, drop := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/drop=%v", name, drop), func(t *testing.T) {
				path := filePath(t, name)
				ds, rep, err := ReadReport(path, Options{DropTextFeats: drop})
				if err != nil {
					t.Fatal(err)
				}
				for sname, sp := range splits(ds) {
					w := want[sname]
					at := func(key string) string { return sname + "/" + key }
					if sp.Name != sname || sp.Len() != w.N {
						t.Fatalf("%s: name %q, %d samples; want %d", sname, sp.Name, sp.Len(), w.N)
					}
					for i, y := range w.Labels {
						if sp.Labels[i] != float32(y) {
							t.Errorf("%s label %d = %v, want %v", sname, i, sp.Labels[i], float32(y))
						}
					}
					if !reflect.DeepEqual(sp.IDs, w.IDs) || !reflect.DeepEqual(sp.RawText, w.RawText) {
						t.Errorf("%s: ids %q raw_text %q; want %q %q", sname, sp.IDs, sp.RawText, w.IDs, w.RawText)
					}
					checkInts(t, at("text_len"), sp.TextLen, w.TextLen)
					checkInts(t, at("audio_lengths"), sp.AudioLen, w.AudioLengths)
					checkInts(t, at("vision_lengths"), sp.VisionLen, w.VisionLengths)
					for i, row := range w.TextIDs {
						got := make([]int, len(sp.TextIDs[i]))
						for j, id := range sp.TextIDs[i] {
							got[j] = int(id)
						}
						checkInts(t, fmt.Sprintf("%s row %d", at("text_bert"), i), got, row)
					}
					keys := []struct {
						key string
						seq datasets.Seq
						f   keyFacts
					}{{"audio", sp.Audio, w.Audio}, {"vision", sp.Vision, w.Vision}, {"text", sp.TextFeats, w.Text}}
					for _, k := range keys {
						if k.key == "text" && drop {
							if k.seq.Data != nil || rep.NaN[at("text")] != 0 {
								t.Errorf("%s: dropped text still has data", sname)
							}
							continue
						}
						checkSeq(t, at(k.key), k.seq, k.f, relTol)
						if got := rep.NaN[at(k.key)]; got != len(k.f.NaN) {
							t.Errorf("%s: report counts %d NaN, numpy finds %d", at(k.key), got, len(k.f.NaN))
						}
						if got := rep.NegInf[at(k.key)]; got != len(k.f.NegInf) {
							t.Errorf("%s: report counts %d -inf, numpy finds %d", at(k.key), got, len(k.f.NegInf))
						}
						if k.key == "text" {
							continue
						}
						warned := strings.Contains(strings.Join(rep.Warnings, "\n"), at(k.key)+": ")
						if warned != (k.f.BadPaddingRows > 0) {
							t.Errorf("%s: padding warning %v, numpy finds %d rows with non-zero padding; report:\n%s",
								at(k.key), warned, k.f.BadPaddingRows, rep)
						}
					}
				}
			})
		}
	}
}

func checkInts(t *testing.T, what string, got, want []int) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func checkSeq(t *testing.T, what string, q datasets.Seq, f keyFacts, relTol float64) {
	t.Helper()
	if q.N != f.Shape[0] || q.T != f.Shape[1] || q.D != f.Shape[2] || len(q.Data) != q.N*q.T*q.D {
		t.Fatalf("%s: shape %d×%d×%d (len %d), want %v", what, q.N, q.T, q.D, len(q.Data), f.Shape)
	}
	idx := func(p []int) int { return (p[0]*q.T+p[1])*q.D + p[2] }
	for _, p := range append(append([][]int{}, f.NaN...), f.NegInf...) {
		if q.Data[idx(p)] != 0 {
			t.Errorf("%s%v = %v, want 0 (NaN or -inf replaced)", what, p, q.Data[idx(p)])
		}
	}
	for _, pk := range f.Picks {
		var p []int
		var v float64
		if err := json.Unmarshal(pk[0], &p); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(pk[1], &v); err != nil {
			t.Fatal(err)
		}
		if got := q.Data[idx(p)]; got != float32(v) {
			t.Errorf("%s%v = %v, want %v (exact float32)", what, p, got, float32(v))
		}
	}
	var sum, abs float64
	for _, x := range q.Data {
		sum += float64(x)
		abs += math.Abs(float64(x))
	}
	if math.Abs(sum-f.Sum) > relTol*f.AbsSum || math.Abs(abs-f.AbsSum) > relTol*f.AbsSum {
		t.Errorf("%s: sum %v abs sum %v, numpy %v %v", what, sum, abs, f.Sum, f.AbsSum)
	}
}

// TestEncodingsAgree reads the same data written in different ways
// (protocol 4 with <U arrays, protocol 5 with _frombuffer and object
// arrays, protocol 2, numpy 2 module names, float text_bert) and wants
// identical results.
func TestEncodingsAgree(t *testing.T) {
	cases := []struct{ a, b string }{
		{"mmsa_tiny_unaligned.pkl", "mmsa_tiny_unaligned_p5.pkl"},
		{"good_p4.pkl", "good_p2.pkl"},
		{"good_p4.pkl", "good_np2.pkl"},
		{"good_p4.pkl", "good_textbert_float.pkl"},
	}
	for _, c := range cases {
		for _, drop := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s=%s/drop=%v", c.a, c.b, drop), func(t *testing.T) {
				opts := Options{DropTextFeats: drop, Name: "x"}
				a, ra, err := ReadReport(filePath(t, c.a), opts)
				if err != nil {
					t.Fatal(err)
				}
				b, rb, err := ReadReport(filePath(t, c.b), opts)
				if err != nil {
					t.Fatal(err)
				}
				// NaN were replaced by 0, so DeepEqual compares numbers.
				for sname, sa := range splits(a) {
					if sb := splits(b)[sname]; !reflect.DeepEqual(sa, sb) {
						t.Errorf("%s differs between %s and %s", sname, c.a, c.b)
					}
				}
				if !reflect.DeepEqual(ra, rb) {
					t.Errorf("reports differ:\n%s\n---\n%s", ra, rb)
				}
			})
		}
	}
}

// TestBadFiles checks that broken files give an error naming the file and
// the split/key at fault, and that a doubtful one loads with a warning.
func TestBadFiles(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"bad_missing_valid.pkl", []string{"missing split valid"}},
		{"bad_missing_labels.pkl", []string{"train/regression_labels: missing key"}},
		{"bad_audio_rank2.pkl", []string{"train/audio: shape [3 6] is not 3-D"}},
		{"bad_vision_n.pkl", []string{"test/vision: 1 rows but regression_labels has 2"}},
		{"bad_text_bert_shape.pkl", []string{"valid/text_bert: shape [2 2 8] is not [N, 3, L]"}},
		{"bad_length_high.pkl", []string{"train/audio_lengths: length 9 > 6 at row 1"}},
		{"bad_length_neg.pkl", []string{"valid/vision_lengths: length -1 < 0 at row 0"}},
		{"bad_label_high.pkl", []string{"test/regression_labels: label 3.5 outside [-3, 3] at row 1"}},
		{"bad_label_nan.pkl", []string{"train/regression_labels: label NaN outside [-3, 3] at row 2"}},
		{"bad_lengths_one.pkl", []string{"test/vision_lengths: missing key"}},
		{"bad_mask.pkl", []string{"valid/text_bert: attention mask at row 1, position 2 is not 0 or 1"}},
		{"bad_global.pkl", []string{"near train/vision_lengths", "global posix.system is not allowed"}},
		{"bad_not_dict.pkl", []string{"top level is a list"}},
		{"bad_out_of_band.pkl", []string{"out-of-band buffers"}},
		{"does_not_exist.pkl", []string{"does_not_exist.pkl", "no such file"}},
		{"", []string{"is a directory"}}, // testdata itself
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			_, err := Read(path, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append([]string{"mmsa: " + path}, c.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	t.Run("warn_padding.pkl", func(t *testing.T) {
		_, rep, err := ReadReport("testdata/warn_padding.pkl", Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := "train/audio: 1 rows have non-zero values past their length, padding is not at the end (first: row 1, length 1 of 6)"
		if len(rep.Warnings) != 1 || rep.Warnings[0] != want {
			t.Errorf("warnings %q, want [%q]", rep.Warnings, want)
		}
	})
}

// TestCorruptBytes damages a good pickle (truncation, a flipped header,
// an empty file) and wants an error naming the file; errors inside the
// stream say where the reader was. FuzzRead covers arbitrary flips.
func TestCorruptBytes(t *testing.T) {
	good, err := os.ReadFile("testdata/good_p4.pkl")
	if err != nil {
		t.Fatal(err)
	}
	type corruption struct {
		name string
		data []byte
		want string
	}
	cases := []corruption{
		{"empty", nil, "empty file"},
		{"text file", []byte("audio,vision\n1,2\n"), "not a pickle"},
		{"header only", good[:2], "no STOP"},
	}
	for _, n := range []int{11, 100, 1000, len(good) / 2, len(good) - 2, len(good) - 1} {
		cases = append(cases, corruption{fmt.Sprintf("truncated at %d", n), good[:n], "mmsa: x.pkl: pickle"})
	}
	cases[len(cases)-1].want = "near test/vision_lengths"
	flip0 := bytes.Clone(good)
	flip0[0] ^= 0xff
	cases = append(cases, corruption{"flipped PROTO", flip0, "not a pickle"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Decode(bytes.NewReader(c.data), int64(len(c.data)), "x.pkl", Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func ExampleRead() {
	ds, err := Read("testdata/good_p4.pkl", Options{DropTextFeats: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	tr := ds.Train
	fmt.Printf("%s: %d samples, audio %d×%d×%d, vision %d×%d×%d, text ids %d, text feats dropped: %v\n",
		tr.Name, tr.Len(), tr.Audio.N, tr.Audio.T, tr.Audio.D, tr.Vision.N, tr.Vision.T, tr.Vision.D,
		len(tr.TextIDs[0]), tr.TextFeats.Data == nil)
	// Output: train: 3 samples, audio 3×6×3, vision 3×7×4, text ids 8, text feats dropped: true
}

// patchFloat32 returns the file's bytes with the float32 value old, which
// must occur exactly once, replaced by new.
func patchFloat32(t *testing.T, raw []byte, old, new float32) []byte {
	t.Helper()
	var o, n [4]byte
	binary.LittleEndian.PutUint32(o[:], math.Float32bits(old))
	binary.LittleEndian.PutUint32(n[:], math.Float32bits(new))
	if c := bytes.Count(raw, o[:]); c != 1 {
		t.Fatalf("value %v occurs %d times in the file", old, c)
	}
	return bytes.Replace(raw, o[:], n[:], 1)
}

// TestReadChecksValues: an infinite feature is an error naming the file,
// split, key and position; a value above FeatureBound a warning naming
// split and key; a token id outside Options.Vocab an error naming the
// sample and the id.
func TestReadChecksValues(t *testing.T) {
	path := filepath.Join("testdata", "good_p4.pkl")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Read(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := ds.Valid.Audio
	v := a.Data[1*a.T*a.D+1*a.D+2] // valid row 1, step 1, feature 2
	decode := func(b []byte, opts Options) (*Report, error) {
		_, rep, err := Decode(bytes.NewReader(b), int64(len(b)), path, opts)
		return rep, err
	}

	_, err = decode(patchFloat32(t, raw, v, float32(math.Inf(1))), Options{})
	want := "mmsa: " + path + ": valid/audio: value +Inf at row 1, step 1, feature 2 is not finite"
	if err == nil || err.Error() != want {
		t.Errorf("infinite audio: error %v, want %q", err, want)
	}

	rep, err := decode(patchFloat32(t, raw, v, 1e30), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want = "valid/audio: 1 values above 1e+06 in magnitude (up to 1e+30): check the features' scale"
	if !slices.Contains(rep.Warnings, want) || strings.Count(rep.String(), "valid/audio") != 1 {
		t.Errorf("huge audio: report %q, want the warning %q once", rep.String(), want)
	}

	// The largest id of the file is out of a vocabulary of that size; the
	// error names its first occurrence in reading order.
	top := int32(0)
	for _, s := range []*datasets.Split{ds.Train, ds.Valid, ds.Test} {
		for i, row := range s.TextIDs {
			for _, id := range row[:s.TextLen[i]] {
				top = max(top, id)
			}
		}
	}
	want = ""
	for _, s := range []*datasets.Split{ds.Train, ds.Valid, ds.Test} {
		for i, row := range s.TextIDs {
			for p, id := range row[:s.TextLen[i]] {
				if id == top && want == "" {
					want = fmt.Sprintf("%s/text_bert: sample %q (row %d): token id %d at position %d is outside the text encoder's vocabulary of %d ids",
						s.Name, s.IDs[i], i, id, p, top)
				}
			}
		}
	}
	if _, err := Read(path, Options{Vocab: int(top)}); err == nil || err.Error() != "mmsa: "+path+": "+want {
		t.Errorf("vocabulary %d: error %v, want %q", top, err, want)
	}
	if _, err := Read(path, Options{Vocab: int(top) + 1}); err != nil {
		t.Errorf("vocabulary %d: %v", top+1, err)
	}
}
