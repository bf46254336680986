package report

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pcaCase is one case of testdata/pca_golden.json (made by pca_golden.py
// with numpy's LAPACK eigensolver, same sign convention as PCA2).
type pcaCase struct {
	Name        string      `json:"name"`
	X           [][]float64 `json:"x"`
	Eigenvalues []float64   `json:"eigenvalues"`
	Proj        [][]float64 `json:"proj"`
}

func TestPCA2Golden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "pca_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []pcaCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 4 {
		t.Fatalf("%d golden cases, want 4", len(cases))
	}
	const tol = 1e-9
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := PCA2(c.X)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.Proj) {
				t.Fatalf("%d points, want %d", len(got), len(c.Proj))
			}
			var ss [2]float64
			for i := range got {
				for a := range 2 {
					if d := math.Abs(got[i][a] - c.Proj[i][a]); d > tol*math.Max(1, math.Abs(c.Proj[i][a])) {
						t.Errorf("point %d axis %d: %.12g, want %.12g", i, a, got[i][a], c.Proj[i][a])
					}
					ss[a] += got[i][a] * got[i][a]
				}
			}
			// The variance along each axis is its eigenvalue.
			for a := range 2 {
				if v := ss[a] / float64(len(got)-1); math.Abs(v-c.Eigenvalues[a]) > tol*c.Eigenvalues[a] {
					t.Errorf("axis %d: variance %.12g, want eigenvalue %.12g", a, v, c.Eigenvalues[a])
				}
			}
		})
	}
}

func TestPCA2SignAndLine(t *testing.T) {
	// Points on the line y = -2x: one axis along ±(1, -2)/√5 whose largest
	// component (-2) must come out positive, i.e. the axis (-1, 2)/√5; the
	// second axis has zero variance.
	x := [][]float64{{0, 0}, {1, -2}, {2, -4}, {3, -6}}
	got, err := PCA2(x)
	if err != nil {
		t.Fatal(err)
	}
	// Centred rows (-1.5, 3), (-0.5, 1), (0.5, -1), (1.5, -3) on (-1, 2)/√5.
	want := []float64{7.5 / math.Sqrt(5), 2.5 / math.Sqrt(5), -2.5 / math.Sqrt(5), -7.5 / math.Sqrt(5)}
	for i := range want {
		if math.Abs(got[i][0]-want[i]) > 1e-12 || math.Abs(got[i][1]) > 1e-12 {
			t.Errorf("point %d: %v, want (%v, 0)", i, got[i], want[i])
		}
	}
}

func TestPCA2Constant(t *testing.T) {
	got, err := PCA2([][]float64{{1, 2, 3}, {1, 2, 3}, {1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range got {
		if p != [2]float64{} {
			t.Errorf("point %d = %v, want the origin", i, p)
		}
	}
}

func TestSymmetricEigenKnown(t *testing.T) {
	// The n×n second-difference matrix tridiag(-1, 2, -1) has eigenvalues
	// 2 − 2cos(kπ/(n+1)) with eigenvectors (sin(jkπ/(n+1)))_j, k = 1..n;
	// [[2, 1], [1, 2]] has 1 and 3 with (1, -1)/√2 and (1, 1)/√2.
	secondDiff := func(n int) ([][]float64, []float64, [][]float64) {
		a := make([][]float64, n)
		var vals []float64
		var vecs [][]float64
		for i := range a {
			a[i] = make([]float64, n)
			a[i][i] = 2
			if i > 0 {
				a[i][i-1], a[i-1][i] = -1, -1
			}
		}
		for k := 1; k <= n; k++ {
			vals = append(vals, 2-2*math.Cos(float64(k)*math.Pi/float64(n+1)))
			v := make([]float64, n)
			for j := range v {
				v[j] = math.Sin(float64((j+1)*k) * math.Pi / float64(n+1))
			}
			vecs = append(vecs, v)
		}
		return a, vals, vecs
	}
	type eigenCase struct {
		a    [][]float64
		vals []float64
		vecs [][]float64
	}
	var cases []eigenCase
	for _, n := range []int{3, 6, 9} {
		a, vals, vecs := secondDiff(n)
		cases = append(cases, eigenCase{a, vals, vecs})
	}
	cases = append(cases, eigenCase{[][]float64{{2, 1}, {1, 2}}, []float64{1, 3}, [][]float64{{1, -1}, {1, 1}}})
	const tol = 1e-12
	for ci, c := range cases {
		values, vectors, err := symmetricEigen(c.a)
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range c.vals {
			// Find the computed eigenvalue nearest to the expected one.
			best := 0
			for i := range values {
				if math.Abs(values[i]-want) < math.Abs(values[best]-want) {
					best = i
				}
			}
			if math.Abs(values[best]-want) > tol {
				t.Errorf("case %d: eigenvalue %d: nearest computed %v, want %v", ci, k, values[best], want)
				continue
			}
			// The computed unit vector must be ± the normalised expected one.
			var dot, norm2, unit float64
			for j, x := range c.vecs[k] {
				dot += x * vectors[best][j]
				norm2 += x * x
				unit += vectors[best][j] * vectors[best][j]
			}
			if math.Abs(math.Abs(dot)/math.Sqrt(norm2)-1) > tol || math.Abs(unit-1) > tol {
				t.Errorf("case %d: eigenvector %d: |cos| = %v, |v|² = %v, want 1 and 1", ci, k, math.Abs(dot)/math.Sqrt(norm2), unit)
			}
		}
	}
}

func TestPCA2Errors(t *testing.T) {
	for _, tc := range []struct {
		name string
		x    [][]float64
		want string
	}{
		{"empty", nil, "0 rows"},
		{"one row", [][]float64{{1, 2}}, "1 rows"},
		{"one column", [][]float64{{1}, {2}}, "1 columns"},
		{"ragged", [][]float64{{1, 2}, {1, 2, 3}}, "row 1 has 3 columns"},
		{"nan", [][]float64{{1, 2}, {math.NaN(), 2}}, "row 1 column 0 is NaN"},
		{"inf", [][]float64{{1, math.Inf(1)}, {1, 2}}, "row 0 column 1 is +Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := PCA2(tc.x); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
