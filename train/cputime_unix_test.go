//go:build unix

package train

import (
	"syscall"
	"time"

	"github.com/fdcmdie/fdcmdie/internal/par"
)

// processCPU returns the CPU time (user and system) the process has used
// on work so far, and whether it could be read: the time the parallel
// sections' workers spent polling for work (par.Spun) does not count.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) - par.Spun(), true
}
