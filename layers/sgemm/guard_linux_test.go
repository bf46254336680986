package sgemm

import (
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// guarded returns n floats that end where an unreadable page begins, so
// that an assembly routine reading past the end of its source faults
// instead of reading unnoticed.
func guarded(t *testing.T, n int) []float32 {
	page := os.Getpagesize()
	size := (4*n + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size+page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[size:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&mem[size-4*n])), n)
}
