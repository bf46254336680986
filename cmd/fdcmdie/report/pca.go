package report

import (
	"fmt"
	"math"
	"sort"
)

// PCA2 projects the rows of x (n samples × d features) onto their first two
// principal components and returns the n 2-D coordinates. It stands in for
// the paper's t-SNE in figs 8/9 (see the package documentation).
//
// The columns are centred, the d×d covariance matrix (divisor n-1) is
// diagonalised (Householder tridiagonalisation and implicit QL, O(d³): about
// a second for d = 512), and the eigenvectors of the two largest eigenvalues
// become the axes. Eigenvectors are defined up to sign; each axis is flipped
// so that its largest-magnitude loading (first such index on ties) is
// positive, which makes the result deterministic and comparable with numpy
// or sklearn after the same flip.
//
// x needs at least two rows of equal length, at least two columns, and
// finite values.
func PCA2(x [][]float64) ([][2]float64, error) {
	n := len(x)
	if n < 2 {
		return nil, fmt.Errorf("report: pca: %d rows, need at least 2", n)
	}
	d := len(x[0])
	if d < 2 {
		return nil, fmt.Errorf("report: pca: %d columns, need at least 2", d)
	}
	mean := make([]float64, d)
	for i, row := range x {
		if len(row) != d {
			return nil, fmt.Errorf("report: pca: row %d has %d columns, row 0 has %d", i, len(row), d)
		}
		for j, v := range row {
			if !finite(v) {
				return nil, fmt.Errorf("report: pca: row %d column %d is %v", i, j, v)
			}
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	cov := make([][]float64, d)
	for j := range cov {
		cov[j] = make([]float64, d)
	}
	centred := make([]float64, d)
	for _, row := range x {
		for j, v := range row {
			centred[j] = v - mean[j]
		}
		for j := range d {
			for k := j; k < d; k++ {
				cov[j][k] += centred[j] * centred[k]
			}
		}
	}
	for j := range d {
		for k := j; k < d; k++ {
			cov[j][k] /= float64(n - 1)
			cov[k][j] = cov[j][k]
		}
	}
	values, vectors, err := symmetricEigen(cov)
	if err != nil {
		return nil, fmt.Errorf("report: pca: %w", err)
	}
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return values[order[a]] > values[order[b]] })
	var axes [2][]float64
	for a := range axes {
		axes[a] = make([]float64, d)
		for j := range d {
			axes[a][j] = vectors[order[a]][j]
		}
		big := 0
		for j := range d {
			if math.Abs(axes[a][j]) > math.Abs(axes[a][big]) {
				big = j
			}
		}
		if axes[a][big] < 0 {
			for j := range d {
				axes[a][j] = -axes[a][j]
			}
		}
	}
	out := make([][2]float64, n)
	for i, row := range x {
		for a := range axes {
			var s float64
			for j, v := range row {
				s += (v - mean[j]) * axes[a][j]
			}
			out[i][a] = s
		}
	}
	return out, nil
}

// symmetricEigen returns the eigenvalues of the symmetric matrix a and the
// matrix whose row k is the unit eigenvector of eigenvalue k. It reduces a
// to tridiagonal form with Householder reflections, then diagonalises the
// tridiagonal matrix with the implicit QL algorithm and Wilkinson-style
// shifts (Bowdler, Martin, Reinsch and Wilkinson, Handbook for Automatic
// Computation vol. II: tred2 and tql2). O(d³) with small constants: a 512×512
// covariance takes well under a second. a is overwritten.
func symmetricEigen(a [][]float64) (values []float64, vectors [][]float64, err error) {
	diag, off := householderTridiagonal(a)
	// a now holds the orthogonal Q with QᵀAQ tridiagonal; keep its
	// transpose so that the QL rotations below update two contiguous rows.
	q := make([][]float64, len(a))
	for i := range q {
		q[i] = make([]float64, len(a))
		for k := range q[i] {
			q[i][k] = a[k][i]
		}
	}
	if err := tridiagonalQL(diag, off, q); err != nil {
		return nil, nil, err
	}
	return diag, q, nil
}

