package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sort"
)

// DType is a safetensors element type, spelled as in the file header.
type DType string

// The element types the format defines with whole-byte elements.
const (
	BOOL   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

// metaKey is the header entry that holds the string-to-string metadata.
const metaKey = "__metadata__"

// MaxHeaderSize is the largest JSON header Open accepts, in bytes; the
// reference implementation uses the same limit.
const MaxHeaderSize = 100_000_000

// dtypeSizes holds the size in bytes of one element of each known dtype.
var dtypeSizes = map[DType]int{
	BOOL: 1, U8: 1, I8: 1, F8E5M2: 1, F8E4M3: 1,
	I16: 2, U16: 2, F16: 2, BF16: 2,
	I32: 4, U32: 4, F32: 4,
	F64: 8, I64: 8, U64: 8,
}

// Size returns the size in bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int { return dtypeSizes[d] }

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	// DType is the element type.
	DType DType
	// Shape is the tensor's shape, outermost dimension first; empty for a scalar.
	Shape []int
	// Offsets are the begin and end byte of the tensor, relative to the
	// start of the data section.
	Offsets [2]int64
}

// NumElements returns the product of the shape (1 for a scalar).
func (t TensorInfo) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is an open safetensors file whose header has been validated. Reads
// may run concurrently with each other but not with Close.
type File struct {
	path     string
	r        io.ReaderAt
	c        io.Closer
	dataBase int64
	tensors  map[string]TensorInfo
	names    []string
	metadata map[string]string
	closed   bool
}

// Open opens the safetensors file at path and validates its header. The
// file stays open until Close.
func Open(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.Mode().IsRegular() {
		osf.Close()
		return nil, fmt.Errorf("safetensors: %s: not a regular file", path)
	}
	f, err := parse(osf, st.Size(), path)
	if err != nil {
		osf.Close()
		return nil, err
	}
	f.c = osf
	return f, nil
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string {
	return append([]string(nil), f.names...)
}

// Info returns the description of the named tensor and whether it exists.
func (f *File) Info(name string) (TensorInfo, bool) {
	t, ok := f.tensors[name]
	if !ok {
		return TensorInfo{}, false
	}
	t.Shape = append([]int{}, t.Shape...)
	return t, true
}

// Metadata returns a copy of the header's "__metadata__" map (empty when the
// file has none).
func (f *File) Metadata() map[string]string {
	m := make(map[string]string, len(f.metadata))
	for k, v := range f.metadata {
		m[k] = v
	}
	return m
}

// Path returns the path the file was opened from.
func (f *File) Path() string { return f.path }

// Close closes the underlying file. Reads after Close fail.
func (f *File) Close() error {
	if f.closed {
		return fmt.Errorf("safetensors: %s: %w", f.path, os.ErrClosed)
	}
	f.closed = true
	if f.c == nil {
		return nil
	}
	if err := f.c.Close(); err != nil {
		return fmt.Errorf("safetensors: %s: %w", f.path, err)
	}
	return nil
}

// rawInfo is one tensor entry of the JSON header; pointers tell a missing
// field from a zero one.
type rawInfo struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// parse reads and validates the header of a safetensors file of the given
// size held by r; path names the file in errors.
func parse(r io.ReaderAt, size int64, path string) (*File, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("safetensors: %s: "+format, append([]any{path}, args...)...)
	}
	if size < 8 {
		return nil, fail("file is %d bytes, shorter than the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if err := readFull(r, lenBuf[:], 0); err != nil {
		return nil, fail("reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, fail("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, fail("header length %d exceeds the %d bytes after the length field (truncated file?)", n, size-8)
	}
	header := make([]byte, n)
	if err := readFull(r, header, 8); err != nil {
		return nil, fail("reading header: %w", err)
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, fail("header does not start with '{'")
	}
	dataLen := size - 8 - int64(n)
	tensors, metadata, err := decodeHeader(header, dataLen)
	if err != nil {
		return nil, fail("%w", err)
	}
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	if err := checkTiling(tensors, names, dataLen); err != nil {
		return nil, fail("%w", err)
	}
	return &File{
		path:     path,
		r:        r,
		dataBase: 8 + int64(n),
		tensors:  tensors,
		names:    names,
		metadata: metadata,
	}, nil
}

// decodeHeader parses the JSON header, rejecting duplicate keys and
// checking each tensor entry on its own against a data section of dataLen
// bytes.
func decodeHeader(header []byte, dataLen int64) (map[string]TensorInfo, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(header))
	// The caller checked that the header starts with '{', so this token is
	// the object's opening brace.
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("bad header JSON: %w", err)
	}
	tensors := map[string]TensorInfo{}
	var metadata map[string]string
	seenMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("bad header JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("bad header JSON: key %v is not a string", tok)
		}
		if key == metaKey {
			if seenMeta {
				return nil, nil, fmt.Errorf("duplicate %s entry", metaKey)
			}
			seenMeta = true
			if err := dec.Decode(&metadata); err != nil {
				return nil, nil, fmt.Errorf("%s must map strings to strings: %w", metaKey, err)
			}
			continue
		}
		if _, dup := tensors[key]; dup {
			return nil, nil, fmt.Errorf("tensor %q: listed twice", key)
		}
		var raw rawInfo
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: bad entry: %w", key, err)
		}
		info, err := checkInfo(raw, dataLen)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", key, err)
		}
		tensors[key] = info
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("bad header JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("bad header JSON: data after the closing brace")
	}
	if metadata == nil {
		metadata = map[string]string{}
	}
	return tensors, metadata, nil
}

