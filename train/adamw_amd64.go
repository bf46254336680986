package train

import "golang.org/x/sys/cpu"

// adamwAccelerated says whether adamwAVX2 runs on this CPU.
var adamwAccelerated = cpu.X86.HasAVX2

//go:noescape
func adamwAVX2(wp, gp, mp, vp *float32, n int, k *adamwConsts)

// adamwVector updates the leading multiple of 4 elements with adamwAVX2
// and returns how many it updated.
func adamwVector(w, g, m, v []float32, k *adamwConsts) int {
	n := len(g) &^ 3
	if !adamwAccelerated || n == 0 {
		return 0
	}
	_, _, _ = w[n-1], m[n-1], v[n-1]
	adamwAVX2(&w[0], &g[0], &m[0], &v[0], n, k)
	return n
}
