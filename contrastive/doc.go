// Package contrastive holds the contrastive-learning side of FD-CMDIE
// (SPEC §4): the 7-class sample sets chosen by cosine similarity of the
// retrieval vectors, the memory bank of detached features, and the NT-Xent
// and triplet losses.
package contrastive