// checkInfo validates one tensor entry: known dtype, non-negative shape,
// offsets inside a data section of dataLen bytes, and a byte size equal to
// the element count times the dtype size.
func checkInfo(raw rawInfo, dataLen int64) (TensorInfo, error) {
	if raw.DType == nil || raw.Shape == nil || raw.DataOffsets == nil {
		return TensorInfo{}, errors.New("entry needs dtype, shape and data_offsets")
	}
	dt := DType(*raw.DType)
	size := dt.Size()
	if size == 0 {
		return TensorInfo{}, fmt.Errorf("unknown dtype %q", *raw.DType)
	}
	off := *raw.DataOffsets
	if len(off) != 2 {
		return TensorInfo{}, fmt.Errorf("data_offsets has %d values, want 2", len(off))
	}
	if off[0] < 0 || off[1] < off[0] {
		return TensorInfo{}, fmt.Errorf("data_offsets [%d, %d] are not an increasing pair of byte positions", off[0], off[1])
	}
	if off[1] > dataLen {
		return TensorInfo{}, fmt.Errorf("data_offsets [%d, %d] run past the end of the %d-byte data section", off[0], off[1], dataLen)
	}
	shape := make([]int, len(*raw.Shape))
	// Element counts are bounded by dataLen, so the products below only
	// overflow on a header that is wrong anyway.
	count := uint64(1)
	overflow := false
	for i, d := range *raw.Shape {
		if d < 0 {
			return TensorInfo{}, fmt.Errorf("shape %v has a negative dimension", *raw.Shape)
		}
		shape[i] = int(d)
		hi, lo := bits.Mul64(count, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			overflow = true
		}
		count = lo
	}
	hi, want := bits.Mul64(count, uint64(size))
	if overflow || hi != 0 || want > math.MaxInt64 || int64(want) != off[1]-off[0] {
		return TensorInfo{}, fmt.Errorf("dtype %s and shape %v need %s bytes but data_offsets [%d, %d] hold %d",
			dt, shape, byteCount(overflow || hi != 0, want), off[0], off[1], off[1]-off[0])
	}
	return TensorInfo{DType: dt, Shape: shape, Offsets: [2]int64{off[0], off[1]}}, nil
}

// byteCount formats a byte count that may have overflowed 64 bits.
func byteCount(overflow bool, n uint64) string {
	if overflow {
		return "over 2^63"
	}
	return fmt.Sprint(n)
}

// checkTiling checks that the tensors, ordered by offset, cover the data
// section of dataLen bytes exactly, with no gap and no overlap.
func checkTiling(tensors map[string]TensorInfo, names []string, dataLen int64) error {
	order := append([]string(nil), names...)
	sort.SliceStable(order, func(i, j int) bool {
		a, b := tensors[order[i]].Offsets, tensors[order[j]].Offsets
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		return a[1] < b[1]
	})
	var end int64
	for _, name := range order {
		off := tensors[name].Offsets
		if off[0] != end {
			what := "leave a gap"
			if off[0] < end {
				what = "overlap the previous tensor"
			}
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] %s: the previous tensor ends at byte %d", name, off[0], off[1], what, end)
		}
		end = off[1]
	}
	if end != dataLen {
		return fmt.Errorf("tensors cover %d bytes but the data section holds %d", end, dataLen)
	}
	return nil
}

// readFull fills b from r at off; an io.EOF that comes with a full buffer
// is not an error.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
