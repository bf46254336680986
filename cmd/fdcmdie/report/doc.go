// Package report renders the paper's result tables and figures for the
// fdcmdie CLI.
//
// Tables: a [Row] holds one model's (or one sweep setting's) metrics as
// fractions, keyed by the names of train.Metrics' fields ([Acc2Has0] …
// [Corr]), with the mean over seeds and its population standard deviation
// ([Summarize] builds it from the runs of several seeds).
// [Table] prints rows in the layout of the paper's table 3
// ("Model | Acc-2 (has0/non0) | F1 (has0/non0) | Acc-7 | MAE | Corr");
// [Table3], [KclTable], [LayerTable] and [AblationTable] are the thin
// wrappers for tables 3, 4/5, 6 and 7. [WriteCSV] and [WriteJSON] store the
// same rows (and [ReadCSV] and [ReadJSON] read them back).
//
// Figures: [LineChart] (figs 4/5, a metric against k_cl), [Bars] in grouped
// or stacked mode (figs 6/7, mean GAP modality weights per CMDIE layer;
// figs 10/11, a metric per ablation) and [Scatter] (figs 8/9, 2-D maps of the
// decoupled features). Every figure is an 800×500 PNG drawn with the
// standard library and the 7×13 bitmap font of golang.org/x/image, with a
// title, axis tick labels and a legend. Labels are ASCII; a few Greek letters
// are spelled out (α → "alpha") and other non-ASCII runes print as the
// font's replacement box.
//
// The paper draws its 2-D feature maps with t-SNE. This package uses [PCA2]
// instead: principal component analysis is deterministic, needs no tuning
// (perplexity, learning rate, seed) and no dependency, and its axes mean
// something (directions of largest variance). The maps therefore look
// different from the paper's: clusters that t-SNE separates non-linearly
// may overlap in a linear projection.
//
// Every file is written atomically: to a temporary file in the destination
// folder, then renamed over the destination, so an interrupted run never
// leaves a truncated table or image behind.
package report
