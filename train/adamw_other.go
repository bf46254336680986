//go:build !amd64

package train

// adamwAccelerated is false: adamwGo updates every element.
const adamwAccelerated = false

// adamwVector updates nothing: adamwGo updates every element.
func adamwVector(w, g, m, v []float32, k *adamwConsts) int { return 0 }
