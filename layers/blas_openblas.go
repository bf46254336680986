//go:build openblas

package layers

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
import "C"

import (
	"github.com/fdcmdie/fdcmdie/layers/sgemm"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// With -tags openblas (cgo and Debian's libopenblas-dev) Gorgonia's own
// matrix products and the float64 products run on OpenBLAS instead of
// gonum's pure-Go BLAS; the model's float32 products also do when the CPU
// lacks AVX2/FMA, where package sgemm has only its portable kernel.
// OpenBLAS runs single-threaded: the kernels split their products over the
// cores themselves, and OpenBLAS's spinning threads would compete with them.
func init() {
	C.openblas_set_num_threads(1)
	impl := netlib.Implementation{}
	G.Use(impl)
	if !sgemm.Accelerated() {
		float32Gemm = func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			impl.Sgemm(transpose(tA), transpose(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		}
		float32GemmSerial = float32Gemm
		packedProducts = false
	}
}
