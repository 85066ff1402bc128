package serve

import (
	"fmt"
	"math"
	"strconv"
)

// dtype is a tensor datatype of the Open Inference Protocol.
type dtype uint8

const (
	dtUnknown dtype = iota
	dtBool
	dtUint8
	dtUint16
	dtUint32
	dtUint64
	dtInt8
	dtInt16
	dtInt32
	dtInt64
	dtFP16
	dtFP32
	dtFP64
	dtBytes
	dtUnsupported // BF16: not in the protocol's table of datatypes
)

var dtypeNames = [...]string{
	dtBool: "BOOL", dtUint8: "UINT8", dtUint16: "UINT16", dtUint32: "UINT32", dtUint64: "UINT64",
	dtInt8: "INT8", dtInt16: "INT16", dtInt32: "INT32", dtInt64: "INT64",
	dtFP16: "FP16", dtFP32: "FP32", dtFP64: "FP64", dtBytes: "BYTES", dtUnsupported: "BF16",
}

func parseDtype(b []byte) dtype {
	for dt, name := range dtypeNames {
		if name != "" && name == string(b) {
			return dtype(dt)
		}
	}
	return dtUnknown
}

func (dt dtype) String() string {
	if int(dt) < len(dtypeNames) && dtypeNames[dt] != "" {
		return dtypeNames[dt]
	}
	return "unknown"
}

// numeric reports whether the datatype's elements are numbers (or
// booleans): everything but BYTES.
func (dt dtype) numeric() bool { return dt >= dtBool && dt <= dtFP64 }

// integer returns the range of an integer datatype.
func (dt dtype) integer() (lo, hi float64, ok bool) {
	switch dt {
	case dtUint8:
		return 0, math.MaxUint8, true
	case dtUint16:
		return 0, math.MaxUint16, true
	case dtUint32:
		return 0, math.MaxUint32, true
	case dtUint64:
		return 0, 0x1p64, true // the bound is exclusive: see check
	case dtInt8:
		return math.MinInt8, math.MaxInt8, true
	case dtInt16:
		return math.MinInt16, math.MaxInt16, true
	case dtInt32:
		return math.MinInt32, math.MaxInt32, true
	case dtInt64:
		return math.MinInt64, 0x1p63, true // the upper bound is exclusive
	}
	return 0, 0, false
}

// check reports whether f, decoded from the JSON number v, is a value of
// the datatype: an integral number in range for the integer types, a
// number within the float type's range for FP16 and FP32. float64 does
// not hold every 64-bit integer, so for INT64 and UINT64 an integer written
// out in digits is checked exactly (9223372036854775807 is an INT64,
// 9223372036854775808 is not, though both round to 2^63), and a number
// with a fraction or exponent by its float64 value.
func (dt dtype) check(f float64, v []byte) error {
	if lo, hi, ok := dt.integer(); ok {
		if f != math.Trunc(f) {
			return fmt.Errorf("%s holds integers, got %s", dt, v)
		}
		var inRange bool
		switch {
		case dt == dtUint64 && isDigits(v):
			_, err := strconv.ParseUint(string(v), 10, 64)
			inRange = err == nil || string(v) == "-0"
		case dt == dtInt64 && isDigits(v):
			_, err := strconv.ParseInt(string(v), 10, 64)
			inRange = err == nil
		case dt == dtUint64 || dt == dtInt64:
			inRange = f >= lo && f < hi // hi, 2^64 or 2^63, is out
		default:
			inRange = f >= lo && f <= hi
		}
		if !inRange {
			return fmt.Errorf("%s holds integers from %s to %s, got %s", dt, intBound(dt, false), intBound(dt, true), v)
		}
		return nil
	}
	switch dt {
	case dtFP32:
		if math.Abs(f) > math.MaxFloat32 {
			return fmt.Errorf("%s is out of the range of FP32 (±%g)", v, math.MaxFloat32)
		}
	case dtFP16:
		if math.Abs(f) > 65504 {
			return fmt.Errorf("%s is out of the range of FP16 (±65504)", v)
		}
	case dtBool:
		return fmt.Errorf("BOOL holds true or false, got %s", v)
	}
	return nil
}

// isDigits reports whether a JSON number is an integer without a fraction
// or exponent.
func isDigits(v []byte) bool {
	for i, c := range v {
		if !(c >= '0' && c <= '9' || c == '-' && i == 0) {
			return false
		}
	}
	return len(v) > 0
}

// intBound spells an integer datatype's lowest or highest value.
func intBound(dt dtype, high bool) string {
	switch {
	case dt == dtUint64 && high:
		return strconv.FormatUint(math.MaxUint64, 10)
	case dt == dtInt64 && high:
		return strconv.FormatInt(math.MaxInt64, 10)
	case dt == dtInt64:
		return strconv.FormatInt(math.MinInt64, 10)
	}
	lo, hi, _ := dt.integer()
	if high {
		return strconv.FormatFloat(hi, 'f', -1, 64)
	}
	return strconv.FormatFloat(lo, 'f', -1, 64)
}
