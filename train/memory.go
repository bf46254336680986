package train

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// TuneGC sets the garbage collector for training: a soft memory limit of
// 70% of the machine's memory and GOGC 400, unless GOMEMLIMIT or GOGC are
// set in the environment. Each training step allocates its activations
// and gradients afresh (7 GB for the paper preset on unaligned MOSI): with
// the defaults the collector either ran several times per step (half the
// step time) or, without a limit, let the heap outgrow the machine.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
				debug.SetMemoryLimit(kb * 1024 * 7 / 10)
			}
			return
		}
	}
}
