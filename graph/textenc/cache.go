package textenc

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/layers/safetensors"
)

// Progress shows the frozen encoder's pass over the data, e.g. a progress
// bar on a terminal (train.Bar is one): Update after each batch, Clear
// before the summary line goes to the log.
type Progress interface {
	Update(what string, n, total int, start time.Time, note string)
	Clear()
}

// Freeze fills every split of d with the frozen encoder's last hidden
// states as text features [N, d.Lt, H], read from cacheDir when an earlier
// run with the same weights and data computed them, and cached there
// otherwise (the package doc tells how processes share the folder). Then
// d's model reads them instead of token ids: d.TextFeats is set and the
// metadata datasets.MetaTextFeatures names the release. What it does goes
// to log, one line each; bar, which may be nil, shows the encoder's pass.
func (p *Pretrained) Freeze(d *datasets.Prepared, cacheDir string, log io.Writer, bar Progress) error {
	if d.TextFeats || d.Lt <= 0 {
		return fmt.Errorf("%s: no token ids to encode (text features already, or text length %d)", d.Source, d.Lt)
	}
	splits := d.Splits()
	key, err := p.cacheKey(splits, d.Lt)
	if err != nil {
		return err
	}
	path := filepath.Join(cacheDir, "neobert-features-"+key+".safetensors")
	feats, err := p.readEntry(path, key, splits, d.Lt)
	switch {
	case err == nil:
		for i, s := range splits {
			s.TextFeats = feats[i]
		}
		fmt.Fprintf(log, "text features: read from %s\n", path)
	case errors.Is(err, fs.ErrNotExist):
		err = p.computeEntry(path, key, splits, d.Lt, log, bar)
	default:
		fmt.Fprintf(log, "text features: unusable cache entry (%v); computing it again\n", err)
		err = p.computeEntry(path, key, splits, d.Lt, log, bar)
	}
	if err != nil {
		return err
	}
	d.TextFeats = true
	d.Meta[datasets.MetaTextFeatures] = "frozen NeoBERT from " + p.dir
	return nil
}

// computeEntry encodes the splits and writes their features to path
// atomically (safetensors.Write renames a complete temporary file from the
// same folder into place).
func (p *Pretrained) computeEntry(path, key string, splits []*datasets.Split, lt int, log io.Writer, bar Progress) error {
	if err := p.encode(splits, lt, log, bar); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	sum := sha256.New()
	var ts []safetensors.Tensor
	for _, s := range splits {
		ts = append(ts, safetensors.Tensor{Name: s.Name, Shape: []int{s.Len(), lt, p.cfg.HiddenSize}, Data: s.TextFeats.Data})
		hashFloats(sum, s.TextFeats.Data)
	}
	meta := map[string]string{"key": key, "weights": p.weights, "sha256": hex.EncodeToString(sum.Sum(nil))}
	if err := safetensors.Write(path, ts, meta); err != nil {
		return fmt.Errorf("feature cache: %w", err)
	}
	fmt.Fprintf(log, "text features: cached in %s\n", path)
	return nil
}

// readEntry returns the features of every split from the cache entry at
// path. The error wraps fs.ErrNotExist when there is no entry; any other
// error is an entry that is incomplete, for other data, or damaged.
func (p *Pretrained) readEntry(path, key string, splits []*datasets.Split, lt int) ([]datasets.Seq, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	meta := f.Metadata()
	if meta["sha256"] == "" {
		return nil, fmt.Errorf("%s: no sha256 in the header (an entry of an earlier version)", path)
	}
	if meta["key"] != key || len(f.Names()) != len(splits) {
		return nil, fmt.Errorf("%s: key %q and %d tensors, want %q and %d", path, meta["key"], len(f.Names()), key, len(splits))
	}
	sum := sha256.New()
	feats := make([]datasets.Seq, len(splits))
	for i, s := range splits {
		want := []int{s.Len(), lt, p.cfg.HiddenSize}
		if info, ok := f.Info(s.Name); !ok || info.DType != safetensors.F32 || !slices.Equal(info.Shape, want) {
			return nil, fmt.Errorf("%s: no F32 tensor %s of shape %v", path, s.Name, want)
		}
		feats[i] = datasets.Seq{N: want[0], T: want[1], D: want[2], Data: make([]float32, want[0]*want[1]*want[2])}
		if err := f.ReadFloat32(s.Name, feats[i].Data); err != nil {
			return nil, err
		}
		hashFloats(sum, feats[i].Data)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != meta["sha256"] {
		return nil, fmt.Errorf("%s: the features' SHA-256 is %s, the header says %q", path, got, meta["sha256"])
	}
	return feats, nil
}

// hashFloats feeds x's little-endian bytes to h, a chunk at a time.
func hashFloats(h hash.Hash, x []float32) {
	buf := make([]byte, 0, 1<<16)
	for len(x) > 0 {
		n := min(len(x), cap(buf)/4)
		buf = buf[:0]
		for _, v := range x[:n] {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		h.Write(buf)
		x = x[n:]
	}
}

// cacheKey hashes what the frozen features depend on: the weights, the
// encoder config, the text length and every split's token ids.
func (p *Pretrained) cacheKey(splits []*datasets.Split, lt int) (string, error) {
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
