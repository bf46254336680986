package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/fdcmdie/fdcmdie/cmd/fdcmdie/report"
)

// caseAnalysis makes table 8 (repro.Experiment.AnalyseCases) and prints
// its five test cases beside the paper's five.
func (j *job) caseAnalysis(ctx context.Context, stdout io.Writer) error {
	a, err := j.e.AnalyseCases(ctx, j.f.out, j.log, j.warn)
	if err != nil {
		return err
	}
	if a.Stop != "" {
		fmt.Fprintln(stdout, a.Stop)
	}
	paper, err := report.PaperCases()
	if err != nil {
		return err
	}
	title := fmt.Sprintf("Table 8 on %s: five test cases of %s (α: GAP weights of the last CMDIE layer)", j.e.Prepared.Name, a.Model)
	if err := report.CaseTable(stdout, title, a.Cases); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if err := report.PaperCaseTable(stdout, report.PublishedTitle(j.e.Resolved, j.e.Prepared.Name), paper); err != nil {
		return err
	}
	if j.f.out != "" {
		return report.WriteCasesJSON(filepath.Join(j.f.out, j.f.spec.RunName()+".json"), a.Cases, paper)
	}
	return nil
}
