package layers

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestBuilderCatchesSliceMerge is the collision that broke the paper
// preset's gradients: Gorgonia hashes Slice bounds modulo 256, so the
// second slice comes back as the first one. The builder must refuse it.
func TestBuilderCatchesSliceMerge(t *testing.T) {
	b := newTestBuilder(1)
	z := b.Input("z", 2, 896)
	first := b.Must(G.Slice(z, nil, G.S(384, 512)))
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	second := b.Must(G.Slice(z, nil, G.S(640, 768)))
	if first != second {
		t.Fatal("Gorgonia no longer merges these slices: the collision this test reproduces is gone")
	}
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "merged") {
		t.Fatalf("err = %v, want the merge to be reported", err)
	}
}

// TestBuilderAllowsDistinctSlices shows that the guard does not fire on
// nodes that Gorgonia keeps apart.
func TestBuilderAllowsDistinctSlices(t *testing.T) {
	b := newTestBuilder(1)
	z := b.Input("z", 2, 512)
	b.Must(G.Slice(z, nil, G.S(0, 128)))
	b.Must(G.Slice(z, nil, G.S(128, 256)))
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
}

// scaleK multiplies by f but leaves f out of its name, as a kernel with an
// incomplete String would: Gorgonia merges two different scales.
type scaleK struct{ f float64 }

func (scaleK) String() string                                   { return "scale" }
func (scaleK) outShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }
func (k scaleK) forward(a *kargs) {
	for i, v := range data[float64](a.in[0]) {
		data[float64](a.out)[i] = k.f * v
	}
}
func (k scaleK) backward(a *kargs) {}

func TestBuilderCatchesKernelMerge(t *testing.T) {
	b := newTestBuilder(1)
	x := randParam(b, "x", 1, 2, 3)
	b.apply(scaleK{2}, x)
	b.apply(scaleK{2}, x) // the same computation: shared, as it should be
	if err := b.Err(); err != nil {
		t.Fatalf("an equal kernel on the same input was refused: %v", err)
	}
	b.apply(scaleK{3}, x)
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "merged") {
		t.Fatalf("err = %v, want the merge of scale 2 and scale 3 to be reported", err)
	}
}

// TestNoLossyGorgoniaOps fails when production code calls Gorgonia's
// Concat or Slice again: their gradients are wrong once a bound reaches
// 256 (layers.Concat replaces Concat).
func TestNoLossyGorgoniaOps(t *testing.T) {
	banned := map[string]bool{"Concat": true, "Slice": true}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		alias := ""
		for _, imp := range f.Imports {
			if imp.Path.Value == `"gorgonia.org/gorgonia"` {
				alias = "gorgonia"
				if imp.Name != nil {
					alias = imp.Name.Name
				}
			}
		}
		if alias == "" {
			return nil
		}
		if f, err = parser.ParseFile(fset, path, nil, 0); err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, isID := sel.X.(*ast.Ident); isID && id.Name == alias && banned[sel.Sel.Name] {
				t.Errorf("%v: %s.%s: use layers.Concat (Gorgonia's hashes Slice bounds modulo 256)", fset.Position(sel.Pos()), alias, sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(fmt.Errorf("walking the module: %w", err))
	}
}
