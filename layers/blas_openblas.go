//go:build openblas

package layers

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
import "C"

import (
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// With -tags openblas (cgo and Debian's libopenblas-dev) every Gorgonia
// matrix product and every kernel's gemm runs on OpenBLAS instead of
// gonum's pure-Go BLAS. OpenBLAS runs single-threaded: the kernels split
// their products over the cores themselves (gemm, parallelFor), and
// OpenBLAS's spinning threads would compete with them.
func init() {
	C.openblas_set_num_threads(1)
	G.Use(netlib.Implementation{})
}
