package synth_test

import (
	"fmt"

	"github.com/fdcmdie/fdcmdie/datasets/synth"
)

func ExampleGenerate() {
	ds, err := synth.Generate(synth.DefaultConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ds.Name, ds.Train.Len(), ds.Valid.Len(), ds.Test.Len())
	fmt.Println("audio", ds.Train.Audio.T, ds.Train.Audio.D, "vision", ds.Train.Vision.T, ds.Train.Vision.D)
	// Output:
	// synthetic 1284 229 686
	// audio 50 5 vision 50 20
}

func ExampleOracleCeiling() {
	// A latent score of exactly 0 with label noise σ = 0.3: the label is 0
	// about 26% of the time, so has0 counts it right 63% of the time and
	// non0 (labels ≠ 0 only) a coin flip.
	c, err := synth.OracleCeiling([]float32{0}, 0.3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("MAE %.4f, Acc-2 %.4f/%.4f\n", c.MAE, c.Acc2Has0, c.Acc2Non0)
	// Output:
	// MAE 0.2349, Acc-2 0.6306/0.5000
}
