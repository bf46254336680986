package textenc

import (
	"fmt"
	"io"
	"time"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/layers"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// encode runs the frozen encoder over every split in batches, filling
// each split's TextFeats [N, lt, H].
func (p *Pretrained) encode(splits []*datasets.Split, lt int, log io.Writer, bar Progress) error {
	const batch = 16
	b := layers.NewBuilder(tensor.Float32, 0, false)
	ids, mask := b.Input("text_ids", batch, lt), b.Input("text_mask", batch, lt)
	enc := layers.NewNeoBERT(b, "", p.cfg)
	last, _ := enc.Fwd(b, ids, mask)
	if err := b.Err(); err != nil {
		return err
	}
	if err := enc.Load(b, p.weights); err != nil {
		return err
	}
	var out G.Value
	G.Read(last, &out)
	m := layers.NewTapeMachine(b.G)
	defer m.Close()
	h := p.cfg.HiddenSize
	total := 0
	for _, s := range splits {
		total += (s.Len() + batch - 1) / batch
	}
	done, start := 0, time.Now()
	for _, s := range splits {
		s.TextFeats = datasets.Seq{N: s.Len(), T: lt, D: h, Data: make([]float32, s.Len()*lt*h)}
		for lo := 0; lo < s.Len(); lo += batch {
			idv, mv := make([]float32, batch*lt), make([]float32, batch*lt)
			for r := 0; r < batch && lo+r < s.Len(); r++ {
				row := s.TextIDs[lo+r]
				for t := 0; t < lt && t < len(row); t++ {
					idv[r*lt+t] = float32(row[t])
					if t < s.TextLen[lo+r] {
						mv[r*lt+t] = 1
					}
				}
			}
			if err := G.Let(ids, tensor.New(tensor.WithShape(batch, lt), tensor.WithBacking(idv))); err != nil {
				return err
			}
			if err := G.Let(mask, tensor.New(tensor.WithShape(batch, lt), tensor.WithBacking(mv))); err != nil {
				return err
			}
			m.Reset()
			if err := m.RunAll(); err != nil {
				return fmt.Errorf("text encoder: %s: %w", s.Name, err)
			}
			feats := out.Data().([]float32)
			n := min(batch, s.Len()-lo)
			copy(s.TextFeats.Data[lo*lt*h:(lo+n)*lt*h], feats[:n*lt*h])
			done++
			if bar != nil {
				bar.Update("text features", done, total, start, "")
			}
		}
	}
	if bar != nil {
		bar.Clear()
	}
	fmt.Fprintf(log, "text features: %d batches in %v\n", total, time.Since(start).Round(time.Second))
	return nil
}
