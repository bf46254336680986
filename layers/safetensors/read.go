package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// chunkBytes is the most a read holds in memory besides its destination; a
// multiple of every element size, so chunks hold whole elements.
const chunkBytes = 1 << 20

// ReadFloat32 reads the named tensor into dst, which must hold exactly its
// element count, converting F32, F64 (rounded to nearest, ±Inf beyond the
// float32 range), BF16 and F16 (exactly, including subnormals, infinities and
// NaN payloads) to float32. Other dtypes are refused.
func (f *File) ReadFloat32(name string, dst []float32) error {
	info, err := f.lookup(name, len(dst))
	if err != nil {
		return err
	}
	conv := decode32(info.DType)
	if info.DType == F64 {
		conv = func(b []byte, out []float32) {
			for i := range out {
				out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
			}
		}
	}
	if conv == nil {
		return f.refuse(name, info.DType, "ReadFloat32", "F32, F64, BF16 and F16")
	}
	return readFloats(f, name, info, dst, conv)
}

// ReadFloat64 reads the named tensor into dst, which must hold exactly its
// element count, converting F64, F32, BF16 and F16 to float64 (all exactly,
// NaN payloads included).
// Other dtypes are refused.
func (f *File) ReadFloat64(name string, dst []float64) error {
	info, err := f.lookup(name, len(dst))
	if err != nil {
		return err
	}
	var conv func(b []byte, out []float64)
	if info.DType == F64 {
		conv = func(b []byte, out []float64) {
			for i := range out {
				out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
		}
	} else if narrow := decode32(info.DType); narrow != nil {
		// Through float32, which holds F32, BF16 and F16 values exactly.
		var tmp []float32
		conv = func(b []byte, out []float64) {
			tmp = slices.Grow(tmp[:0], len(out))[:len(out)]
			narrow(b, tmp)
			for i, v := range tmp {
				out[i] = widen(v)
			}
		}
	}
	if conv == nil {
		return f.refuse(name, info.DType, "ReadFloat64", "F64, F32, BF16 and F16")
	}
	return readFloats(f, name, info, dst, conv)
}

// decode32 returns the conversion of F32, BF16 or F16 bytes to float32
// (exact, NaN payloads included), or nil for another dtype.
func decode32(dt DType) func(b []byte, out []float32) {
	switch dt {
	case F32:
		return func(b []byte, out []float32) {
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
	case BF16:
		return func(b []byte, out []float32) {
			for i := range out {
				out[i] = bf16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
			}
		}
	case F16:
		return func(b []byte, out []float32) {
			for i := range out {
				out[i] = f16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
			}
		}
	}
	return nil
}

// readFloats reads the tensor's bytes in chunks and converts each with
// conv into the part of dst it fills.
func readFloats[T float32 | float64](f *File, name string, info TensorInfo, dst []T, conv func(b []byte, out []T)) error {
	size := info.DType.Size()
	return f.readChunks(name, info, func(b []byte, first int) error {
		conv(b, dst[first:first+len(b)/size])
		return nil
	})
}

// ReadInt64 reads the named tensor into dst, which must hold exactly its
// element count, converting I64, I32, I16, I8, U64, U32, U16, U8 and BOOL
// (false 0, true 1) to int64. A U64 value above math.MaxInt64 is an error;
// floating-point dtypes are refused.
func (f *File) ReadInt64(name string, dst []int64) error {
	info, err := f.lookup(name, len(dst))
	if err != nil {
		return err
	}
	var conv func(b []byte, i int) int64
	switch info.DType {
	case I64:
		conv = func(b []byte, i int) int64 { return int64(binary.LittleEndian.Uint64(b[8*i:])) }
	case U64:
		conv = func(b []byte, i int) int64 { return int64(binary.LittleEndian.Uint64(b[8*i:])) }
	case I32:
		conv = func(b []byte, i int) int64 { return int64(int32(binary.LittleEndian.Uint32(b[4*i:]))) }
	case U32:
		conv = func(b []byte, i int) int64 { return int64(binary.LittleEndian.Uint32(b[4*i:])) }
	case I16:
		conv = func(b []byte, i int) int64 { return int64(int16(binary.LittleEndian.Uint16(b[2*i:]))) }
	case U16:
		conv = func(b []byte, i int) int64 { return int64(binary.LittleEndian.Uint16(b[2*i:])) }
	case I8:
		conv = func(b []byte, i int) int64 { return int64(int8(b[i])) }
	case U8:
		conv = func(b []byte, i int) int64 { return int64(b[i]) }
	case BOOL:
		conv = func(b []byte, i int) int64 {
			if b[i] != 0 {
				return 1
			}
			return 0
		}
	default:
		return f.refuse(name, info.DType, "ReadInt64", "integer dtypes and BOOL")
	}
	size := info.DType.Size()
	return f.readChunks(name, info, func(b []byte, first int) error {
		out := dst[first : first+len(b)/size]
		for i := range out {
			out[i] = conv(b, i)
			if info.DType == U64 && out[i] < 0 {
				return fmt.Errorf("safetensors: %s: tensor %q: element %d = %d does not fit in int64",
					f.path, name, first+i, binary.LittleEndian.Uint64(b[8*i:]))
			}
		}
		return nil
	})
}

// lookup returns the named tensor's info after checking that the file is
// open and that a destination of n elements matches its element count.
func (f *File) lookup(name string, n int) (TensorInfo, error) {
	if f.closed {
		return TensorInfo{}, fmt.Errorf("safetensors: %s: tensor %q: file is closed", f.path, name)
	}
	info, ok := f.tensors[name]
	if !ok {
		return TensorInfo{}, fmt.Errorf("safetensors: %s: no tensor %q", f.path, name)
	}
	if want := info.NumElements(); n != want {
		return TensorInfo{}, fmt.Errorf("safetensors: %s: tensor %q: destination holds %d elements, shape %v has %d",
			f.path, name, n, info.Shape, want)
	}
	return info, nil
}

// refuse is the error for a read method that cannot convert dtype dt.
func (f *File) refuse(name string, dt DType, method, accepted string) error {
	return fmt.Errorf("safetensors: %s: tensor %q has dtype %s; %s reads %s", f.path, name, dt, method, accepted)
}

// readChunks reads the tensor's bytes in chunks of at most chunkBytes and
// hands each to convert with the index of its first element.
func (f *File) readChunks(name string, info TensorInfo, convert func(b []byte, first int) error) error {
	size := int64(info.DType.Size())
	total := info.Offsets[1] - info.Offsets[0]
	buf := make([]byte, min(total, chunkBytes))
	for pos := int64(0); pos < total; {
		b := buf[:min(total-pos, int64(len(buf)))]
		if err := readFull(f.r, b, f.dataBase+info.Offsets[0]+pos); err != nil {
			return fmt.Errorf("safetensors: %s: tensor %q: %w", f.path, name, err)
		}
		if err := convert(b, int(pos/size)); err != nil {
			return err
		}
		pos += int64(len(b))
	}
	return nil
}

// widen converts a float32 to float64 exactly. A plain conversion does the
// same except for signaling NaNs, which the CPU quiets; this keeps their
// payload, as numpy's float16 -> float64 conversion does.
func widen(v float32) float64 {
	if !math.IsNaN(float64(v)) {
		return float64(v)
	}
	b := math.Float32bits(v)
	return math.Float64frombits(uint64(b>>31)<<63 | 0x7ff<<52 | uint64(b&0x7fffff)<<29)
}

// bf16ToFloat32 widens a bfloat16, which is the top half of a float32.
func bf16ToFloat32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// f16ToFloat32 widens an IEEE 754 binary16 exactly: 1 sign bit, 5 exponent
// bits (bias 15), 10 mantissa bits.
func f16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		// Infinity (mant 0) or NaN, keeping the payload.
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp-15+127)<<23 | mant<<13)
	}
	// Zero or subnormal: mant·2^-24, exact in float32.
	v := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		return -v
	}
	return v
}
