package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/fdcmdie/fdcmdie/train/repro"
)

// Polarity is the sentiment class of a score as table 8 prints it.
func Polarity(score float64) string {
	switch {
	case score > 0:
		return "positive"
	case score < 0:
		return "negative"
	}
	return "neutral"
}

// maxText is the longest text a table-8 cell shows.
const maxText = 60

// clip shortens s to maxText runes with an ellipsis.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= maxText {
		return s
	}
	return string(r[:maxText-1]) + "…"
}

// newTable makes an ASCII table with a left-aligned first column and
// header, as [Table] prints.
func newTable(w io.Writer, align []tw.Align) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignCenter),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
	)
}

// CaseTable writes the measured cases of table 8 ("# | kind | text | true |
// pred | polarity true/pred | α t/v/a") after title, then one line per
// case saying whether the predicted polarity is right.
func CaseTable(w io.Writer, title string, cases []repro.Case) error {
	if _, err := fmt.Fprintln(w, title); err != nil {
		return err
	}
	t := newTable(w, []tw.Align{tw.AlignRight, tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignLeft, tw.AlignRight})
	t.Header([]string{"#", "Kind", "Text", "True", "Pred", "Polarity (true/pred)", "α t/v/a"})
	for i, c := range cases {
		alpha := "-"
		if len(c.Alpha) == 3 {
			alpha = fmt.Sprintf("%.2f/%.2f/%.2f", c.Alpha[0], c.Alpha[1], c.Alpha[2])
		}
		if err := t.Append([]string{strconv.Itoa(i + 1), c.Kind, clip(c.Text), fmt.Sprintf("%.2f", c.Truth), fmt.Sprintf("%.2f", c.Pred),
			Polarity(c.Truth) + "/" + Polarity(c.Pred), alpha}); err != nil {
			return fmt.Errorf("report: table 8: case %q: %w", c.ID, err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("report: table 8: %w", err)
	}
	for i, c := range cases {
		verdict := "right"
		if Polarity(c.Truth) != Polarity(c.Pred) {
			verdict = "wrong"
		}
		if _, err := fmt.Fprintf(w, "Case %d (%s, id %s): polarity %s: %s, predicted %s (%.2f for %.2f).\n",
			i+1, c.Kind, c.ID, verdict, Polarity(c.Truth), Polarity(c.Pred), c.Pred, c.Truth); err != nil {
			return err
		}
	}
	return nil
}

// PaperCaseTable writes the paper's table 8 after title, labelled as the
// paper's: its text, the face and voice in words, true and predicted score
// and polarity.
func PaperCaseTable(w io.Writer, title string, cases []PaperCase) error {
	if _, err := fmt.Fprintln(w, title); err != nil {
		return err
	}
	t := newTable(w, []tw.Align{tw.AlignRight, tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignLeft})
	t.Header([]string{"#", "Text", "Face; voice", "True", "Pred", "Polarity (true/pred)"})
	for _, c := range cases {
		if err := t.Append([]string{strconv.Itoa(c.Case), clip(c.Text), clip(c.Vision + "; " + c.Audio),
			fmt.Sprintf("%.2f", c.Truth), fmt.Sprintf("%.2f", c.Pred), c.PolarityTruth + "/" + c.PolarityPred}); err != nil {
			return fmt.Errorf("report: paper table 8: case %d: %w", c.Case, err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("report: paper table 8: %w", err)
	}
	return nil
}

// WriteCasesJSON writes table 8 to path as {"measured": [Case…],
// "paper": [PaperCase…]}, the two kept apart; the file is replaced
// atomically.
func WriteCasesJSON(path string, measured []repro.Case, paper []PaperCase) error {
	data, err := json.MarshalIndent(struct {
		Measured []repro.Case `json:"measured"`
		Paper    []PaperCase  `json:"paper"`
	}{measured, paper}, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	return repro.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}
