package graph

import (
	"fmt"

	"github.com/fdcmdie/fdcmdie/layers"
	"github.com/fdcmdie/fdcmdie/layers/safetensors"
)

// ConfigKey is the __metadata__ key of a checkpoint's model config (SPEC §7).
const ConfigKey = "config"

// Save writes the model's parameters to a safetensors file under their
// SPEC §7 names, with the config as JSON in __metadata__["config"] and the
// extra metadata (tokenizer, standardization statistics, training state)
// beside it. The write is atomic: temp file, then rename.
func Save(path string, m *Model, extra map[string]string) error {
	cfg, err := MarshalConfig(m.Cfg)
	if err != nil {
		return fmt.Errorf("graph: %s: config: %w", path, err)
	}
	meta := map[string]string{ConfigKey: cfg}
	for k, v := range extra {
		if k == ConfigKey {
			return fmt.Errorf("graph: %s: metadata key %q is reserved", path, k)
		}
		meta[k] = v
	}
	var ts []safetensors.Tensor
	for _, p := range m.B.Params() {
		d, err := float32Data(p)
		if err != nil {
			return fmt.Errorf("graph: %s: %w", path, err)
		}
		ts = append(ts, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: d})
	}
	if err := safetensors.Write(path, ts, meta); err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	return nil
}

func float32Data(p *layers.Param) ([]float32, error) {
	switch d := p.Node.Value().Data().(type) {
	case []float32:
		return d, nil
	case []float64:
		return layers.Convert[float32](d), nil
	default:
		return nil, fmt.Errorf("parameter %s holds %T", p.Name, d)
	}
}

// ReadCheckpointMeta returns a checkpoint's config and its other metadata.
func ReadCheckpointMeta(path string) (Config, map[string]string, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return Config{}, nil, fmt.Errorf("graph: %w", err)
	}
	defer f.Close()
	meta := f.Metadata()
	raw, ok := meta[ConfigKey]
	if !ok {
		return Config{}, nil, fmt.Errorf("graph: %s: no %q in __metadata__: not an fdcmdie checkpoint", path, ConfigKey)
	}
	cfg, err := UnmarshalConfig(raw)
	if err != nil {
		return Config{}, nil, fmt.Errorf("graph: %s: %w", path, err)
	}
	delete(meta, ConfigKey)
	return cfg, meta, nil
}

// Load copies a checkpoint's tensors into m's parameters. The load is
// strict: every parameter must be present with its shape, and no tensor may
// be left over; errors name the tensor. The checkpoint's config must equal
// m's.
func Load(path string, m *Model) error {
	cfg, _, err := ReadCheckpointMeta(path)
	if err != nil {
		return err
	}
	if cfg != m.Cfg {
		return fmt.Errorf("graph: %s: checkpoint config %+v differs from the model's %+v", path, cfg, m.Cfg)
	}
	return layers.LoadParams(m.B, path, "", func(name string) (string, bool) { return name, true })
}
