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
//
// # Node merging and the ops that remain
//
// Gorgonia merges a new node into an existing one whose hash agrees, so
// an op whose WriteHash leaves out part of what it computes turns two
// computations into one, silently. Slice hashes its bounds as one byte
// each, and Concat's gradient is cut with Slices: at d_model 128 the head
// input's blocks at 384 and 640 collided and the audio path trained on
// the text path's gradient. Concat here is a kernel of its own; a test
// fails when production code calls Gorgonia's Concat or Slice, and the
// Builder fails when an op application returns a node that already
// existed (Builder.Must: any; Builder's kernels: unless it is the same
// kernel on the same inputs). The op types left in a training graph,
// forward and gradient (graph's TestGraphOpsHaveCompleteHashes fails on
// any other), and why each hash is complete, read in Gorgonia v0.9.18:
//
//   - this package's forward, backward and pick ops: the kernel's String
//     (every field of its configuration), the input shapes, the gradient
//     flags; a pick adds its input index. idCheckOp: vocabulary and shape.
//   - reshapeOp (Reshape and the gradient of Reshape and Sum): the source
//     and target shapes in full.
//   - sumOp (the cost Σ L): the reduced axes and the input shape.
//   - sizeOp and repeatOp (the gradient of Sum): the axis and rank as one
//     byte each, below 256 for any tensor here; repeat axes and input shape
//     in full; the sizes themselves are child nodes, hashed with them.
//   - elemBinOp (Add, where Grad sums the gradients of a node used more
//     than once): the operator and both argument types; the operands are
//     child nodes.
//   - constantScalar (the cost's seed gradient 1): type and value.
//
// A node's hash also holds its type, shape and its children's hashes (the
// count of children as one byte: no op here has more than 15 inputs).
package layers
