// Package report renders the paper's result tables and figures for the
// fdcmdie CLI.
//
// Tables: a [train.Row] holds one model's (or one sweep setting's) metrics
// with the mean over seeds and its population standard deviation
// ([train.Summarize] builds it from the runs of several seeds).
// [Table] prints rows in the layout of the paper's table 3
// ("Model | Acc-2 (has0/non0) | F1 (has0/non0) | Acc-7 | MAE | Corr");
// [Table3], [KclTable], [LayerTable] and [AblationTable] are the thin
// wrappers for tables 3, 4/5, 6 and 7. [WriteCSV] and [WriteJSON] store the
// same rows (and [ReadCSV] and [ReadJSON] read them back).
//
// The paper's own numbers are embedded (paper_results.json, a copy of the
// shared transcription of its tables 1–8): [PaperRows] gives tables 3–7 as
// reported rows labelled "paper, CMU-MOSI" or "paper, CMU-MOSEI", and
// [PaperCases] table 8. They are shown beside measured rows, never used
// as targets. [CaseTable] and [PaperCaseTable] print table 8.
//
// Figures are drawn with gonum.org/v1/plot, 900 pixels wide at 100 dpi,
// each as a PNG and an SVG beside it ([SVGPath]), with a title, axis
// labels, a legend and a caption that says what was measured:
// [SweepFigure] (figs 4/5, Acc-2 and F1 against k_cl, the paper's curve
// dashed), [GAPFigure] (figs 6/7, mean GAP weight per modality and CMDIE
// layer with the seed spread), [FeatureMap] (figs 8/9, a 2-D projection
// of the decoupled features) and [AblationFigure] (figs 10/11, measured
// bars beside the paper's). [Figures] draws those a reproduced table
// feeds, from its rows and runs ([FigureSet]), numbered after the paper's
// data set, with the features of figures 8/9 projected by t-SNE as the
// paper does.
//
// Every file is written atomically: to a temporary file in the destination
// folder, then renamed over the destination, so an interrupted run never
// leaves a truncated table or image behind.
package report
