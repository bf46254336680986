package report

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/fdcmdie/fdcmdie/train"
)

// tableColumns are the metric columns of every table after the first one.
var tableColumns = []string{"Acc-2 (has0/non0)", "F1 (has0/non0)", "Acc-7", "MAE", "Corr"}

// Table writes rows to w as an ASCII table with the paper's table-3 columns
// "firstColumn | Acc-2 (has0/non0) | F1 (has0/non0) | Acc-7 | MAE | Corr",
// preceded by the title on its own line when title is not empty.
//
// Accuracies and F1 are printed ×100 with one decimal, MAE and Corr with
// three; a pair cell reads "82.1/83.4". When a row has Seeds > 1, each value
// is followed by its standard deviation on the same scale ("82.1±0.4"). A
// missing (NaN) metric prints as "-"; a reported row's name gets its Source in
// parentheses, or " (paper)" without one.
func Table(w io.Writer, title, firstColumn string, rows []train.Row) error {
	if err := validateRows(rows); err != nil {
		return fmt.Errorf("report: table %q: %w", title, err)
	}
	if title != "" {
		if _, err := fmt.Fprintln(w, title); err != nil {
			return fmt.Errorf("report: table %q: %w", title, err)
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignCenter),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{Global: tw.AlignRight, PerColumn: []tw.Align{tw.AlignLeft}}),
	)
	t.Header(append([]string{firstColumn}, tableColumns...))
	for _, r := range rows {
		if err := t.Append(tableCells(r)); err != nil {
			return fmt.Errorf("report: table %q: row %q: %w", title, r.Name, err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("report: table %q: %w", title, err)
	}
	return nil
}

// Table3 writes the main comparison table (paper table 3): one row per model.
func Table3(w io.Writer, title string, rows []train.Row) error {
	return Table(w, title, "Model", rows)
}

// KclTable writes a k_cl sweep (paper tables 4 and 5): one row per number
// of contrastive samples k_cl, the row name holding the value.
func KclTable(w io.Writer, title string, rows []train.Row) error {
	return Table(w, title, "k_cl", rows)
}

// LayerTable writes the CMDIE depth sweep (paper table 6): one row per
// number of CMDIE layers, the row name holding the count.
func LayerTable(w io.Writer, title string, rows []train.Row) error {
	return Table(w, title, "CMDIE layers", rows)
}

// AblationTable writes the ablation study (paper table 7): one row per
// variant, named as [repro.AblationNames] lists them.
func AblationTable(w io.Writer, title string, rows []train.Row) error {
	return Table(w, title, "Variant", rows)
}

// tableCells formats r into the cells of one table line.
func tableCells(r train.Row) []string {
	name := r.Name
	switch {
	case r.Reported && r.Source != "":
		name += " (" + r.Source + ")"
	case r.Reported:
		name += " (paper)"
	}
	return []string{
		name,
		cell(r, "Acc2Has0", 100, 1) + "/" + cell(r, "Acc2Non0", 100, 1),
		cell(r, "F1Has0", 100, 1) + "/" + cell(r, "F1Non0", 100, 1),
		cell(r, "Acc7", 100, 1),
		cell(r, "MAE", 1, 3),
		cell(r, "Corr", 1, 3),
	}
}

// cell formats the metric called name of r multiplied by scale with prec
// decimals, and its standard deviation when the row averages several seeds.
func cell(r train.Row, name string, scale float64, prec int) string {
	mean, _ := r.Mean.Value(name)
	if math.IsNaN(mean) {
		return "-"
	}
	s := strconv.FormatFloat(mean*scale, 'f', prec, 64)
	if std, ok := r.StdOf(name); ok && r.Seeds > 1 {
		s += "±" + strconv.FormatFloat(std*scale, 'f', prec, 64)
	}
	return s
}
