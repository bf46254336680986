package repro

import (
	"slices"
	"testing"
)

func TestAblationNamesOrder(t *testing.T) {
	want := []string{"FD-CMDIE (full)", "w/o NeoBERT", "w/o CL", "w/o CMDIE", "w/o GAP", "w/o CrossAtt2"}
	if got := AblationNames(); !slices.Equal(got, want) {
		t.Errorf("AblationNames() = %q, want %q", got, want)
	}
}
