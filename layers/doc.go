// Package layers holds the reusable Gorgonia graph pieces of FD-CMDIE:
// Linear, LayerNorm, RMSNorm, sinusoidal positional encoding, the
// position-wise FFN, dropout masks, a row-stable masked softmax, multi-head
// attention, the fused LSTM op, and the text encoders (NeoBERT, BERT).
//
// Gorgonia v0.9.18 computes wrong numbers silently in several core ops
// (reductions over middle axes of ≥4-D tensors, SoftMax, Dropout, AdamW,
// node merging by hash). The heavy pieces are therefore custom ops with
// hand-written backward passes, each checked against float64 finite
// differences in this package's tests; tensors stay at most 3-D.
package layers
