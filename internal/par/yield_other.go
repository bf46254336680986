//go:build !linux

package par

import "runtime"

// yield lets the goroutines waiting for this one's core run.
func yield() { runtime.Gosched() }
