package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// Tensor is one float32 tensor to write.
type Tensor struct {
	// Name is the tensor's key in the header; it must be unique, non-empty
	// and not "__metadata__".
	Name string
	// Shape is the tensor's shape, outermost dimension first; empty for a scalar.
	Shape []int
	// Data holds the elements in row-major order; its length must equal the
	// product of Shape.
	Data []float32
}

// Write stores the tensors as F32 in a safetensors file at path, with
// metadata (which may be nil) as the header's "__metadata__". Tensors are
// laid out in sorted name order and the header is padded with spaces to a
// multiple of 8 bytes, as the reference implementation does. The file is
// written to a temporary file in the same directory, synced and renamed
// over path, so path holds either its old content or the complete new file;
// on error the temporary file is removed.
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	order, err := sortedTensors(tensors)
	if err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, err)
	}
	header, err := encodeHeader(order, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, err)
	}
	if err := writeAtomic(path, header, order); err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, err)
	}
	return nil
}

// sortedTensors validates the tensors and returns them sorted by name,
// leaving the caller's slice untouched.
func sortedTensors(tensors []Tensor) ([]*Tensor, error) {
	order := make([]*Tensor, len(tensors))
	seen := make(map[string]bool, len(tensors))
	for i := range tensors {
		t := &tensors[i]
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("tensor %d has an empty name", i)
		case t.Name == metaKey:
			return nil, fmt.Errorf("tensor %d: the name %q is reserved", i, metaKey)
		case seen[t.Name]:
			return nil, fmt.Errorf("tensor %q: listed twice", t.Name)
		}
		seen[t.Name] = true
		count := uint64(1)
		for _, d := range t.Shape {
			hi, lo := bits.Mul64(count, uint64(d))
			if d < 0 || hi != 0 || lo > math.MaxInt64 {
				return nil, fmt.Errorf("tensor %q: invalid shape %v", t.Name, t.Shape)
			}
			count = lo
		}
		if count != uint64(len(t.Data)) {
			return nil, fmt.Errorf("tensor %q: shape %v has %d elements but Data holds %d", t.Name, t.Shape, count, len(t.Data))
		}
		order[i] = t
	}
	sort.Slice(order, func(i, j int) bool { return order[i].Name < order[j].Name })
	return order, nil
}

// encodeHeader builds the compact JSON header, metadata first and tensors
// in the given order, padded with spaces to a multiple of 8 bytes.
func encodeHeader(order []*Tensor, metadata map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	if len(metadata) > 0 {
		buf.WriteString(`"` + metaKey + `":`)
		if err := appendJSON(&buf, metadata); err != nil {
			return nil, fmt.Errorf("%s: %w", metaKey, err)
		}
	}
	var offset int64
	for i, t := range order {
		if i > 0 || len(metadata) > 0 {
			buf.WriteByte(',')
		}
		if err := appendJSON(&buf, t.Name); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		buf.WriteString(`:{"dtype":"F32","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(strconv.Itoa(d))
		}
		end := offset + 4*int64(len(t.Data))
		fmt.Fprintf(&buf, `],"data_offsets":[%d,%d]}`, offset, end)
		offset = end
	}
	buf.WriteByte('}')
	for buf.Len()%8 != 0 {
		buf.WriteByte(' ')
	}
	if buf.Len() > MaxHeaderSize {
		return nil, fmt.Errorf("header of %d bytes exceeds the limit of %d", buf.Len(), MaxHeaderSize)
	}
	return buf.Bytes(), nil
}

// appendJSON appends v as compact JSON without HTML escaping, which is how
// serde_json (the reference implementation) writes strings.
func appendJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode ends with a newline.
	return nil
}

// writeAtomic writes the file through a temporary file in the target
// directory that is synced, then renamed over path; on any error the
// temporary file is removed.
func writeAtomic(path string, header []byte, order []*Tensor) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				tmp.Close()
			}
			os.Remove(tmp.Name())
		}
	}()
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(header)))
	if _, err := tmp.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := tmp.Write(header); err != nil {
		return err
	}
	buf := make([]byte, 0, chunkBytes)
	for _, t := range order {
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := tmp.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if _, err := tmp.Write(buf); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	closed = true
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
