//go:build !openblas

package layers

// openblas says whether the test binary runs the products on OpenBLAS.
const openblas = false
