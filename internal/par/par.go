// Package par runs the parts of a parallel section on worker goroutines
// that stay awake for a while after their last part: a part starts within
// a microsecond or so, where a new goroutine waits tens of microseconds for
// the runtime to wake a sleeping thread.
//
// A training step runs thousands of short parallel sections (a linear
// layer's two gradient products, a norm over a batch's rows). Started with
// `go`, the second part of such a section often began only after the first
// had ended, on this project's 2-core machines: a 2×70 µs section took
// 160 µs, and a MOSEI-sized training step left a fifth of its core time
// idle. Fork hands each part to a worker that polls for one. A worker polls
// for spinFor after its last part and then sleeps until a Fork wakes it, so
// a program between sections keeps a core busy for at most that long; Spun
// says how much time went to polling.
//
// Polling must not cost much where processes share the cores (a grid's
// units run side by side, `go test` runs packages side by side): a polling
// thread yields its CPU to other threads every few hundred reads, and a
// Fork's caller runs the parts no worker has started by the time its own
// part is done, so a worker the OS is not running delays nothing. Two
// MOSEI-sized trainings side by side on two cores each ran a step in 1.24 s,
// against 1.30–1.36 s with a goroutine per part (and 1.87 s with workers that
// did neither).
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spinFor is how long a worker polls for its next part before it sleeps.
// A Fork that wakes a sleeping worker waits 64 µs to 4 ms for it on this
// project's virtual machines, often longer than its own part, which the
// caller then runs too, one after the other. Idle stretches of more than
// 200 µs are common inside a step: the last tasks of a Pull leave one
// core alone for up to a task (an attention head, an LSTM group). With
// 200 µs a paper-preset training step woke a sleeping worker about 90
// times and ran 81 parts on the caller after its own; with 2 ms, 13 and
// 45 (BenchmarkForkAfterTail: a 2×50 µs section after a 1 ms tail took
// 65 µs longer than one part with 200 µs, 2 µs with 2 ms). Tests change
// it.
var spinFor = 2 * time.Millisecond

// pollsPerYield is how many times a poll loop reads its flag before it
// lets other goroutines, and other threads of the machine, run (yield).
const pollsPerYield = 256

// Worker states.
const (
	idle   = iota // polling for a part
	busy          // claimed by a Fork: running, or about to run, a part
	asleep        // waiting on wake
)

type worker struct {
	state atomic.Int32
	part  atomic.Pointer[part]
	wake  chan struct{}
}

// part is the call f(w) of a Fork, which done counts down when it returns;
// started is set by the goroutine that runs it.
type part struct {
	f       func(w int)
	w       int
	done    *atomic.Int32
	started atomic.Bool
}

var pool struct {
	mu      sync.Mutex
	workers atomic.Pointer[[]*worker]
}

// spun is the time workers and waiting callers have spent polling.
var spun atomic.Int64

// Spun returns the total time spent polling so far: CPU time that did no
// work, for measurements of how busy the cores were.
func Spun() time.Duration { return time.Duration(spun.Load()) }

// Fork runs f(0), …, f(n−1) side by side, f(0) on the calling goroutine,
// and returns when all have returned. Each part runs once, on a worker or,
// when no worker has started it by the time the caller is done with f(0),
// on the caller: a worker that the OS has put aside for another process
// holds up nothing but the part it has started.
func Fork(n int, f func(w int)) {
	if n <= 1 {
		if n == 1 {
			f(0)
		}
		return
	}
	var done atomic.Int32
	done.Store(int32(n - 1))
	parts := make([]part, n)
	for w := 1; w < n; w++ {
		parts[w] = part{f: f, w: w, done: &done}
		if !hand(&parts[w]) {
			go parts[w].run()
		}
	}
	f(0)
	for w := 1; w < n; w++ {
		parts[w].run()
	}
	if done.Load() == 0 {
		return
	}
	start := time.Now()
	for i := 1; done.Load() != 0; i++ {
		if i%pollsPerYield == 0 {
			yield()
		}
	}
	spun.Add(int64(time.Since(start)))
}

// Workers is the number of parts Pull runs n tasks on: min(GOMAXPROCS, n).
func Workers(n int) int { return min(runtime.GOMAXPROCS(0), n) }

// Pull runs f(w, i) for every i in [0, n) on the Workers(n) parts of a
// Fork, w the part's index: each part takes the next i when done with its
// last, which balances tasks of uneven cost (best taken in order of
// falling cost).
func Pull(n int, f func(w, i int)) {
	var next atomic.Int64
	Fork(Workers(n), func(w int) {
		for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
			f(w, i)
		}
	})
}

// run runs the part unless another goroutine has started it.
func (p *part) run() {
	if !p.started.CompareAndSwap(false, true) {
		return
	}
	p.f(p.w)
	p.done.Add(-1)
}

// hand gives p to a worker that is not running a part, starting one when
// there are fewer than GOMAXPROCS−1; false when none is free.
func hand(p *part) bool {
	if ws := pool.workers.Load(); ws != nil {
		for _, wk := range *ws {
			if wk.state.CompareAndSwap(idle, busy) {
				wk.part.Store(p)
				return true
			}
		}
		for _, wk := range *ws {
			if wk.state.CompareAndSwap(asleep, busy) {
				wk.part.Store(p)
				wk.wake <- struct{}{}
				return true
			}
		}
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	var ws []*worker
	if old := pool.workers.Load(); old != nil {
		ws = *old
	}
	if len(ws) >= runtime.GOMAXPROCS(0)-1 {
		return false
	}
	wk := &worker{wake: make(chan struct{}, 1)}
	wk.state.Store(busy)
	wk.part.Store(p)
	ws = append(ws[:len(ws):len(ws)], wk)
	pool.workers.Store(&ws)
	go wk.loop()
	return true
}

// loop runs the parts handed to wk, polling for the next for spinFor and
// then sleeping until a Fork wakes it.
func (wk *worker) loop() {
	for {
		p := wk.part.Load()
		for p == nil {
			p = wk.poll()
		}
		wk.part.Store(nil)
		p.run()
		wk.state.Store(idle)
	}
}

// poll waits for a part: polling for spinFor, then asleep. It returns nil
// when woken before the part is visible.
func (wk *worker) poll() *part {
	start := time.Now()
	for i := 0; ; i++ {
		if p := wk.part.Load(); p != nil {
			spun.Add(int64(time.Since(start)))
			return p
		}
		if i%pollsPerYield != pollsPerYield-1 {
			continue
		}
		yield()
		if time.Since(start) > spinFor && wk.state.CompareAndSwap(idle, asleep) {
			spun.Add(int64(time.Since(start)))
			<-wk.wake
			return wk.part.Load()
		}
	}
}
