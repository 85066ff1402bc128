// Package imagetest makes stand-ins for the serving runtime in tests of
// image packaging: ELF headers that the runtime checks accept or refuse,
// without building a real binary.
package imagetest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// ELF returns a minimal 64-bit little-endian ELF executable header for
// machine, with a PT_INTERP program header when interp is set (a
// dynamically linked binary). pad is appended, to make binaries of the
// same machine differ.
func ELF(machine elf.Machine, interp bool, pad string) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	ident := [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	b.Write(ident[:])
	phnum := uint16(0)
	if interp {
		phnum = 1
	}
	_ = binary.Write(&b, le, uint16(elf.ET_EXEC))
	_ = binary.Write(&b, le, uint16(machine))
	_ = binary.Write(&b, le, uint32(elf.EV_CURRENT))
	_ = binary.Write(&b, le, uint64(0x401000)) // entry
	phoff := uint64(0)
	if interp {
		phoff = 64
	}
	_ = binary.Write(&b, le, phoff)
	_ = binary.Write(&b, le, uint64(0)) // shoff
	_ = binary.Write(&b, le, uint32(0)) // flags
	_ = binary.Write(&b, le, uint16(64))
	_ = binary.Write(&b, le, uint16(56))
	_ = binary.Write(&b, le, phnum)
	_ = binary.Write(&b, le, uint16(64))
	_ = binary.Write(&b, le, uint16(0))
	_ = binary.Write(&b, le, uint16(0))
	if interp {
		path := []byte("/lib64/ld-linux-x86-64.so.2\x00")
		_ = binary.Write(&b, le, uint32(elf.PT_INTERP))
		_ = binary.Write(&b, le, uint32(elf.PF_R))
		_ = binary.Write(&b, le, uint64(64+56)) // offset
		_ = binary.Write(&b, le, uint64(0))
		_ = binary.Write(&b, le, uint64(0))
		_ = binary.Write(&b, le, uint64(len(path)))
		_ = binary.Write(&b, le, uint64(len(path)))
		_ = binary.Write(&b, le, uint64(1))
		b.Write(path)
	}
	b.WriteString(pad)
	return b.Bytes()
}
