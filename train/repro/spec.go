package repro

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Spec is what a reproduction is asked to do: a paper table, on which
// data, with which model size, ablations and seeds. The command line of
// fdcmdie fills one; Validate refuses what would be mislabelled.
type Spec struct {
	Data         string // MMSA pickle (aligned_50.pkl, unaligned_50.pkl); "" for the embedded corpus
	Dataset      string // paper settings (table 2): "mosi" or "mosei"; "" guesses from Data
	TextFeatures bool   // the pickle's precomputed text features instead of a text encoder
	NeoBERT      string // released NeoBERT folder to start the text encoder from
	FreezeText   bool   // freeze NeoBERT: features computed once, cached in CacheDir
	CacheDir     string // "" for the user cache folder
	Preset       string // model size: "tiny", "small" or "paper"; "" small on the embedded corpus, else paper
	Table        string // "3" … "8"
	Values       []int  // the sweep of tables 4, 5 and 6; nil for the paper's
	Seeds        []uint64
	Epochs       int           // 0: the setting's
	TimeBudget   time.Duration // per full-model run; 0: the setting's
	ClipNorm     float64       // global gradient norm; 0: no clipping, as the paper

	NoGAP, NoCrossAtt2, NoCL, NoCMDIE, NoNeoBERT bool // ablations

	Checkpoint string   // table 8: analyse this checkpoint instead of training a model
	Cases      []string // table 8: the test ids to analyse
}

// Ablation is an ablation that is set: its flag and the part it removes.
type Ablation struct{ Flag, Part string }

// Ablations lists the ablations that are set, in table 7's order.
func (s *Spec) Ablations() []Ablation {
	var on []Ablation
	for _, a := range []struct {
		on bool
		Ablation
	}{{s.NoNeoBERT, Ablation{"--no-neobert", "NeoBERT"}}, {s.NoCL, Ablation{"--no-cl", "CL"}}, {s.NoCMDIE, Ablation{"--no-cmdie", "CMDIE"}},
		{s.NoGAP, Ablation{"--no-gap", "GAP"}}, {s.NoCrossAtt2, Ablation{"--no-crossatt2", "CrossAtt2"}}} {
		if a.on {
			on = append(on, a.Ablation)
		}
	}
	return on
}

// AblationFlags lists the flags of the ablations that are set.
func (s *Spec) AblationFlags() []string {
	var flags []string
	for _, a := range s.Ablations() {
		flags = append(flags, a.Flag)
	}
	return flags
}

// ModelName is the name of the model row: "FD-CMDIE", with the parts the
// ablations remove ("FD-CMDIE w/o GAP, CL").
func (s *Spec) ModelName() string {
	var off []string
	for _, a := range s.Ablations() {
		off = append(off, a.Part)
	}
	if len(off) == 0 {
		return "FD-CMDIE"
	}
	return "FD-CMDIE w/o " + strings.Join(off, ", ")
}

// Validate refuses values out of range and combinations whose results
// would be mislabelled or whose settings would be ignored.
func (s *Spec) Validate() error {
	if err := s.validValues(); err != nil {
		return err
	}
	ablations := strings.Join(s.AblationFlags(), " ")
	switch {
	case s.Table == "7" && ablations != "":
		return fmt.Errorf("%s with --table 7: the ablation table trains every ablation itself", ablations)
	case s.Table == "8" && ablations != "":
		return fmt.Errorf("%s with --table 8: the case analysis is of the full model", ablations)
	case s.NoCL && (s.Table == "4" || s.Table == "5"):
		return fmt.Errorf("--no-cl with --table %s: the k_cl sweep needs the contrastive loss", s.Table)
	case s.NoNeoBERT && s.TextFeatures:
		return errors.New("--no-neobert with --text-features: precomputed text features use no text encoder")
	case s.NoNeoBERT && s.NeoBERT != "":
		return errors.New("--no-neobert with --neobert: pick one text encoder")
	case len(s.Values) > 0 && s.Table != "4" && s.Table != "5" && s.Table != "6":
		return fmt.Errorf("--values with --table %s: only the sweeps of tables 4, 5 and 6 take values", s.Table)
	case s.Checkpoint != "" && s.Table != "8":
		return errors.New("--checkpoint needs --table 8 (fdcmdie predict runs a checkpoint on other data)")
	case len(s.Cases) > 0 && s.Table != "8":
		return errors.New("--cases needs --table 8")
	case s.Table == "8" && len(s.Seeds) > 1:
		return errors.New("--table 8 analyses one model: give one seed")
	case s.FreezeText && s.NeoBERT == "":
		return errors.New("--freeze-text needs --neobert: a frozen encoder must come from a trained checkpoint")
	case s.TextFeatures && s.NeoBERT != "":
		return errors.New("--text-features and --neobert exclude each other: pick one text input")
	case s.TextFeatures && s.Data == "":
		return errors.New("--text-features needs --data: the synthetic corpus has no precomputed text features")
	}
	return nil
}

