package par

import (
	"runtime"
	"syscall"
)

// yield lets the goroutines waiting for this one's core run, and then the
// threads waiting for its CPU (sched_yield), so that a poll loop costs
// little while other processes share the machine.
func yield() {
	runtime.Gosched()
	syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}
