package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/fdcmdie/fdcmdie/train"
)

// paperJSON is the paper's tables 1–8 as printed (accuracies and F1 in
// percent, null where the paper prints "-"), a copy of the project's
// shared paper_results.json.
//
//go:embed paper_results.json
var paperJSON []byte

// Datasets of the paper, keys of its per-dataset tables.
const (
	MOSI  = "mosi"
	MOSEI = "mosei"
)

// DatasetName is the paper's name of a dataset key: "CMU-MOSI" for MOSI.
func DatasetName(key string) string {
	switch key {
	case MOSI:
		return "CMU-MOSI"
	case MOSEI:
		return "CMU-MOSEI"
	}
	return key
}

// PaperSource is the label of the paper's rows of a dataset:
// "paper, CMU-MOSI".
func PaperSource(dataset string) string { return "paper, " + DatasetName(dataset) }

// paperRow is one line of tables 3–7 in paper_results.json. Fields the
// table does not print are absent; the paper's "-" is null.
type paperRow struct {
	Model    string   `json:"model"`
	KCL      int      `json:"k_cl"`
	Layers   int      `json:"layers"`
	Acc2Has0 *float64 `json:"acc2_has0"`
	Acc2Non0 *float64 `json:"acc2_non0"`
	F1Has0   *float64 `json:"f1_has0"`
	F1Non0   *float64 `json:"f1_non0"`
	Acc7     *float64 `json:"acc7"`
	MAE      *float64 `json:"mae"`
	Corr     *float64 `json:"corr"`
}

// PaperCase is one row of the paper's table 8 (case analysis on CMU-MOSI).
type PaperCase struct {
	Case          int     `json:"case"`
	Text          string  `json:"text"`
	Vision        string  `json:"vision"` // the face, in words
	Audio         string  `json:"audio"`  // the voice, in words
	Truth         float64 `json:"truth"`
	Pred          float64 `json:"pred"`
	PolarityTruth string  `json:"polarity_truth"`
	PolarityPred  string  `json:"polarity_pred"`
}

// paperResults mirrors paper_results.json.
type paperResults struct {
	Source string          `json:"source"`
	Units  string          `json:"units"`
	Splits json.RawMessage `json:"table1_splits"`
	// Settings are table 2's hyperparameters per dataset.
	Settings map[string]json.RawMessage `json:"table2_settings"`
	Table3   map[string][]paperRow      `json:"table3_results"`
	Table4   []paperRow                 `json:"table4_kcl_mosi"`
	Table5   []paperRow                 `json:"table5_kcl_mosei"`
	Table6   map[string][]paperRow      `json:"table6_layers"`
	Table7   map[string][]paperRow      `json:"table7_ablation"`
	Table8   []PaperCase                `json:"table8_cases_mosi"`
}

// paper parses the embedded JSON; unknown fields are an error, so a
// changed file cannot silently lose a column.
func paper() (*paperResults, error) {
	var p paperResults
	dec := json.NewDecoder(bytes.NewReader(paperJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("report: embedded paper_results.json: %w", err)
	}
	return &p, nil
}

// PaperRows returns the paper's rows of table 3, 4, 5, 6 or 7 for dataset
// (MOSI or MOSEI) as reported [Row]s in the paper's order, labelled
// [PaperSource], with percentages turned into fractions. Row names are
// the paper's: the model ("MulT", "w/o CrossAtt-2"), the k_cl value
// (tables 4, 5) or the layer count (table 6). A number the paper does not
// print is absent from Mean. Table 4 exists for MOSI only and table 5 for
// MOSEI only.
func PaperRows(table int, dataset string) ([]train.Row, error) {
	p, err := paper()
	if err != nil {
		return nil, err
	}
	var src []paperRow
	switch table {
	case 3:
		src = p.Table3[dataset]
	case 4:
		if dataset == MOSI {
			src = p.Table4
		}
	case 5:
		if dataset == MOSEI {
			src = p.Table5
		}
	case 6:
		src = p.Table6[dataset]
	case 7:
		src = p.Table7[dataset]
	}
	if len(src) == 0 {
		return nil, fmt.Errorf("report: embedded paper_results.json: no table %d for %q", table, dataset)
	}
	rows := make([]train.Row, len(src))
	for i, r := range src {
		name := r.Model
		switch table {
		case 4, 5:
			name = strconv.Itoa(r.KCL)
		case 6:
			name = strconv.Itoa(r.Layers)
		}
		if name == "" || name == "0" {
			return nil, fmt.Errorf("report: embedded paper_results.json: table %d, %s, row %d: no name", table, dataset, i)
		}
		row := train.Row{Name: name, Reported: true, Source: PaperSource(dataset), Mean: train.Missing(), Std: train.Missing()}
		for _, v := range []struct {
			dst   *float64
			x     *float64
			scale float64
		}{{&row.Mean.Acc2Has0, r.Acc2Has0, 0.01}, {&row.Mean.Acc2Non0, r.Acc2Non0, 0.01}, {&row.Mean.F1Has0, r.F1Has0, 0.01},
			{&row.Mean.F1Non0, r.F1Non0, 0.01}, {&row.Mean.Acc7, r.Acc7, 0.01}, {&row.Mean.MAE, r.MAE, 1}, {&row.Mean.Corr, r.Corr, 1}} {
			if v.x != nil {
				*v.dst = *v.x * v.scale
			}
		}
		if err := row.Validate(); err != nil {
			return nil, fmt.Errorf("report: embedded paper_results.json: table %d, %s: %w", table, dataset, err)
		}
		rows[i] = row
	}
	return rows, nil
}

// PaperCases returns the five cases of the paper's table 8 (CMU-MOSI).
func PaperCases() ([]PaperCase, error) {
	p, err := paper()
	if err != nil {
		return nil, err
	}
	if len(p.Table8) == 0 {
		return nil, fmt.Errorf("report: embedded paper_results.json: table8_cases_mosi is empty")
	}
	return p.Table8, nil
}
