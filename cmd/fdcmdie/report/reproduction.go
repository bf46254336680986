package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/fdcmdie/fdcmdie/train"
	"github.com/fdcmdie/fdcmdie/train/repro"
)

// Reproduction is a reproduced table as the CLI prints it: the measured
// rows of a plan's results above the published rows.
type Reproduction struct {
	Plan     *repro.Plan
	Resolved repro.Resolved
	// Results holds per row of the plan the result of each seed (nil for a
	// unit without one).
	Results [][]*train.Result
	// Rows are the measured rows (Plan.Summarize), Published the paper's
	// and any other reported rows.
	Rows, Published []train.Row
	// Note says which sweep values were trained; Footer is printed after
	// the stop lines (the embedded corpus's best achievable numbers).
	Note, Footer string
}

// firstColumns heads the first column of each table.
var firstColumns = map[string]string{"3": "Model", "4": "k_cl", "5": "k_cl", "6": "CMDIE layers", "7": "Ablation"}

// Print writes the measured table, the sweep note, the stop line of every
// unit that has a result, the footer, and the published table.
func (r *Reproduction) Print(w io.Writer) error {
	p := r.Plan
	title := fmt.Sprintf("Table %s on %s (test split, best validation epoch; %d seed(s))", r.Resolved.Table, p.Data, len(p.Seeds))
	first := firstColumns[r.Resolved.Table]
	if err := Table(w, title, first, r.Rows); err != nil {
		return err
	}
	if r.Note != "" {
		fmt.Fprintln(w, r.Note+".")
	}
	for _, u := range p.Units {
		if res := r.Results[u.Index/len(p.Seeds)][u.Index%len(p.Seeds)]; res != nil {
			fmt.Fprintln(w, p.StopLine(u, res))
		}
	}
	if r.Footer != "" {
		fmt.Fprintln(w, r.Footer)
	}
	fmt.Fprintln(w)
	return Table(w, PublishedTitle(r.Resolved, p.Data), first, r.Published)
}

// PublishedTitle heads the paper's rows; it warns when the measured rows
// are on other data (data) than the paper's.
func PublishedTitle(r repro.Resolved, data string) string {
	name := DatasetName(r.Paper)
	if r.Key != r.Paper {
		return fmt.Sprintf("Published (%s). The rows above are measured on %s, not %s: not comparable number-for-number.",
			PaperSource(r.Paper), data, name)
	}
	return fmt.Sprintf("Published (%s):", PaperSource(r.Paper))
}

// PaperValues returns the values of the paper's sweep table (4, 5: k_cl;
// 6: CMDIE layers), its rows' names.
func PaperValues(table int, dataset string) ([]int, error) {
	rows, err := PaperRows(table, dataset)
	if err != nil {
		return nil, err
	}
	var values []int
	for _, row := range rows {
		v, err := strconv.Atoi(row.Name)
		if err != nil {
			return nil, fmt.Errorf("report: table %d: paper row %q is not a sweep value", table, row.Name)
		}
		values = append(values, v)
	}
	return values, nil
}
