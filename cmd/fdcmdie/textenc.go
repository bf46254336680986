package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/datasets/tokenize"
	"github.com/fdcmdie/fdcmdie/graph"
	"github.com/fdcmdie/fdcmdie/layers"
	"github.com/fdcmdie/fdcmdie/layers/safetensors"
	"github.com/fdcmdie/fdcmdie/train"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// pretrained is a NeoBERT release folder (chandar-lab/NeoBERT layout):
// config.json, model.safetensors and tokenizer.json.
type pretrained struct {
	dir     string
	cfg     layers.NeoBERTConfig
	weights string
	tok     *tokenize.Tokenizer
}

func loadPretrained(dir string) (*pretrained, error) {
	p := &pretrained{dir: dir, weights: filepath.Join(dir, "model.safetensors")}
	var err error
	if p.cfg, err = layers.LoadNeoBERTConfig(filepath.Join(dir, "config.json")); err != nil {
		return nil, fmt.Errorf("--neobert: %w", err)
	}
	if _, err := os.Stat(p.weights); err != nil {
		return nil, fmt.Errorf("--neobert: %w", err)
	}
	if p.tok, err = tokenize.Load(filepath.Join(dir, "tokenizer.json")); err != nil {
		return nil, fmt.Errorf("--neobert: %w", err)
	}
	if p.tok.VocabSize() > p.cfg.VocabSize {
		return nil, fmt.Errorf("--neobert: %s: tokenizer has %d tokens, config.json vocab_size is %d", dir, p.tok.VocabSize(), p.cfg.VocabSize)
	}
	return p, nil
}

// loadInto copies the released weights into a model's text encoder
// (text_encoder.* = the release's model.* names; the MLM decoder is skipped).
func (p *pretrained) loadInto(m *graph.Model) error {
	return layers.LoadParams(m.B, p.weights, "text_encoder.", func(name string) (string, bool) {
		if strings.HasPrefix(name, "decoder.") {
			return "", false
		}
		return "text_encoder." + strings.TrimPrefix(name, "model."), true
	})
}

// cacheKey hashes what the frozen features depend on: the weights, the
// encoder config, the text length and every split's token ids.
func (p *pretrained) cacheKey(splits []*datasets.Split, lt int) (string, error) {
	h := sha256.New()
	f, err := os.Open(p.weights)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return "", fmt.Errorf("%s: %w", p.weights, err)
	}
	cfg, _ := json.Marshal(p.cfg)
	h.Write(cfg)
	binary.Write(h, binary.LittleEndian, int64(lt))
	for _, s := range splits {
		h.Write([]byte(s.Name))
		for i, ids := range s.TextIDs {
			binary.Write(h, binary.LittleEndian, int64(s.TextLen[i]))
			binary.Write(h, binary.LittleEndian, ids)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// freezeFeatures fills every split's TextFeats [N, lt, H] with the frozen
// encoder's last hidden states, read from cacheDir when an earlier run with
// the same weights and data computed them, and cached there otherwise.
func (p *pretrained) freezeFeatures(splits []*datasets.Split, lt int, cacheDir string, log io.Writer) error {
	key, err := p.cacheKey(splits, lt)
	if err != nil {
		return err
	}
	path := filepath.Join(cacheDir, "neobert-features-"+key+".safetensors")
	h := p.cfg.HiddenSize
	if f, err := safetensors.Open(path); err == nil {
		defer f.Close()
		for _, s := range splits {
			s.TextFeats = datasets.Seq{N: s.Len(), T: lt, D: h, Data: make([]float32, s.Len()*lt*h)}
			if err := f.ReadFloat32(s.Name, s.TextFeats.Data); err != nil {
				return fmt.Errorf("feature cache: %w", err)
			}
		}
		fmt.Fprintf(log, "text features: read from %s\n", path)
		return nil
	}
	if err := p.encode(splits, lt, log); err != nil {
		return err
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return err
	}
	var ts []safetensors.Tensor
	for _, s := range splits {
		ts = append(ts, safetensors.Tensor{Name: s.Name, Shape: []int{s.Len(), lt, h}, Data: s.TextFeats.Data})
	}
	if err := safetensors.Write(path, ts, map[string]string{"key": key, "weights": p.weights}); err != nil {
		return fmt.Errorf("feature cache: %w", err)
	}
	fmt.Fprintf(log, "text features: cached in %s\n", path)
	return nil
}

// encode runs the frozen encoder over every split in batches.
func (p *pretrained) encode(splits []*datasets.Split, lt int, log io.Writer) error {
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
	done, start, bar := 0, time.Now(), train.NewBar(log)
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
			bar.Update("text features", done, total, start, "")
		}
	}
	bar.Clear()
	fmt.Fprintf(log, "text features: %d batches in %v\n", total, time.Since(start).Round(time.Second))
	return nil
}
