package repro

import (
	"fmt"

	"github.com/fdcmdie/fdcmdie/graph"
)

// Names of the ablation rows of table 7, in the paper's order.
const (
	// AblationFull is the complete model.
	AblationFull = "FD-CMDIE (full)"
	// AblationNoNeoBERT replaces NeoBERT with BERT as text encoder.
	AblationNoNeoBERT = "w/o NeoBERT"
	// AblationNoCL drops the contrastive loss and its memory bank (λ_cl = 0).
	AblationNoCL = "w/o CL"
	// AblationNoCMDIE drops the CMDIE layers; the head reads the pooled
	// shared and private features directly.
	AblationNoCMDIE = "w/o CMDIE"
	// AblationNoGAP replaces the gated aggregation of the modality-specific
	// global tokens by their plain mean.
	AblationNoGAP = "w/o GAP"
	// AblationNoCrossAtt2 drops the second cross-attention of each DIPU.
	AblationNoCrossAtt2 = "w/o CrossAtt2"
	// TextOnly names the text-only baseline row of table 3.
	TextOnly = "Text-only baseline"
)

// AblationNames returns the row names of table 7 in the paper's order.
func AblationNames() []string {
	return []string{AblationFull, AblationNoNeoBERT, AblationNoCL, AblationNoCMDIE, AblationNoGAP, AblationNoCrossAtt2}
}

// Row is one row of a result table before it is trained: its name and the
// model it trains.
type Row struct {
	Name   string
	Config graph.Config
}

// TableRows lists the rows of a paper table trained from the model base:
//   - "3": the model, named name, and the text-only baseline;
//   - "4" and "5": one row per k_cl of values, named by the value;
//   - "6": one row per number of CMDIE layers of values;
//   - "7": the full model and each ablation of AblationNames, whatever
//     ablations base has.
func TableRows(table, name string, base graph.Config, values []int) ([]Row, error) {
	switch table {
	case "3":
		textOnly := base
		textOnly.TextOnly = true
		return []Row{{name, base}, {TextOnly, textOnly}}, nil
	case "4", "5":
		return sweep(base, values, func(c *graph.Config, k int) { c.KCL = k }), nil
	case "6":
		return sweep(base, values, func(c *graph.Config, k int) { c.Layers = k }), nil
	case "7":
		full := base
		full.NoGAP, full.NoCrossAtt2, full.NoCL, full.NoCMDIE, full.TextEncoder = false, false, false, false, "neobert"
		with := func(name string, change func(*graph.Config)) Row {
			c := full
			change(&c)
			return Row{name, c}
		}
		return []Row{
			{AblationFull, full},
			with(AblationNoNeoBERT, func(c *graph.Config) { c.TextEncoder = "bert" }),
			with(AblationNoCL, func(c *graph.Config) { c.NoCL = true }),
			with(AblationNoCMDIE, func(c *graph.Config) { c.NoCMDIE = true }),
			with(AblationNoGAP, func(c *graph.Config) { c.NoGAP = true }),
			with(AblationNoCrossAtt2, func(c *graph.Config) { c.NoCrossAtt2 = true }),
		}, nil
	}
	return nil, fmt.Errorf("table %q has no training rows (want 3, 4, 5, 6 or 7)", table)
}

// sweep makes one row per value, named by it.
func sweep(base graph.Config, values []int, set func(*graph.Config, int)) []Row {
	var rows []Row
	for _, k := range values {
		c := base
		set(&c, k)
		rows = append(rows, Row{fmt.Sprint(k), c})
	}
	return rows
}