// validValues checks each setting on its own.
func (s *Spec) validValues() error {
	switch {
	case !slices.Contains([]string{"3", "4", "5", "6", "7", "8"}, s.Table):
		return fmt.Errorf("--table %q: want 3, 4, 5, 6, 7 or 8", s.Table)
	case !slices.Contains([]string{"", "mosi", "mosei"}, s.Dataset):
		return fmt.Errorf("--dataset %q: want mosi or mosei", s.Dataset)
	case !slices.Contains([]string{"", "small", "paper", "tiny"}, s.Preset):
		return fmt.Errorf("--preset %q: want small, paper or tiny", s.Preset)
	case s.Epochs < 0:
		return fmt.Errorf("--epochs %d: want a positive number of epochs, or 0 for the dataset's", s.Epochs)
	case s.ClipNorm < 0:
		return fmt.Errorf("--clip-norm %g must not be negative", s.ClipNorm)
	case s.TimeBudget < 0:
		return fmt.Errorf("--time-budget %v must not be negative", s.TimeBudget)
	case len(s.Seeds) == 0:
		return errors.New("--seeds: no seed")
	}
	for i, seed := range s.Seeds {
		if slices.Contains(s.Seeds[:i], seed) {
			return fmt.Errorf("--seeds: seed %d is repeated: the mean and std would count one run twice", seed)
		}
	}
	return nil
}

// Paper data sets, the keys of the paper's per-dataset tables.
const (
	MOSI  = "mosi"
	MOSEI = "mosei"
)

// Resolved is a Spec's training setting, table and the paper's data set to
// compare with.
type Resolved struct {
	Key   string // settings key (datasets.Settings): mosi, mosei or synthetic
	Table string // "3" … "8"; --table 4 on MOSEI is table 5
	Paper string // MOSI or MOSEI
}

// Resolve takes the setting from Dataset, else from the data's name (a
// path containing "mosei" is CMU-MOSEI); the embedded corpus stands in
// for CMU-MOSI. Table 5 is the paper's MOSEI sweep.
func (s *Spec) Resolve() Resolved {
	r := Resolved{Key: s.Dataset, Table: s.Table, Paper: MOSI}
	if r.Key == "" {
		r.Key = "mosi"
		if s.Data == "" {
			r.Key = "synthetic"
		} else if strings.Contains(strings.ToLower(s.Data), "mosei") {
			r.Key = "mosei"
		}
	}
	if r.Key == "mosei" {
		r.Paper = MOSEI
		if r.Table == "4" {
			r.Table = "5"
		}
	}
	if r.Table == "5" {
		r.Paper = MOSEI
	}
	return r
}

// RunName names a reproduction's files: its table (as resolved) and its
// ablation flags ("table3", "table3_no-gap").
func (s *Spec) RunName() string {
	name := "table" + s.Resolve().Table
	for _, a := range s.AblationFlags() {
		name += "_" + strings.TrimPrefix(a, "--")
	}
	return name
}

// SweepValues returns the values a sweep table (4, 5: k_cl; 6: CMDIE
// layers) trains: Values, else the paper's (paper), else on the embedded
// corpus its first, middle and last, so that the run ends within minutes.
// The note says which were taken.
func (s *Spec) SweepValues(paper []int) (values []int, note string) {
	what := map[string]string{"4": "k_cl", "5": "k_cl", "6": "CMDIE layers"}[s.Resolve().Table]
	switch {
	case len(s.Values) > 0:
		values, note = s.Values, "from --values"
	case s.Data == "":
		values, note = []int{paper[0], paper[len(paper)/2], paper[len(paper)-1]}, "a short sweep on the embedded corpus; --values sets others"
	default:
		values, note = paper, "the paper's"
	}
	return values, fmt.Sprintf("%s values %s (%s; the paper's: %s)", what, joinInts(values), note, joinInts(paper))
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
