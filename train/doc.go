// Package train runs the MMSA training protocol of SPEC §8: AdamW, early
// stopping on validation loss, seeds, checkpoints, and the regression
// metrics of SPEC §10.
//
// Fit trains a graph.Config on prepared splits (datasets.Prepare) and
// returns the test metrics of the best validation epoch; Summarize turns
// the metrics of several seeds into a result Row (mean and population
// std). LoadPredictor opens a checkpoint that Fit wrote, with its config,
// weights, tokenizer and standardization statistics, and predicts raw
// samples (Predict), JSON lines (ReadJSONL), MMSA splits (ReadMMSA) or
// prepared splits (PredictSplit), through the same evaluation loop as
// training's validation and test passes. Package train/repro builds the
// paper's tables from these.
package train
