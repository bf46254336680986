package main

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// limitMemory gives the Go garbage collector a soft memory limit of 60% of
// the machine's memory unless GOMEMLIMIT is set: each training step
// allocates its activations afresh, and with the default GOGC the heap of
// the paper preset (unaligned MOSI lengths) would grow past the machine's
// memory between collections.
func limitMemory() {
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
				debug.SetMemoryLimit(kb * 1024 * 6 / 10)
			}
			return
		}
	}
}
