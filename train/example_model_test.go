package train_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/train"
)

// Example shows the Go API: build a model from a config, run a training
// step and a prediction on a batch, save it and load it back.
func Example() {
	cfg := graph.DefaultConfig() // paper settings on precomputed text features
	cfg.DModel, cfg.Heads, cfg.Layers = 16, 2, 1
	cfg.TextDim, cfg.AudioDim, cfg.VisionDim = 12, 5, 20
	cfg.NoCL = true // no memory bank in a single step
	shape := graph.Shape{B: 2, Lt: 4, La: 6, Lv: 5}
	m, err := train.NewModel(cfg, shape, train.ModelOptions{Seed: 1111})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	// A batch as datasets.Batcher makes them: row-major float32, masks 1/0.
	b := &datasets.Batch{B: 2, Lt: 4, La: 6, Lv: 5, Ht: 12, Da: 5, Dv: 20, Index: []int{0, 1},
		TextFeats: make([]float32, 2*4*12), TextMask: []float32{1, 1, 1, 0, 1, 1, 0, 0},
		Audio: make([]float32, 2*6*5), AudioMask: []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
		Vision: make([]float32, 2*5*20), VisionMask: []float32{1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
		Label: []float32{1.4, -0.6}, Weight: []float32{1, 1}}
	for i := range b.TextFeats {
		b.TextFeats[i] = float32(i%7) / 7
	}
	step, err := m.TrainStep(b, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("training loss is finite:", step.Loss > 0 && step.Loss < 10)

	before, _ := m.Predict(b)
	dir, _ := os.MkdirTemp("", "fdcmdie-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	if err := m.Save(path, nil); err != nil {
		fmt.Println(err)
		return
	}
	again, _ := train.NewModel(cfg, shape, train.ModelOptions{Seed: 7})
	defer again.Close()
	if err := again.Load(path); err != nil {
		fmt.Println(err)
		return
	}
	after, _ := again.Predict(b)
	fmt.Println("predictions:", len(after.Pred), "same after reload:", after.Pred[0] == before.Pred[0] && after.Pred[1] == before.Pred[1])
	fmt.Println("GAP weights per layer:", len(after.Alpha))
	// Output:
	// training loss is finite: true
	// predictions: 2 same after reload: true
	// GAP weights per layer: 1
}
