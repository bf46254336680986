package par

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// forkCounts runs Fork(n) and returns how often each part ran.
func forkCounts(n int) []int32 {
	counts := make([]atomic.Int32, n)
	Fork(n, func(w int) { counts[w].Add(1) })
	out := make([]int32, n)
	for w := range counts {
		out[w] = counts[w].Load()
	}
	return out
}

func TestForkRunsEachPartOnce(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		for n := 0; n <= 9; n++ {
			for w, c := range forkCounts(n) {
				if c != 1 {
					t.Errorf("GOMAXPROCS %d, Fork(%d): part %d ran %d times", procs, n, w, c)
				}
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

func TestPullRunsEachTaskOnce(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		old := runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 3, 100} {
			counts := make([]atomic.Int32, n)
			var badW atomic.Bool
			Pull(n, func(w, i int) {
				if w < 0 || w >= Workers(n) {
					badW.Store(true)
				}
				counts[i].Add(1)
			})
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Errorf("GOMAXPROCS %d, Pull(%d): task %d ran %d times", procs, n, i, c)
				}
			}
			if badW.Load() {
				t.Errorf("GOMAXPROCS %d, Pull(%d): a part index outside [0, %d)", procs, n, Workers(n))
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

func TestForkFirstPartOnCaller(t *testing.T) {
	old := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(old)
	caller := goid()
	for range 100 {
		var first, second atomic.Uint64
		var secondStarted atomic.Bool
		sideBySide := false
		Fork(2, func(w int) {
			if w == 1 {
				secondStarted.Store(true)
				second.Store(goid())
				return
			}
			first.Store(goid())
			// Part 1 starts while part 0 runs: on a worker, not after
			// part 0 on the caller.
			for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
				if secondStarted.Load() {
					sideBySide = true
					break
				}
			}
		})
		if first.Load() != caller || second.Load() == caller || !sideBySide {
			t.Fatalf("caller goroutine %d; part 0 ran on %d, part 1 on %d; side by side: %v",
				caller, first.Load(), second.Load(), sideBySide)
		}
	}
}

// TestForkWhileWorkerBlocked: Forks complete while the one worker runs a
// part that waits for them to end.
func TestForkWhileWorkerBlocked(t *testing.T) {
	old := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(old)
	block := make(chan struct{})
	go Fork(2, func(w int) {
		if w == 1 {
			<-block
		}
	})
	time.Sleep(10 * time.Millisecond)
	var ran atomic.Int32
	for range 100 {
		Fork(3, func(int) { ran.Add(1) })
	}
	close(block)
	if ran.Load() != 300 {
		t.Fatalf("%d parts ran, want 300", ran.Load())
	}
}

// TestPartRunsOnce: of the goroutines that try to run a part (the worker
// it was handed to, the Fork's caller), one does.
func TestPartRunsOnce(t *testing.T) {
	for range 1000 {
		var done atomic.Int32
		done.Store(1)
		var runs atomic.Int32
		p := part{f: func(int) { runs.Add(1) }, w: 1, done: &done}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.run()
			}()
		}
		wg.Wait()
		if runs.Load() != 1 || done.Load() != 0 {
			t.Fatalf("part ran %d times, done %d", runs.Load(), done.Load())
		}
	}
}

// goid is the calling goroutine's number, from its stack's header line.
func goid() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _ := strconv.ParseUint(string(bytes.Fields(buf)[1]), 10, 64)
	return id
}

func TestForkNestedAndConcurrent(t *testing.T) {
	old := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(old)
	var total atomic.Int64
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				Fork(2+(g+i)%3, func(int) {
					Fork(2, func(int) { total.Add(1) })
				})
			}
		}()
	}
	wg.Wait()
	want := int64(0)
	for g := range 4 {
		for i := range 200 {
			want += int64(2 * (2 + (g+i)%3))
		}
	}
	if got := total.Load(); got != want {
		t.Fatalf("nested forks ran %d innermost parts, want %d", got, want)
	}
}

func TestWorkersSleepWhenIdle(t *testing.T) {
	old := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(old)
	forkCounts(2)
	deadline := time.Now().Add(5 * time.Second)
	for !allAsleep() {
		if time.Now().After(deadline) {
			t.Fatal("workers still polling 5 s after the last Fork")
		}
		time.Sleep(time.Millisecond)
	}
	spun := Spun()
	// A sleeping worker is woken by the next Fork.
	for w, c := range forkCounts(2) {
		if c != 1 {
			t.Fatalf("Fork after sleep: part %d ran %d times", w, c)
		}
	}
	if Spun() < spun {
		t.Fatal("Spun went back")
	}
}

func allAsleep() bool {
	ws := pool.workers.Load()
	if ws == nil || len(*ws) == 0 {
		return false
	}
	for _, wk := range *ws {
		if wk.state.Load() != asleep {
			return false
		}
	}
	return true
}

var sink atomic.Int64

// work is about d of arithmetic.
func work(n int) {
	s := 0.0
	for i := range n {
		s += float64(i) * 1.0000001
	}
	sink.Add(int64(s))
}

// BenchmarkFork runs sections of two parts of about 10 µs each, with
// Fork and with a goroutine per part as before (each part's work alone is
// the "serial" row).
func BenchmarkFork(b *testing.B) {
	const n = 10000
	b.Run("serial", func(b *testing.B) {
		for range b.N {
			work(n)
		}
	})
	b.Run("fork", func(b *testing.B) {
		for range b.N {
			Fork(2, func(int) { work(n) })
		}
	})
	b.Run("goroutine", func(b *testing.B) {
		for range b.N {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				work(n)
			}()
			work(n)
			wg.Wait()
		}
	})
}

// BenchmarkForkAfterTail runs a section whose first part works tail
// longer than its second, as the last tasks of a Pull leave one core
// alone, and then a section of two 50 µs parts; it reports the extra time
// of the second section over one part ("extra-us"), for workers polling
// 200 µs and 2 ms before they sleep.
func BenchmarkForkAfterTail(b *testing.B) {
	old := spinFor
	defer func() { spinFor = old }()
	const part = 50000 // about 50 µs of work
	start := time.Now()
	work(part)
	unit := time.Since(start)
	for _, spin := range []time.Duration{200 * time.Microsecond, 2 * time.Millisecond} {
		for _, tail := range []int{0, 4, 20} {
			b.Run(fmt.Sprintf("spin=%v/tail=%dx", spin, tail), func(b *testing.B) {
				spinFor = spin
				var extra time.Duration
				for range b.N {
					Fork(2, func(w int) { work(part * (1 + tail*(1-w))) })
					t0 := time.Now()
					Fork(2, func(int) { work(part) })
					extra += time.Since(t0) - unit
				}
				b.ReportMetric(float64(extra.Microseconds())/float64(b.N), "extra-us")
			})
		}
	}
}
