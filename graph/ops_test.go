package graph

import (
	"fmt"
	"sort"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// completeHashOps are the op types allowed in a training graph: each one's
// hash holds everything that makes it compute what it does (the audit is
// in the layers package doc). Gorgonia merges nodes by hash, so an op
// whose hash loses information (Slice, and Concat whose gradient is made
// of Slices) gives wrong numbers silently.
var completeHashOps = map[string]bool{
	"*layers.fwdOp": true, "*layers.bwdOp": true, "*layers.pickOp": true, "*layers.idCheckOp": true,
	"gorgonia.reshapeOp": true, "gorgonia.sumOp": true, "gorgonia.sizeOp": true, "*gorgonia.repeatOp": true,
	"gorgonia.elemBinOp": true, "gorgonia.constantScalar": true,
}

// TestGraphOpsHaveCompleteHashes builds the forward and gradient graph of
// every ablation and fails on an op type outside the audited list.
func TestGraphOpsHaveCompleteHashes(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range ablations {
		for _, freeze := range []bool{false, true} {
			cfg := tinyConfig()
			a.apply(&cfg)
			m, err := Build(cfg, tinyShape, Options{Dtype: tensor.Float32, Train: true, WithCL: cfg.UsesCL(), FreezeText: freeze})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := G.Grad(m.Cost, m.B.Trainable()...); err != nil {
				t.Fatal(err)
			}
			for _, n := range m.B.G.AllNodes() {
				if n.Op() != nil {
					seen[fmt.Sprintf("%T", n.Op())] = true
				}
			}
		}
	}
	var names []string
	for op := range seen {
		names = append(names, op)
		if !completeHashOps[op] {
			t.Errorf("op %s is in a training graph but its hash was not audited (layers package doc)", op)
		}
	}
	sort.Strings(names)
	t.Logf("op types: %v", names)
}
