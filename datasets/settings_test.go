package datasets_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/fdcmdie/fdcmdie/datasets"
)

// TestSettings pins paper table 2 and the embedded corpus's protocol.
func TestSettings(t *testing.T) {
	want := map[string]datasets.Setting{
		"mosi":      {Batch: 32, KCL: 10, Epochs: 50, LR: 1e-4, Patience: 8},
		"mosei":     {Batch: 16, KCL: 50, Epochs: 12, LR: 1e-4, Patience: 8},
		"synthetic": {Batch: 32, KCL: 10, Epochs: 40, LR: 1e-3, Patience: 4, Budget: 125 * time.Second},
	}
	got := datasets.Settings()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Settings() = %+v, want %+v", got, want)
	}
	got["mosi"] = datasets.Setting{}
	if datasets.Settings()["mosi"] != want["mosi"] {
		t.Error("changing the returned map changed the settings")
	}
}
