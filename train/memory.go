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
// set in the environment. The kernels keep their outputs, gradients and
// scratch from step to step, so a step allocates little (24 MB at the
// paper preset) on top of a large live heap (5 GB there): collections are
// rare and cheap, and the limit keeps a model near the machine's size
// from being killed for memory.
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
