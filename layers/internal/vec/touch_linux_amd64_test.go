package vec

import (
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// TestTouchStaysInside runs Touch over n floats that end where an
// unreadable page begins: a load past p[n−1] faults.
func TestTouchStaysInside(t *testing.T) {
	page := os.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 3*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[2*page:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 15, 16, 17, 31, 32, 33, 500} {
		p := unsafe.Slice((*float32)(unsafe.Pointer(&mem[2*page-4*n])), n)
		Touch(&p[0], n)
	}
}
