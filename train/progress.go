package train

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Bar shows the progress of long work (an epoch, the memory-bank fill, a
// frozen encoder's feature pass) on a terminal as one line redrawn in
// place: "epoch 3 [#####.....] 12/41  loss 0.8123  ETA 12s". A log file,
// a pipe or CI would fill up with \r-joined partial lines, so a Bar made
// for anything but a terminal draws nothing; the callers print one
// summary line when the work is done instead.
type Bar struct {
	w    io.Writer
	draw bool // w is a terminal
	open bool // a bar is on the current line
}

// NewBar returns a Bar on w that draws when w is a terminal. A nil w or a
// nil *Bar is silent.
func NewBar(w io.Writer) *Bar { return &Bar{w: w, draw: IsTerminal(w)} }

// IsTerminal reports whether w is a terminal (a character device).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Update draws what at n of total steps, begun at start, with note and the
// time left at the rate so far.
func (p *Bar) Update(what string, n, total int, start time.Time, note string) {
	if p == nil || !p.draw || p.w == nil {
		return
	}
	const width = 24
	done := width * n / total
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < done {
			bar[i] = '#'
		}
	}
	eta := time.Duration(float64(time.Since(start)) / float64(n) * float64(total-n)).Round(time.Second)
	fmt.Fprintf(p.w, "\r%s [%s] %d/%d  %sETA %v", what, bar, n, total, note, eta)
	p.open = true
}

// Clear erases the bar's line.
func (p *Bar) Clear() {
	if p != nil && p.open {
		fmt.Fprint(p.w, "\r\033[K")
		p.open = false
	}
}

// End ends the bar's line, so that an error printed next starts a line of
// its own.
func (p *Bar) End() {
	if p != nil && p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}
