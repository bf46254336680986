// Package train runs the MMSA training protocol of SPEC §8: AdamW, early
// stopping on validation loss, seeds, checkpoints, and the regression
// metrics of SPEC §10.
package train