// householderTridiagonal overwrites the symmetric matrix a (only its lower
// triangle is read) with the orthogonal matrix Q such that QᵀAQ is
// tridiagonal, and returns that matrix's diagonal and sub-diagonal
// (off[i] = T[i][i-1], off[0] = 0).
func householderTridiagonal(a [][]float64) (diag, off []float64) {
	n := len(a)
	diag, off = make([]float64, n), make([]float64, n)
	// Zero column i left of the sub-diagonal, from the last row up; diag
	// temporarily stores each reflection's scale h (0 when skipped).
	for i := n - 1; i > 0; i-- {
		l := i - 1
		var h, scale float64
		for k := 0; k <= l; k++ {
			scale += math.Abs(a[i][k])
		}
		if l == 0 || scale == 0 {
			off[i] = a[i][l]
			diag[i] = 0
			continue
		}
		// Reflection u = row i (scaled) minus g·e_l, with |g| = |row i|.
		for k := 0; k <= l; k++ {
			a[i][k] /= scale
			h += a[i][k] * a[i][k]
		}
		f := a[i][l]
		g := math.Sqrt(h)
		if f >= 0 {
			g = -g
		}
		off[i] = scale * g
		h -= f * g
		a[i][l] = f - g
		// p = A u / h (stored in off[0..l]), K = uᵀp / 2h, w = p − K u,
		// then A ← A − u wᵀ − w uᵀ on the leading (l+1)×(l+1) block.
		f = 0
		for j := 0; j <= l; j++ {
			a[j][i] = a[i][j] / h
			g = 0
			for k := 0; k <= j; k++ {
				g += a[j][k] * a[i][k]
			}
			for k := j + 1; k <= l; k++ {
				g += a[k][j] * a[i][k]
			}
			off[j] = g / h
			f += off[j] * a[i][j]
		}
		kk := f / (h + h)
		for j := 0; j <= l; j++ {
			f = a[i][j]
			g = off[j] - kk*f
			off[j] = g
			for k := 0; k <= j; k++ {
				a[j][k] -= f*off[k] + g*a[i][k]
			}
		}
		diag[i] = h
	}
	diag[0], off[0] = 0, 0
	// Accumulate the reflections into Q, from the first one applied last.
	for i := range n {
		if diag[i] != 0 {
			for j := 0; j < i; j++ {
				var g float64
				for k := 0; k < i; k++ {
					g += a[i][k] * a[k][j]
				}
				for k := 0; k < i; k++ {
					a[k][j] -= g * a[k][i]
				}
			}
		}
		diag[i] = a[i][i]
		a[i][i] = 1
		for j := 0; j < i; j++ {
			a[j][i], a[i][j] = 0, 0
		}
	}
	return diag, off
}

// tridiagonalQL diagonalises the symmetric tridiagonal matrix with diagonal
// diag and sub-diagonal off (off[i] = T[i][i-1]) by implicit QL iterations,
// leaving the eigenvalues in diag, and applies every rotation to the rows
// of qt so that row k ends as the eigenvector of diag[k].
func tridiagonalQL(diag, off []float64, qt [][]float64) error {
	const maxIter = 60
	n := len(diag)
	for i := 1; i < n; i++ {
		off[i-1] = off[i]
	}
	off[n-1] = 0
	for l := 0; l < n; l++ {
		for iter := 0; ; iter++ {
			// Find the first negligible sub-diagonal element at or after l.
			m := l
			for ; m < n-1; m++ {
				dd := math.Abs(diag[m]) + math.Abs(diag[m+1])
				if math.Abs(off[m])+dd == dd {
					break
				}
			}
			if m == l {
				break
			}
			if iter == maxIter {
				return fmt.Errorf("eigensolver: eigenvalue %d not converged after %d QL iterations", l, maxIter)
			}
			// Shift from the leading 2×2 block.
			g := (diag[l+1] - diag[l]) / (2 * off[l])
			r := math.Hypot(g, 1)
			if g < 0 {
				r = -r
			}
			g = diag[m] - diag[l] + off[l]/(g+r)
			s, c, p := 1.0, 1.0, 0.0
			underflow := false
			for i := m - 1; i >= l; i-- {
				f, b := s*off[i], c*off[i]
				r = math.Hypot(f, g)
				off[i+1] = r
				if r == 0 {
					// Underflow: the matrix splits; restart at l.
					diag[i+1] -= p
					off[m] = 0
					underflow = true
					break
				}
				s, c = f/r, g/r
				g = diag[i+1] - p
				r = (diag[i]-g)*s + 2*c*b
				p = s * r
				diag[i+1] = g + p
				g = c*r - b
				lo, hi := qt[i], qt[i+1]
				for k := range hi {
					hi[k], lo[k] = s*lo[k]+c*hi[k], c*lo[k]-s*hi[k]
				}
			}
			if underflow {
				continue
			}
			diag[l] -= p
			off[l] = g
			off[m] = 0
		}
	}
	return nil
}
