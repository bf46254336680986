//go:build !linux

package sgemm

import "testing"

// guarded returns n floats; only on Linux does an unreadable page follow
// them.
func guarded(_ *testing.T, n int) []float32 {
	return make([]float32, n)
}
